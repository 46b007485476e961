// Every call that can take long runs on libuv's thread pool as a PromiseWorker: the JS call returns promise(),
// Execute() does the work off the JS thread, OnOK() resolves, and a failure rejects with a coded Error.
#pragma once

#include <napi.h>

#include <string>

#include "coded-error.h"

namespace qwen3 {

class PromiseWorker : public Napi::AsyncWorker {
public:
    PromiseWorker(Napi::Env env, const char* code)
        : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), code_(code) {}
    Napi::Promise promise() { return deferred_.Promise(); }

protected:
    // From Execute(): rejects with `message` and `code`, or the worker's default code.
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

}  // namespace qwen3
