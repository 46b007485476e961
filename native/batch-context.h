// One llama.cpp context that evaluates many token sequences per llama_decode.
//
// The fast path does not use llama.cpp's embedding mode (which makes every token an output and so computes the
// vocabulary head for every token). Instead only each sequence's last token is an output, and the final-norm
// hidden state (`result_norm`) of those rows is copied out through the context's eval callback. Rerank scores
// come from the same hidden state and the model's yes/no classifier rows, or from the last-token logits of a
// plain causal LM.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "decode-layout.h"
#include "model-registry.h"
#include "prefix-cache.h"

namespace qwen3 {

struct ContextOptions {
    uint32_t batchTokens = 2048;   // tokens per llama_decode (n_batch = n_ubatch)
    uint32_t contextSize = 8192;   // KV cells: the longest sequence must fit
    uint32_t maxSequences = 128;   // sequences per decode
    int32_t threads = 0;           // 0: llama.cpp's default
    int32_t flashAttention = -1;   // llama_flash_attn_type: -1 auto, 0 off, 1 on
    ggml_type kvCacheType = GGML_TYPE_F16;
    // KV cells a packed sequence's start is aligned to (see decode-layout.h); 0 packs back to back.
    uint32_t sequenceAlignment = 16;
    // Verification mode: llama.cpp's own embedding mode with the model's pooling (LAST / RANK) instead of the
    // fast path. Slower; every sequence must fit one batch.
    bool llamaPooling = false;
};

// The outcome of a batch: success, or a failure with an error code the addon hands to JavaScript as is.
struct RunStatus {
    const char* code = nullptr;  // null on success; else "ERR_DECODE", "ERR_ABORTED" or "ERR_CONTEXT_TOO_SMALL"
    std::string message;
    bool failed() const { return code != nullptr; }
    static RunStatus fail(const char* code, std::string message) { return {code, std::move(message)}; }
};

struct ContextInfo {
    uint32_t contextSize;
    uint32_t batchTokens;
    uint32_t maxSequences;
    int32_t embeddingSize;
    std::string flashAttention;
    uint32_t sequenceAlignment;
};

// What a run gets from the thread running it (context-thread.h).
struct RunControl {
    // The call's abort flag: checked before every decode and, on backends that honour it, inside llama_decode.
    const std::atomic<bool>* aborted = nullptr;
    // Called where no decode is in flight and the batch buffer is empty, with the llama_context whose KV cache
    // holds a partly decoded sequence (null between sequences). Only for the outermost run.
    std::function<void(const llama_context* busy)> betweenDecodes;
    // With flash attention on the CPU, a sequence decoded alone is fed in the shortest equal chunks with none under
    // this many tokens nor the tiled kernel's 64 (so the result stays bit for bit the same) when chunkNow() says so
    // (asked before each such sequence); otherwise whole, up to batchTokens.
    uint32_t chunkTokens = 0;
    std::function<bool()> chunkNow;
    // While raised, a sequence being decoded whole that chunks could split is given up inside llama_decode (the CPU
    // honours the abort callback) and decoded again in chunks, after betweenDecodes: an interactive call waits.
    const std::atomic<bool>* preempt = nullptr;
    std::atomic<uint64_t>* decodes = nullptr;  // incremented per llama_decode
    std::atomic<uint64_t>* prefixTokens = nullptr;  // tokens a kept shared prefix saved decoding
};

enum class RankMethod { ClassifierRows, YesNoLogits, LlamaRankPooling };

class BatchContext {
public:
    static std::shared_ptr<BatchContext> create(std::shared_ptr<LoadedModel> model, const ContextOptions& options,
                                                std::string& error);
    ~BatchContext();
    BatchContext(const BatchContext&) = delete;
    BatchContext& operator=(const BatchContext&) = delete;

    // `tokens` holds the sequences back to back, `lengths` their lengths. `out` receives n x embeddingSize floats:
    // the final-norm hidden state of each sequence's last token (not normalized).
    // A BatchContext is used by one thread at a time (its ContextThread). A run may start another one from its
    // control's betweenDecodes, when canRunBeside allows it.
    RunStatus embed(const std::vector<int32_t>& tokens, const std::vector<uint32_t>& lengths, float* out, const RunControl& control);
    // `out` receives one p(yes) per sequence.
    RunStatus rank(const std::vector<int32_t>& tokens, const std::vector<uint32_t>& lengths, float* out, const RunControl& control);
    // Whether a run of sequences of these lengths leaves `busy` (see RunControl::betweenDecodes) untouched.
    bool canRunBeside(const std::vector<uint32_t>& lengths, const llama_context* busy) const;
    // Whether such a run may go between two chunks of a sequence (whatever context holds it).
    bool fitsBetweenChunks(const std::vector<uint32_t>& lengths) const;
    // The current run's abort flag is raised.
    bool aborted() const;
    // llama.cpp's abort callback: aborted, or the decode in flight is given up for an interactive call.
    bool stopDecode() const;

    const ContextInfo& info() const { return info_; }
    const std::shared_ptr<LoadedModel>& model() const { return model_; }
    RankMethod rankMethod() const { return rankMethod_; }
    const std::string& rankUnavailable() const { return rankUnavailable_; }

    // Called by llama.cpp's scheduler for graph nodes; copies out result_norm while capturing.
    bool onTensor(struct ggml_tensor* tensor, bool ask);

private:
    static constexpr uint32_t kFlashAttentionMinTokens = 64;  // GGML_FA_TILE_Q in ggml-cpu
    // The sequence a kept shared prefix (prefix-cache.h) is decoded in, with filler up to an aligned cell.
    static constexpr llama_seq_id kPrefixSeqId = 254;
    enum class Output { Hidden, Score };

