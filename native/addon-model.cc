#include "addon-model.h"

#include <string>
#include <vector>

#include "addon-context.h"
#include "batch-context.h"
#include "coded-error.h"
#include "instance-data.h"
#include "llama-api.h"
#include "promise-worker.h"
#include "shared-handle.h"
#include "tokenize-workers.h"

namespace qwen3 {
namespace {

class LoadModelWorker : public PromiseWorker {
public:
    LoadModelWorker(Napi::Env env, std::string path, ModelPlacement placement)
        : PromiseWorker(env, "ERR_MODEL_LOAD"), path_(std::move(path)), placement_(placement) {}
    void Execute() override {
        std::string error;
        model_ = acquireModel(path_, placement_, error);
        if (model_ == nullptr) Fail(error);
    }
    void OnOK() override { deferred_.Resolve(AddonModel::NewInstance(Env(), model_)); }

private:
    std::string path_;
    ModelPlacement placement_;
    std::shared_ptr<LoadedModel> model_;
};

class CreateContextWorker : public PromiseWorker {
public:
    CreateContextWorker(Napi::Env env, std::shared_ptr<LoadedModel> model, ContextOptions options)
        : PromiseWorker(env, "ERR_CONTEXT_CREATE"), model_(std::move(model)), options_(options) {}
    void Execute() override {
        std::string error;
        context_ = BatchContext::create(model_, options_, error);
        if (context_ == nullptr) Fail(error);
    }
    void OnOK() override { deferred_.Resolve(AddonContext::NewInstance(Env(), context_)); }

private:
    std::shared_ptr<LoadedModel> model_;
    ContextOptions options_;
    std::shared_ptr<BatchContext> context_;
};

uint32_t uintOption(Napi::Object options, const char* name, uint32_t fallback) {
    Napi::Value value = options.Get(name);
    if (value.IsUndefined()) return fallback;
    if (!value.IsNumber()) throw Napi::TypeError::New(options.Env(), std::string("createContext: ") + name + " must be a number");
    const double number = value.As<Napi::Number>().DoubleValue();
    if (!(number >= 0 && number <= 4294967295.0) || number != static_cast<double>(static_cast<uint32_t>(number))) {
        throw Napi::RangeError::New(options.Env(), std::string("createContext: ") + name + " must be a non-negative integer");
    }
    return static_cast<uint32_t>(number);
}

ContextOptions parseContextOptions(Napi::Env env, Napi::Object options) {
    ContextOptions parsed;
    parsed.batchTokens = uintOption(options, "batchTokens", parsed.batchTokens);
    parsed.contextSize = uintOption(options, "contextSize", parsed.contextSize);
    parsed.maxSequences = uintOption(options, "maxSequences", parsed.maxSequences);
    parsed.threads = static_cast<int32_t>(uintOption(options, "threads", 0));
    const uint32_t flash = uintOption(options, "flashAttention", 2);  // 0 off, 1 on, 2 auto
    parsed.flashAttention = flash == 2 ? -1 : static_cast<int32_t>(flash);
    const uint32_t kv = uintOption(options, "kvCacheType", GGML_TYPE_F16);
    if (kv != GGML_TYPE_F16 && kv != GGML_TYPE_F32 && kv != GGML_TYPE_Q8_0) {
        throw Napi::RangeError::New(env, "createContext: kvCacheType must be a ggml type id of f32, f16 or q8_0");
    }
    parsed.kvCacheType = static_cast<ggml_type>(kv);
    Napi::Value pooling = options.Get("llamaPooling");
    parsed.llamaPooling = pooling.IsBoolean() && pooling.As<Napi::Boolean>().Value();
    parsed.sequenceAlignment = parsed.llamaPooling ? 0 : uintOption(options, "sequenceAlignment", parsed.sequenceAlignment);
    if (parsed.sequenceAlignment > 256) throw Napi::RangeError::New(env, "createContext: sequenceAlignment must be at most 256");
    if (parsed.batchTokens == 0 || parsed.contextSize < parsed.batchTokens || parsed.maxSequences == 0 || parsed.maxSequences > 256 ||
        parsed.maxSequences > parsed.batchTokens) {
        throw Napi::RangeError::New(env, "createContext: need 0 < batchTokens <= contextSize and 1 <= maxSequences <= min(256, batchTokens)");
    }
    return parsed;
}

}  // namespace

Napi::Function AddonModel::Define(Napi::Env env) {
    return DefineClass(env, "NativeModel",
                       {InstanceMethod("info", &AddonModel::Info), InstanceMethod("tokenize", &AddonModel::Tokenize),
                        InstanceMethod("detokenize", &AddonModel::Detokenize),
                        InstanceMethod("createContext", &AddonModel::CreateContext),
                        InstanceMethod("dispose", &AddonModel::Dispose)});
}

Napi::Object AddonModel::NewInstance(Napi::Env env, std::shared_ptr<LoadedModel> model) {
    return newSharedHandle(env, env.GetInstanceData<InstanceData>()->modelConstructor, std::move(model));
}

AddonModel::AddonModel(const Napi::CallbackInfo& info)
    : Napi::ObjectWrap<AddonModel>(info),
      model_(takeSharedHandle<LoadedModel>(info, "NativeModel cannot be constructed directly; use loadModel()")) {
    // Tell V8 this small object holds the weights, so that its collector weighs it by them.
    reportedBytes_ = static_cast<int64_t>(llama().llama_model_size(model_->get()));
    int64_t total;
    napi_adjust_external_memory(info.Env(), reportedBytes_, &total);
}

AddonModel::~AddonModel() { release(Env()); }

// Lets go of the weights: when this was their last user, the registry frees them on its own thread.
void AddonModel::release(Napi::Env env) {
    if (model_ == nullptr) return;
    model_.reset();
    int64_t total;
    napi_adjust_external_memory(env, -reportedBytes_, &total);
}

std::shared_ptr<LoadedModel> AddonModel::model(Napi::Env env) const {
    if (model_ == nullptr) throw codedError(env, "the model was disposed", "ERR_DISPOSED");
    return model_;
}

Napi::Value AddonModel::Info(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto loaded = model(env);
    const auto& api = llama();
    llama_model* raw = loaded->get();
    Napi::Object result = Napi::Object::New(env);
    char desc[256];
    api.llama_model_desc(raw, desc, sizeof(desc));
    result.Set("description", std::string(desc));
    result.Set("architecture", loaded->meta("general.architecture"));
    result.Set("embeddingSize", api.llama_model_n_embd(raw));
    result.Set("trainedContextSize", api.llama_model_n_ctx_train(raw));
    result.Set("layers", api.llama_model_n_layer(raw));
    result.Set("vocabularySize", api.llama_vocab_n_tokens(loaded->vocab()));
    result.Set("eosToken", api.llama_vocab_eos(loaded->vocab()));
    result.Set("parameters", static_cast<double>(api.llama_model_n_params(raw)));
    result.Set("sizeBytes", static_cast<double>(api.llama_model_size(raw)));
    Napi::Array labels = Napi::Array::New(env);
    for (uint32_t i = 0; i < api.llama_model_n_cls_out(raw); i++) {
        const char* label = api.llama_model_cls_label(raw, i);
        labels.Set(i, label == nullptr ? std::string() : std::string(label));
    }
    result.Set("classifierLabels", labels);
    result.Set("gpuOffloadSupported", api.llama_supports_gpu_offload());
    return result;
}

Napi::Value AddonModel::Tokenize(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() != 2 || !info[0].IsArray() || !info[1].IsBoolean()) {
        throw Napi::TypeError::New(env, "tokenize(texts: string[], parseSpecial: boolean)");
    }
    Napi::Array array = info[0].As<Napi::Array>();
    std::vector<std::string> texts;
    texts.reserve(array.Length());
    for (uint32_t i = 0; i < array.Length(); i++) {
        Napi::Value value = array.Get(i);
        if (!value.IsString()) throw Napi::TypeError::New(env, "tokenize: texts[" + std::to_string(i) + "] is not a string");
        texts.push_back(value.As<Napi::String>().Utf8Value());
    }
    auto* worker = new TokenizeWorker(env, model(env), std::move(texts), info[1].As<Napi::Boolean>().Value());
    worker->Queue();
    return worker->promise();
}

