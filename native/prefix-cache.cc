#include "prefix-cache.h"

#include <algorithm>

namespace qwen3 {
namespace {

uint32_t commonStart(const int32_t* a, uint32_t aLength, const int32_t* b, uint32_t bLength) {
    const uint32_t n = std::min(aLength, bLength);
    uint32_t i = 0;
    while (i < n && a[i] == b[i]) i++;
    return i;
}

}  // namespace

uint32_t PrefixCache::covered(const std::vector<int32_t>& prefix, const int32_t* sequence, uint32_t length) const {
    const auto size = static_cast<uint32_t>(prefix.size());
    if (size == 0 || length < size + minRest_) return 0;
    return std::equal(prefix.begin(), prefix.end(), sequence) ? size : 0;
}

const std::vector<int32_t>& PrefixCache::choose(const std::vector<const int32_t*>& starts, const std::vector<uint32_t>& lengths) {
    bool keptCovers = false;
    for (size_t i = 0; i < starts.size() && !keptCovers; i++) keptCovers = covered(chosen_, starts[i], lengths[i]) > 0;
    for (size_t i = 0; i < starts.size() && !keptCovers; i++) {
        // At least minRest tokens of the sequence stay after its prefix; whole groups of `granularity` tokens only.
        if (lengths[i] < minTokens_ + minRest_) continue;
        const uint32_t limit = std::min(lengths[i] - minRest_, maxTokens_);
        uint32_t best = 0;
        if (!chosen_.empty()) {
            // Shrink to what it shares with the kept prefix (a prefix learned from two queries that began alike).
            best = commonStart(chosen_.data(), static_cast<uint32_t>(chosen_.size()), starts[i], limit);
        }
        if (best / granularity_ * granularity_ < minTokens_) {
            best = 0;
            const uint32_t recorded = std::min(lengths[i], maxTokens_ + 1);
            for (const auto& other : recent_) {
                // The same text again shares all of itself: no prefix to learn from it.
                if (other.size() == recorded && std::equal(other.begin(), other.end(), starts[i])) continue;
                best = std::max(best, commonStart(other.data(), static_cast<uint32_t>(other.size()), starts[i], limit));
            }
            for (size_t j = 0; j < i; j++) {
                if (lengths[j] == lengths[i] && std::equal(starts[j], starts[j] + lengths[j], starts[i])) continue;
                best = std::max(best, commonStart(starts[j], lengths[j], starts[i], limit));
            }
        }
        best = best / granularity_ * granularity_;
        if (best >= minTokens_) {
            chosen_.assign(starts[i], starts[i] + best);
            break;
        }
    }
    for (size_t i = 0; i < starts.size(); i++) {
        recent_.emplace_back(starts[i], starts[i] + std::min(lengths[i], maxTokens_ + 1));
        if (recent_.size() > kRecentSequences) recent_.pop_front();
    }
    return chosen_;
}

}  // namespace qwen3
