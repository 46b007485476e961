#include "addon-context.h"

#include <string>
#include <vector>

#include "coded-error.h"
#include "decode-layout.h"
#include "instance-data.h"
#include "shared-handle.h"

namespace qwen3 {
namespace {

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
                        InstanceMethod("dispose", &AddonContext::Dispose), InstanceMethod("decodeCount", &AddonContext::DecodeCount),
                        InstanceMethod("prefixTokenCount", &AddonContext::PrefixTokenCount)});
}

Napi::Object AddonContext::NewInstance(Napi::Env env, std::shared_ptr<BatchContext> context) {
    return newSharedHandle(env, env.GetInstanceData<InstanceData>()->contextConstructor, std::move(context));
}

AddonContext::AddonContext(const Napi::CallbackInfo& info) : Napi::ObjectWrap<AddonContext>(info) {
    std::shared_ptr<BatchContext> context =
        takeSharedHandle<BatchContext>(info, "NativeContext cannot be constructed directly; use model.createContext()");
    info_ = context->info();
    rankMethod_ = context->rankMethod();
    rankUnavailable_ = context->rankUnavailable();
    thread_ = ContextThread::start(info.Env(), std::move(context));
}

AddonContext::~AddonContext() {
    // Collected without dispose(): the calls already queued still run, then the context is freed on its thread.
    if (!disposed_) thread_->closeQuietly();
}

ContextThread& AddonContext::thread(Napi::Env env) const {
    if (disposed_) throw codedError(env, "the context was disposed", "ERR_DISPOSED");
    return *thread_;
}

Napi::Value AddonContext::Info(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    thread(env);
    Napi::Object result = Napi::Object::New(env);
    result.Set("contextSize", info_.contextSize);
    result.Set("batchTokens", info_.batchTokens);
    result.Set("maxSequences", info_.maxSequences);
    result.Set("embeddingSize", info_.embeddingSize);
    result.Set("flashAttention", info_.flashAttention);
    result.Set("sequenceAlignment", info_.sequenceAlignment);
    result.Set("unalignedMaxTokens", info_.sequenceAlignment == 0 ? 0 : kUnalignedMaxTokens);
    result.Set("rankMethod", rankMethodName(rankMethod_));
    result.Set("rankUnavailable", rankUnavailable_);
    return result;
}

Napi::Value AddonContext::EmbedBatch(const Napi::CallbackInfo& info) { return Run(info, true); }
Napi::Value AddonContext::RankBatch(const Napi::CallbackInfo& info) { return Run(info, false); }

// embedBatch / rankBatch(tokens: Int32Array, lengths: Uint32Array, callId: number, interactive: boolean)
Napi::Value AddonContext::Run(const Napi::CallbackInfo& info, bool embed) {
    Napi::Env env = info.Env();
    const char* usage = embed ? "embedBatch(tokens: Int32Array, lengths: Uint32Array, callId: number, interactive: boolean)"
                              : "rankBatch(tokens: Int32Array, lengths: Uint32Array, callId: number, interactive: boolean)";
    if (info.Length() != 4 || !info[0].IsTypedArray() || !info[1].IsTypedArray() ||
        info[0].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array ||
        info[1].As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array || !info[2].IsNumber() || !info[3].IsBoolean()) {
        throw Napi::TypeError::New(env, usage);
    }
    ContextThread& runner = thread(env);
    Napi::Int32Array tokens = info[0].As<Napi::Int32Array>();
    Napi::Uint32Array lengths = info[1].As<Napi::Uint32Array>();
    auto call = std::make_unique<BatchCall>();
    call->id = static_cast<uint64_t>(info[2].As<Napi::Number>().Int64Value());
    call->embed = embed;
    call->interactive = info[3].As<Napi::Boolean>().Value();
    call->tokens.assign(tokens.Data(), tokens.Data() + tokens.ElementLength());
    call->lengths.assign(lengths.Data(), lengths.Data() + lengths.ElementLength());
    return runner.submit(env, std::move(call));
}

// abort(callId?: number): that call, or every call submitted so far.
Napi::Value AddonContext::Abort(const Napi::CallbackInfo& info) {
    if (info.Length() > 1 || (info.Length() == 1 && !info[0].IsNumber() && !info[0].IsUndefined())) {
        throw Napi::TypeError::New(info.Env(), "abort(callId?: number)");
    }
    if (!disposed_) {
        if (info.Length() > 0 && info[0].IsNumber()) {
            thread_->abort(static_cast<uint64_t>(info[0].As<Napi::Number>().Int64Value()));
        } else {
            thread_->abortAll();
        }
    }
    return info.Env().Undefined();
}

// dispose() -> Promise<void>: aborts the calls queued or running; resolves once the context is freed (on its
// own thread, after the decode in flight stops).
Napi::Value AddonContext::Dispose(const Napi::CallbackInfo& info) {
    disposed_ = true;
    return thread_->close(info.Env(), true);
}

Napi::Value AddonContext::DecodeCount(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(thread_->decodes()));
}

Napi::Value AddonContext::PrefixTokenCount(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), static_cast<double>(thread_->prefixTokens()));
}

}  // namespace qwen3
