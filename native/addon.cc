// N-API surface of the engine. Every call that can take long is an AsyncWorker returning a Promise; errors reject
// with an Error whose `code` names the failure (see src/engine/native-errors.ts).
#include <napi.h>

#include <memory>
#include <string>
#include <vector>

#include "batch-context.h"
#include "decode-layout.h"
#include "llama-api.h"
#include "llama-log.h"
#include "model-registry.h"

namespace qwen3 {
namespace {

struct InstanceData {
    Napi::FunctionReference modelConstructor;
    Napi::FunctionReference contextConstructor;
};

Napi::Error codedError(Napi::Env env, const std::string& message, const char* code) {
    Napi::Error error = Napi::Error::New(env, message);
    error.Set("code", Napi::String::New(env, code));
    return error;
}

void requireLibrary(Napi::Env env) {
    if (!isLlamaApiLoaded()) throw codedError(env, "the llama.cpp library is not loaded; call init() first", "ERR_NOT_INITIALIZED");
}

// An AsyncWorker that settles a Promise and rejects with a coded Error.
class PromiseWorker : public Napi::AsyncWorker {
public:
    explicit PromiseWorker(Napi::Env env, const char* code)
        : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), code_(code) {}
    Napi::Promise promise() { return deferred_.Promise(); }

protected:
    void Fail(const std::string& message, const char* code = nullptr) {
        if (code != nullptr) code_ = code;
        SetError(message);
    }
    void OnError(const Napi::Error& error) override {
        Napi::HandleScope scope(Env());
        deferred_.Reject(codedError(Env(), error.Message(), code_).Value());
    }
    Napi::Promise::Deferred deferred_;
    const char* code_;
};

// ----- Model -------------------------------------------------------------------------------------------------

class AddonModel : public Napi::ObjectWrap<AddonModel> {
public:
    static Napi::Function Define(Napi::Env env);
    explicit AddonModel(const Napi::CallbackInfo& info);
    std::shared_ptr<LoadedModel> model(Napi::Env env) const {
        if (model_ == nullptr) throw codedError(env, "the model was disposed", "ERR_DISPOSED");
        return model_;
    }

private:
    Napi::Value Info(const Napi::CallbackInfo& info);
    Napi::Value Tokenize(const Napi::CallbackInfo& info);
    Napi::Value Detokenize(const Napi::CallbackInfo& info);
    Napi::Value CreateContext(const Napi::CallbackInfo& info);
    Napi::Value Dispose(const Napi::CallbackInfo& info);
    std::shared_ptr<LoadedModel> model_;
};

class LoadModelWorker : public PromiseWorker {
public:
    LoadModelWorker(Napi::Env env, std::string path, ModelPlacement placement)
        : PromiseWorker(env, "ERR_MODEL_LOAD"), path_(std::move(path)), placement_(placement) {}
    void Execute() override {
        std::string error;
        model_ = acquireModel(path_, placement_, error);
        if (model_ == nullptr) Fail(error);
    }
    void OnOK() override {
        Napi::Env env = Env();
        auto* data = env.GetInstanceData<InstanceData>();
        auto holder = std::make_unique<std::shared_ptr<LoadedModel>>(model_);
        deferred_.Resolve(data->modelConstructor.New({Napi::External<std::shared_ptr<LoadedModel>>::New(env, holder.get())}));
    }

private:
    std::string path_;
    ModelPlacement placement_;
    std::shared_ptr<LoadedModel> model_;
};

class TokenizeWorker : public PromiseWorker {
public:
    TokenizeWorker(Napi::Env env, std::shared_ptr<LoadedModel> model, std::vector<std::string> texts, bool parseSpecial)
        : PromiseWorker(env, "ERR_TOKENIZE"), model_(std::move(model)), texts_(std::move(texts)), parseSpecial_(parseSpecial) {}
    void Execute() override {
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
    void OnOK() override {
        Napi::Env env = Env();
        Napi::Array array = Napi::Array::New(env, results_.size());
        for (size_t i = 0; i < results_.size(); i++) {
            Napi::Int32Array ids = Napi::Int32Array::New(env, results_[i].size());
            if (!results_[i].empty()) std::memcpy(ids.Data(), results_[i].data(), results_[i].size() * sizeof(int32_t));
            array.Set(static_cast<uint32_t>(i), ids);
        }
        deferred_.Resolve(array);
    }

private:
    std::shared_ptr<LoadedModel> model_;
    std::vector<std::string> texts_;
    bool parseSpecial_;
    std::vector<std::vector<llama_token>> results_;
};

class DetokenizeWorker : public PromiseWorker {
public:
    DetokenizeWorker(Napi::Env env, std::shared_ptr<LoadedModel> model, std::vector<int32_t> ids, bool renderSpecial)
        : PromiseWorker(env, "ERR_TOKENIZE"), model_(std::move(model)), ids_(std::move(ids)), renderSpecial_(renderSpecial) {}
    void Execute() override {
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
    void OnOK() override { deferred_.Resolve(Napi::String::New(Env(), text_)); }

private:
    std::shared_ptr<LoadedModel> model_;
    std::vector<int32_t> ids_;
    bool renderSpecial_;
    std::string text_;
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
    void OnOK() override {
        Napi::Env env = Env();
        auto* data = env.GetInstanceData<InstanceData>();
        auto holder = std::make_unique<std::shared_ptr<BatchContext>>(context_);
        deferred_.Resolve(data->contextConstructor.New({Napi::External<std::shared_ptr<BatchContext>>::New(env, holder.get())}));
    }

private:
    std::shared_ptr<LoadedModel> model_;
    ContextOptions options_;
    std::shared_ptr<BatchContext> context_;
};

Napi::Function AddonModel::Define(Napi::Env env) {
    return DefineClass(env, "NativeModel",
                       {InstanceMethod("info", &AddonModel::Info), InstanceMethod("tokenize", &AddonModel::Tokenize),
                        InstanceMethod("detokenize", &AddonModel::Detokenize),
                        InstanceMethod("createContext", &AddonModel::CreateContext),
                        InstanceMethod("dispose", &AddonModel::Dispose)});
}

AddonModel::AddonModel(const Napi::CallbackInfo& info) : Napi::ObjectWrap<AddonModel>(info) {
    if (info.Length() != 1 || !info[0].IsExternal()) {
        throw Napi::TypeError::New(info.Env(), "NativeModel cannot be constructed directly; use loadModel()");
    }
    model_ = *info[0].As<Napi::External<std::shared_ptr<LoadedModel>>>().Data();
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

Napi::Value AddonModel::CreateContext(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() != 1 || !info[0].IsObject()) throw Napi::TypeError::New(env, "createContext(options: object)");
    Napi::Object options = info[0].As<Napi::Object>();
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
    auto* worker = new CreateContextWorker(env, model(env), parsed);
    worker->Queue();
    return worker->promise();
}

Napi::Value AddonModel::Dispose(const Napi::CallbackInfo& info) {
    model_.reset();  // contexts keep their own reference; the weights go when the last one does
    return info.Env().Undefined();
}

// ----- Context -----------------------------------------------------------------------------------------------

class AddonContext : public Napi::ObjectWrap<AddonContext> {
public:
    static Napi::Function Define(Napi::Env env);
    explicit AddonContext(const Napi::CallbackInfo& info);

private:
    Napi::Value Info(const Napi::CallbackInfo& info);
    Napi::Value EmbedBatch(const Napi::CallbackInfo& info);
    Napi::Value RankBatch(const Napi::CallbackInfo& info);
    Napi::Value Run(const Napi::CallbackInfo& info, bool embed);
    Napi::Value Abort(const Napi::CallbackInfo& info);
    Napi::Value Dispose(const Napi::CallbackInfo& info);
    std::shared_ptr<BatchContext> context(Napi::Env env) const {
        if (context_ == nullptr) throw codedError(env, "the context was disposed", "ERR_DISPOSED");
        return context_;
    }
    std::shared_ptr<BatchContext> context_;
};

class RunBatchWorker : public PromiseWorker {
public:
    RunBatchWorker(Napi::Env env, std::shared_ptr<BatchContext> context, bool embed, std::vector<int32_t> tokens,
                   std::vector<uint32_t> lengths, Napi::Float32Array out)
        : PromiseWorker(env, "ERR_DECODE"),
          context_(std::move(context)),
          embed_(embed),
          tokens_(std::move(tokens)),
          lengths_(std::move(lengths)),
          outData_(out.Data()),
          out_(Napi::Persistent(out)) {}
    void Execute() override {
        const RunStatus status = embed_ ? context_->embed(tokens_, lengths_, outData_) : context_->rank(tokens_, lengths_, outData_);
        if (status.failed()) Fail(status.message, status.code);
    }
    void OnOK() override { deferred_.Resolve(out_.Value()); }

private:
    std::shared_ptr<BatchContext> context_;
    bool embed_;
    std::vector<int32_t> tokens_;
    std::vector<uint32_t> lengths_;
    float* outData_;  // the backing store of an ArrayBuffer never moves; out_ keeps it alive
    Napi::Reference<Napi::Float32Array> out_;
};

Napi::Function AddonContext::Define(Napi::Env env) {
    return DefineClass(env, "NativeContext",
                       {InstanceMethod("info", &AddonContext::Info), InstanceMethod("embedBatch", &AddonContext::EmbedBatch),
                        InstanceMethod("rankBatch", &AddonContext::RankBatch), InstanceMethod("abort", &AddonContext::Abort),
                        InstanceMethod("dispose", &AddonContext::Dispose)});
}

AddonContext::AddonContext(const Napi::CallbackInfo& info) : Napi::ObjectWrap<AddonContext>(info) {
    if (info.Length() != 1 || !info[0].IsExternal()) {
        throw Napi::TypeError::New(info.Env(), "NativeContext cannot be constructed directly; use model.createContext()");
    }
    context_ = *info[0].As<Napi::External<std::shared_ptr<BatchContext>>>().Data();
}

Napi::Value AddonContext::Info(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto ctx = context(env);
    const ContextInfo& details = ctx->info();
    Napi::Object result = Napi::Object::New(env);
    result.Set("contextSize", details.contextSize);
    result.Set("batchTokens", details.batchTokens);
    result.Set("maxSequences", details.maxSequences);
    result.Set("embeddingSize", details.embeddingSize);
    result.Set("flashAttention", details.flashAttention);
    result.Set("sequenceAlignment", details.sequenceAlignment);
    result.Set("unalignedMaxTokens", details.sequenceAlignment == 0 ? 0 : kUnalignedMaxTokens);
    const char* method = ctx->rankMethod() == RankMethod::ClassifierRows ? "classifier-rows"
                         : ctx->rankMethod() == RankMethod::YesNoLogits  ? "yes-no-logits"
                                                                          : "llama-rank-pooling";
    result.Set("rankMethod", method);
    result.Set("rankUnavailable", ctx->rankUnavailable());
    return result;
}

Napi::Value AddonContext::EmbedBatch(const Napi::CallbackInfo& info) { return Run(info, true); }
Napi::Value AddonContext::RankBatch(const Napi::CallbackInfo& info) { return Run(info, false); }

Napi::Value AddonContext::Run(const Napi::CallbackInfo& info, bool embed) {
    Napi::Env env = info.Env();
    const char* usage = embed ? "embedBatch(tokens: Int32Array, lengths: Uint32Array)" : "rankBatch(tokens: Int32Array, lengths: Uint32Array)";
    if (info.Length() != 2 || !info[0].IsTypedArray() || !info[1].IsTypedArray() ||
        info[0].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array ||
        info[1].As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array) {
        throw Napi::TypeError::New(env, usage);
    }
    auto ctx = context(env);
    Napi::Int32Array tokens = info[0].As<Napi::Int32Array>();
    Napi::Uint32Array lengths = info[1].As<Napi::Uint32Array>();
    const size_t n = lengths.ElementLength();
    const size_t width = embed ? static_cast<size_t>(ctx->info().embeddingSize) : 1;
    Napi::Float32Array out = Napi::Float32Array::New(env, n * width);
    auto* worker = new RunBatchWorker(env, ctx, embed, std::vector<int32_t>(tokens.Data(), tokens.Data() + tokens.ElementLength()),
                                      std::vector<uint32_t>(lengths.Data(), lengths.Data() + n), out);
    worker->Queue();
    return worker->promise();
}

Napi::Value AddonContext::Abort(const Napi::CallbackInfo& info) {
    if (context_ != nullptr) context_->abort();
    return info.Env().Undefined();
}

Napi::Value AddonContext::Dispose(const Napi::CallbackInfo& info) {
    // A batch in flight holds its own reference; the llama_context is freed when it finishes.
    if (context_ != nullptr) context_->abort();
    context_.reset();
    return info.Env().Undefined();
}

// ----- Module ------------------------------------------------------------------------------------------------

// init(libllamaPath?: string) -> { libraryPath }. Binds to the llama.cpp library once per process: the given
// path, or the libllama that is already loaded (node-llama-cpp's).
Napi::Value Init(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::string path;
    if (info.Length() > 0 && info[0].IsString()) path = info[0].As<Napi::String>().Utf8Value();
    if (!isLlamaApiLoaded()) {
        if (path.empty()) path = findLoadedLibrary("libllama.");
        if (path.empty()) path = findLoadedLibrary("llama.");
        if (path.empty()) throw codedError(env, "no llama.cpp library is loaded in this process and no path was given", "ERR_LIBRARY_LOAD");
        const std::string error = loadLlamaApi(path);
        if (!error.empty()) throw codedError(env, error, "ERR_LIBRARY_LOAD");
        installLlamaLog();
    }
    Napi::Object result = Napi::Object::New(env);
    result.Set("libraryPath", loadedLibraryPath());
    result.Set("gpuOffloadSupported", llama().llama_supports_gpu_offload());
    return result;
}

Napi::Value FindLoadedLibrary(const Napi::CallbackInfo& info) {
    if (info.Length() != 1 || !info[0].IsString()) throw Napi::TypeError::New(info.Env(), "findLoadedLibrary(prefix: string)");
    return Napi::String::New(info.Env(), findLoadedLibrary(info[0].As<Napi::String>().Utf8Value()));
}

Napi::Value LoadModel(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    requireLibrary(env);
    if (info.Length() != 2 || !info[0].IsString() || !info[1].IsObject()) {
        throw Napi::TypeError::New(env, "loadModel(path: string, options: {gpuLayers?: number, useMmap?: boolean})");
    }
    Napi::Object options = info[1].As<Napi::Object>();
    ModelPlacement placement;
    Napi::Value gpuLayers = options.Get("gpuLayers");
    if (gpuLayers.IsNumber()) placement.gpuLayers = gpuLayers.As<Napi::Number>().Int32Value();
    Napi::Value useMmap = options.Get("useMmap");
    if (useMmap.IsBoolean()) placement.useMmap = useMmap.As<Napi::Boolean>().Value();
    auto* worker = new LoadModelWorker(env, info[0].As<Napi::String>().Utf8Value(), placement);
    worker->Queue();
    return worker->promise();
}

Napi::Value LiveModelCount(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(liveModelCount()));
}

Napi::Object InitModule(Napi::Env env, Napi::Object exports) {
    auto* data = new InstanceData();
    data->modelConstructor = Napi::Persistent(AddonModel::Define(env));
    data->contextConstructor = Napi::Persistent(AddonContext::Define(env));
    env.SetInstanceData(data);
    exports.Set("init", Napi::Function::New(env, Init));
    exports.Set("findLoadedLibrary", Napi::Function::New(env, FindLoadedLibrary));
    exports.Set("loadModel", Napi::Function::New(env, LoadModel));
    exports.Set("liveModelCount", Napi::Function::New(env, LiveModelCount));
    return exports;
}

}  // namespace
}  // namespace qwen3

static Napi::Object InitQwen3Module(Napi::Env env, Napi::Object exports) { return qwen3::InitModule(env, exports); }

NODE_API_MODULE(qwen3_embedding, InitQwen3Module)
