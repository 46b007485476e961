import { InvalidOptionError } from "../internal/errors.js";
import { fitIsotonic } from "./isotonic-regression.js";
import { interpolateKnots } from "../facade/score-map.js";
import { kendallTau, pearson, spearman } from "./rank-correlation.js";
import { CALIBRATION_TYPE, type ScoreCalibration, type ScoreErrorStatistics } from "./score-calibration.js";

/** One (query, document) pair scored locally and by the reference. */
export interface ScoredPair {
    /** identifies the pair (query and document text): it decides the split, so the split does not depend on input order */
    key: string;
    local: number;
    reference: number;
}

export interface CalibrationFit {
    calibration: ScoreCalibration;
    /** which pairs were held out (by input position) */
    heldOut: boolean[];
    fitPairs: number;
    heldOutPairs: number;
    before: ScoreErrorStatistics;
    after: ScoreErrorStatistics;
}

export interface FitCalibrationOptions {
    /** Share of the pairs held out of the fit and used to measure it, in (0, 1). Default 0.3. */
    holdout?: number;
    localModel?: string;
    reference?: string;
}

/** 32-bit FNV-1a of a string's UTF-16 code units. */
function hashKey(key: string): number {
    let hash = 0x811c9dc5;
    for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193);
    return hash >>> 0;
}

export function errorStatistics(predicted: readonly number[], reference: readonly number[]): ScoreErrorStatistics {
    let absolute = 0;
    let squared = 0;
    predicted.forEach((value, index) => {
        absolute += Math.abs(value - reference[index]!);
        squared += (value - reference[index]!) ** 2;
    });
    const n = predicted.length;
    return {
        pearson: pearson(predicted, reference),
        spearman: spearman(predicted, reference),
        kendall: kendallTau(predicted, reference),
        meanAbsoluteError: n === 0 ? NaN : absolute / n,
        rootMeanSquareError: n === 0 ? NaN : Math.sqrt(squared / n),
    };
}

/**
 * Fits a monotone (isotonic) map from local to reference scores on part of the pairs and measures correlation and
 * error before and after it on the other part only. Pairs are ordered by a hash of their key and the first
 * round(holdout * n) are held out: deterministic, and independent of the order the pairs come in.
 */
export function fitCalibration(pairs: readonly ScoredPair[], options: FitCalibrationOptions = {}): CalibrationFit {
    const holdout = options.holdout ?? 0.3;
    if (typeof holdout !== "number" || !(holdout > 0 && holdout < 1)) {
        throw new InvalidOptionError(`Expected a number between 0 and 1 (exclusive) for holdout but received ${String(holdout)}`);
    }
    if (pairs.length < 4) {
        throw new InvalidOptionError(`Fitting a calibration needs at least 4 scored pairs (some to fit, some held out) but received ${pairs.length}`);
    }
    const heldOutCount = Math.min(pairs.length - 2, Math.max(1, Math.round(holdout * pairs.length)));
    const order = pairs.map((pair, index) => ({ hash: hashKey(pair.key), index })).sort((a, b) => a.hash - b.hash || a.index - b.index);
    const heldOut = new Array<boolean>(pairs.length).fill(false);
    for (const { index } of order.slice(0, heldOutCount)) heldOut[index] = true;

    const fitSet = pairs.filter((_, index) => !heldOut[index]);
    const testSet = pairs.filter((_, index) => heldOut[index]);
    const knots = fitIsotonic(fitSet.map((pair) => pair.local), fitSet.map((pair) => pair.reference));
    const testReference = testSet.map((pair) => pair.reference);
    const before = errorStatistics(testSet.map((pair) => pair.local), testReference);
    const after = errorStatistics(testSet.map((pair) => interpolateKnots(knots, pair.local)), testReference);
    const calibration: ScoreCalibration = {
        type: CALIBRATION_TYPE,
        version: 1,
        method: "isotonic",
        x: knots.x,
        y: knots.y,
        fitted: {
            date: new Date().toISOString(),
            localModel: options.localModel,
            reference: options.reference,
            fitPairs: fitSet.length,
            heldOutPairs: testSet.length,
            heldOutBefore: before,
            heldOutAfter: after,
        },
    };
    return { calibration, heldOut, fitPairs: fitSet.length, heldOutPairs: testSet.length, before, after };
}
