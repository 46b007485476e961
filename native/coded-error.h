// JavaScript errors thrown or rejected by the addon carry a `code` that src/engine/native-errors.ts maps to the
// library's error classes.
#pragma once

#include <napi.h>

#include <string>

namespace qwen3 {

inline Napi::Error codedError(Napi::Env env, const std::string& message, const char* code) {
    Napi::Error error = Napi::Error::New(env, message);
    error.Set("code", Napi::String::New(env, code));
    return error;
}

}  // namespace qwen3
