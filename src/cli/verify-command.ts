import { basename } from "node:path";
import { CommandFailure, UsageError, optionalInteger, requireString, type Command } from "./command.js";
import { KV_CACHE_OPTIONS, KV_CACHE_USAGE, kvCacheOption } from "./kv-cache-flags.js";
import { createEmbedder, type Embedder } from "../facade/embedder.js";
import { createReranker, type Reranker } from "../facade/reranker.js";
import { ReferenceRequestError } from "../evaluation/json-http-client.js";
import { readProbeFiles } from "../evaluation/probe-input.js";
import { builtInProbeSet } from "../evaluation/probe-sets.js";
import type { ReferenceData } from "../evaluation/reference-data.js";
import { readReferenceFile, writeReferenceFile } from "../evaluation/reference-file.js";
import { collectRemoteReference } from "../evaluation/remote-reference.js";
import { formatVerificationText } from "../evaluation/report-text.js";
import { verificationJson, writeVerificationReport } from "../evaluation/report-writer.js";
import { loadCalibration, saveCalibration } from "../evaluation/score-calibration.js";
import { verifyAgainstReference } from "../evaluation/verification.js";
import type { VerificationThresholds } from "../evaluation/verification-thresholds.js";

/** Environment variable the API key of a remote reference is read from, unless --api-key-env names another. */
export const DEFAULT_API_KEY_ENV = "QWEN3_EMBEDDING_REFERENCE_API_KEY";

const THRESHOLD_FLAGS: Record<string, keyof VerificationThresholds> = {
    "min-cosine": "minCosine",
    "min-mean-cosine": "minMeanCosine",
    "min-pearson": "minPearson",
    "min-spearman": "minSpearman",
    "min-kendall": "minKendall",
    "min-ndcg": "minNdcg",
    "min-top-k-overlap": "minTopKOverlap",
};

export function optionalNumber(values: Record<string, unknown>, flag: string): number | undefined {
    const raw = values[flag];
    if (raw === undefined) return undefined;
    if (typeof raw !== "string" || raw.trim() === "" || !Number.isFinite(Number(raw))) throw new UsageError(`Expected a number for --${flag} but received ${JSON.stringify(raw)}`);
    return Number(raw);
}

/** The `model` name sent to a remote reference by default: a registry id as given, a file's name without `.gguf`. */
export function defaultReferenceModelName(model: string | undefined): string | undefined {
    return model === undefined ? undefined : basename(model).replace(/\.gguf$/i, "");
}

function isUrl(reference: string): boolean {
    return /^https?:\/\//i.test(reference);
}

const string = { type: "string" } as const;

