import { readFile } from "node:fs/promises";
import { InvalidOptionError } from "../internal/errors.js";
import { describeValue } from "../internal/validation.js";

/** A non-decreasing piecewise-linear function through its knots: x strictly increasing, y non-decreasing. */
export interface MonotoneKnots {
    x: number[];
    y: number[];
}

export const CALIBRATION_TYPE = "qwen3-embedding/score-calibration";

/** Correlation and error of reranker scores against the reference on the held-out pairs. */
export interface ScoreErrorStatistics {
    pearson: number;
    spearman: number;
    kendall: number;
    meanAbsoluteError: number;
    rootMeanSquareError: number;
}

/**
 * A monotone map from local reranker scores to a reference's scale, saved as a small JSON file. `x` strictly
 * increasing, `y` non-decreasing; applied by linear interpolation between the knots, clipped outside them.
 */
export interface ScoreCalibration extends MonotoneKnots {
    type: typeof CALIBRATION_TYPE;
    version: 1;
    method: "isotonic";
    /** how it was fitted, for the record; not needed to apply it */
    fitted?: {
        date: string;
        localModel?: string | undefined;
        reference?: string | undefined;
        fitPairs: number;
        heldOutPairs: number;
        heldOutBefore: ScoreErrorStatistics;
        heldOutAfter: ScoreErrorStatistics;
    };
}

function invalid(source: string, expected: string, value: unknown): never {
    throw new InvalidOptionError(`Expected ${expected} for ${source} but received ${describeValue(value)}`);
}

/** Checks a parsed calibration object (from JSON or from code); returns it typed. */
export function checkCalibration(value: unknown, source = "calibration"): ScoreCalibration {
    if (value === null || typeof value !== "object" || Array.isArray(value)) invalid(source, "a calibration object", value);
    const record = value as Record<string, unknown>;
    if (record["type"] !== CALIBRATION_TYPE) invalid(`${source}.type`, JSON.stringify(CALIBRATION_TYPE), record["type"]);
    if (record["version"] !== 1) invalid(`${source}.version`, "1", record["version"]);
    if (record["method"] !== "isotonic") invalid(`${source}.method`, '"isotonic"', record["method"]);
    const x = record["x"];
    const y = record["y"];
    if (!Array.isArray(x) || x.length === 0) invalid(`${source}.x`, "a non-empty array of numbers", x);
    if (!Array.isArray(y) || y.length !== x.length) invalid(`${source}.y`, `an array of ${x.length} numbers (as many as x)`, y);
    x.forEach((item: unknown, index) => {
        if (typeof item !== "number" || !Number.isFinite(item)) invalid(`${source}.x[${index}]`, "a finite number", item);
        if (index > 0 && item <= x[index - 1]) invalid(`${source}.x[${index}]`, `a number above x[${index - 1}] = ${x[index - 1]} (x must increase)`, item);
    });
    y.forEach((item: unknown, index) => {
        if (typeof item !== "number" || !Number.isFinite(item)) invalid(`${source}.y[${index}]`, "a finite number", item);
        if (index > 0 && item < y[index - 1]) invalid(`${source}.y[${index}]`, `a number of at least y[${index - 1}] = ${y[index - 1]} (the map must be monotone)`, item);
    });
    return value as ScoreCalibration;
}

/** Reads and checks a calibration JSON file written by `verify --fit-calibration`. */
export async function loadCalibration(path: string): Promise<ScoreCalibration> {
    let text: string;
    try {
        text = await readFile(path, "utf8");
    } catch (error) {
        throw new InvalidOptionError(`Cannot read the calibration file ${path}: ${(error as Error).message}`);
    }
    let parsed: unknown;
    try {
        parsed = JSON.parse(text);
    } catch {
        throw new InvalidOptionError(`The calibration file ${path} is not valid JSON`);
    }
    return checkCalibration(parsed, path);
}

/** The calibrated score: pure, monotone (never reorders), clipped to the range the map was fitted on. */
export function applyCalibration(calibration: MonotoneKnots, score: number): number {
    if (typeof score !== "number" || !Number.isFinite(score)) invalid("score", "a finite number", score);
    return interpolateKnots(calibration, score);
}

/** The value of the piecewise-linear map at `value`: linear between knots, the end values outside them. */
export function interpolateKnots(knots: MonotoneKnots, value: number): number {
    const { x, y } = knots;
    const last = x.length - 1;
    if (value <= x[0]!) return y[0]!;
    if (value >= x[last]!) return y[last]!;
    if (Number.isNaN(value)) return NaN;
    let low = 0;
    let high = last;
    while (high - low > 1) {
        const middle = (low + high) >> 1;
        if (x[middle]! <= value) low = middle;
        else high = middle;
    }
    const t = (value - x[low]!) / (x[high]! - x[low]!);
    return y[low]! + t * (y[high]! - y[low]!);
}
