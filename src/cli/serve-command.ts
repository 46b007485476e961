import { readFileSync } from "node:fs";
import { asUsageError, UsageError, type Command } from "./command.js";
import { CLI_KV_CACHE_TYPES, kvCacheTypeFrom } from "./kv-cache-flags.js";
import type { CreateEmbedderOptions } from "../facade/embedder.js";
import { checkCalibration, type ScoreCalibration } from "../evaluation/score-calibration.js";
import { parseApiKeyFile, type ApiKeySpec } from "../server/api-key-access.js";
import { startServer } from "../server/server-entry.js";
import { LOG_LEVELS, type LogLevel, type ServerOptions } from "../server/server-options.js";

/** The environment variable of a flag: `--max-inputs` is `QWEN3_EMBEDDING_MAX_INPUTS`. */
export function envName(flag: string): string {
    return `QWEN3_EMBEDDING_${flag.toUpperCase().replace(/-/g, "_")}`;
}

interface Flag {
    type: "string" | "boolean";
    multiple?: true;
    value: string;
    help: string;
}

const FLAGS: Record<string, Flag> = {
    "embedding-model": { type: "string", value: "<path|id>", help: "embedding GGUF to serve (path or registry id)" },
    "reranker-model": { type: "string", value: "<path|id>", help: "reranker GGUF to serve (path or registry id)" },
    database: { type: "string", value: "<dir|postgres-url>", help: "serve /v1/memories and /v1/search on this store (see `index`)" },
    host: { type: "string", value: "<address>", help: "address to bind (default 127.0.0.1: this machine only)" },
    port: { type: "string", value: "<n>", help: "TCP port (default 8080; 0 picks a free one)" },
    "api-key": { type: "string", multiple: true, value: "<key>", help: "accepted Bearer key, repeatable (env: comma-separated)" },
    "api-key-file": { type: "string", value: "<file>", help: "one key a line (admin), or a JSON object a line: {\"key\",\"users\",\"namespaces\"}" },
    "served-model-name": { type: "string", multiple: true, value: "<[embedding=|reranker=]name>", help: "extra name clients may send as model, repeatable" },
    "accept-any-model-name": { type: "boolean", value: "", help: "take any model name as the embedding model's while it is the only model served" },
    "max-body-size": { type: "string", value: "<bytes>", help: "largest request body, e.g. 16MB (default 16MB)" },
    "max-inputs": { type: "string", value: "<n>", help: "most inputs or documents per request (default 2048)" },
    "max-tokens-per-input": { type: "string", value: "<n>", help: "tokens per input or rerank prompt (default 8192, at most the context)" },
    truncate: { type: "boolean", value: "", help: "cut over-long inputs when a request does not say (default: reject them)" },
    "request-timeout": { type: "string", value: "<ms>", help: "time limit of a request's model work (default 60000)" },
    "max-concurrent-requests": { type: "string", value: "<n>", help: "requests using the models at once; more get 429 (default 512)" },
    "cors-origin": { type: "string", multiple: true, value: "<origin|*>", help: "origin allowed by CORS, repeatable (default: CORS off)" },
    "log-level": { type: "string", value: "<level>", help: `${LOG_LEVELS.join("|")} (default info); JSON lines on stdout` },
    "context-size": { type: "string", value: "<n>", help: "KV cells per model context (default 8192)" },
    "batch-tokens": { type: "string", value: "<n>", help: "tokens per llama.cpp decode and scheduled batch (default 512)" },
    workers: { type: "string", value: "<n>", help: "engine worker threads per model (default 1; one per GPU)" },
    calibration: { type: "string", value: "<file>", help: "reranker score map from `verify --fit-calibration`" },
    threads: { type: "string", value: "<n>", help: "CPU threads per decode (default: physical cores)" },
    gpu: { type: "string", value: "<auto|cuda|vulkan|metal|false>", help: "llama.cpp build (default auto)" },
    exact: { type: "boolean", value: "", help: "exact mode: f32 KV cache for every model (closest to float64); 2x KV memory, no flash attention: slower" },
    "kv-cache-type": { type: "string", value: `<${CLI_KV_CACHE_TYPES.join("|")}>`, help: "KV cache precision (default f16, the fast mode); f32 is --exact, which refuses f16" },
};

