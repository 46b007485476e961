import { InvalidOptionError } from "../internal/errors.js";
import type { EmbedOptions, EmbeddingResult } from "../facade/embedder.js";
import type { RerankOptions, ScorePair } from "../facade/reranker.js";
import { checkBoolean, checkInteger, checkOptionsObject, describeValue } from "../internal/validation.js";
import { fitCalibration, type CalibrationFit } from "./calibration-fitting.js";
import { compareEmbeddings, type EmbeddingAgreement } from "./embedding-agreement.js";
import { interpolateKnots, type MonotoneKnots } from "../facade/score-map.js";
import { describeModelsPrecision, isKvCacheType, type KvCacheType } from "../facade/precision-mode.js";
import { ProgressBar, type ProgressStream } from "./progress-bar.js";
import type { ReferenceData } from "./reference-data.js";
import { compareRerankScores, type RerankAgreement } from "./rerank-agreement.js";
import { checkCalibration, type ScoreCalibration, type ScoreErrorStatistics } from "./score-calibration.js";
import { checkThresholds, resolveThresholds, type ThresholdCheck, type VerificationThresholds } from "./verification-thresholds.js";

/** What verification needs of a local embedder: the facade's Embedder fits. */
export interface LocalEmbedder {
    readonly dimensions: number;
    /** the KV cache precision it runs with (the facade's Embedder says), named in the report's `mode` */
    readonly kvCacheType?: KvCacheType;
    embed(texts: readonly string[], options?: EmbedOptions): Promise<EmbeddingResult>;
}

/** What verification needs of a local reranker: the facade's Reranker (or a CalibratedReranker) fits. */
export interface LocalReranker {
    /** the KV cache precision it runs with (the facade's Reranker says), named in the report's `mode` */
    readonly kvCacheType?: KvCacheType;
    score(pairs: readonly ScorePair[], options?: Omit<RerankOptions, "topN" | "returnDocuments">): Promise<number[]>;
}

export interface VerifyOptions {
    /** compares the reference's embeddings when given */
    embedder?: LocalEmbedder | undefined;
    /** compares the reference's rerank scores when given */
    reranker?: LocalReranker | undefined;
    reference: ReferenceData;
    /** Matryoshka dimensions for the local embeddings (the reference must have been made with the same). */
    dimensions?: number | undefined;
    thresholds?: Partial<VerificationThresholds> | undefined;
    /** k of the top-k overlap. Default 3 (below the 5 documents of a built-in probe query, where top-5 would always agree). */
    topK?: number | undefined;
    /** how many worst items to name. Default 5. */
    worst?: number | undefined;
    /** applied to the local reranker scores before they are compared (a map fitted earlier) */
    calibration?: ScoreCalibration | undefined;
    /** fit a monotone map local -> reference scores, measured on held-out pairs; the share held out (0..1), or true for 0.3 */
    fitCalibration?: boolean | number | undefined;
    /** names for the report */
    models?: { embedding?: string | undefined; reranker?: string | undefined } | undefined;
    /** progress bars of the local work (only drawn on a terminal unless `progress` is true) */
    progress?: boolean | undefined;
    progressStream?: ProgressStream | undefined;
}

export interface VerificationReport {
    tool: "qwen3-embedding verify";
    date: string;
    reference: string;
    models: { embedding?: string | undefined; reranker?: string | undefined };
    /**
     * The precision the local models ran in, from their kvCacheType: "exact (f32 KV cache)" or "fast (f16 KV cache)"
     * (both named when the two models differ); "unknown" when no local model says (an object other than the facade's).
     */
    mode: string;
    /** each local model's KV cache precision, where it says */
    kvCacheTypes: { embedding?: KvCacheType | undefined; reranker?: KvCacheType | undefined };
    thresholds: VerificationThresholds;
    embeddings?: EmbeddingAgreement;
    reranker?: RerankAgreement & { calibrated: boolean };
    /** the map applied to local scores before comparing (from `calibration`) */
    appliedCalibration?: MonotoneKnots;
    /** the map fitted with `fitCalibration`, and how it did on the pairs held out of the fit */
    calibrationFit?: {
        calibration: ScoreCalibration;
        fitPairs: number;
        heldOutPairs: number;
        /** per pair of `reranker.points`: held out of the fit */
        heldOut: boolean[];
        before: ScoreErrorStatistics;
        after: ScoreErrorStatistics;
    };
    checks: ThresholdCheck[];
    passed: boolean;
}

