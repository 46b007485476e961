// Creating a BatchContext: its llama.cpp contexts (main, short-sequence, and on demand a long one) and their
// callbacks. Running batches is in batch-context-run.cc, reading their outputs in batch-context-outputs.cc.
#include "batch-context.h"

#include <algorithm>

#include "llama-log.h"

namespace qwen3 {
namespace {

// Tokens per decode of the short-sequence context. 128 costs as much per token as 256 here (alternating in one
// process: 196 vs 200 tokens/s on 44 texts of 7 to 32 tokens, within the noise) for half the KV cache and
// compute buffer: 13 MB less per worker.
constexpr uint32_t kShortBatchTokens = 128;
// KV cells of the short context set aside for a shared prefix (prefix-cache.h): 7 MB at 0.6B's f16 cache.
constexpr uint32_t kPrefixCells = 64;
// The shortest prefix worth keeping in the short context: about Qwen3's `Instruct: ...\nQuery` of the shortest tasks.
constexpr uint32_t kMinShortPrefixTokens = 16;

bool evalCallback(struct ggml_tensor* tensor, bool ask, void* userData) {
    return static_cast<BatchContext*>(userData)->onTensor(tensor, ask);
}

bool abortCallback(void* userData) { return static_cast<const BatchContext*>(userData)->stopDecode(); }

// The vocabulary's one token for `word`, or -1 when the word takes several tokens.
llama_token singleToken(const llama_vocab* vocab, const std::string& word) {
    llama_token tokens[2];
    const int32_t n = llama().llama_tokenize(vocab, word.data(), static_cast<int32_t>(word.size()), tokens, 2, false, false);
    return n == 1 ? tokens[0] : -1;
}

}  // namespace

BatchContext::BatchContext(std::shared_ptr<LoadedModel> model, const ContextOptions& options)
    : model_(std::move(model)), options_(options) {}

std::shared_ptr<BatchContext> BatchContext::create(std::shared_ptr<LoadedModel> model, const ContextOptions& options,
                                                   std::string& error) {
    const auto& api = llama();
    std::shared_ptr<BatchContext> self(new BatchContext(std::move(model), options));
    const bool rankPooled = self->model_->usesRankPooling();
    if (options.llamaPooling) {
        self->rankMethod_ = RankMethod::LlamaRankPooling;
    } else {
        std::string classifierError;
        self->classifier_ = self->model_->classifierRows(classifierError);
        if (!classifierError.empty()) {
            self->rankUnavailable_ = classifierError;
        } else if (self->classifier_ != nullptr) {
            self->rankMethod_ = RankMethod::ClassifierRows;
        } else if (rankPooled) {
            self->rankUnavailable_ = "it uses RANK pooling but has no cls.output.weight; re-convert it with llama.cpp b6578 or later";
        } else {
            // A causal LM reranker answers "yes" or "no": their ids come from this model's own vocabulary.
            self->yesToken_ = singleToken(self->model_->vocab(), "yes");
            self->noToken_ = singleToken(self->model_->vocab(), "no");
            if (self->yesToken_ < 0 || self->noToken_ < 0) {
                self->rankUnavailable_ = "its vocabulary has no single token for \"yes\" and for \"no\", the answers a Qwen3 reranker scores";
            }
        }
    }

    // On the CPU, ggml's flash attention has two kernels: for decodes of 64 query tokens or more a tiled one (f32,
    // the fastest), else a per-query one that accumulates in f16. The tiled kernel's result also depends on where
    // a sequence's cells fall among its 64-cell tiles. Packed naively, a text would come out differently alone
    // and in a batch (cosine 0.9997 on the 0.6B fixture). So every sequence of 64 tokens or more is decoded alone,
    // from cell 0 (a decode of 64 to 512 tokens costs the same per token on a CPU), and shorter ones are packed
    // into a second, smaller context without flash attention, at aligned cells (decode-layout.h). Both paths
    // give a text the same bits alone and in any batch, and short texts lose nothing to the f16 kernel.
    const bool cpuFlash = options.flashAttention != LLAMA_FLASH_ATTN_TYPE_DISABLED && !options.llamaPooling &&
                          !self->model_->onGpu() && options.batchTokens >= kFlashAttentionMinTokens;
    // A sequence alone is fed whole up to batchTokens: on 2 cores two 150-token chunks of a 300-token e-mail ran ~5%
    // slower than one decode of it. (Half-size chunks would save ~10 MB of compute buffer per worker at 512 tokens.)
    self->mainCells_ = std::min(options.contextSize, options.batchTokens);
    self->ctx_ = createLlamaContext(self.get(), options,
                                    {self->mainCells_, options.batchTokens, cpuFlash ? 1u : options.maxSequences,
                                     options.flashAttention, options.kvCacheType},
                                    error);
    if (self->ctx_ == nullptr) return nullptr;
    if (cpuFlash) {
        // Sequences of 64 tokens or more are decoded alone from cell 0, and in chunks of 64 or more give the same
        // bits (batch-context-run.cc): a kept prefix of 64 tokens or more is such a first chunk, shared.
        self->mainPrefix_.on = self->mainCells_ >= 2 * kFlashAttentionMinTokens;
        self->mainPrefix_.cache = PrefixCache(kFlashAttentionMinTokens, self->mainCells_ - kFlashAttentionMinTokens,
                                              std::max(options.sequenceAlignment, 1u), kFlashAttentionMinTokens);
        self->shortBatchTokens_ = std::min(options.batchTokens, kShortBatchTokens);
        // A shared prefix (prefix-cache.h) takes cells of its own before each decode's, aligned like a sequence.
        self->shortPrefix_.on = options.sequenceAlignment == 0 || kPrefixCells % options.sequenceAlignment == 0;
        self->shortPrefix_.cache = PrefixCache(kMinShortPrefixTokens, std::min(kPrefixCells, kFlashAttentionMinTokens - 1), options.sequenceAlignment, 1);
        self->shortCtx_ = createLlamaContext(self.get(), options,
                                             {self->shortBatchTokens_ + (self->shortPrefix_.on ? kPrefixCells : 0), self->shortBatchTokens_,
                                              std::min(options.maxSequences, self->shortBatchTokens_),
                                              LLAMA_FLASH_ATTN_TYPE_DISABLED,
                                              // llama.cpp quantizes the V cache only with flash attention: q8_0 keeps K
                                              options.kvCacheType == GGML_TYPE_Q8_0 ? GGML_TYPE_F16 : options.kvCacheType},
                                             error);
        if (self->shortCtx_ == nullptr) return nullptr;
    }
    self->batch_ = api.llama_batch_init(static_cast<int32_t>(options.batchTokens), 0, 1);
    self->info_.contextSize = options.contextSize;
    self->info_.batchTokens = options.batchTokens;
    self->info_.maxSequences = options.maxSequences;
    self->info_.embeddingSize = self->model_->embeddingSize();
    self->info_.sequenceAlignment = options.sequenceAlignment;
    self->info_.flashAttention = options.flashAttention == 1 ? "on" : options.flashAttention == 0 ? "off" : "auto";
    if (!options.llamaPooling) {
        for (llama_context* ctx : {self->ctx_, self->shortCtx_}) {
            if (ctx == nullptr) continue;
            if (RunStatus status = self->checkOutputLayout(ctx); status.failed()) {
                error = status.message;
                return nullptr;
            }
        }
    }
    return self;
}

llama_context* BatchContext::createLlamaContext(BatchContext* self, const ContextOptions& options,
                                                const LlamaContextShape& shape, std::string& error) {
    const auto& api = llama();
    llama_context_params params = api.llama_context_default_params();
    params.n_ctx = shape.cells;
    params.n_batch = shape.batchTokens;
    params.n_ubatch = shape.batchTokens;  // one micro-batch per decode: output rows stay in batch order
    // llama.cpp zeroes a logits buffer of n_seq_max rows (607 KB each with Qwen3's vocabulary) at creation, and
    // reallocates it when a decode has more outputs. With a unified KV cache any sequence id is accepted whatever
    // n_seq_max is, so on the CPU the rows are sized for sequences of 8 tokens or more (a decode holds at most
    // batchTokens / 8 of them): 16 rows instead of 32 for the short-sequence context, 10 MB less per worker. Only
    // decodes packed with shorter texts grow it. GPU contexts keep every row: their buffer is pinned host memory.
    params.n_seq_max = options.llamaPooling || self->model_->onGpu()
                           ? shape.maxSequences
                           : std::clamp(shape.batchTokens / 8, 1u, shape.maxSequences);
    if (options.threads > 0) {
        params.n_threads = options.threads;
        params.n_threads_batch = options.threads;
    }
    params.flash_attn_type = static_cast<llama_flash_attn_type>(shape.flashAttention);
    params.type_k = options.kvCacheType;
    params.type_v = shape.valueType;
    params.kv_unified = true;
    params.no_perf = true;
    params.abort_callback = abortCallback;
    params.abort_callback_data = self;
    if (options.llamaPooling) {
        params.embeddings = true;
        params.pooling_type = LLAMA_POOLING_TYPE_UNSPECIFIED;  // the model's own (LAST or RANK)
    } else {
        params.embeddings = false;
        params.cb_eval = evalCallback;
        params.cb_eval_user_data = self;
    }
    LogCapture capture;
    llama_context* ctx = api.llama_init_from_model(self->model_->get(), params);
    if (ctx == nullptr) {
        const std::string log = capture.text();
        error = "llama.cpp could not create a context (contextSize " + std::to_string(shape.cells) + ", batchTokens " +
                std::to_string(shape.batchTokens) + ")" + (log.empty() ? "" : ": " + log);
    }
    return ctx;
}

bool BatchContext::aborted() const {
    const std::atomic<bool>* flag = currentAbort_.load();
    return flag != nullptr && flag->load();
}

bool BatchContext::stopDecode() const {
    const std::atomic<bool>* preempt = currentPreempt_.load();
    return aborted() || (preempt != nullptr && preempt->load());
}

BatchContext::~BatchContext() {
    const auto& api = llama();
    if (batch_.token != nullptr) api.llama_batch_free(batch_);
    if (shortCtx_ != nullptr) api.llama_free(shortCtx_);
    if (longCtx_ != nullptr) api.llama_free(longCtx_);
    if (ctx_ != nullptr) api.llama_free(ctx_);
}

BatchContext::KeptPrefix* BatchContext::keptPrefixOf(const llama_context* ctx) {
    if (ctx == nullptr) return nullptr;
    if (ctx == shortCtx_) return &shortPrefix_;
    if (ctx == ctx_) return &mainPrefix_;
    return nullptr;
}

void BatchContext::clearKeepingPrefix(llama_context* ctx) {
    const auto& api = llama();
    const KeptPrefix* prefix = keptPrefixOf(ctx);
    // Metadata only: zeroing the buffer would touch (and keep resident) every KV page of the context.
    if (prefix != nullptr && !prefix->kept.empty()) {
        api.llama_memory_seq_keep(api.llama_get_memory(ctx), kPrefixSeqId);
    } else {
        api.llama_memory_clear(api.llama_get_memory(ctx), false);
    }
}

// The main context, or for more tokens than its cells, a context of their size for this call.
llama_context* BatchContext::mainContextFor(size_t tokens, RunStatus& status) {
    return tokens > mainCells_ ? longContext(tokens, status) : ctx_;
}

llama_context* BatchContext::longContext(size_t tokens, RunStatus& status) {
    if (longCtx_ != nullptr && longCtxSize_ >= tokens) return longCtx_;
    freeLongContext();
    const uint32_t size = std::min<uint32_t>(info_.contextSize, static_cast<uint32_t>((tokens + 255) / 256 * 256));
    std::string error;
    longCtx_ = createLlamaContext(this, options_, {size, info_.batchTokens, 1, options_.flashAttention, options_.kvCacheType}, error);
    if (longCtx_ == nullptr) {
        status = RunStatus::fail("ERR_CONTEXT_TOO_SMALL", "could not make room for a sequence of " + std::to_string(tokens) +
                                                              " tokens: " + error);
        return nullptr;
    }
    longCtxSize_ = size;
    return longCtx_;
}

void BatchContext::freeLongContext() {
    if (longCtx_ != nullptr) llama().llama_free(longCtx_);
    longCtx_ = nullptr;
    longCtxSize_ = 0;
}

}  // namespace qwen3