function usage(): string {
    const rows = Object.entries(FLAGS).map(([flag, spec]) => {
        const left = `  --${flag}${spec.value === "" ? "" : ` ${spec.value}`}`;
        return `${left.padEnd(44)} ${spec.help}\n${"".padEnd(45)}env ${envName(flag)}`;
    });
    return [
        "qwen3-embedding serve [--embedding-model <path|id>] [--reranker-model <path|id>] [--host 127.0.0.1] [--port 8080] [--api-key <key>]...",
        "Serves POST /v1/embeddings (OpenAI, Jina), /embed, /tokenize, /decode, /similarity (TEI), /v1/embed, /v2/embed (Cohere),",
        "/api/embed, /api/embeddings (Ollama), /embedding, /embeddings, /reranking (llama-server), /v1/rerank, /rerank, /v2/rerank",
        "(Jina, Cohere, SiliconFlow, TEI)",
        "and GET /health, /info, /v1/models, /metrics. Every flag is also an environment variable; the flag wins.",
        "SIGTERM or SIGINT: stop accepting, finish the requests in progress, exit; a second signal exits at once.",
        "",
        ...rows,
    ].join("\n");
}

/** A flag's value from the command line, else from its environment variable; `from` names the source for messages. */
interface Setting {
    value: string | string[] | boolean;
    from: string;
}

function setting(values: Record<string, unknown>, env: NodeJS.ProcessEnv, flag: string): Setting | undefined {
    const spec = FLAGS[flag]!;
    const given = values[flag];
    if (given !== undefined && !(Array.isArray(given) && given.length === 0)) return { value: given as Setting["value"], from: `--${flag}` };
    const raw = env[envName(flag)];
    if (raw === undefined || raw.trim() === "") return undefined;
    const from = envName(flag);
    if (spec.type === "boolean") {
        const lower = raw.trim().toLowerCase();
        if (["1", "true", "yes", "on"].includes(lower)) return { value: true, from };
        if (["0", "false", "no", "off"].includes(lower)) return { value: false, from };
        throw new UsageError(`Expected true or false for ${from} but received ${JSON.stringify(raw)}`);
    }
    return { value: spec.multiple ? raw.split(",").map((part) => part.trim()).filter((part) => part !== "") : raw.trim(), from };
}

function text(entry: Setting | undefined): string | undefined {
    return entry === undefined ? undefined : String(entry.value);
}

function integer(entry: Setting | undefined): number | undefined {
    if (entry === undefined) return undefined;
    const raw = String(entry.value);
    if (!/^\d+$/.test(raw)) throw new UsageError(`Expected a non-negative integer for ${entry.from} but received ${JSON.stringify(raw)}`);
    return Number(raw);
}

const SIZE_UNITS: Record<string, number> = { "": 1, b: 1, k: 1024, kb: 1024, kib: 1024, m: 1024 ** 2, mb: 1024 ** 2, mib: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3, gib: 1024 ** 3 };

/** "16MB", "512k", "1048576": binary units (1 MB = 1024 * 1024 bytes). */
function byteSize(entry: Setting | undefined): number | undefined {
    if (entry === undefined) return undefined;
    const raw = String(entry.value);
    const match = /^(\d+)\s*([a-z]*)$/i.exec(raw.trim());
    const unit = match === null ? undefined : SIZE_UNITS[match[2]!.toLowerCase()];
    if (match === null || unit === undefined) {
        throw new UsageError(`Expected a size in bytes such as 16MB, 512KB or 1048576 for ${entry.from} but received ${JSON.stringify(raw)}`);
    }
    return Number(match[1]) * unit;
}

function list(entry: Setting | undefined): string[] {
    if (entry === undefined) return [];
    return Array.isArray(entry.value) ? entry.value : [String(entry.value)];
}

function readKeyFile(entry: Setting | undefined): (string | ApiKeySpec)[] {
    const path = text(entry);
    if (path === undefined) return [];
    let content: string;
    try {
        content = readFileSync(path, "utf8");
    } catch (error) {
        throw new UsageError(`Cannot read the API key file ${path} (${entry!.from}): ${(error as Error).message}`);
    }
    const keys = asUsageError(() => parseApiKeyFile(content, path));
    if (keys.length === 0) throw new UsageError(`The API key file ${path} (${entry!.from}) holds no key`);
    return keys;
}

