// Which shared prefix the short-sequence context keeps in its KV cache between decodes.
//
// Why: every Qwen3 query starts with the same `Instruct: {instruction}\nQuery` (about 20 tokens, as many as a short
// query itself), and every rerank pair with the same system prompt. The context keeps one such prefix decoded at
// cells [0, P); a sequence that starts with it decodes only the rest, at cells that keep each token's offset
// modulo the alignment (decode-layout.h).
//
// The prefix is learned, not declared: the longest common start of a sequence with a recent one (whole groups of
// the alignment, at least minTokens), kept while a run has sequences it covers. So any caller's instruction is
// found without an API. Ending on a group boundary keeps a text's bits whether a prefix held its start or not:
// ggml sums attention rows in SIMD groups of 8 or 16 cells, and a group split between the prefix and the rest
// would round differently (measured: 1-cos 5.8e-8 on the 0.6B fixture for a prefix of 19 tokens).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <vector>

namespace qwen3 {

class PrefixCache {
public:
    static constexpr size_t kRecentSequences = 8;

    // A prefix is at least `minTokens` and at most `maxTokens` long, a whole number of `granularity` tokens (the
    // alignment, so that no group of cells ggml sums in SIMD lanes holds both prefix and other tokens), and leaves
    // at least `minRest` tokens of a sequence it covers.
    PrefixCache(uint32_t minTokens, uint32_t maxTokens, uint32_t granularity, uint32_t minRest)
        : minTokens_(minTokens), maxTokens_(maxTokens), granularity_(std::max(granularity, 1u)), minRest_(std::max(minRest, 1u)) {}

    // The prefix a run of these sequences should use: the last one chosen, or one learned from them and the recent
    // sequences (at most one change per run). Remembers the sequences.
    const std::vector<int32_t>& choose(const std::vector<const int32_t*>& starts, const std::vector<uint32_t>& lengths);

    // The tokens of a sequence that `prefix` covers: its length when the sequence starts with it and has at least
    // minRest tokens after it, else 0.
    uint32_t covered(const std::vector<int32_t>& prefix, const int32_t* sequence, uint32_t length) const;

private:
    uint32_t minTokens_;
    uint32_t maxTokens_;
    uint32_t granularity_;
    uint32_t minRest_;
    std::deque<std::vector<int32_t>> recent_;
    std::vector<int32_t> chosen_;
};

}  // namespace qwen3
