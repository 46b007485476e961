#include "context-thread.h"

#include <algorithm>
#include <chrono>
#include <cstring>

#include "coded-error.h"
#include "llama-log.h"

namespace qwen3 {

// While interactive calls come in (one in the last kInteractiveWindow), bulk texts are decoded in chunks of 64 to
// 127 tokens with flash attention on the CPU, so that an interactive call waits for one chunk rather than a whole
// long text (RunControl::chunkTokens: the bits are the same). Without interactive traffic they are decoded whole:
// each extra chunk reads all the weights once more; the first interactive call that comes has the whole decode in
// flight given up and done again in chunks after it (RunControl::preempt).
constexpr uint32_t kBulkChunkTokens = 64;
constexpr std::chrono::seconds kInteractiveWindow{10};

int64_t nowTicks() { return std::chrono::steady_clock::now().time_since_epoch().count(); }

struct ContextThreadDelivery {
    std::unique_ptr<BatchCall> call;  // null: the context was freed and the thread is ending
};

std::shared_ptr<ContextThread> ContextThread::start(Napi::Env env, std::shared_ptr<BatchContext> context) {
    std::shared_ptr<ContextThread> self(new ContextThread());
    self->context_ = std::move(context);
    // The TSFN holds the object until its finalizer, which joins the thread, has run.
    auto* keepAlive = new std::shared_ptr<ContextThread>(self);
    self->tsfn_ = Tsfn::New(env, "qwen3-embedding decode", 0, 1, self.get(),
                            [](Napi::Env, std::shared_ptr<ContextThread>* owner, ContextThread* thread) {
                                thread->requestClose(true);
                                if (thread->thread_.joinable()) thread->thread_.join();
                                delete owner;
                            },
                            keepAlive);
    self->tsfn_.Unref(env);  // an idle context does not keep the process alive
    self->thread_ = std::thread([raw = self.get()] { raw->main(); });
    return self;
}

ContextThread::~ContextThread() {
    if (thread_.joinable()) thread_.detach();  // unreachable: the TSFN finalizer joins before the last owner lets go
}

void ContextThread::hold(Napi::Env env) {
    if (pending_++ == 0) tsfn_.Ref(env);
}

void ContextThread::letGo(Napi::Env env) {
    if (--pending_ == 0) tsfn_.Unref(env);
}

Napi::Promise ContextThread::submit(Napi::Env env, std::unique_ptr<BatchCall> call) {
    napi_value promise;
    NAPI_THROW_IF_FAILED(env, napi_create_promise(env, &call->deferred, &promise), Napi::Promise());
    {
        std::lock_guard<std::mutex> lock(mutex_);
        if (closing_) {
            napi_reject_deferred(env, call->deferred, codedError(env, "the context was disposed", "ERR_DISPOSED").Value());
            return Napi::Promise(env, promise);
        }
        live_[call->id] = call.get();
        if (call->interactive) lastInteractive_.store(nowTicks());
        (call->interactive ? interactive_ : bulk_).push_back(std::move(call));
        interactiveChangedLocked();
    }
    hold(env);
    wake_.notify_one();
    return Napi::Promise(env, promise);
}

void ContextThread::abort(uint64_t id) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (auto it = live_.find(id); it != live_.end()) it->second->aborted.store(true);
}

void ContextThread::abortAll() {
    std::lock_guard<std::mutex> lock(mutex_);
    abortLiveLocked();
}

void ContextThread::abortLiveLocked() {
    for (auto& entry : live_) entry.second->aborted.store(true);
}

void ContextThread::requestClose(bool abort) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        closing_ = true;
        if (abort) abortLiveLocked();
    }
    wake_.notify_one();
}

Napi::Promise ContextThread::close(Napi::Env env, bool abort) {
    requestClose(abort);
    napi_deferred deferred;
    napi_value promise;
    NAPI_THROW_IF_FAILED(env, napi_create_promise(env, &deferred, &promise), Napi::Promise());
    if (closed_) {
        napi_resolve_deferred(env, deferred, env.Undefined());
    } else {
        if (!closeRequested_) {
            closeRequested_ = true;
            hold(env);
        }
        closeWaiters_.push_back(deferred);
    }
    return Napi::Promise(env, promise);
}

void ContextThread::closeQuietly() { requestClose(false); }

