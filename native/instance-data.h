// Per-environment (main thread or worker thread) state of the addon: the JS classes that wrap native objects.
#pragma once

#include <napi.h>

namespace qwen3 {

struct InstanceData {
    Napi::FunctionReference modelConstructor;
    Napi::FunctionReference contextConstructor;
};

}  // namespace qwen3
