// The thread that owns one BatchContext and runs its batches. Decodes never run on libuv's thread pool (shared by
// every worker thread, fs, dns, zlib and crypto) and the context is freed here, never on the JS thread.
//
// Each call has its own abort flag, raised whether the call is queued or running and never cleared, so an abort
// cannot be lost. Interactive calls go before bulk ones, and run between the decodes of a bulk call in flight
// (BatchContext::canRunBeside). Results reach JavaScript through a ThreadSafeFunction, whose finalizer joins the
// thread: when the env is torn down, the thread is stopped and joined before anything it uses goes away.
#pragma once

#include <napi.h>

#include <atomic>
#include <climits>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "batch-context.h"

namespace qwen3 {

struct BatchCall {
    uint64_t id = 0;
    bool embed = true;
    bool interactive = false;
    std::vector<int32_t> tokens;
    std::vector<uint32_t> lengths;
    std::atomic<bool> aborted{false};
    std::vector<float> out;
    RunStatus status;
    napi_deferred deferred = nullptr;
};

class ContextThread;
struct ContextThreadDelivery;
// On the JS thread: settles a call's promise, or the close promises (the TSFN's callback).
void deliverFromContextThread(Napi::Env env, Napi::Function, ContextThread* self, ContextThreadDelivery* delivery);

class ContextThread {
public:
    // Starts the thread (on the JS thread of `env`). Until close(), the thread holds `context`.
    static std::shared_ptr<ContextThread> start(Napi::Env env, std::shared_ptr<BatchContext> context);
    ~ContextThread();
    ContextThread(const ContextThread&) = delete;
    ContextThread& operator=(const ContextThread&) = delete;

    // On the JS thread: queues a call and returns its promise (resolves with a Float32Array).
    Napi::Promise submit(Napi::Env env, std::unique_ptr<BatchCall> call);
    // Raises the abort flag of call `id` if it is queued or running.
    void abort(uint64_t id);
    // Raises the abort flag of every call submitted so far.
    void abortAll();
    // On the JS thread: stops taking calls, aborts those queued or running when `abort` is set (else lets them
    // finish), frees the context on the thread, then resolves the returned promise. Later calls return the
    // same promise.
    Napi::Promise close(Napi::Env env, bool abort);
    // From a finalizer (no JS allowed): like close(env, false) without a promise.
    void closeQuietly();
    // Total llama_decode calls this context has made (for tests of where an abort stops a call).
    uint64_t decodes() const { return decodes_.load(); }
    // Total tokens not decoded because a kept shared prefix held them (prefix-cache.h).
    uint64_t prefixTokens() const { return prefixTokens_.load(); }

private:
    friend void deliverFromContextThread(Napi::Env, Napi::Function, ContextThread*, ContextThreadDelivery*);
    using Tsfn = Napi::TypedThreadSafeFunction<ContextThread, ContextThreadDelivery, &deliverFromContextThread>;

    ContextThread() = default;
    void hold(Napi::Env env);
    void letGo(Napi::Env env);
    void main();
    // Runs `call` on the context; for a bulk call, urgent calls run between its decodes.
    void runCall(BatchCall& call, bool allowUrgent);
    void runUrgent(const llama_context* busy);
    std::unique_ptr<BatchCall> takeNext();
    void send(std::unique_ptr<BatchCall> call);
    void requestClose(bool abort);
    void abortLiveLocked();  // with mutex_ held
    void interactiveChangedLocked();  // with mutex_ held, after interactive_ changed

    std::shared_ptr<BatchContext> context_;
    std::thread thread_;
    Tsfn tsfn_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<std::unique_ptr<BatchCall>> interactive_;
    std::deque<std::unique_ptr<BatchCall>> bulk_;
    std::map<uint64_t, BatchCall*> live_;  // submitted and not yet delivered
    bool closing_ = false;
    std::atomic<uint64_t> decodes_{0};
    std::atomic<uint64_t> prefixTokens_{0};
    std::atomic<bool> envClosing_{false};
    std::atomic<int64_t> lastInteractive_{INT64_MIN / 2};  // steady_clock ticks of the last interactive call
    std::atomic<bool> interactiveWaiting_{false};  // an interactive call waits that may run between chunks
    // JS thread only.
    size_t pending_ = 0;  // calls (and a close) not yet delivered: the TSFN keeps the event loop alive meanwhile
    bool closeRequested_ = false;
    bool closed_ = false;
    std::vector<napi_deferred> closeWaiters_;
};

}  // namespace qwen3
