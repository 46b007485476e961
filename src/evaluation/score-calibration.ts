import { writeFile } from "node:fs/promises";
import { InvalidOptionError } from "../internal/errors.js";
import type { RerankOptions, RerankResult, ScorePair } from "../facade/reranker.js";
import { checkCalibration, interpolateKnots, type ScoreCalibration } from "../facade/score-map.js";
import { describeValue } from "../internal/validation.js";

export { CALIBRATION_TYPE, applyCalibration, checkCalibration, loadCalibration, type ScoreCalibration, type ScoreErrorStatistics } from "../facade/score-map.js";

function invalid(source: string, expected: string, value: unknown): never {
    throw new InvalidOptionError(`Expected ${expected} for ${source} but received ${describeValue(value)}`);
}

export async function saveCalibration(path: string, calibration: ScoreCalibration): Promise<void> {
    await writeFile(path, JSON.stringify(checkCalibration(calibration), null, 2) + "\n");
}

/** What {@link calibrateReranker} needs of a reranker: the facade's Reranker, or anything with the same two calls. */
export interface ScoringReranker {
    rerank(query: string, documents: readonly string[], options?: RerankOptions): Promise<RerankResult>;
    score(pairs: readonly ScorePair[], options?: Omit<RerankOptions, "topN" | "returnDocuments">): Promise<number[]>;
    dispose?(): void | Promise<void>;
}

/**
 * A reranker whose scores come out on the reference's scale. The map is non-decreasing, so the order of `rerank`
 * results (and which documents make a `topN`) is the underlying reranker's; only the scores change.
 */
export class CalibratedReranker<R extends ScoringReranker = ScoringReranker> {
    readonly reranker: R;
    readonly calibration: ScoreCalibration;

    constructor(reranker: R, calibration: ScoreCalibration) {
        this.reranker = reranker;
        this.calibration = checkCalibration(calibration);
    }

    async rerank(query: string, documents: readonly string[], options?: RerankOptions): Promise<RerankResult> {
        const result = await this.reranker.rerank(query, documents, options);
        return { ...result, results: result.results.map((item) => ({ ...item, score: interpolateKnots(this.calibration, item.score) })) };
    }

    async score(pairs: readonly ScorePair[], options?: Omit<RerankOptions, "topN" | "returnDocuments">): Promise<number[]> {
        return (await this.reranker.score(pairs, options)).map((score) => interpolateKnots(this.calibration, score));
    }

    /** Disposes of the wrapped reranker. */
    async dispose(): Promise<void> {
        await this.reranker.dispose?.();
    }

    async [Symbol.asyncDispose](): Promise<void> {
        await this.dispose();
    }
}

/** Wraps a reranker so that `rerank` and `score` return calibrated scores. */
export function calibrateReranker<R extends ScoringReranker>(reranker: R, calibration: ScoreCalibration): CalibratedReranker<R> {
    if (reranker === null || typeof reranker !== "object" || typeof reranker.rerank !== "function" || typeof reranker.score !== "function") {
        invalid("reranker", "a reranker with rerank() and score()", reranker);
    }
    return new CalibratedReranker(reranker, calibration);
}
