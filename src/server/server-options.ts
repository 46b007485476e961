import type { CreateEmbedderOptions, Embedder } from "../facade/embedder.js";
import { InvalidOptionError } from "../internal/errors.js";
import type { CreateRerankerOptions, Reranker } from "../facade/reranker.js";
import { resolveApiKeys, type ApiKeySpec, type ResolvedApiKey } from "./api-key-access.js";
import { checkBoolean, checkInteger, checkOneOf, checkOptionsObject, checkString, checkStringArray, describeValue } from "../internal/validation.js";

/**
 * What the server uses of an embedder: the facade's Embedder, or any object with these members (`kvCacheType`, the
 * precision shown in GET /v1/models, optional).
 */
export type ServedEmbedder = Pick<Embedder, "modelPath" | "dimensions" | "contextSize" | "embed"> & Partial<Pick<Embedder, "kvCacheType">> & DisposableModel;

/** What the server uses of a reranker: the facade's Reranker, or any object with these members (`kvCacheType` optional). */
export type ServedReranker = Pick<Reranker, "modelPath" | "contextSize" | "rerank"> & Partial<Pick<Reranker, "kvCacheType">> & DisposableModel;

/** A served model the server loaded itself is disposed when the server closes; one given to it only needs the member. */
interface DisposableModel {
    dispose(): void | Promise<void>;
}

/** Queue depth reported by a scheduler, exported as the `qwen3_scheduler_queued_*` gauges. */
export interface SchedulerQueueStats {
    queuedCalls: number;
    queuedTokens: number;
}

/** One batch a scheduler evaluated, observed into the `qwen3_batch_*` histograms. */
export interface SchedulerBatchEvent {
    sequences: number;
    tokens: number;
    /** How long the batch ran, when the scheduler says. */
    durationMs?: number;
}

export type LogLevel = "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
export const LOG_LEVELS: readonly LogLevel[] = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];

/**
 * Options of `createServer` / `startServer`. Each is also a `qwen3-embedding serve` flag and a `QWEN3_EMBEDDING_*`
 * environment variable (named in each entry); the flag wins over the variable.
 */