    // batch-context.cc: the llama.cpp contexts.
    BatchContext(std::shared_ptr<LoadedModel> model, const ContextOptions& options);
    struct LlamaContextShape {
        uint32_t cells;
        uint32_t batchTokens;
        uint32_t maxSequences;
        int32_t flashAttention;
        ggml_type valueType;
    };
    static llama_context* createLlamaContext(BatchContext* self, const ContextOptions& options, const LlamaContextShape& shape,
                                             std::string& error);
    llama_context* mainContextFor(size_t tokens, RunStatus& status);
    llama_context* longContext(size_t tokens, RunStatus& status);
    void freeLongContext();

    // batch-context-run.cc: decoding.
    RunStatus run(const std::vector<int32_t>& tokens, const std::vector<uint32_t>& lengths, Output output, float* out,
                  const RunControl& control);
    RunStatus runLayouts(const std::vector<int32_t>& tokens, const std::vector<uint32_t>& lengths, const std::vector<size_t>& offsets,
                         Output output, float* out);
    RunStatus decodeAlone(const DecodeLayout& alone, const std::vector<int32_t>& prefix, const std::vector<int32_t>& tokens,
                          const std::vector<size_t>& offsets, Output output, float* out);
    static uint32_t equalChunkTokens(uint32_t tokens, uint32_t budget);
    static uint32_t smallestChunkTokens(uint32_t tokens, uint32_t least);
    RunStatus decodeLayout(llama_context* ctx, uint32_t chunkTokens, const DecodeLayout& layout, const std::vector<int32_t>& tokens,
                           const std::vector<size_t>& offsets, Output output, float* out);
    void betweenDecodes(const llama_context* busy);
    // Decodes a filler token and one output token in `ctx` and reads the output's result_norm row: fails when
    // llama.cpp refuses the filler's sequence id or its graph lacks that row as the fast path expects (see onTensor),
    // so a llama.cpp that changed either fails at context creation, not later or with wrong numbers. The message says so.
    RunStatus checkOutputLayout(llama_context* ctx);
    RunStatus decodeChunk(llama_context* ctx, Output output, float* out);
    // Makes `prefix` the one decoded at `ctx`'s cells [0, prefixCells(prefix)) (prefix-cache.h).
    RunStatus keepPrefix(llama_context* ctx, const std::vector<int32_t>& prefix);
    uint32_t prefixCells(size_t prefixTokens) const;

    // batch-context-outputs.cc: after a decode, writes each output row's result to `out`.
    RunStatus readOutputs(llama_context* ctx, Output output, bool needHidden, float* out);

    std::shared_ptr<LoadedModel> model_;
    ContextOptions options_;
    ContextInfo info_{};
    llama_context* ctx_ = nullptr;
    // With flash attention on the CPU (see BatchContext::create), sequences of fewer than 64 tokens go to this
    // second context, which has no flash attention. Null when flash attention is off or the model is on a GPU.
    llama_context* shortCtx_ = nullptr;
    uint32_t shortBatchTokens_ = 0;
    // A shared prefix a context keeps (prefix-cache.h): which one to keep, and the one decoded in its KV cache now.
    struct KeptPrefix {
        bool on = false;
        PrefixCache cache{0, 0, 1, 1};
        std::vector<int32_t> kept;  // empty: none; while not, the context's KV cache holds it at cells [0, its cells)
    };
    KeptPrefix shortPrefix_;  // of shortCtx_: the instruction of short queries
    KeptPrefix mainPrefix_;   // of ctx_: what sequences of 64 tokens or more share (a rerank call's query)
    KeptPrefix* keptPrefixOf(const llama_context* ctx);
    // Before a decode in `ctx`: its KV cache emptied, but for the prefix it keeps.
    void clearKeepingPrefix(llama_context* ctx);
    uint32_t mainCells_ = 0;         // KV cells of ctx_
    // ctx_ holds one decode's worth of KV cells (llama.cpp zeroes, and so makes resident, the whole cache when it
    // creates a context). A sequence longer than a decode gets a context of its own size for the call that needs it.
    llama_context* longCtx_ = nullptr;
    uint32_t longCtxSize_ = 0;
    llama_batch batch_{};
    const RunControl* control_ = nullptr;  // of the run in progress (the innermost one)
    std::atomic<const std::atomic<bool>*> currentAbort_{nullptr};
    std::atomic<const std::atomic<bool>*> currentPreempt_{nullptr};  // RunControl::preempt, while a decode may be given up
    int depth_ = 0;  // runs in progress: 2 while an urgent run runs between a bulk run's decodes

    RankMethod rankMethod_ = RankMethod::YesNoLogits;
    std::string rankUnavailable_;
    std::shared_ptr<const ClassifierRows> classifier_;
    llama_token yesToken_ = -1;  // with RankMethod::YesNoLogits: the vocabulary's tokens for "yes" and "no"
    llama_token noToken_ = -1;

    // Per decode: which sequence (index into the call's lengths) each output row belongs to, in batch order,
    // and the batch index of that output.
    std::vector<size_t> chunkOutputs_;
    std::vector<int32_t> chunkOutputBatchIndex_;
    std::vector<llama_seq_id> chunkOutputSeqId_;
    bool capturing_ = false;
    bool hiddenIsEnough_ = false;
    std::vector<float> captured_;
    size_t capturedRows_ = 0;
};

}  // namespace qwen3
