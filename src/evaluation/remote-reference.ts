import { formatQuery } from "../format/embedding-input.js";
import { checkBoolean, checkInteger, checkOptionsObject, checkString, describeValue } from "../internal/validation.js";
import { InvalidOptionError } from "../internal/errors.js";
import { postJson, type JsonRequestOptions } from "../internal/post-json.js";
import { REFERENCE_STATUS_HINTS, ReferenceRequestError } from "./json-http-client.js";
import { isRecord } from "./json-lines.js";
import { ProgressBar, type ProgressStream } from "./progress-bar.js";
import type { EmbeddingProbe, ProbeSet, ReferenceData, ReferenceEmbedding, ReferenceRerank, RerankProbe } from "./reference-data.js";
import { mapWithConcurrency } from "./task-pool.js";

export interface RemoteReferenceOptions {
    /**
     * Base URL of an OpenAI-compatible API: `<url>/embeddings` and `<url>/rerank` are called, e.g.
     * `https://api.siliconflow.cn/v1`. A URL without a path gets `/v1` (`http://127.0.0.1:8080` -> `/v1/embeddings`).
     */
    url: string;
    /** Sent as a bearer token. The CLI reads it from QWEN3_EMBEDDING_REFERENCE_API_KEY (or --api-key-env). */
    apiKey?: string | undefined;
    /** The `model` field of embedding requests (left out when not given). */
    embeddingModel?: string | undefined;
    /** The `model` field of rerank requests (left out when not given). */
    rerankerModel?: string | undefined;
    /** Matryoshka dimensions, sent as the OpenAI `dimensions` field. */
    dimensions?: number | undefined;
    /** Requests in flight at once. Default 4. */
    concurrency?: number;
    /** Texts per embedding request. Default 32. */
    batchSize?: number;
    /** Retries per request (network errors, timeouts, 408/429/5xx). Default 3. */
    retries?: number;
    /** First backoff in milliseconds, doubled per retry. Default 500. */
    retryDelayMs?: number;
    /** Per-request timeout in milliseconds. Default 60000. */
    timeoutMs?: number;
    /** Draw progress bars (only on a terminal unless forced). Default: on a terminal. */
    progress?: boolean;
    /** Where progress bars and retry notes go. Default process.stderr. */
    progressStream?: ProgressStream;
    signal?: AbortSignal;
}

const OPTION_NAMES = [
    "url", "apiKey", "embeddingModel", "rerankerModel", "dimensions", "concurrency", "batchSize", "retries", "retryDelayMs",
    "timeoutMs", "progress", "progressStream", "signal",
] as const;

/** The two endpoints of a base URL. */
export function referenceEndpoints(url: string): { embeddings: string; rerank: string } {
    let parsed: URL;
    try {
        parsed = new URL(url);
    } catch {
        throw new InvalidOptionError(`Expected an http(s) URL for the reference but received ${describeValue(url)}`);
    }
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
        throw new InvalidOptionError(`Expected an http(s) URL for the reference but received ${describeValue(url)}`);
    }
    const path = parsed.pathname.replace(/\/+$/, "");
    const base = `${parsed.origin}${path === "" ? "/v1" : path}`;
    return { embeddings: `${base}/embeddings`, rerank: `${base}/rerank` };
}

function decodeEmbedding(value: unknown, url: string): number[] | Float32Array {
    if (typeof value === "string") {
        const bytes = Buffer.from(value, "base64");
        const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
        return Float32Array.from({ length: bytes.byteLength >> 2 }, (_, i) => view.getFloat32(i * 4, true));
    }
    if (Array.isArray(value) && value.every((item) => typeof item === "number")) return value as number[];
    throw new ReferenceRequestError(`${url} answered with something other than an embedding (an array of numbers or base64 float32): ${describeValue(value)}`, url);
}

/** `data[].embedding` of an OpenAI embeddings answer, in input order. */
export function parseEmbeddingsResponse(body: unknown, count: number, url: string): (number[] | Float32Array)[] {
    const data = isRecord(body) ? body["data"] : undefined;
    if (!Array.isArray(data) || data.length !== count) {
        throw new ReferenceRequestError(`${url} answered without a "data" array of ${count} embeddings: ${JSON.stringify(body).slice(0, 200)}`, url);
    }
    const vectors = new Array<number[] | Float32Array>(count);
    data.forEach((item: unknown, position) => {
        const index = isRecord(item) && typeof item["index"] === "number" ? item["index"] : position;
        if (!Number.isInteger(index) || index < 0 || index >= count || vectors[index] !== undefined) {
            throw new ReferenceRequestError(`${url} answered with a bad or repeated index ${String(index)}`, url);
        }
        vectors[index] = decodeEmbedding(isRecord(item) ? item["embedding"] : undefined, url);
    });
    return vectors;
}

/**
 * Scores in document order from a rerank answer: `results: [{index, relevance_score}]` (Jina, Cohere, SiliconFlow,
 * this project's server), or a bare array of `{index, score}` (TEI's /rerank).
 */
export function parseRerankResponse(body: unknown, count: number, url: string): number[] {
    const results = Array.isArray(body) ? body : isRecord(body) ? body["results"] : undefined;
    if (!Array.isArray(results) || results.length !== count) {
        throw new ReferenceRequestError(`${url} answered without ${count} results (one per document): ${JSON.stringify(body).slice(0, 200)}`, url);
    }
    const scores = new Array<number>(count);
    for (const item of results) {
        const index = isRecord(item) ? item["index"] : undefined;
        const score = isRecord(item) ? (item["relevance_score"] ?? item["score"]) : undefined;
        if (typeof index !== "number" || !Number.isInteger(index) || index < 0 || index >= count || scores[index] !== undefined) {
            throw new ReferenceRequestError(`${url} answered with a bad or repeated index ${String(index)}`, url);
        }
        if (typeof score !== "number" || !Number.isFinite(score)) {
            throw new ReferenceRequestError(`${url} answered without a numeric relevance_score for index ${index}`, url);
        }
        scores[index] = score;
    }
    return scores;
}