export const verifyCommand: Command = {
    summary: "Compare local embeddings and reranker scores with a hosted API or a reference file; exit 1 when a check fails",
    usage: [
        "qwen3-embedding verify --embedding-model <path|id> [--reranker-model <path|id>] --reference <url|file.jsonl>",
        "       [--texts <file>] [--queries <file>] [--instruction <text>] [--dimensions N] [--report <dir>] [--json]",
        "       [--fit-calibration <out.json> [--holdout 0.3] | --calibration <map.json>] [--save-reference <file.jsonl>]",
        "       [--reference-embedding-model <name>] [--reference-reranker-model <name>] [--api-key-env NAME]",
        "       [--concurrency 4] [--batch-size 32] [--retries 3] [--timeout-ms 60000] [--top-k 3] [--worst 5]",
        "       [--min-cosine 0.999] [--min-mean-cosine 0.9999] [--min-pearson 0.99] [--min-spearman 0.99]",
        "       [--min-kendall 0.9] [--min-ndcg 0.99] [--min-top-k-overlap 0.8] [--exact | --kv-cache-type f16|f32]",
        "--reference: an OpenAI-compatible base URL (POST <url>/embeddings, <url>/rerank; a bare host gets /v1), API key",
        `  from $${DEFAULT_API_KEY_ENV} or the variable --api-key-env names; or a JSONL reference file (see README).`,
        "  The `model` field sent is --reference-*-model, else the local model's id or file name without .gguf.",
        "Inputs (remote reference only): --texts are documents, --queries are queries reranked against the texts (or their",
        "  own \"documents\" in JSONL); without either, built-in Chinese, English, mixed, code, formula and table probes.",
        "Prints the statistics, the worst items and every check (--json: the full report as JSON); --report writes",
        "report.json and an offline report.html; each states the mode that ran: \"exact (f32 KV cache)\" or \"fast (f16 KV cache)\".",
        "Exit code: 0 every check passed, 1 a check failed (or an error), 2 usage.",
        KV_CACHE_USAGE,
    ].join("\n"),
    options: {
        "embedding-model": string, "reranker-model": string, reference: string, texts: string, queries: string, instruction: string,
        dimensions: string, report: string, json: { type: "boolean" }, "fit-calibration": string, holdout: string, calibration: string,
        "save-reference": string, "reference-embedding-model": string, "reference-reranker-model": string, "api-key-env": string,
        concurrency: string, "batch-size": string, retries: string, "timeout-ms": string, "top-k": string, worst: string,
        ...Object.fromEntries(Object.keys(THRESHOLD_FLAGS).map((flag) => [flag, string])),
        ...KV_CACHE_OPTIONS,
    },
    async run(values) {
        const reference = requireString(values, "reference");
        const embeddingModel = values["embedding-model"] as string | undefined;
        const rerankerModel = values["reranker-model"] as string | undefined;
        if (embeddingModel === undefined && rerankerModel === undefined) throw new UsageError("--embedding-model is required (and/or --reranker-model)");
        const remote = isUrl(reference);
        if (!remote) {
            for (const flag of ["texts", "queries", "save-reference", "reference-embedding-model", "reference-reranker-model", "instruction"]) {
                if (values[flag] !== undefined) throw new UsageError(`--${flag} applies to a remote reference only; a reference file holds its own inputs`);
            }
        }
        if (values["fit-calibration"] !== undefined && values["calibration"] !== undefined) throw new UsageError("pass either --fit-calibration or --calibration, not both");
        if ((values["fit-calibration"] !== undefined || values["calibration"] !== undefined) && rerankerModel === undefined) {
            throw new UsageError("--fit-calibration and --calibration need --reranker-model");
        }
        if (values["holdout"] !== undefined && values["fit-calibration"] === undefined) throw new UsageError("--holdout applies to --fit-calibration only");
        const kvCache = kvCacheOption(values);
        const thresholds: Partial<VerificationThresholds> = {};
        for (const [flag, name] of Object.entries(THRESHOLD_FLAGS)) {
            const value = optionalNumber(values, flag);
            if (value !== undefined) thresholds[name] = value;
        }
        const numbers = {
            ...optionalInteger(values, "dimensions", "dimensions"),
            ...optionalInteger(values, "concurrency", "concurrency"),
            ...optionalInteger(values, "batch-size", "batchSize"),
            ...optionalInteger(values, "retries", "retries"),
            ...optionalInteger(values, "timeout-ms", "timeoutMs"),
            ...optionalInteger(values, "top-k", "topK"),
            ...optionalInteger(values, "worst", "worst"),
        };
        let apiKey: string | undefined;
        const keyVariable = values["api-key-env"] as string | undefined;
        if (keyVariable !== undefined) {
            apiKey = process.env[keyVariable];
            if (apiKey === undefined || apiKey === "") throw new UsageError(`--api-key-env names ${keyVariable} but that environment variable is not set`);
        } else {
            apiKey = process.env[DEFAULT_API_KEY_ENV] || undefined;
        }
        const calibration = values["calibration"] === undefined ? undefined : await loadCalibration(values["calibration"] as string);

        let embedder: Embedder | undefined;
        let reranker: Reranker | undefined;
        let failure: string | undefined;
        try {
            let data: ReferenceData;
            if (remote) {
                const probes =
                    values["texts"] === undefined && values["queries"] === undefined
                        ? builtInProbeSet()
                        : await readProbeFiles({ texts: values["texts"] as string | undefined, queries: values["queries"] as string | undefined, instruction: values["instruction"] as string | undefined });
                if (rerankerModel !== undefined && probes.rerankings.length === 0) throw new UsageError("reranking needs queries with documents: pass --queries (and --texts, or JSONL queries with \"documents\")");
                if (embeddingModel !== undefined && probes.embeddings.length === 0) throw new UsageError("no texts to embed: pass --texts and/or --queries");
                data = await collectRemoteReference(probes, { embeddings: embeddingModel !== undefined, rerankings: rerankerModel !== undefined }, {
                    url: reference,
                    apiKey,
                    embeddingModel: (values["reference-embedding-model"] as string | undefined) ?? defaultReferenceModelName(embeddingModel),
                    rerankerModel: (values["reference-reranker-model"] as string | undefined) ?? defaultReferenceModelName(rerankerModel),
                    ...(numbers.dimensions === undefined ? {} : { dimensions: numbers.dimensions }),
                    ...(numbers.concurrency === undefined ? {} : { concurrency: numbers.concurrency }),
                    ...(numbers.batchSize === undefined ? {} : { batchSize: numbers.batchSize }),
                    ...(numbers.retries === undefined ? {} : { retries: numbers.retries }),
                    ...(numbers.timeoutMs === undefined ? {} : { timeoutMs: numbers.timeoutMs }),
                });
                if (values["save-reference"] !== undefined) await writeReferenceFile(values["save-reference"] as string, data);
            } else {
                data = await readReferenceFile(reference);
            }
            // workers: 0, the engine's own async native calls: a one-shot command has no event loop to keep free of
            // anything else, and skips starting a worker thread.
            if (embeddingModel !== undefined) embedder = await createEmbedder({ model: embeddingModel, workers: 0, ...kvCache });
            if (rerankerModel !== undefined) reranker = await createReranker({ model: rerankerModel, workers: 0, ...kvCache });
            const report = await verifyAgainstReference({
                embedder,
                reranker,
                reference: data,
                dimensions: numbers.dimensions,
                thresholds,
                topK: numbers.topK,
                worst: numbers.worst,
                calibration,
                fitCalibration: values["fit-calibration"] === undefined ? undefined : (optionalNumber(values, "holdout") ?? true),
                models: { embedding: embeddingModel, reranker: rerankerModel },
            });
            process.stdout.write(values["json"] === true ? verificationJson(report) : formatVerificationText(report) + "\n");
            if (values["report"] !== undefined) {
                const paths = await writeVerificationReport(values["report"] as string, report);
                process.stderr.write(`report: ${paths.html}\n`);
            }
            if (values["fit-calibration"] !== undefined && report.calibrationFit !== undefined) {
                await saveCalibration(values["fit-calibration"] as string, report.calibrationFit.calibration);
                process.stderr.write(`calibration: ${values["fit-calibration"] as string}\n`);
            }
            if (!report.passed) {
                const failed = report.checks.filter((check) => !check.passed);
                failure = `verification failed: ${failed.map((check) => `${check.name} ${Number.isFinite(check.value) ? check.value.toPrecision(6) : "n/a"} < ${check.threshold}`).join(", ")}`;
            }
        } catch (error) {
            // A reference server's failure is not a bug of this tool: one line, exit 1, like the library's own errors.
            if (!(error instanceof ReferenceRequestError)) throw error;
            failure = error.message;
        } finally {
            await Promise.all([embedder?.[Symbol.asyncDispose](), reranker?.[Symbol.asyncDispose]()]);
        }
        if (failure !== undefined) throw new CommandFailure(failure);
    },
};
