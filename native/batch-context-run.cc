// Running a batch: checking the sequences, laying them out over decodes (decode-layout.h), filling the llama_batch
// and calling llama_decode.
#include "batch-context.h"

#include <algorithm>
#include <cstring>

#include "decode-layout.h"
#include "llama-log.h"

namespace qwen3 {
namespace {

// Filler tokens (see decode-layout.h) form a sequence of their own. With a unified KV cache llama.cpp accepts
// sequence ids up to LLAMA_MAX_SEQ - 1 whatever n_seq_max is, so this id never meets a real one (at most 255).
constexpr llama_seq_id kFillerSeqId = 255;
constexpr llama_token kFillerToken = 0;

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

RunStatus BatchContext::embed(const std::vector<int32_t>& tokens, const std::vector<uint32_t>& lengths, float* out,
                               const RunControl& control) {
    return run(tokens, lengths, Output::Hidden, out, control);
}

RunStatus BatchContext::rank(const std::vector<int32_t>& tokens, const std::vector<uint32_t>& lengths, float* out,
                              const RunControl& control) {
    if (!rankUnavailable_.empty()) return RunStatus::fail("ERR_DECODE", "this model cannot rerank: " + rankUnavailable_);
    return run(tokens, lengths, Output::Score, out, control);
}

bool BatchContext::canRunBeside(const std::vector<uint32_t>& lengths, const llama_context* busy) const {
    if (busy == nullptr) return true;
    return busy != shortCtx_ && fitsBetweenChunks(lengths);
}

bool BatchContext::fitsBetweenChunks(const std::vector<uint32_t>& lengths) const {
    if (shortCtx_ == nullptr) return false;
    return std::all_of(lengths.begin(), lengths.end(), [](uint32_t length) { return length < kFlashAttentionMinTokens; });
}

void BatchContext::betweenDecodes(const llama_context* busy) {
    if (depth_ == 1 && control_->betweenDecodes) control_->betweenDecodes(busy);
}

RunStatus BatchContext::run(const std::vector<int32_t>& tokens, const std::vector<uint32_t>& lengths, Output output,
                            float* out, const RunControl& control) {
    // A run inside another (between its decodes) keeps the outer run's per-decode records and leaves its long
    // context and KV cache alone.
    struct Scope {
        BatchContext* self;
        const RunControl* outerControl;
        const std::atomic<bool>* outerAbort;
        std::vector<size_t> outputs;
        std::vector<int32_t> batchIndex;
        std::vector<llama_seq_id> seqIds;
        ~Scope() {
            if (self->depth_ == 1) {
                self->freeLongContext();
                self->clearKeepingPrefix(self->ctx_);
            }
            self->chunkOutputs_.swap(outputs);
            self->chunkOutputBatchIndex_.swap(batchIndex);
            self->chunkOutputSeqId_.swap(seqIds);
            self->control_ = outerControl;
            self->currentAbort_.store(outerAbort);
            self->depth_--;
        }
    } scope{this, control_, currentAbort_.load(), {}, {}, {}};
    depth_++;
    chunkOutputs_.swap(scope.outputs);
    chunkOutputBatchIndex_.swap(scope.batchIndex);
    chunkOutputSeqId_.swap(scope.seqIds);
    control_ = &control;
    currentAbort_.store(control.aborted);

    const auto& api = llama();
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

    return runLayouts(tokens, lengths, offsets, output, out);
}

RunStatus BatchContext::runLayouts(const std::vector<int32_t>& tokens, const std::vector<uint32_t>& lengths,
                                   const std::vector<size_t>& offsets, Output output, float* out) {
    // Decodes never share the KV cache with the next one, so no sequence attends over another decode's cells.
    const size_t maxSeqs = std::min<size_t>(info_.maxSequences, kPrefixSeqId);
    if (shortCtx_ != nullptr) {
        // Exact flash-attention mode (see create): 64 tokens or more alone, shorter ones packed apart.
        std::vector<size_t> shortIndex;
        std::vector<uint32_t> shortLengths;
        // A prefix that sequences of 64 tokens or more share (a rerank call's system prompt and query) is decoded
        // once and kept in the main context; each of them decodes the rest (prefix-cache.h).
        std::vector<int32_t> mainPrefix;
        if (mainPrefix_.on) {
            std::vector<const int32_t*> starts;
            std::vector<uint32_t> longLengths;
            for (size_t s = 0; s < lengths.size(); s++) {
                if (lengths[s] < kFlashAttentionMinTokens || lengths[s] > mainCells_) continue;
                starts.push_back(tokens.data() + offsets[s]);
                longLengths.push_back(lengths[s]);
            }
            if (!starts.empty()) mainPrefix = mainPrefix_.cache.choose(starts, longLengths);
        }
        for (size_t s = 0; s < lengths.size(); s++) {
            if (lengths[s] < kFlashAttentionMinTokens) {
                shortIndex.push_back(s);
                shortLengths.push_back(lengths[s]);
                continue;
            }
            const uint32_t cached = lengths[s] > mainCells_ ? 0 : mainPrefix_.cache.covered(mainPrefix, tokens.data() + offsets[s], lengths[s]);
            DecodeLayout alone;
            alone.slots.push_back({s, lengths[s] - cached, cached});
            alone.end = s + 1;
            alone.tokens = lengths[s] - cached;
            if (auto status = decodeAlone(alone, mainPrefix, tokens, offsets, output, out); status.failed()) return status;
        }
        // A shared prefix kept in the short context's KV cache covers the start of some (prefix-cache.h): they
        // decode the rest, from the offset modulo the alignment that the rest has without the prefix.
        std::vector<int32_t> prefix;
        std::vector<uint32_t> cached(shortLengths.size(), 0);
        std::vector<uint32_t> decoded = shortLengths;
        std::vector<int32_t> phases;
        if (shortPrefix_.on && !shortLengths.empty()) {
            std::vector<const int32_t*> starts;
            for (size_t s : shortIndex) starts.push_back(tokens.data() + offsets[s]);
            prefix = shortPrefix_.cache.choose(starts, shortLengths);
            for (size_t k = 0; k < shortLengths.size(); k++) {
                cached[k] = shortPrefix_.cache.covered(prefix, starts[k], shortLengths[k]);
                decoded[k] -= cached[k];
                phases.push_back(startPhase(shortLengths[k], cached[k], options_.sequenceAlignment));
            }
        }
        for (size_t start = 0; start < decoded.size();) {
            DecodeLayout layout = planDecode(decoded, start, shortBatchTokens_, std::min<size_t>(maxSeqs, shortBatchTokens_), options_.sequenceAlignment, phases);
            start = layout.end;
            bool usesPrefix = false;
            for (DecodeSlot& slot : layout.slots) {
                if (slot.sequence == DecodeSlot::kFiller) continue;
                slot.cached = cached[slot.sequence];
                usesPrefix = usesPrefix || slot.cached > 0;
                slot.sequence = shortIndex[slot.sequence];
            }
            betweenDecodes(nullptr);
            if (usesPrefix) {
                if (auto status = keepPrefix(shortCtx_, prefix); status.failed()) return status;
            }
            if (auto status = decodeLayout(shortCtx_, equalChunkTokens(layout.tokens, shortBatchTokens_), layout, tokens, offsets, output, out); status.failed()) return status;
        }
    } else {
        for (size_t start = 0; start < lengths.size();) {
            const DecodeLayout layout = planDecode(lengths, start, info_.batchTokens, maxSeqs, options_.sequenceAlignment);
            start = layout.end;
            betweenDecodes(nullptr);
            RunStatus status;
            llama_context* ctx = mainContextFor(layout.tokens, status);
            if (ctx == nullptr) return status;
            if (status = decodeLayout(ctx, equalChunkTokens(layout.tokens, info_.batchTokens), layout, tokens, offsets, output, out); status.failed()) return status;
        }
    }
    return {};
}

// One sequence of 64 tokens or more, in the main context: whole, or in chunks beside interactive calls
// (RunControl::chunkNow); a whole decode given up for one (RunControl::preempt) is done again in chunks.
RunStatus BatchContext::decodeAlone(const DecodeLayout& alone, const std::vector<int32_t>& prefix, const std::vector<int32_t>& tokens,
                                    const std::vector<size_t>& offsets, Output output, float* out) {
    const uint32_t whole = equalChunkTokens(alone.tokens, info_.batchTokens);
    const uint32_t chunked = control_->chunkTokens == 0
                                 ? whole
                                 : std::min(whole, smallestChunkTokens(alone.tokens, std::max(control_->chunkTokens, kFlashAttentionMinTokens)));
    bool chunk = chunked < whole && control_->chunkNow && control_->chunkNow();
    for (;;) {
        betweenDecodes(nullptr);
        RunStatus status;
        llama_context* ctx = mainContextFor(alone.tokens + alone.slots[0].cached, status);
        if (ctx == nullptr) return status;
        if (alone.slots[0].cached > 0) {
            // Here, after betweenDecodes: a call run there may have kept another prefix.
            if (keptPrefixOf(ctx) != &mainPrefix_) return RunStatus::fail("ERR_DECODE", "a sequence with a kept prefix must be decoded in the main context");
            if (status = keepPrefix(ctx, prefix); status.failed()) return status;
        } else if (ctx == ctx_ && !mainPrefix_.kept.empty()) {
            // A sequence the prefix does not cover starts at cell 0, as alone (flash attention's tiles), and may
            // need every cell: the prefix goes.
            llama().llama_memory_clear(llama().llama_get_memory(ctx_), false);
            mainPrefix_.kept.clear();
        }
        const bool preemptible = !chunk && chunked < whole && control_->preempt != nullptr;
        currentPreempt_.store(preemptible ? control_->preempt : nullptr);
        status = decodeLayout(ctx, chunk ? chunked : whole, alone, tokens, offsets, output, out);
        currentPreempt_.store(nullptr);
        if (preemptible && status.failed() && std::strcmp(status.code, "ERR_ABORTED") == 0 && !aborted()) {
            chunk = true;
            continue;
        }
        return status;
    }
}

// A layout longer than `budget` (one sequence) is fed in equal chunks (equal, so that no chunk falls under the 64
// tokens of flash attention's tiled kernel): the tokens of each, the last one at most that many.
uint32_t BatchContext::equalChunkTokens(uint32_t tokens, uint32_t budget) {
    const uint32_t chunks = (tokens + budget - 1) / budget;
    return chunks <= 1 ? tokens : (tokens + chunks - 1) / chunks;
}

// The shortest equal chunks of `tokens` with none under `least`, the last one included (`tokens`: one decode).
uint32_t BatchContext::smallestChunkTokens(uint32_t tokens, uint32_t least) {
    for (uint32_t chunks = tokens / least; chunks > 1; chunks--) {
        const uint32_t size = (tokens + chunks - 1) / chunks;
        if (tokens - (chunks - 1) * size >= least) return size;
    }
    return tokens;
}

// Fed in decodes of `chunkTokens` (the last one at most that many), positions continuing from chunk to chunk.
RunStatus BatchContext::decodeLayout(llama_context* ctx, uint32_t chunkTokens, const DecodeLayout& layout,
                                     const std::vector<int32_t>& tokens, const std::vector<size_t>& offsets, Output output,
                                     float* out) {
    const auto& api = llama();
    clearKeepingPrefix(ctx);
    batch_.n_tokens = 0;
    chunkOutputs_.clear();
    chunkOutputBatchIndex_.clear();
    chunkOutputSeqId_.clear();
    llama_pos fillerPos = 0;
    llama_seq_id nextSeqId = 0;
    for (const DecodeSlot& slot : layout.slots) {
        const bool filler = slot.sequence == DecodeSlot::kFiller;
        const llama_seq_id seqId = filler ? kFillerSeqId : nextSeqId++;
        const int32_t* source = filler ? nullptr : tokens.data() + offsets[slot.sequence] + slot.cached;
        if (slot.cached > 0) {
            api.llama_memory_seq_cp(api.llama_get_memory(ctx), kPrefixSeqId, seqId, 0, static_cast<llama_pos>(slot.cached));
        }
        for (uint32_t pos = 0; pos < slot.tokens; pos++) {
            const bool last = !filler && pos + 1 == slot.tokens;
            const int32_t at = batch_.n_tokens++;
            batch_.token[at] = filler ? kFillerToken : source[pos];
            batch_.pos[at] = filler ? fillerPos++ : static_cast<llama_pos>(slot.cached + pos);
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
                // Another sequence may run here only beside this context, whose KV cache holds this one's start.
                betweenDecodes(ctx);
            }
        }
    }
    RunStatus status = decodeChunk(ctx, output, out);
    if (!status.failed() && control_->prefixTokens != nullptr) {
        for (const DecodeSlot& slot : layout.slots) control_->prefixTokens->fetch_add(slot.cached);
    }
    return status;
}

RunStatus BatchContext::checkOutputLayout(llama_context* ctx) {
    const auto& api = llama();
    const RunControl control;  // no abort flag, no decode count
    control_ = &control;
    // A filler token first (when a decode holds two), so that a llama.cpp refusing its sequence id fails here too.
    const int32_t filler = std::min(info_.batchTokens, mainCells_) >= 2 ? 1 : 0;
    batch_.n_tokens = filler + 1;
    for (int32_t i = 0; i <= filler; i++) {
        const bool output = i == filler;
        batch_.token[i] = kFillerToken;
        batch_.pos[i] = 0;
        batch_.n_seq_id[i] = 1;
        batch_.seq_id[i][0] = output ? 0 : kFillerSeqId;
        batch_.logits[i] = output ? 1 : 0;
    }
    chunkOutputs_.assign(1, 0);
    chunkOutputBatchIndex_.assign(1, filler);
    chunkOutputSeqId_.assign(1, 0);
    std::vector<float> row(static_cast<size_t>(model_->embeddingSize()));
    const RunStatus status = decodeChunk(ctx, Output::Hidden, row.data());
    chunkOutputs_.clear();
    chunkOutputBatchIndex_.clear();
    chunkOutputSeqId_.clear();
    control_ = nullptr;
    api.llama_memory_clear(api.llama_get_memory(ctx), false);
    if (!status.failed()) return status;
    return RunStatus::fail(status.code, "llama.cpp does not decode the way this addon relies on (filler tokens under sequence id " +
                                            std::to_string(kFillerSeqId) + " beside the real ones; one F32 row of the model's " +
                                            "width per output token in the graph tensor result_norm): " + status.message +
                                            ". This llama.cpp is not the build the addon was compiled for; rebuild the addon " +
                                            "against it (`npm rebuild qwen3-embedding --build-from-source`) or bind " +
                                            "node-llama-cpp's own build");
}

RunStatus BatchContext::decodeChunk(llama_context* ctx, Output output, float* out) {
    const auto& api = llama();
    if (batch_.n_tokens == 0) return {};
    if (aborted()) {
        batch_.n_tokens = 0;
        return RunStatus::fail("ERR_ABORTED", "the batch was aborted");
    }
    if (control_->decodes != nullptr) control_->decodes->fetch_add(1);
    const bool needHidden = !options_.llamaPooling && (output == Output::Hidden || rankMethod_ == RankMethod::ClassifierRows);
    capturing_ = needHidden;
    hiddenIsEnough_ = needHidden && !(output == Output::Score && rankMethod_ == RankMethod::YesNoLogits);
    captured_.clear();
    capturedRows_ = 0;

    LogCapture capture;
    const int32_t code = api.llama_decode(ctx, batch_);
    capturing_ = false;
    const size_t tokensInChunk = static_cast<size_t>(batch_.n_tokens);
    batch_.n_tokens = 0;
    if (code != 0) {
        return decodeFailure(code, tokensInChunk, capture.text());
    }
    return readOutputs(ctx, output, needHidden, out);
}

uint32_t BatchContext::prefixCells(size_t prefixTokens) const {
    const uint32_t alignment = options_.sequenceAlignment;
    const auto tokens = static_cast<uint32_t>(prefixTokens);
    return alignment == 0 ? tokens : (tokens + alignment - 1) / alignment * alignment;
}

RunStatus BatchContext::keepPrefix(llama_context* ctx, const std::vector<int32_t>& prefix) {
    KeptPrefix& kept = *keptPrefixOf(ctx);
    if (prefix == kept.kept) return {};
    const auto& api = llama();
    llama_memory_t memory = api.llama_get_memory(ctx);
    api.llama_memory_clear(memory, false);
    kept.kept.clear();
    if (aborted()) return RunStatus::fail("ERR_ABORTED", "the batch was aborted");
    // The prefix from cell 0, as a sequence starts alone, then filler of its own sequence up to an aligned cell, so
    // that the decodes after it start aligned. One output (its last token), which nothing reads.
    const uint32_t cells = prefixCells(prefix.size());
    batch_.n_tokens = static_cast<int32_t>(cells);
    for (uint32_t i = 0; i < cells; i++) {
        batch_.token[i] = i < prefix.size() ? prefix[i] : kFillerToken;
        batch_.pos[i] = static_cast<llama_pos>(i);
        batch_.n_seq_id[i] = 1;
        batch_.seq_id[i][0] = kPrefixSeqId;
        batch_.logits[i] = i + 1 == cells ? 1 : 0;
    }
    if (control_->decodes != nullptr) control_->decodes->fetch_add(1);
    capturing_ = false;
    hiddenIsEnough_ = false;
    LogCapture capture;
    const int32_t code = api.llama_decode(ctx, batch_);
    batch_.n_tokens = 0;
    if (code != 0) {
        api.llama_memory_clear(memory, false);
        return decodeFailure(code, cells, capture.text());
    }
    kept.kept = prefix;
    return {};
}

}  // namespace qwen3