export interface ServerOptions {
    /** Embedding GGUF path or registry id to load. `--embedding-model`, `QWEN3_EMBEDDING_EMBEDDING_MODEL`. */
    embeddingModel?: string;
    /** Reranker GGUF path or registry id to load. `--reranker-model`, `QWEN3_EMBEDDING_RERANKER_MODEL`. */
    rerankerModel?: string;
    /**
     * An embedder to serve instead of loading `embeddingModel`, or a promise of one (`/health` answers 503 until it
     * resolves). The server does not dispose it. Any object with the members of {@link ServedEmbedder} works, so a
     * scheduler-backed embedder can be wired in.
     */
    embedder?: ServedEmbedder | Promise<ServedEmbedder>;
    /** A reranker to serve instead of loading `rerankerModel`, or a promise of one; not disposed by the server. */
    reranker?: ServedReranker | Promise<ServedReranker>;
    /**
     * Passed to `createEmbedder` with `embeddingModel` (contextSize, batchTokens, threads, gpu, kvCacheType, ...).
     * `--context-size`, `--batch-tokens`, `--threads`, `--gpu`, `--exact` / `--kv-cache-type` (kvCacheType).
     */
    embedderOptions?: Omit<CreateEmbedderOptions, "model">;
    /** Passed to `createReranker` with `rerankerModel`. */
    rerankerOptions?: Omit<CreateRerankerOptions, "model">;
    /**
     * Serve the application routes (POST /v1/memories, /v1/memories/search, /v1/search, DELETE /v1/memories/:id)
     * on this store: a directory (embedded PGlite), "memory", or a postgres:// URL. Needs the embedding model.
     * `--database`, `QWEN3_EMBEDDING_DATABASE`.
     */
    database?: string;
    /** Address to bind. Default "127.0.0.1" (this machine only). `--host`, `QWEN3_EMBEDDING_HOST`. */
    host?: string;
    /** TCP port; 0 picks a free one. Default 8080. `--port`, `QWEN3_EMBEDDING_PORT`. */
    port?: number;
    /**
     * Accepted API keys, sent by clients as `Authorization: Bearer <key>`. None (default): no authentication. A string
     * is an admin key (everything); an {@link ApiKeySpec} limits its key to some users and namespaces.
     * `--api-key` (repeatable), `--api-key-file` (one key a line, or a JSON object a line for a scoped key),
     * `QWEN3_EMBEDDING_API_KEY` (comma-separated), `QWEN3_EMBEDDING_API_KEY_FILE`.
     */
    apiKeys?: readonly (string | ApiKeySpec)[];
    /**
     * Extra model names clients may send in `model`: `"name"` for every model served, `"embedding=name"` or
     * `"reranker=name"` for one. The first one given for a model is the name responses and /v1/models use.
     * `--served-model-name` (repeatable), `QWEN3_EMBEDDING_SERVED_MODEL_NAME` (comma-separated).
     */
    servedModelNames?: readonly string[];
    /**
     * Accept any `model` name on the embedding routes, as the embedding model's (for tools hard-wired to a hosted
     * name such as "text-embedding-3-small"), while the server serves that one model only; with a reranker served too,
     * an unknown name stays a 404 listing the names (give `servedModelNames` then). `name:query` / `name:document`
     * still fix the role. Default false. `--accept-any-model-name`, `QWEN3_EMBEDDING_ACCEPT_ANY_MODEL_NAME`.
     */
    acceptAnyModelName?: boolean;
    /** Largest request body in bytes; larger ones get 413. Default 16 MiB. `--max-body-size`, `QWEN3_EMBEDDING_MAX_BODY_SIZE`. */
    maxBodyBytes?: number;
    /** Most inputs (embedding inputs or rerank documents) per request; more get 413. Default 2048. `--max-inputs`, `QWEN3_EMBEDDING_MAX_INPUTS`. */
    maxInputs?: number;
    /**
     * Most tokens the model sees per embedding input or rerank prompt (the appended `<|endoftext|>` or the prompt
     * template included). Default 8192; at most each model's context size (clamped with a warning).
     * `--max-tokens-per-input`, `QWEN3_EMBEDDING_MAX_TOKENS_PER_INPUT`.
     */
    maxTokensPerInput?: number;
    /**
     * Whether embedding inputs longer than `maxTokensPerInput` are cut from the end when the request does not say
     * (`"truncate"` in the body). Default false: such a request gets a 400 naming the input. `--truncate`, `QWEN3_EMBEDDING_TRUNCATE`.
     */
    truncate?: boolean;
    /** Time limit of one request's model work in milliseconds; past it the request gets 503. Default 60000. `--request-timeout`, `QWEN3_EMBEDDING_REQUEST_TIMEOUT`. */
    requestTimeoutMs?: number;
    /** Requests that may wait on or use the models at once; more get 429 with Retry-After. Default 512. `--max-concurrent-requests`, `QWEN3_EMBEDDING_MAX_CONCURRENT_REQUESTS`. */
    maxConcurrentRequests?: number;
    /** Retry-After seconds on a 429. Default 1. */
    retryAfterSeconds?: number;
    /** Origins allowed by CORS (`"*"` for any). None (default): no CORS headers. `--cors-origin` (repeatable), `QWEN3_EMBEDDING_CORS_ORIGIN` (comma-separated). */
    corsOrigins?: readonly string[];
    /** pino log level. Default "info". `--log-level`, `QWEN3_EMBEDDING_LOG_LEVEL`. */
    logLevel?: LogLevel;
    /** Where the JSON log lines go. Default: stdout. */
    logStream?: { write(line: string): unknown };
    /**
     * Queue depth of a scheduler under the models, read at each /metrics scrape (label model="all"). When absent, an
     * embedder or reranker with a `stats()` method returning this shape is read instead (label model="embedding" /
     * "reranker"); with neither, the gauges stay empty.
     */
    schedulerStats?: () => SchedulerQueueStats;
}

/** One extra model name and which model it belongs to (undefined: every model served). */
export interface ServedModelName {
    kind: "embedding" | "reranker" | undefined;
    name: string;
}

export interface ResolvedServerOptions {
    embedding: ModelSource<ServedEmbedder, Omit<CreateEmbedderOptions, "model">> | undefined;
    reranker: ModelSource<ServedReranker, Omit<CreateRerankerOptions, "model">> | undefined;
    database: string | undefined;
    host: string;
    port: number;
    apiKeys: readonly ResolvedApiKey[];
    servedModelNames: readonly ServedModelName[];
    acceptAnyModelName: boolean;
    maxBodyBytes: number;
    maxInputs: number;
    maxTokensPerInput: number | undefined;
    truncate: boolean;
    requestTimeoutMs: number;
    maxConcurrentRequests: number;
    retryAfterSeconds: number;
    corsOrigins: readonly string[];
    logLevel: LogLevel;
    logStream: { write(line: string): unknown } | undefined;
    schedulerStats: (() => SchedulerQueueStats) | undefined;
}