std::unique_ptr<BatchCall> ContextThread::takeNext() {
    std::unique_lock<std::mutex> lock(mutex_);
    wake_.wait(lock, [this] { return closing_ || !interactive_.empty() || !bulk_.empty(); });
    auto& queue = !interactive_.empty() ? interactive_ : bulk_;
    if (queue.empty()) return nullptr;  // closing and drained
    std::unique_ptr<BatchCall> call = std::move(queue.front());
    queue.pop_front();
    interactiveChangedLocked();
    return call;
}

void ContextThread::interactiveChangedLocked() {
    const bool waiting = std::any_of(interactive_.begin(), interactive_.end(),
                                     [this](const std::unique_ptr<BatchCall>& call) { return context_->fitsBetweenChunks(call->lengths); });
    interactiveWaiting_.store(waiting);
}

void ContextThread::main() {
    LogCapture ours;  // what this thread's decodes and frees log is the addon's (llama-log.h)
    while (std::unique_ptr<BatchCall> call = takeNext()) {
        runCall(*call, true);
        send(std::move(call));
    }
    context_.reset();  // frees the llama.cpp contexts on this thread
    send(nullptr);
    // Once a call was refused (napi_closing), the env is being torn down and the TSFN must not be touched again.
    if (!envClosing_.load()) tsfn_.Release();
}

void ContextThread::runCall(BatchCall& call, bool allowUrgent) {
    if (call.aborted.load()) {
        call.status = RunStatus::fail("ERR_ABORTED", "the batch was aborted before it started");
        return;
    }
    const size_t width = call.embed ? static_cast<size_t>(context_->info().embeddingSize) : 1;
    call.out.assign(call.lengths.size() * width, 0.0f);
    RunControl control;
    control.aborted = &call.aborted;
    control.decodes = &decodes_;
    control.prefixTokens = &prefixTokens_;
    if (allowUrgent && !call.interactive) {
        control.chunkTokens = kBulkChunkTokens;
        control.chunkNow = [this] {
            return std::chrono::steady_clock::duration(nowTicks() - lastInteractive_.load()) < kInteractiveWindow;
        };
        control.preempt = &interactiveWaiting_;
        control.betweenDecodes = [this](const llama_context* busy) { runUrgent(busy); };
    }
    call.status = call.embed ? context_->embed(call.tokens, call.lengths, call.out.data(), control)
                             : context_->rank(call.tokens, call.lengths, call.out.data(), control);
}

// Between a bulk call's decodes: the interactive calls waiting that can run beside it, in order.
void ContextThread::runUrgent(const llama_context* busy) {
    for (;;) {
        std::unique_ptr<BatchCall> call;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            for (auto it = interactive_.begin(); it != interactive_.end(); ++it) {
                if (context_->canRunBeside((*it)->lengths, busy)) {
                    call = std::move(*it);
                    interactive_.erase(it);
                    interactiveChangedLocked();
                    break;
                }
            }
        }
        if (call == nullptr) return;
        runCall(*call, false);
        send(std::move(call));
    }
}

void ContextThread::send(std::unique_ptr<BatchCall> call) {
    auto* delivery = new ContextThreadDelivery{std::move(call)};
    // Fails only while the env is being torn down; then nobody waits for the result.
    const napi_status status = tsfn_.NonBlockingCall(delivery);
    if (status == napi_ok) return;
    if (status == napi_closing) envClosing_.store(true);
    delete delivery;
}

void deliverFromContextThread(Napi::Env env, Napi::Function, ContextThread* self, ContextThreadDelivery* delivery) {
    std::unique_ptr<ContextThreadDelivery> owned(delivery);
    if (static_cast<napi_env>(env) == nullptr) return;  // the env is going away
    Napi::HandleScope scope(env);
    if (owned->call == nullptr) {
        self->closed_ = true;
        for (napi_deferred waiter : self->closeWaiters_) napi_resolve_deferred(env, waiter, env.Undefined());
        self->closeWaiters_.clear();
        if (self->closeRequested_) self->letGo(env);
        return;
    }
    BatchCall& call = *owned->call;
    {
        std::lock_guard<std::mutex> lock(self->mutex_);
        self->live_.erase(call.id);
    }
    if (call.status.failed()) {
        napi_reject_deferred(env, call.deferred, codedError(env, call.status.message, call.status.code).Value());
    } else {
        Napi::Float32Array rows = Napi::Float32Array::New(env, call.out.size());
        if (!call.out.empty()) std::memcpy(rows.Data(), call.out.data(), call.out.size() * sizeof(float));
        napi_resolve_deferred(env, call.deferred, rows);
    }
    self->letGo(env);
}

}  // namespace qwen3