function checkRemoteOptions(options: RemoteReferenceOptions): Required<Pick<RemoteReferenceOptions, "concurrency" | "batchSize" | "retries" | "retryDelayMs" | "timeoutMs">> {
    checkOptionsObject<RemoteReferenceOptions>("remote reference options", options, OPTION_NAMES);
    checkString("url", options.url, { allowEmpty: false });
    if (options.apiKey !== undefined) checkString("apiKey", options.apiKey);
    if (options.embeddingModel !== undefined) checkString("embeddingModel", options.embeddingModel, { allowEmpty: false });
    if (options.rerankerModel !== undefined) checkString("rerankerModel", options.rerankerModel, { allowEmpty: false });
    if (options.dimensions !== undefined) checkInteger("dimensions", options.dimensions, 1, 65536);
    if (options.progress !== undefined) checkBoolean("progress", options.progress);
    return {
        concurrency: options.concurrency === undefined ? 4 : checkInteger("concurrency", options.concurrency, 1, 256),
        batchSize: options.batchSize === undefined ? 32 : checkInteger("batchSize", options.batchSize, 1, 2048),
        retries: options.retries === undefined ? 3 : checkInteger("retries", options.retries, 0, 20),
        retryDelayMs: options.retryDelayMs === undefined ? 500 : checkInteger("retryDelayMs", options.retryDelayMs, 0, 600_000),
        timeoutMs: options.timeoutMs === undefined ? 60_000 : checkInteger("timeoutMs", options.timeoutMs, 1, 3_600_000),
    };
}

/**
 * Asks an OpenAI-compatible embeddings endpoint and a Jina/Cohere/SiliconFlow-compatible rerank endpoint for the
 * probes (SiliconFlow, DashScope's compatible mode, TEI, vLLM, llama-server and this project's server all qualify).
 * Queries are sent already formatted (`Instruct: ...\nQuery:...`), since hosted Qwen3 APIs embed what they are given;
 * a rerank probe's instruction is sent as `instruction` (SiliconFlow's field) only when it has one.
 */
export async function collectRemoteReference(
    probes: ProbeSet,
    what: { embeddings: boolean; rerankings: boolean },
    options: RemoteReferenceOptions,
): Promise<ReferenceData> {
    const limits = checkRemoteOptions(options);
    const endpoints = referenceEndpoints(options.url);
    const stream = options.progressStream ?? process.stderr;
    const request: JsonRequestOptions = {
        errorClass: ReferenceRequestError,
        statusHints: REFERENCE_STATUS_HINTS,
        apiKey: options.apiKey,
        retries: limits.retries,
        retryDelayMs: limits.retryDelayMs,
        timeoutMs: limits.timeoutMs,
        signal: options.signal,
        onRetry: ({ url, attempt, reason, delayMs }) => {
            if (options.progress ?? stream.isTTY === true) stream.write(`\nretry ${attempt} of ${url} in ${Math.round(delayMs)} ms: ${reason}\n`);
        },
    };
    const barOptions = { stream, ...(options.progress === undefined ? {} : { enabled: options.progress }) };
    const data: ReferenceData = { source: options.url, embeddings: [], rerankings: [] };

    if (what.embeddings && probes.embeddings.length > 0) {
        const batches: EmbeddingProbe[][] = [];
        for (let start = 0; start < probes.embeddings.length; start += limits.batchSize) batches.push(probes.embeddings.slice(start, start + limits.batchSize));
        const bar = new ProgressBar("reference embeddings", probes.embeddings.length, barOptions);
        const vectors = await mapWithConcurrency(batches, limits.concurrency, async (batch) => {
            const body = {
                ...(options.embeddingModel === undefined ? {} : { model: options.embeddingModel }),
                input: batch.map((probe) => (probe.instruction === undefined ? probe.text : formatQuery(probe.instruction, probe.text))),
                encoding_format: "float",
                ...(options.dimensions === undefined ? {} : { dimensions: options.dimensions }),
            };
            const result = parseEmbeddingsResponse(await postJson(endpoints.embeddings, body, request), batch.length, endpoints.embeddings);
            bar.advance(batch.length);
            return result;
        });
        bar.finish();
        const flat = vectors.flat();
        data.embeddings = probes.embeddings.map((probe, index): ReferenceEmbedding => ({ ...probe, embedding: flat[index]! }));
    }

    if (what.rerankings && probes.rerankings.length > 0) {
        const bar = new ProgressBar("reference rerank", probes.rerankings.length, barOptions);
        data.rerankings = await mapWithConcurrency(probes.rerankings, limits.concurrency, async (probe: RerankProbe): Promise<ReferenceRerank> => {
            const body = {
                ...(options.rerankerModel === undefined ? {} : { model: options.rerankerModel }),
                query: probe.query,
                documents: probe.documents,
                top_n: probe.documents.length,
                return_documents: false,
                ...(probe.instruction === undefined ? {} : { instruction: probe.instruction }),
            };
            const scores = parseRerankResponse(await postJson(endpoints.rerank, body, request), probe.documents.length, endpoints.rerank);
            bar.advance();
            return { ...probe, scores };
        });
        bar.finish();
    }
    return data;
}
