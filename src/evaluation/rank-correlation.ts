import { InvalidOptionError } from "../internal/errors.js";

function checkPaired(x: readonly number[], y: readonly number[]): void {
    if (x.length !== y.length) throw new InvalidOptionError(`Cannot correlate lists of different lengths: ${x.length} and ${y.length}`);
}

/**
 * Pearson's linear correlation coefficient in [-1, 1]. NaN when it is undefined: fewer than two values, or
 * either list constant.
 */
export function pearson(x: readonly number[], y: readonly number[]): number {
    checkPaired(x, y);
    const n = x.length;
    if (n < 2) return NaN;
    let meanX = 0;
    let meanY = 0;
    for (let i = 0; i < n; i++) {
        meanX += x[i]!;
        meanY += y[i]!;
    }
    meanX /= n;
    meanY /= n;
    let covariance = 0;
    let varianceX = 0;
    let varianceY = 0;
    for (let i = 0; i < n; i++) {
        const dx = x[i]! - meanX;
        const dy = y[i]! - meanY;
        covariance += dx * dy;
        varianceX += dx * dx;
        varianceY += dy * dy;
    }
    if (varianceX === 0 || varianceY === 0) return NaN;
    return Math.max(-1, Math.min(1, covariance / Math.sqrt(varianceX * varianceY)));
}

/** 1-based ranks, ascending; tied values share the average of the ranks they span (the "fractional" ranking). */
export function averageRanks(values: readonly number[]): number[] {
    const order = values.map((value, index) => ({ value, index })).sort((a, b) => a.value - b.value);
    const ranks = new Array<number>(values.length);
    for (let start = 0; start < order.length; ) {
        let end = start + 1;
        while (end < order.length && order[end]!.value === order[start]!.value) end++;
        const rank = (start + 1 + end) / 2; // mean of ranks start+1 .. end
        for (let i = start; i < end; i++) ranks[order[i]!.index] = rank;
        start = end;
    }
    return ranks;
}

/** Spearman's rank correlation: Pearson's correlation of the average ranks (ties handled). NaN when undefined. */
export function spearman(x: readonly number[], y: readonly number[]): number {
    checkPaired(x, y);
    return pearson(averageRanks(x), averageRanks(y));
}

/**
 * Kendall's tau-b: (concordant - discordant) / sqrt((n0 - tiesX) (n0 - tiesY)) over all n0 = n(n-1)/2 pairs,
 * which corrects for ties on either side (as scipy.stats.kendalltau does by default). NaN when undefined
 * (fewer than two values, or either list constant). O(n^2): fine for the few thousand pairs a verification has.
 */
export function kendallTau(x: readonly number[], y: readonly number[]): number {
    checkPaired(x, y);
    const n = x.length;
    let concordant = 0;
    let discordant = 0;
    let tiedX = 0;
    let tiedY = 0;
    for (let i = 0; i < n; i++) {
        for (let j = i + 1; j < n; j++) {
            const dx = Math.sign(x[i]! - x[j]!);
            const dy = Math.sign(y[i]! - y[j]!);
            if (dx === 0 && dy === 0) {
                tiedX++;
                tiedY++;
            } else if (dx === 0) {
                tiedX++;
            } else if (dy === 0) {
                tiedY++;
            } else if (dx === dy) {
                concordant++;
            } else {
                discordant++;
            }
        }
    }
    const pairs = (n * (n - 1)) / 2;
    const denominator = Math.sqrt((pairs - tiedX) * (pairs - tiedY));
    if (denominator === 0) return NaN;
    return (concordant - discordant) / denominator;
}