/** A model to serve: loaded by the server from `model` (and owned by it), or given (and owned by the caller). */
export type ModelSource<T, O> =
    | { kind: "load"; model: string; options: O }
    | { kind: "given"; instance: T | Promise<T> };

export const DEFAULT_HOST = "127.0.0.1";
export const DEFAULT_PORT = 8080;
export const DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024;
export const DEFAULT_MAX_INPUTS = 2048;
export const DEFAULT_REQUEST_TIMEOUT_MS = 60_000;
export const DEFAULT_MAX_CONCURRENT_REQUESTS = 512;

const SERVER_OPTIONS = [
    "embeddingModel", "rerankerModel", "embedder", "reranker", "embedderOptions", "rerankerOptions", "database", "host", "port", "apiKeys",
    "servedModelNames", "acceptAnyModelName", "maxBodyBytes", "maxInputs", "maxTokensPerInput", "truncate", "requestTimeoutMs", "maxConcurrentRequests",
    "retryAfterSeconds", "corsOrigins", "logLevel", "logStream", "schedulerStats",
] as const;

/** Validates every option (name, expected, received in each message) and fills in the defaults. */
export function resolveServerOptions(options: ServerOptions): ResolvedServerOptions {
    const opts = checkOptionsObject<ServerOptions>("server options", options, SERVER_OPTIONS);
    const embedding = modelSource<ServedEmbedder, Omit<CreateEmbedderOptions, "model">>(
        "embeddingModel", opts.embeddingModel, "embedder", opts.embedder, "embedderOptions", opts.embedderOptions, ["embed", "dispose"],
    );
    const reranker = modelSource<ServedReranker, Omit<CreateRerankerOptions, "model">>(
        "rerankerModel", opts.rerankerModel, "reranker", opts.reranker, "rerankerOptions", opts.rerankerOptions, ["rerank", "dispose"],
    );
    if (embedding === undefined && reranker === undefined) {
        throw new InvalidOptionError("Expected embeddingModel or rerankerModel (or embedder or reranker) in server options but received neither; the server needs a model to serve");
    }
    const servedModelNames = optionalStrings("servedModelNames", opts.servedModelNames).map((entry, index) =>
        parseServedModelName(entry, index, { embedding: embedding !== undefined, reranker: reranker !== undefined }),
    );
    const apiKeys = resolveApiKeys("apiKeys", opts.apiKeys);
    const corsOrigins = optionalStrings("corsOrigins", opts.corsOrigins);
    corsOrigins.forEach((origin, index) => checkOrigin(`corsOrigins[${index}]`, origin));
    if (opts.logStream !== undefined && typeof (opts.logStream as { write?: unknown })?.write !== "function") {
        throw new InvalidOptionError(`Expected an object with a write(line) method for logStream but received ${describeValue(opts.logStream)}`);
    }
    if (opts.schedulerStats !== undefined && typeof opts.schedulerStats !== "function") {
        throw new InvalidOptionError(`Expected a function returning { queuedCalls, queuedTokens } for schedulerStats but received ${describeValue(opts.schedulerStats)}`);
    }
    const database = opts.database === undefined ? undefined : checkString("database", opts.database, { allowEmpty: false });
    if (database !== undefined && embedding === undefined) {
        throw new InvalidOptionError("The application routes need an embedding model: give embeddingModel (or embedder) with database");
    }
    return {
        embedding,
        reranker,
        database,
        host: opts.host === undefined ? DEFAULT_HOST : checkString("host", opts.host, { allowEmpty: false }),
        port: opts.port === undefined ? DEFAULT_PORT : checkInteger("port", opts.port, 0, 65535),
        apiKeys,
        servedModelNames,
        acceptAnyModelName: opts.acceptAnyModelName === undefined ? false : checkBoolean("acceptAnyModelName", opts.acceptAnyModelName),
        maxBodyBytes: opts.maxBodyBytes === undefined ? DEFAULT_MAX_BODY_BYTES : checkInteger("maxBodyBytes", opts.maxBodyBytes, 1024, 2 ** 31 - 1),
        maxInputs: opts.maxInputs === undefined ? DEFAULT_MAX_INPUTS : checkInteger("maxInputs", opts.maxInputs, 1, 1_000_000),
        maxTokensPerInput: opts.maxTokensPerInput === undefined ? undefined : checkInteger("maxTokensPerInput", opts.maxTokensPerInput, 2, 1 << 24),
        truncate: opts.truncate === undefined ? false : checkBoolean("truncate", opts.truncate),
        requestTimeoutMs: opts.requestTimeoutMs === undefined ? DEFAULT_REQUEST_TIMEOUT_MS : checkInteger("requestTimeoutMs", opts.requestTimeoutMs, 1, 2 ** 31 - 1),
        maxConcurrentRequests: opts.maxConcurrentRequests === undefined
            ? DEFAULT_MAX_CONCURRENT_REQUESTS
            : checkInteger("maxConcurrentRequests", opts.maxConcurrentRequests, 1, 1_000_000),
        retryAfterSeconds: opts.retryAfterSeconds === undefined ? 1 : checkInteger("retryAfterSeconds", opts.retryAfterSeconds, 0, 86_400),
        corsOrigins,
        logLevel: opts.logLevel === undefined ? "info" : checkOneOf("logLevel", opts.logLevel, LOG_LEVELS),
        logStream: opts.logStream,
        schedulerStats: opts.schedulerStats,
    };
}

