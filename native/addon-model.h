// NativeModel, the JS handle on a loaded model (src/engine/native-addon.ts declares its surface), and loadModel().
#pragma once

#include <napi.h>

#include <memory>

#include "model-registry.h"

namespace qwen3 {

class AddonModel : public Napi::ObjectWrap<AddonModel> {
public:
    static Napi::Function Define(Napi::Env env);
    // A new NativeModel object holding `model` (on the JS thread, after Define's class is in the InstanceData).
    static Napi::Object NewInstance(Napi::Env env, std::shared_ptr<LoadedModel> model);
    explicit AddonModel(const Napi::CallbackInfo& info);
    ~AddonModel() override;

private:
    Napi::Value Info(const Napi::CallbackInfo& info);
    Napi::Value Tokenize(const Napi::CallbackInfo& info);
    Napi::Value Detokenize(const Napi::CallbackInfo& info);
    Napi::Value CreateContext(const Napi::CallbackInfo& info);
    Napi::Value Dispose(const Napi::CallbackInfo& info);
    std::shared_ptr<LoadedModel> model(Napi::Env env) const;
    void release(Napi::Env env);
    std::shared_ptr<LoadedModel> model_;
    int64_t reportedBytes_ = 0;
};

// loadModel(path: string, options: {gpuLayers?, useMmap?}) -> Promise<NativeModel>
Napi::Value LoadModel(const Napi::CallbackInfo& info);

}  // namespace qwen3