const OPTION_NAMES = [
    "embedder", "reranker", "reference", "dimensions", "thresholds", "topK", "worst", "calibration", "fitCalibration", "models", "progress", "progressStream",
] as const;

/** Checks that a JavaScript caller passed something with the method verification calls (`embed` or `score`). */
export function checkLocalModel<T>(name: string, value: T | undefined, method: "embed" | "score"): T | undefined {
    if (value === undefined) return undefined;
    if (value === null || typeof value !== "object" || typeof (value as Record<string, unknown>)[method] !== "function") {
        throw new InvalidOptionError(`Expected an object with ${method === "embed" ? "an" : "a"} ${method}() method (the facade's ${method === "embed" ? "Embedder" : "Reranker"}) for ${name} but received ${describeValue(value)}`);
    }
    return value;
}

/** Groups items by a key, keeping first-seen order of the keys and item order within each group. */
function groupBy<T>(items: readonly T[], key: (item: T) => string | undefined): Map<string | undefined, { item: T; index: number }[]> {
    const groups = new Map<string | undefined, { item: T; index: number }[]>();
    items.forEach((item, index) => {
        const k = key(item);
        const list = groups.get(k) ?? [];
        list.push({ item, index });
        groups.set(k, list);
    });
    return groups;
}

/**
 * Computes locally what the reference computed, compares, and checks the thresholds. Embeddings are compared when an
 * embedder is given and the reference has embeddings; rerank scores likewise with a reranker.
 */