Napi::Value AddonModel::Detokenize(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() != 2 || !info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array ||
        !info[1].IsBoolean()) {
        throw Napi::TypeError::New(env, "detokenize(ids: Int32Array, renderSpecial: boolean)");
    }
    Napi::Int32Array ids = info[0].As<Napi::Int32Array>();
    std::vector<int32_t> copy(ids.Data(), ids.Data() + ids.ElementLength());
    auto* worker = new DetokenizeWorker(env, model(env), std::move(copy), info[1].As<Napi::Boolean>().Value());
    worker->Queue();
    return worker->promise();
}

Napi::Value AddonModel::CreateContext(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() != 1 || !info[0].IsObject()) throw Napi::TypeError::New(env, "createContext(options: object)");
    const ContextOptions options = parseContextOptions(env, info[0].As<Napi::Object>());
    auto* worker = new CreateContextWorker(env, model(env), options);
    worker->Queue();
    return worker->promise();
}

Napi::Value AddonModel::Dispose(const Napi::CallbackInfo& info) {
    release(info.Env());  // contexts keep their own reference; the weights go when the last one does
    return info.Env().Undefined();
}

Napi::Value LoadModel(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!isLlamaApiLoaded()) throw codedError(env, "the llama.cpp library is not loaded; call init() first", "ERR_NOT_INITIALIZED");
    if (info.Length() != 2 || !info[0].IsString() || !info[1].IsObject()) {
        throw Napi::TypeError::New(env, "loadModel(path: string, options: {gpuLayers?: number, useMmap?: boolean, extraBufferTypes?: boolean})");
    }
    Napi::Object options = info[1].As<Napi::Object>();
    ModelPlacement placement;
    Napi::Value gpuLayers = options.Get("gpuLayers");
    if (gpuLayers.IsNumber()) placement.gpuLayers = gpuLayers.As<Napi::Number>().Int32Value();
    Napi::Value useMmap = options.Get("useMmap");
    if (useMmap.IsBoolean()) placement.useMmap = useMmap.As<Napi::Boolean>().Value();
    Napi::Value extraBufferTypes = options.Get("extraBufferTypes");
    if (extraBufferTypes.IsBoolean()) placement.extraBufferTypes = extraBufferTypes.As<Napi::Boolean>().Value();
    auto* worker = new LoadModelWorker(env, info[0].As<Napi::String>().Utf8Value(), placement);
    worker->Queue();
    return worker->promise();
}

}  // namespace qwen3
