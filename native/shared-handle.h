// NativeModel and NativeContext objects each hold a shared_ptr to their native object. Their JS constructor takes
// it as an External, which only C++ can make, so scripts cannot construct one directly.
#pragma once

#include <napi.h>

#include <memory>

namespace qwen3 {

// A new object of `constructor`'s class holding `value`.
template <typename T>
Napi::Object newSharedHandle(Napi::Env env, const Napi::FunctionReference& constructor, std::shared_ptr<T> value) {
    // The constructor copies the shared_ptr before New() returns, so it may live on this stack.
    return constructor.New({Napi::External<std::shared_ptr<T>>::New(env, &value)});
}

// In the class's constructor: the shared_ptr newSharedHandle passed, else a TypeError saying `misuse`.
template <typename T>
std::shared_ptr<T> takeSharedHandle(const Napi::CallbackInfo& info, const char* misuse) {
    if (info.Length() != 1 || !info[0].IsExternal()) throw Napi::TypeError::New(info.Env(), misuse);
    return *info[0].As<Napi::External<std::shared_ptr<T>>>().Data();
}

}  // namespace qwen3
