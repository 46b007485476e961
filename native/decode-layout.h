// Where the sequences of one llama_decode go in the batch, and so in the KV cache (an emptied cache takes a
// batch's tokens into consecutive cells, in batch order).
//
// Why: ggml's CPU attention sums over KV cells in SIMD lanes of 16, so a sequence's result depends, in the last
// bits, on the cell its tokens start at. Those bits grow through 28 layers: a 300-token text embedded alone and
// the same text behind a 5-token neighbour differed at cosine 0.9999 (measured on the 0.6B fixture). Every
// sequence that long therefore starts at a multiple of kSequenceAlignment, exactly as it does alone. Sequences of
// at most kUnalignedMaxTokens tokens differ by less than 1e-6 at any offset, so they fill the gaps those starts
// leave (and the end of the batch); what stays empty is filled with filler tokens of their own sequence, which
// no other sequence attends to.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace qwen3 {

constexpr uint32_t kSequenceAlignment = 16;
constexpr uint32_t kUnalignedMaxTokens = 16;

struct DecodeSlot {
    static constexpr size_t kFiller = SIZE_MAX;
    size_t sequence;  // index into the call's lengths, or kFiller
    uint32_t tokens;  // decoded here: the sequence's tokens after its `cached` ones
    uint32_t cached = 0;  // leading tokens already in the KV cache as a shared prefix (prefix-cache.h)
};

// Where a sequence must start, modulo the alignment: kFree (anywhere: at most kUnalignedMaxTokens tokens), or the
// cell offset its first decoded token must have. A sequence whose first `cached` tokens sit in a prefix at cells
// [0, cached) starts at `cached` modulo the alignment, so that each token keeps the cell it has alone.
constexpr int32_t kFree = -1;

// The start phase of a sequence of `tokens` whose first `cached` ones are a kept prefix: `cached` modulo the
// alignment when there is one, else 0 over kUnalignedMaxTokens tokens and kFree at or under it.
int32_t startPhase(uint32_t tokens, uint32_t cached, uint32_t alignment);

struct DecodeLayout {
    std::vector<DecodeSlot> slots;  // in batch order
    size_t end = 0;                 // the decode takes sequences [start, end)
    uint32_t tokens = 0;            // filler included
};

// Takes sequences from `start` on, in order, while the laid-out decode stays within `budget` tokens and
// `maxSequences` sequences (at least one sequence, even a longer one). `alignment` 0 packs back to back.
// `phases` (empty, or one per sequence) gives a sequence's start offset modulo the alignment, or kFree; when
// empty, sequences over kUnalignedMaxTokens start at 0 and shorter ones are free. `lengths` count decoded tokens.
DecodeLayout planDecode(const std::vector<uint32_t>& lengths, size_t start, uint32_t budget, size_t maxSequences,
                        uint32_t alignment, const std::vector<int32_t>& phases = {});

}  // namespace qwen3
