// The addon's module: binds the llama.cpp library and exports the entry points. NativeModel and NativeContext live
// in addon-model.cc and addon-context.cc. Loads, context creation and tokenization are PromiseWorkers on libuv's pool
// (promise-worker.h); decodes run on each context's own thread (context-thread.h). Errors carry a `code` (see
// src/engine/native-errors.ts).
#include <napi.h>

#include <string>

#include "addon-context.h"
#include "addon-model.h"
#include "coded-error.h"
#include "instance-data.h"
#include "llama-api.h"
#include "llama-build.h"
#include "model-registry.h"

namespace qwen3 {
namespace {

// init(libllamaPath?: string) -> { libraryPath, gpuOffloadSupported }. Binds to the llama.cpp library once per
// process: the given path, or the libllama that is already loaded (node-llama-cpp's). Once bound, returns that
// binding whatever the path (src/engine/llama-library.ts refuses a different one before calling). Which library may
// be bound is decided in TypeScript (src/engine/llama-build-guard.ts); loadLlamaApi checks ggml's version again.
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

// boundLibraryPath() -> the libllama this process is bound to, or "" before a binding succeeded.
Napi::Value BoundLibraryPath(const Napi::CallbackInfo& info) {
    return Napi::String::New(info.Env(), isLlamaApiLoaded() ? loadedLibraryPath() : std::string());
}

// The llama.cpp build this addon was compiled for (native/llama-headers/llama-build.h).
Napi::Object BuiltFor(Napi::Env env) {
    Napi::Object build = Napi::Object::New(env);
    build.Set("nodeLlamaCppVersion", QWEN3_BUILT_FOR_NODE_LLAMA_CPP_VERSION);
    build.Set("llamaCppRelease", QWEN3_BUILT_FOR_LLAMA_CPP_RELEASE);
    build.Set("llamaCppCommit", QWEN3_BUILT_FOR_LLAMA_CPP_COMMIT);
    build.Set("ggmlVersion", QWEN3_BUILT_FOR_GGML_VERSION);
    build.Freeze();
    return build;
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
    exports.Set("boundLibraryPath", Napi::Function::New(env, BoundLibraryPath));
    exports.Set("builtFor", BuiltFor(env));
    exports.Set("loadModel", Napi::Function::New(env, LoadModel));
    exports.Set("liveModelCount", Napi::Function::New(env, LiveModelCount));
    return exports;
}

}  // namespace
}  // namespace qwen3

static Napi::Object InitQwen3Module(Napi::Env env, Napi::Object exports) { return qwen3::InitModule(env, exports); }

NODE_API_MODULE(qwen3_embedding, InitQwen3Module)