export async function verifyAgainstReference(options: VerifyOptions): Promise<VerificationReport> {
    const opts = checkOptionsObject<VerifyOptions>("verify options", options, OPTION_NAMES);
    const { reference } = opts;
    if (reference === null || typeof reference !== "object" || !Array.isArray(reference.embeddings) || !Array.isArray(reference.rerankings)) {
        throw new InvalidOptionError("Expected reference data ({source, embeddings, rerankings}) for reference");
    }
    checkLocalModel("embedder", opts.embedder, "embed");
    checkLocalModel("reranker", opts.reranker, "score");
    if (opts.progress !== undefined) checkBoolean("progress", opts.progress);
    if (opts.fitCalibration !== undefined && typeof opts.fitCalibration !== "boolean" && typeof opts.fitCalibration !== "number") {
        throw new InvalidOptionError(`Expected a boolean or the held-out share (a number between 0 and 1) for fitCalibration but received ${describeValue(opts.fitCalibration)}`);
    }
    const thresholds = resolveThresholds(opts.thresholds ?? {});
    const topK = opts.topK === undefined ? 3 : checkInteger("topK", opts.topK, 1, 1000);
    const worst = opts.worst === undefined ? 5 : checkInteger("worst", opts.worst, 1, 1000);
    const applied = opts.calibration === undefined ? undefined : checkCalibration(opts.calibration);
    const holdout = opts.fitCalibration === undefined || opts.fitCalibration === false ? undefined : opts.fitCalibration === true ? 0.3 : opts.fitCalibration;
    if (applied !== undefined && holdout !== undefined) throw new InvalidOptionError("Pass either calibration (apply a map) or fitCalibration (fit one), not both");
    if (opts.embedder === undefined && opts.reranker === undefined) throw new InvalidOptionError("Pass an embedder, a reranker, or both, to compare with the reference");
    if (opts.embedder !== undefined && reference.embeddings.length === 0) throw new InvalidOptionError(`The reference ${reference.source} has no embeddings to compare with`);
    if (opts.reranker !== undefined && reference.rerankings.length === 0) throw new InvalidOptionError(`The reference ${reference.source} has no rerank scores to compare with`);
    const barOptions = { ...(opts.progressStream === undefined ? {} : { stream: opts.progressStream }), ...(opts.progress === undefined ? {} : { enabled: opts.progress }) };

    const said = (value: unknown) => (isKvCacheType(value) ? value : undefined);
    const kvCacheTypes = { embedding: said(opts.embedder?.kvCacheType), reranker: said(opts.reranker?.kvCacheType) };
    const report: VerificationReport = {
        tool: "qwen3-embedding verify",
        date: new Date().toISOString(),
        reference: reference.source,
        models: { embedding: opts.models?.embedding, reranker: opts.models?.reranker },
        mode: describeModelsPrecision(kvCacheTypes) ?? "unknown",
        kvCacheTypes,
        thresholds,
        checks: [],
        passed: false,
    };

    if (opts.embedder !== undefined) {
        const embedder = opts.embedder;
        const dimensions = opts.dimensions === undefined ? embedder.dimensions : checkInteger("dimensions", opts.dimensions, 1, embedder.dimensions);
        const mismatch = reference.embeddings.find((item) => item.embedding.length !== dimensions);
        if (mismatch !== undefined) {
            throw new InvalidOptionError(
                `The reference embedding of ${JSON.stringify(mismatch.id)} has ${mismatch.embedding.length} dimensions but the local ones have ${dimensions}` +
                    (mismatch.embedding.length < embedder.dimensions
                        ? `; pass --dimensions ${mismatch.embedding.length} (dimensions) to compare Matryoshka-truncated vectors`
                        : "; the reference is a larger model than the local one"),
            );
        }
        const local = new Array<Float32Array>(reference.embeddings.length);
        const bar = new ProgressBar("local embeddings", reference.embeddings.length, barOptions);
        for (const [instruction, group] of groupBy(reference.embeddings, (item) => item.instruction)) {
            for (let start = 0; start < group.length; start += 64) {
                const chunk = group.slice(start, start + 64);
                const result = await embedder.embed(
                    chunk.map(({ item }) => item.text),
                    { ...(instruction === undefined ? { role: "document" as const } : { role: "query" as const, instruction }), dimensions },
                );
                chunk.forEach(({ index }, position) => (local[index] = result.embeddings[position] as Float32Array));
                bar.advance(chunk.length);
            }
        }
        bar.finish();
        report.embeddings = compareEmbeddings(
            reference.embeddings.map((item, index) => ({ id: item.id, text: item.text, instruction: item.instruction, local: local[index]!, reference: item.embedding })),
            { worst },
        );
    }

    if (opts.reranker !== undefined) {
        const reranker = opts.reranker;
        const localScores = reference.rerankings.map((item) => new Array<number>(item.documents.length));
        const total = reference.rerankings.reduce((sum, item) => sum + item.documents.length, 0);
        const bar = new ProgressBar("local rerank", total, barOptions);
        for (const [instruction, group] of groupBy(reference.rerankings, (item) => item.instruction)) {
            const pairs = group.flatMap(({ item, index }) => item.documents.map((document, position) => ({ pair: [item.query, document] as const, index, position })));
            for (let start = 0; start < pairs.length; start += 128) {
                const chunk = pairs.slice(start, start + 128);
                const scores = await reranker.score(chunk.map(({ pair }) => pair), instruction === undefined ? {} : { instruction });
                chunk.forEach(({ index, position }, offset) => (localScores[index]![position] = scores[offset]!));
                bar.advance(chunk.length);
            }
        }
        bar.finish();
        const raw = localScores;
        const compared = applied === undefined ? raw : raw.map((scores) => scores.map((score) => interpolateKnots(applied, score)));
        const agreement = compareRerankScores(
            reference.rerankings.map((item, index) => ({ id: item.id, query: item.query, instruction: item.instruction, documents: item.documents, local: compared[index]!, reference: item.scores })),
            { topK, worst },
        );
        report.reranker = { ...agreement, calibrated: applied !== undefined };
        if (applied !== undefined) report.appliedCalibration = { x: applied.x, y: applied.y };
        if (holdout !== undefined) {
            const scored = reference.rerankings.flatMap((item, index) =>
                item.documents.map((document, position) => ({ key: `${item.instruction ?? ""}\u0000${item.query}\u0000${document}\u0000${position}`, local: raw[index]![position]!, reference: item.scores[position]! })),
            );
            const fit: CalibrationFit = fitCalibration(scored, { holdout, localModel: opts.models?.reranker, reference: reference.source });
            report.calibrationFit = {
                calibration: fit.calibration,
                fitPairs: fit.fitPairs,
                heldOutPairs: fit.heldOutPairs,
                heldOut: fit.heldOut,
                before: fit.before,
                after: fit.after,
            };
        }
    }

    report.checks = checkThresholds(thresholds, report.embeddings, report.reranker);
    report.passed = report.checks.every((check) => check.passed);
    return report;
}
