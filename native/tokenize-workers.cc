#include "tokenize-workers.h"

#include <cstring>

#include "llama-log.h"

namespace qwen3 {

void TokenizeWorker::Execute() {
    LogCapture capture;
    const auto& api = llama();
    results_.resize(texts_.size());
    for (size_t i = 0; i < texts_.size(); i++) {
        const std::string& text = texts_[i];
        if (text.size() > INT32_MAX / 2) return Fail("text " + std::to_string(i) + " is too long to tokenize");
        std::vector<llama_token>& ids = results_[i];
        ids.resize(text.size() + 8);
        int32_t n = api.llama_tokenize(model_->vocab(), text.data(), static_cast<int32_t>(text.size()), ids.data(),
                                       static_cast<int32_t>(ids.size()), false, parseSpecial_);
        if (n < 0 && n != INT32_MIN) {
            ids.resize(static_cast<size_t>(-n));
            n = api.llama_tokenize(model_->vocab(), text.data(), static_cast<int32_t>(text.size()), ids.data(),
                                   static_cast<int32_t>(ids.size()), false, parseSpecial_);
        }
        if (n < 0) return Fail("llama.cpp could not tokenize text " + std::to_string(i));
        ids.resize(static_cast<size_t>(n));
    }
}

void TokenizeWorker::OnOK() {
    Napi::Env env = Env();
    Napi::Array array = Napi::Array::New(env, results_.size());
    for (size_t i = 0; i < results_.size(); i++) {
        Napi::Int32Array ids = Napi::Int32Array::New(env, results_[i].size());
        if (!results_[i].empty()) std::memcpy(ids.Data(), results_[i].data(), results_[i].size() * sizeof(int32_t));
        array.Set(static_cast<uint32_t>(i), ids);
    }
    deferred_.Resolve(array);
}

void DetokenizeWorker::Execute() {
    LogCapture capture;
    const auto& api = llama();
    const int32_t nVocab = api.llama_vocab_n_tokens(model_->vocab());
    for (int32_t id : ids_) {
        if (id < 0 || id >= nVocab) return Fail("token " + std::to_string(id) + " is outside the vocabulary", "ERR_INVALID_ARGUMENT");
    }
    text_.resize(ids_.size() * 8 + 16);
    int32_t n = api.llama_detokenize(model_->vocab(), ids_.data(), static_cast<int32_t>(ids_.size()), text_.data(),
                                     static_cast<int32_t>(text_.size()), false, renderSpecial_);
    if (n < 0) {
        text_.resize(static_cast<size_t>(-n));
        n = api.llama_detokenize(model_->vocab(), ids_.data(), static_cast<int32_t>(ids_.size()), text_.data(),
                                 static_cast<int32_t>(text_.size()), false, renderSpecial_);
    }
    if (n < 0) return Fail("llama.cpp could not detokenize");
    text_.resize(static_cast<size_t>(n));
}

void DetokenizeWorker::OnOK() { deferred_.Resolve(Napi::String::New(Env(), text_)); }

}  // namespace qwen3
