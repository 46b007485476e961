#include "batch-context.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "decode-layout.h"
#include "llama-log.h"

namespace qwen3 {
namespace {

constexpr uint32_t kFlashAttentionMinTokens = 64;  // GGML_FA_TILE_Q in ggml-cpu
// Tokens per decode of the short-sequence context. 128 costs as much per token as 256 here (alternating in one
// process: 196 vs 200 tokens/s on 44 texts of 7 to 32 tokens, within the noise) for half the KV cache and
// compute buffer: 13 MB less per worker.
constexpr uint32_t kShortBatchTokens = 128;
// Filler tokens (see decode-layout.h) form a sequence of their own. With a unified KV cache llama.cpp accepts
// sequence ids up to LLAMA_MAX_SEQ - 1 whatever n_seq_max is, so this id never meets a real one (at most 255).
constexpr llama_seq_id kFillerSeqId = 255;
constexpr llama_token kFillerToken = 0;

bool evalCallback(struct ggml_tensor* tensor, bool ask, void* userData) {
    return static_cast<BatchContext*>(userData)->onTensor(tensor, ask);
}

bool abortCallback(void* userData) { return static_cast<std::atomic<bool>*>(userData)->load(); }

float sigmoid(double x) { return static_cast<float>(1.0 / (1.0 + std::exp(-x))); }

RunStatus decodeFailure(int32_t code, size_t tokens, const std::string& log) {
    const std::string detail = log.empty() ? "" : ": " + log;
    switch (code) {
        case 1:
            return RunStatus::fail("ERR_CONTEXT_TOO_SMALL", "llama_decode found no KV cache slot for a batch of " +
                                                                std::to_string(tokens) +
                                                                " tokens: the context is too small; create it with a larger contextSize" +
                                                                detail);
        case 2:
            return RunStatus::fail("ERR_ABORTED", "the batch was aborted");
        case -1:
            return RunStatus::fail("ERR_DECODE", "llama_decode rejected the batch as invalid input" + detail);
        default:
            return RunStatus::fail("ERR_DECODE", "llama_decode failed with code " + std::to_string(code) + detail);
    }
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
        self->shortBatchTokens_ = std::min(options.batchTokens, kShortBatchTokens);
        self->shortCtx_ = createLlamaContext(self.get(), options,
                                             {self->shortBatchTokens_, self->shortBatchTokens_,
                                              std::min(options.maxSequences, self->shortBatchTokens_),
                                              LLAMA_FLASH_ATTN_TYPE_DISABLED, options.kvCacheType},
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
    params.abort_callback_data = &self->abortRequested_;
    if (options.llamaPooling) {
        params.embeddings = true;
        params.pooling_type = LLAMA_POOLING_TYPE_UNSPECIFIED;  // the model's own (LAST or RANK)
    } else {
        params.embeddings = false;
        params.cb_eval = evalCallback;
        params.cb_eval_user_data = self;
    }
    beginLogCapture();
    llama_context* ctx = api.llama_init_from_model(self->model_->get(), params);
    if (ctx == nullptr) {
        const std::string log = capturedLog();
        error = "llama.cpp could not create a context (contextSize " + std::to_string(shape.cells) + ", batchTokens " +
                std::to_string(shape.batchTokens) + ")" + (log.empty() ? "" : ": " + log);
    }
    return ctx;
}

BatchContext::~BatchContext() {
    const auto& api = llama();
    if (batch_.token != nullptr) api.llama_batch_free(batch_);
    if (shortCtx_ != nullptr) api.llama_free(shortCtx_);
    if (longCtx_ != nullptr) api.llama_free(longCtx_);
    if (ctx_ != nullptr) api.llama_free(ctx_);
}

bool BatchContext::onTensor(struct ggml_tensor* tensor, bool ask) {
    const bool wanted = capturing_ && std::strcmp(tensor->name, "result_norm") == 0;
    if (ask) return wanted;
    if (!wanted) return true;
    const int64_t width = tensor->ne[0];
    const int64_t rows = tensor->ne[1];
    if (tensor->type != GGML_TYPE_F32 || width != model_->embeddingSize() || tensor->ne[2] != 1 || tensor->ne[3] != 1 ||
        llama().ggml_nbytes(tensor) != static_cast<size_t>(width * rows) * sizeof(float)) {
        capturedRows_ = SIZE_MAX;  // reported by decodeChunk as a mapping failure
        return true;
    }
    if (rows == 0) return true;
    const size_t at = captured_.size();
    captured_.resize(at + static_cast<size_t>(width * rows));
    llama().ggml_backend_tensor_get(tensor, captured_.data() + at, 0, static_cast<size_t>(width * rows) * sizeof(float));
    capturedRows_ += static_cast<size_t>(rows);
    // Returning false ends the graph here: the vocabulary head after result_norm (151k logits per output row,
    // written to pages that would then stay resident) is not computed when nothing reads it.
    return !hiddenIsEnough_;
}

RunStatus BatchContext::embed(const std::vector<int32_t>& tokens, const std::vector<uint32_t>& lengths, float* out) {
    return run(tokens, lengths, Output::Hidden, out);
}

RunStatus BatchContext::rank(const std::vector<int32_t>& tokens, const std::vector<uint32_t>& lengths, float* out) {
    if (!rankUnavailable_.empty()) return RunStatus::fail("ERR_DECODE", "this model cannot rerank: " + rankUnavailable_);
    return run(tokens, lengths, Output::Score, out);
}

RunStatus BatchContext::run(const std::vector<int32_t>& tokens, const std::vector<uint32_t>& lengths, Output output,
                              float* out) {
    std::lock_guard<std::mutex> lock(mutex_);
    const auto& api = llama();
    abortRequested_.store(false);
    struct ReleaseLongContext {
        BatchContext* self;
        ~ReleaseLongContext() { self->freeLongContext(); }
    } releaseLongContext{this};

    const int32_t nVocab = api.llama_vocab_n_tokens(model_->vocab());
    size_t total = 0;
    std::vector<size_t> offsets(lengths.size());
    for (size_t i = 0; i < lengths.size(); i++) {
        offsets[i] = total;
        if (lengths[i] == 0) return RunStatus::fail("ERR_DECODE", "sequence " + std::to_string(i) + " is empty");
        if (lengths[i] > info_.contextSize) {
            return RunStatus::fail("ERR_CONTEXT_TOO_SMALL", "sequence " + std::to_string(i) + " has " + std::to_string(lengths[i]) +
                                                                " tokens but the context holds " + std::to_string(info_.contextSize) +
                                                                ": truncate it or create the context with a larger contextSize");
        }
        if (options_.llamaPooling && lengths[i] > info_.batchTokens) {
            return RunStatus::fail("ERR_CONTEXT_TOO_SMALL", "sequence " + std::to_string(i) + " has " +
                                                                std::to_string(lengths[i]) +
                                                                " tokens; llamaPooling needs every sequence to fit one batch of " +
                                                                std::to_string(info_.batchTokens));
        }
        total += lengths[i];
    }
    if (total != tokens.size()) {
        return RunStatus::fail("ERR_DECODE", "the lengths add up to " + std::to_string(total) + " but " +
                                                           std::to_string(tokens.size()) + " tokens were given");
    }
    for (size_t i = 0; i < tokens.size(); i++) {
        if (tokens[i] < 0 || tokens[i] >= nVocab) {
            return RunStatus::fail("ERR_DECODE", "token " + std::to_string(tokens[i]) + " at position " +
                                                               std::to_string(i) + " is outside the vocabulary (0.." +
                                                               std::to_string(nVocab - 1) + ")");
        }
    }

    // Decodes never share the KV cache with the next one, so no sequence attends over another decode's cells.
    const size_t maxSeqs = std::min<size_t>(info_.maxSequences, kFillerSeqId);
    if (shortCtx_ != nullptr) {
        // Exact flash-attention mode (see create): 64 tokens or more alone, shorter ones packed apart.
        std::vector<size_t> shortIndex;
        std::vector<uint32_t> shortLengths;
        for (size_t s = 0; s < lengths.size(); s++) {
            if (lengths[s] < kFlashAttentionMinTokens) {
                shortIndex.push_back(s);
                shortLengths.push_back(lengths[s]);
                continue;
            }
            DecodeLayout alone;
            alone.slots.push_back({s, lengths[s]});
            alone.end = s + 1;
            alone.tokens = lengths[s];
            RunStatus status;
            llama_context* ctx = mainContextFor(alone.tokens, status);
            if (ctx == nullptr) return status;
            if (status = decodeLayout(ctx, info_.batchTokens, alone, tokens, offsets, output, out); status.failed()) return status;
        }
        for (size_t start = 0; start < shortLengths.size();) {
            DecodeLayout layout = planDecode(shortLengths, start, shortBatchTokens_, std::min<size_t>(maxSeqs, shortBatchTokens_), options_.sequenceAlignment);
            start = layout.end;
            for (DecodeSlot& slot : layout.slots) {
                if (slot.sequence != DecodeSlot::kFiller) slot.sequence = shortIndex[slot.sequence];
            }
            if (auto status = decodeLayout(shortCtx_, shortBatchTokens_, layout, tokens, offsets, output, out); status.failed()) return status;
        }
    } else {
        for (size_t start = 0; start < lengths.size();) {
            const DecodeLayout layout = planDecode(lengths, start, info_.batchTokens, maxSeqs, options_.sequenceAlignment);
            start = layout.end;
            RunStatus status;
            llama_context* ctx = mainContextFor(layout.tokens, status);
            if (ctx == nullptr) return status;
            if (status = decodeLayout(ctx, info_.batchTokens, layout, tokens, offsets, output, out); status.failed()) return status;
        }
    }
    api.llama_memory_clear(api.llama_get_memory(ctx_), false);
    return {};
}

// The main context, or for more tokens than its cells, a context of their size for this call.
llama_context* BatchContext::mainContextFor(size_t tokens, RunStatus& status) {
    return tokens > mainCells_ ? longContext(tokens, status) : ctx_;
}

// A layout longer than `budget` (one sequence) is fed in equal chunks with continuing positions (equal, so no chunk
// falls under the 64 tokens of flash attention's tiled kernel).
RunStatus BatchContext::decodeLayout(llama_context* ctx, uint32_t budget, const DecodeLayout& layout,
                                     const std::vector<int32_t>& tokens, const std::vector<size_t>& offsets, Output output,
                                     float* out) {
    const auto& api = llama();
    const size_t chunks = (layout.tokens + budget - 1) / budget;
    const size_t chunkTokens = (layout.tokens + chunks - 1) / chunks;
    // Metadata only: zeroing the buffer would touch (and keep resident) every KV page of the context.
    api.llama_memory_clear(api.llama_get_memory(ctx), false);
    batch_.n_tokens = 0;
    chunkOutputs_.clear();
    chunkOutputBatchIndex_.clear();
    chunkOutputSeqId_.clear();
    llama_pos fillerPos = 0;
    llama_seq_id nextSeqId = 0;
    for (const DecodeSlot& slot : layout.slots) {
        const bool filler = slot.sequence == DecodeSlot::kFiller;
        const llama_seq_id seqId = filler ? kFillerSeqId : nextSeqId++;
        const int32_t* source = filler ? nullptr : tokens.data() + offsets[slot.sequence];
        for (uint32_t pos = 0; pos < slot.tokens; pos++) {
            const bool last = !filler && pos + 1 == slot.tokens;
            const int32_t at = batch_.n_tokens++;
            batch_.token[at] = filler ? kFillerToken : source[pos];
            batch_.pos[at] = filler ? fillerPos++ : static_cast<llama_pos>(pos);
            batch_.n_seq_id[at] = 1;
            batch_.seq_id[at][0] = seqId;
            batch_.logits[at] = (last || (options_.llamaPooling && !filler)) ? 1 : 0;
            if (last) {
                chunkOutputs_.push_back(slot.sequence);
                chunkOutputBatchIndex_.push_back(at);
                chunkOutputSeqId_.push_back(seqId);
            }
            if (static_cast<size_t>(batch_.n_tokens) == chunkTokens) {
                if (auto status = decodeChunk(ctx, output, out); status.failed()) return status;
            }
        }
    }
    return decodeChunk(ctx, output, out);
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

RunStatus BatchContext::decodeChunk(llama_context* ctx, Output output, float* out) {
    const auto& api = llama();
    if (batch_.n_tokens == 0) return {};
    const size_t nEmbd = static_cast<size_t>(model_->embeddingSize());
    const bool needHidden = !options_.llamaPooling && (output == Output::Hidden || rankMethod_ == RankMethod::ClassifierRows);
    capturing_ = needHidden;
    hiddenIsEnough_ = needHidden && !(output == Output::Score && rankMethod_ == RankMethod::YesNoLogits);
    captured_.clear();
    capturedRows_ = 0;

    beginLogCapture();
    const int32_t code = api.llama_decode(ctx, batch_);
    capturing_ = false;
    const size_t tokensInChunk = static_cast<size_t>(batch_.n_tokens);
    batch_.n_tokens = 0;
    if (code != 0) {
        return decodeFailure(code, tokensInChunk, capturedLog());
    }

    const size_t outputs = chunkOutputs_.size();
    if (needHidden && capturedRows_ != outputs) {
        return RunStatus::fail("ERR_DECODE", "internal error: expected " + std::to_string(outputs) +
                                                 " result_norm rows from llama.cpp but got " +
                                                 (capturedRows_ == SIZE_MAX ? std::string("a tensor of unexpected shape")
                                                                            : std::to_string(capturedRows_)));
    }
    for (size_t k = 0; k < outputs; k++) {
        const size_t seq = chunkOutputs_[k];
        if (options_.llamaPooling) {
            const float* pooled = api.llama_get_embeddings_seq(ctx, chunkOutputSeqId_[k]);
            if (pooled == nullptr) return RunStatus::fail("ERR_DECODE", "llama.cpp returned no pooled output for a sequence");
            if (output == Output::Hidden) {
                std::memcpy(out + seq * nEmbd, pooled, nEmbd * sizeof(float));
            } else {
                out[seq] = pooled[0];  // Qwen3 RANK pooling is softmax([yes, no]): element 0 is p(yes)
            }
            continue;
        }
        if (output == Output::Hidden) {
            std::memcpy(out + seq * nEmbd, captured_.data() + k * nEmbd, nEmbd * sizeof(float));
        } else if (rankMethod_ == RankMethod::ClassifierRows) {
            const float* h = captured_.data() + k * nEmbd;
            double yes = classifier_->yesBias;
            double no = classifier_->noBias;
            for (size_t i = 0; i < nEmbd; i++) {
                yes += static_cast<double>(h[i]) * classifier_->yes[i];
                no += static_cast<double>(h[i]) * classifier_->no[i];
            }
            out[seq] = sigmoid(yes - no);
        } else {
            const float* logits = api.llama_get_logits_ith(ctx, chunkOutputBatchIndex_[k]);
            if (logits == nullptr) return RunStatus::fail("ERR_DECODE", "llama.cpp returned no logits for a sequence's last token");
            out[seq] = sigmoid(static_cast<double>(logits[yesToken_]) - logits[noToken_]);
        }
    }
    chunkOutputs_.clear();
    chunkOutputBatchIndex_.clear();
    chunkOutputSeqId_.clear();
    return {};
}

}  // namespace qwen3
