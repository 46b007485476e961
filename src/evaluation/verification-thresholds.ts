import { InvalidOptionError } from "../internal/errors.js";
import { describeValue } from "../internal/validation.js";
import type { EmbeddingAgreement } from "./embedding-agreement.js";
import type { RerankAgreement } from "./rerank-agreement.js";

/** Pass/fail limits of `verify`; every one is a lower bound on a statistic in [-1, 1]. */
export interface VerificationThresholds {
    /** lowest cosine of any item (--min-cosine) */
    minCosine: number;
    /** mean cosine (--min-mean-cosine) */
    minMeanCosine: number;
    /** Pearson correlation of all reranker scores pooled (--min-pearson) */
    minPearson: number;
    /** Spearman correlation of all reranker scores pooled (--min-spearman) */
    minSpearman: number;
    /** Kendall tau-b of all reranker scores pooled (--min-kendall) */
    minKendall: number;
    /** mean over queries of the nDCG@10 of the local ranking against the reference scores (--min-ndcg) */
    minNdcg: number;
    /** mean over queries of the top-k overlap (--min-top-k-overlap) */
    minTopKOverlap: number;
}

/**
 * Defaults for a float32/float16 local model against the same model served elsewhere: the consistency users expect
 * of a correct deployment (mean cosine 0.99999x, reranker rankings equal up to near-ties). Quantized local models
 * against full-precision references need looser limits.
 */
export const DEFAULT_THRESHOLDS: Readonly<VerificationThresholds> = Object.freeze({
    minCosine: 0.999,
    minMeanCosine: 0.9999,
    minPearson: 0.99,
    minSpearman: 0.99,
    minKendall: 0.9,
    minNdcg: 0.99,
    minTopKOverlap: 0.8,
});

export interface ThresholdCheck {
    name: keyof VerificationThresholds;
    /** what was measured, in words */
    metric: string;
    value: number;
    threshold: number;
    passed: boolean;
}

/** The defaults overridden by `overrides`, each checked to be a number in [-1, 1]. */
export function resolveThresholds(overrides: Partial<VerificationThresholds> = {}): VerificationThresholds {
    if (overrides === null || typeof overrides !== "object") {
        throw new InvalidOptionError(`Expected an object of thresholds for thresholds but received ${describeValue(overrides)}`);
    }
    const thresholds = { ...DEFAULT_THRESHOLDS };
    for (const [name, value] of Object.entries(overrides)) {
        if (!(name in DEFAULT_THRESHOLDS)) {
            throw new InvalidOptionError(`Unknown threshold ${JSON.stringify(name)}; the known thresholds are ${Object.keys(DEFAULT_THRESHOLDS).join(", ")}`);
        }
        if (value === undefined) continue;
        if (typeof value !== "number" || !(value >= -1 && value <= 1)) {
            throw new InvalidOptionError(`Expected a number between -1 and 1 for ${name} but received ${describeValue(value)}`);
        }
        thresholds[name as keyof VerificationThresholds] = value;
    }
    return thresholds;
}

/** One check per threshold that applies to what was compared. An undefined statistic (NaN) fails. */
export function checkThresholds(
    thresholds: VerificationThresholds,
    embeddings: EmbeddingAgreement | undefined,
    reranker: RerankAgreement | undefined,
): ThresholdCheck[] {
    const checks: ThresholdCheck[] = [];
    const add = (name: keyof VerificationThresholds, metric: string, value: number) =>
        checks.push({ name, metric, value, threshold: thresholds[name], passed: value >= thresholds[name] });
    if (embeddings !== undefined) {
        add("minCosine", "lowest embedding cosine", embeddings.cosine.min);
        add("minMeanCosine", "mean embedding cosine", embeddings.cosine.mean);
    }
    if (reranker !== undefined) {
        add("minPearson", "reranker score Pearson (all pairs)", reranker.pearson);
        add("minSpearman", "reranker score Spearman (all pairs)", reranker.spearman);
        add("minKendall", "reranker score Kendall tau (all pairs)", reranker.kendall);
        add("minNdcg", "mean nDCG@10 of the local ranking", reranker.meanQuery.ndcgAt10);
        add("minTopKOverlap", `mean top-${reranker.topK} overlap`, reranker.meanQuery.topKOverlap);
    }
    return checks;
}
