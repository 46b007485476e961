#include "decode-layout.h"

#include <algorithm>

namespace qwen3 {
namespace {

int32_t phaseOf(const std::vector<uint32_t>& lengths, const std::vector<int32_t>& phases, size_t s) {
    return phases.empty() ? startPhase(lengths[s], 0, 1) : phases[s];
}

// Aligned sequences in their given order, each after the free (short) sequences that fit the gap before its start,
// largest first, then filler; the free sequences left over go last, so the batch never ends in filler.
DecodeLayout layOut(const std::vector<uint32_t>& lengths, size_t start, size_t end, uint32_t alignment,
                    const std::vector<int32_t>& phases) {
    DecodeLayout layout;
    layout.end = end;
    std::vector<size_t> aligned;
    std::vector<size_t> free;  // longest first
    for (size_t s = start; s < end; s++) {
        (alignment > 0 && phaseOf(lengths, phases, s) != kFree ? aligned : free).push_back(s);
    }
    std::stable_sort(free.begin(), free.end(), [&](size_t a, size_t b) { return lengths[a] > lengths[b]; });
    std::vector<bool> placed(free.size(), false);
    auto place = [&](size_t sequence, uint32_t tokens) {
        layout.slots.push_back({sequence, tokens});
        layout.tokens += tokens;
    };
    // Free sequences into the gap up to the next cell at `phase` modulo the alignment; what they leave is filler.
    auto fillGap = [&](uint32_t phase, bool filler) {
        uint32_t gap = (phase + alignment - layout.tokens % alignment) % alignment;
        for (size_t f = 0; f < free.size() && gap > 0; f++) {
            if (placed[f] || lengths[free[f]] > gap) continue;
            place(free[f], lengths[free[f]]);
            placed[f] = true;
            gap -= lengths[free[f]];
        }
        if (gap > 0 && filler) place(DecodeSlot::kFiller, gap);
    };
    for (size_t i = 0; i < aligned.size(); i++) {
        fillGap(static_cast<uint32_t>(phaseOf(lengths, phases, aligned[i])), true);
        place(aligned[i], lengths[aligned[i]]);
    }
    if (!aligned.empty()) fillGap(0, false);
    for (size_t f = 0; f < free.size(); f++) {
        if (!placed[f]) place(free[f], lengths[free[f]]);
    }
    return layout;
}

}  // namespace

int32_t startPhase(uint32_t tokens, uint32_t cached, uint32_t alignment) {
    if (alignment == 0 || (cached == 0 && tokens <= kUnalignedMaxTokens)) return kFree;
    return static_cast<int32_t>(cached % alignment);
}

DecodeLayout planDecode(const std::vector<uint32_t>& lengths, size_t start, uint32_t budget, size_t maxSequences,
                        uint32_t alignment, const std::vector<int32_t>& phases) {
    // Every sequence padded to its aligned size bounds the layout from above: take that many at once, then try
    // one more at a time, since short sequences may have filled gaps.
    auto upperCost = [&](size_t s) -> uint64_t {
        const uint32_t n = lengths[s];
        return alignment > 0 && phaseOf(lengths, phases, s) != kFree ? n + alignment - 1 : n;
    };
    size_t end = start + 1;
    uint64_t upper = upperCost(start);
    while (end < lengths.size() && end - start < maxSequences && upper + upperCost(end) <= budget) upper += upperCost(end++);
    DecodeLayout best = layOut(lengths, start, end, alignment, phases);
    while (best.end < lengths.size() && best.end - start < maxSequences) {
        DecodeLayout next = layOut(lengths, start, best.end + 1, alignment, phases);
        if (next.tokens > budget) break;
        best = std::move(next);
    }
    return best;
}

}  // namespace qwen3
