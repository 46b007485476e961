/** Count, mean, population standard deviation, minimum, median and maximum of a list of numbers. */
export interface Summary {
    count: number;
    mean: number;
    std: number;
    min: number;
    median: number;
    max: number;
}

/**
 * Summarizes `values` (accumulated in float64). An empty list gives count 0 and NaN everywhere else, which
 * JSON writes as null: there is nothing to summarize, and no threshold can pass on it.
 */
export function summarize(values: readonly number[]): Summary {
    const count = values.length;
    if (count === 0) return { count, mean: NaN, std: NaN, min: NaN, median: NaN, max: NaN };
    let sum = 0;
    for (const value of values) sum += value;
    const mean = sum / count;
    let squares = 0;
    for (const value of values) squares += (value - mean) ** 2;
    const sorted = [...values].sort((a, b) => a - b);
    const middle = Math.floor(count / 2);
    const median = count % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
    return { count, mean, std: Math.sqrt(squares / count), min: sorted[0]!, median, max: sorted[count - 1]! };
}

/** The mean of the finite values, NaN when there are none (undefined per-query statistics are left out). */
export function meanOfFinite(values: readonly number[]): number {
    const finite = values.filter(Number.isFinite);
    return finite.length === 0 ? NaN : finite.reduce((sum, value) => sum + value, 0) / finite.length;
}
