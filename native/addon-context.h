// NativeContext, the JS handle on a BatchContext (src/engine/native-addon.ts declares its surface).
#pragma once

#include <napi.h>

#include <memory>

#include "batch-context.h"
#include "context-thread.h"

namespace qwen3 {

class AddonContext : public Napi::ObjectWrap<AddonContext> {
public:
    static Napi::Function Define(Napi::Env env);
    // A new NativeContext object holding `context` (on the JS thread, after Define's class is in the InstanceData).
    static Napi::Object NewInstance(Napi::Env env, std::shared_ptr<BatchContext> context);
    explicit AddonContext(const Napi::CallbackInfo& info);
    ~AddonContext() override;

private:
    Napi::Value Info(const Napi::CallbackInfo& info);
    Napi::Value EmbedBatch(const Napi::CallbackInfo& info);
    Napi::Value RankBatch(const Napi::CallbackInfo& info);
    Napi::Value Run(const Napi::CallbackInfo& info, bool embed);
    Napi::Value Abort(const Napi::CallbackInfo& info);
    Napi::Value Dispose(const Napi::CallbackInfo& info);
    Napi::Value DecodeCount(const Napi::CallbackInfo& info);
    Napi::Value PrefixTokenCount(const Napi::CallbackInfo& info);
    ContextThread& thread(Napi::Env env) const;
    std::shared_ptr<ContextThread> thread_;
    bool disposed_ = false;
    ContextInfo info_;
    RankMethod rankMethod_;
    std::string rankUnavailable_;
};

}  // namespace qwen3
