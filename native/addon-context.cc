#include "addon-context.h"

#include <string>
#include <vector>

#include "coded-error.h"
#include "decode-layout.h"
#include "instance-data.h"
#include "promise-worker.h"
#include "shared-handle.h"

namespace qwen3 {
namespace {

// Resolves with `out`: n x embeddingSize hidden-state floats (embedBatch) or n scores (rankBatch).
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

const char* rankMethodName(RankMethod method) {
    switch (method) {
        case RankMethod::ClassifierRows:
            return "classifier-rows";
        case RankMethod::YesNoLogits:
            return "yes-no-logits";
        case RankMethod::LlamaRankPooling:
            return "llama-rank-pooling";
    }
    return "llama-rank-pooling";
}

}  // namespace

Napi::Function AddonContext::Define(Napi::Env env) {
    return DefineClass(env, "NativeContext",
                       {InstanceMethod("info", &AddonContext::Info), InstanceMethod("embedBatch", &AddonContext::EmbedBatch),
                        InstanceMethod("rankBatch", &AddonContext::RankBatch), InstanceMethod("abort", &AddonContext::Abort),
                        InstanceMethod("dispose", &AddonContext::Dispose)});
}

Napi::Object AddonContext::NewInstance(Napi::Env env, std::shared_ptr<BatchContext> context) {
    return newSharedHandle(env, env.GetInstanceData<InstanceData>()->contextConstructor, std::move(context));
}

AddonContext::AddonContext(const Napi::CallbackInfo& info)
    : Napi::ObjectWrap<AddonContext>(info),
      context_(takeSharedHandle<BatchContext>(info, "NativeContext cannot be constructed directly; use model.createContext()")) {}

std::shared_ptr<BatchContext> AddonContext::context(Napi::Env env) const {
    if (context_ == nullptr) throw codedError(env, "the context was disposed", "ERR_DISPOSED");
    return context_;
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
    result.Set("rankMethod", rankMethodName(ctx->rankMethod()));
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

}  // namespace qwen3