function modelSource<T, O>(
    modelName: string,
    model: unknown,
    instanceName: string,
    instance: unknown,
    optionsName: string,
    options: unknown,
    methods: readonly string[],
): ModelSource<T, O> | undefined {
    if (model !== undefined && instance !== undefined) {
        throw new InvalidOptionError(`Pass either ${modelName} or ${instanceName} in server options, not both`);
    }
    if (options !== undefined) {
        if (options === null || typeof options !== "object" || Array.isArray(options)) {
            throw new InvalidOptionError(`Expected an options object for ${optionsName} but received ${describeValue(options)}`);
        }
        if (model === undefined) throw new InvalidOptionError(`${optionsName} applies to the model the server loads; pass ${modelName} with it`);
        if ("model" in options) throw new InvalidOptionError(`${optionsName} must not contain "model"; pass the model as ${modelName}`);
    }
    if (model !== undefined) return { kind: "load", model: checkString(modelName, model, { allowEmpty: false }), options: (options ?? {}) as O };
    if (instance === undefined) return undefined;
    const isPromise = typeof (instance as { then?: unknown } | null)?.then === "function";
    if (!isPromise) {
        const missing = methods.some((method) => typeof (instance as Record<string, unknown> | null)?.[method] !== "function");
        if (missing) {
            const wanted = methods.map((method) => `${method}()`).join(" and ");
            throw new InvalidOptionError(`Expected an object with ${wanted} methods (or a promise of one) for ${instanceName} but received ${describeValue(instance)}`);
        }
    }
    return { kind: "given", instance: instance as T | Promise<T> };
}

function optionalStrings(name: string, value: unknown): string[] {
    return value === undefined ? [] : [...checkStringArray(name, value)];
}

/** "name" (every model), "embedding=name" or "reranker=name". */
export function parseServedModelName(entry: string, index: number, served: { embedding: boolean; reranker: boolean }): ServedModelName {
    const match = /^(embedding|reranker)=(.*)$/.exec(entry);
    const kind = match ? (match[1] as "embedding" | "reranker") : undefined;
    const name = (match ? match[2]! : entry).trim();
    if (name.length === 0) {
        throw new InvalidOptionError(`Expected "name", "embedding=name" or "reranker=name" for servedModelNames[${index}] but received ${describeValue(entry)}`);
    }
    if (kind !== undefined && !served[kind]) {
        throw new InvalidOptionError(`servedModelNames[${index}] names the ${kind} model (${JSON.stringify(entry)}) but the server serves no ${kind} model`);
    }
    return { kind, name };
}

function checkOrigin(name: string, origin: string): void {
    if (origin === "*") return;
    let parsed: URL | undefined;
    try {
        parsed = new URL(origin);
    } catch {
        parsed = undefined;
    }
    if (parsed === undefined || parsed.origin !== origin) {
        throw new InvalidOptionError(`Expected "*" or an origin such as "https://app.example.com" (scheme, host, optional port; no path) for ${name} but received ${describeValue(origin)}`);
    }
}