/** Server options from the parsed flags, falling back to the QWEN3_EMBEDDING_* environment variables. */
export function serverOptionsFrom(values: Record<string, unknown>, env: NodeJS.ProcessEnv): ServerOptions {
    const get = (flag: string) => setting(values, env, flag);
    const embeddingModel = text(get("embedding-model"));
    const rerankerModel = text(get("reranker-model"));
    if (embeddingModel === undefined && rerankerModel === undefined) {
        throw new UsageError(`--embedding-model or --reranker-model (or ${envName("embedding-model")} / ${envName("reranker-model")}) is required`);
    }
    const logLevel = text(get("log-level"));
    if (logLevel !== undefined && !(LOG_LEVELS as readonly string[]).includes(logLevel)) {
        throw new UsageError(`Expected one of ${LOG_LEVELS.join(", ")} for ${get("log-level")!.from} but received ${JSON.stringify(logLevel)}`);
    }
    const gpu = text(get("gpu"));
    const kvCacheType = kvCacheTypeFrom(get("exact"), get("kv-cache-type"));
    const modelOptions: Omit<CreateEmbedderOptions, "model"> = definedOnly({
        contextSize: integer(get("context-size")),
        batchTokens: integer(get("batch-tokens")),
        threads: integer(get("threads")),
        workers: integer(get("workers")),
        gpu: gpu === undefined ? undefined : gpu === "false" ? false : (gpu as CreateEmbedderOptions["gpu"]),
        kvCacheType,
    });
    const apiKeys = [...list(get("api-key")), ...readKeyFile(get("api-key-file"))];
    const truncate = get("truncate");
    const acceptAny = get("accept-any-model-name");
    return definedOnly<ServerOptions>({
        embeddingModel,
        rerankerModel,
        embedderOptions: embeddingModel === undefined ? undefined : modelOptions,
        rerankerOptions: rerankerModel === undefined ? undefined : definedOnly({ ...modelOptions, calibration: readCalibration(get("calibration")) }),
        database: text(get("database")),
        host: text(get("host")),
        port: integer(get("port")),
        apiKeys: apiKeys.length === 0 ? undefined : apiKeys,
        servedModelNames: emptyAsUndefined(list(get("served-model-name"))),
        acceptAnyModelName: acceptAny === undefined ? undefined : acceptAny.value === true,
        maxBodyBytes: byteSize(get("max-body-size")),
        maxInputs: integer(get("max-inputs")),
        maxTokensPerInput: integer(get("max-tokens-per-input")),
        truncate: truncate === undefined ? undefined : truncate.value === true,
        requestTimeoutMs: integer(get("request-timeout")),
        maxConcurrentRequests: integer(get("max-concurrent-requests")),
        corsOrigins: emptyAsUndefined(list(get("cors-origin"))),
        logLevel: logLevel as LogLevel | undefined,
    });
}

function readCalibration(entry: Setting | undefined): ScoreCalibration | undefined {
    const path = text(entry);
    if (path === undefined) return undefined;
    let parsed: unknown;
    try {
        parsed = JSON.parse(readFileSync(path, "utf8"));
    } catch (error) {
        throw new UsageError(`Cannot read the calibration file ${path} (${entry!.from}): ${(error as Error).message}`);
    }
    return checkCalibration(parsed, path);
}

function emptyAsUndefined(values: string[]): string[] | undefined {
    return values.length === 0 ? undefined : values;
}

function definedOnly<T extends object>(value: T): T {
    return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined)) as T;
}

export const serveCommand: Command = {
    summary: "Serve embeddings and reranking over HTTP (OpenAI, Jina, Cohere, SiliconFlow and TEI request shapes)",
    usage: usage(),
    options: Object.fromEntries(
        Object.entries(FLAGS).map(([flag, spec]) => [flag, spec.multiple ? { type: spec.type, multiple: true } : { type: spec.type }]),
    ),
    async run(values) {
        const options = serverOptionsFrom(values, process.env);
        const server = await startServer(options).catch((error: NodeJS.ErrnoException) => {
            if (error?.code === "EADDRINUSE" || error?.code === "EACCES" || error?.code === "EADDRNOTAVAIL") {
                throw new UsageError(`cannot listen on ${options.host ?? "127.0.0.1"}:${options.port ?? 8080}: ${error.message}`);
            }
            throw error;
        });
        let closed: Promise<void> | undefined;
        let stopped!: () => void;
        const finished = new Promise<void>((resolve) => (stopped = resolve));
        const onSignal = (signal: NodeJS.Signals) => {
            if (closed !== undefined) {
                server.app.log.warn({ signal }, "second signal: exiting without waiting for requests in progress");
                process.exit(1);
            }
            server.app.log.info({ signal, inFlight: server.inFlight() }, "draining: no new requests; finishing the ones in progress");
            closed = server.close().then(() => {
                server.app.log.info("stopped");
                stopped();
            });
        };
        process.on("SIGTERM", onSignal);
        process.on("SIGINT", onSignal);
        try {
            await server.ready;
        } catch (error) {
            process.off("SIGTERM", onSignal);
            process.off("SIGINT", onSignal);
            await server.close();
            throw error;
        }
        await finished;
        process.off("SIGTERM", onSignal);
        process.off("SIGINT", onSignal);
    },
};
