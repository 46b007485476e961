// The workers behind NativeModel.tokenize() and detokenize().
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "llama-api.h"
#include "model-registry.h"
#include "promise-worker.h"

namespace qwen3 {

// Resolves with one Int32Array of token ids per text; nothing is added (no BOS/EOS).
class TokenizeWorker : public PromiseWorker {
public:
    TokenizeWorker(Napi::Env env, std::shared_ptr<LoadedModel> model, std::vector<std::string> texts, bool parseSpecial)
        : PromiseWorker(env, "ERR_TOKENIZE"), model_(std::move(model)), texts_(std::move(texts)), parseSpecial_(parseSpecial) {}
    void Execute() override;
    void OnOK() override;

private:
    std::shared_ptr<LoadedModel> model_;
    std::vector<std::string> texts_;
    bool parseSpecial_;
    std::vector<std::vector<llama_token>> results_;
};

// Resolves with the text of the ids.
class DetokenizeWorker : public PromiseWorker {
public:
    DetokenizeWorker(Napi::Env env, std::shared_ptr<LoadedModel> model, std::vector<int32_t> ids, bool renderSpecial)
        : PromiseWorker(env, "ERR_TOKENIZE"), model_(std::move(model)), ids_(std::move(ids)), renderSpecial_(renderSpecial) {}
    void Execute() override;
    void OnOK() override;

private:
    std::shared_ptr<LoadedModel> model_;
    std::vector<int32_t> ids_;
    bool renderSpecial_;
    std::string text_;
};

}  // namespace qwen3
