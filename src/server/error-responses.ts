import { InvalidOptionError, Qwen3EmbeddingError } from "../internal/errors.js";
import { StoreError } from "../store/store-error.js";
import { schemaIssueError, type SchemaIssue } from "./schema-errors.js";

/** The `type` of an OpenAI-shaped error body. */
export type HttpErrorType =
    | "invalid_request_error"
    | "authentication_error"
    | "permission_error"
    | "not_found_error"
    | "rate_limit_error"
    | "server_error"
    | "service_unavailable";

/** What every error response carries: OpenAI's `{ error: { message, type, code, param } }`. */
export interface ErrorBody {
    error: { message: string; type: HttpErrorType; code: string; param: string | null };
}

export interface HttpErrorOptions {
    code: string;
    param?: string | null;
    headers?: Record<string, string>;
}

/** An error answered with a status and an OpenAI-shaped body; the message is safe to show to the client. */
export class HttpError extends Error {
    readonly status: number;
    readonly code: string;
    readonly param: string | null;
    readonly headers: Record<string, string>;

    constructor(status: number, message: string, options: HttpErrorOptions) {
        super(message);
        this.name = "HttpError";
        this.status = status;
        this.code = options.code;
        this.param = options.param ?? null;
        this.headers = options.headers ?? {};
    }

    get type(): HttpErrorType {
        if (this.status === 401) return "authentication_error";
        if (this.status === 403) return "permission_error";
        if (this.status === 404) return "not_found_error";
        if (this.status === 429) return "rate_limit_error";
        if (this.status === 503) return "service_unavailable";
        if (this.status >= 500) return "server_error";
        return "invalid_request_error";
    }

    toBody(): ErrorBody {
        return { error: { message: this.message, type: this.type, code: this.code, param: this.param } };
    }
}

/** A 400 for a request field, naming it in `param`. */
export function invalidField(param: string, message: string, code = "invalid_value"): HttpError {
    return new HttpError(400, message, { code, param });
}

/** A 413: an array field with more items than the server takes per request (`--max-inputs`). */
export function tooManyInputs(param: string, count: number, maxInputs: number): HttpError {
    return new HttpError(413, `${param} has ${count} items but this server takes at most ${maxInputs} per request (--max-inputs); split the request`, {
        code: "too_many_inputs", param,
    });
}

/** A 403: the API key is valid but does not reach what the request names (`param`). */
export function forbidden(param: string, message: string): HttpError {
    return new HttpError(403, message, { code: "forbidden", param });
}

/**
 * Runs library work; an InvalidOptionError becomes a 400 whose `param` is the request field its option is read from
 * (`fieldOf`: library option → field; an option already named as a field stands for itself), else null. Everything
 * else goes on to the error handler.
 */
export function withFieldNames<T>(fieldOf: Readonly<Record<string, string>>, work: () => T): T {
    const named = (error: unknown): never => {
        if (error instanceof InvalidOptionError) {
            const option = error.option;
            const param = option === undefined ? null : fieldOf[option] ?? (Object.values(fieldOf).includes(option) ? option : null);
            throw new HttpError(400, error.message, { code: "invalid_value", param });
        }
        throw error;
    };
    try {
        const result = work();
        return (result instanceof Promise ? result.catch(named) : result) as T;
    } catch (error) {
        return named(error);
    }
}

/**
 * The 503 message for a request past the server's time limit (`timeoutMs` when known): it names what raises the
 * limit, the flag, its environment variable and the server option.
 */
export function requestTimeoutMessage(timeoutMs?: number): string {
    const limit = timeoutMs === undefined ? "time limit" : `time limit of ${timeoutMs} ms`;
    return `The request did not finish within the server's ${limit}; ${RAISE_REQUEST_TIMEOUT}`;
}

const RAISE_REQUEST_TIMEOUT = "raise it with --request-timeout <ms> (environment QWEN3_EMBEDDING_REQUEST_TIMEOUT, server option requestTimeoutMs)";

/**
 * The scheduler refuses at once a call it expects to miss its timeoutMs; over HTTP that limit is what is left of the
 * server's time limit, so the message names what raises it (a request that alone takes longer never gets through).
 */
function queueFullMessage(message: string): string {
    if (!message.includes("too close to its timeoutMs")) return message;
    return `${message}; its timeoutMs is what is left of the server's time limit: ${RAISE_REQUEST_TIMEOUT}`;
}

/** A 429 with Retry-After. */
export function tooManyRequests(message: string, code: string, retryAfterSeconds: number): HttpError {
    return new HttpError(429, message, { code, headers: { "retry-after": String(retryAfterSeconds) } });
}

interface FastifyLikeError {
    code?: unknown;
    statusCode?: unknown;
    message?: unknown;
    validation?: unknown;
    validationContext?: unknown;
}

/**
 * Maps anything thrown while handling a request to the response it gets. Library errors map by their stable `code`,
 * fastify's body-parsing errors by theirs; anything else is a 500 whose message hides the details (they are logged).
 * `internal` says whether the error was unexpected (worth logging with its stack).
 */
export function toHttpError(error: unknown, context: { retryAfterSeconds: number; maxBodyBytes: number }): { http: HttpError; internal: boolean } {
    if (error instanceof HttpError) return { http: error, internal: false };
    if (error instanceof StoreError) return storeError(error, context.retryAfterSeconds);
    if (error instanceof Qwen3EmbeddingError) return libraryError(error, context.retryAfterSeconds);
    const fastify = (error ?? {}) as FastifyLikeError;
    if (Array.isArray(fastify.validation) && fastify.validation.length > 0) {
        return { http: schemaIssueError(fastify.validation as SchemaIssue[], String(fastify.validationContext ?? "body"), String(fastify.message)), internal: false };
    }
    switch (fastify.code) {
        case "FST_ERR_CTP_BODY_TOO_LARGE":
            return known(413, `The request body is larger than this server's limit of ${context.maxBodyBytes} bytes (--max-body-size)`, "request_too_large");
        case "FST_ERR_CTP_INVALID_JSON_BODY":
            return known(400, "The request body is not valid JSON", "invalid_json");
        case "FST_ERR_CTP_EMPTY_JSON_BODY":
            return known(400, "The request body is empty; send a JSON object", "invalid_json");
        case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
            return known(415, "Unsupported Content-Type; send the body as JSON with Content-Type: application/json", "unsupported_media_type");
        case "FST_ERR_CTP_INVALID_CONTENT_LENGTH":
            return known(400, "The Content-Length header does not match the body", "invalid_content_length");
        case "FST_ERR_BAD_URL":
            return known(400, "The request URL is malformed: its path is not valid percent-encoded UTF-8", "invalid_url");
        case "FST_ERR_MAX_PARAM_LENGTH":
            return known(414, "A path parameter of the request URL is longer than this server takes; ids are at most 512 characters", "uri_too_long");
        default:
            break;
    }
    const status = typeof fastify.statusCode === "number" ? fastify.statusCode : 500;
    if (status >= 400 && status < 500) {
        return known(status, typeof fastify.message === "string" ? fastify.message : "Bad request", "invalid_request");
    }
    return { http: new HttpError(500, "Internal server error; the server log has the details", { code: "internal_error" }), internal: true };
}

/**
 * Store failures: a missing namespace is a 404; a store that is locked, unreachable or on a newer schema a 503 whose
 * message holds no path, host or pid (the log has them); anything else a 500.
 */
function storeError(error: StoreError, retryAfterSeconds: number): { http: HttpError; internal: boolean } {
    switch (error.reason) {
        case "namespace_not_found":
            return { http: new HttpError(404, error.message, { code: "namespace_not_found", param: "namespace" }), internal: false };
        case "locked":
        case "unavailable":
        case "schema":
            return {
                http: new HttpError(503, "The store is unavailable; the server log has the details", {
                    code: "store_unavailable",
                    headers: { "retry-after": String(retryAfterSeconds) },
                }),
                internal: true,
            };
        default:
            return { http: new HttpError(500, "The store failed; the server log has the details", { code: "store_error" }), internal: true };
    }
}

function known(status: number, message: string, code: string): { http: HttpError; internal: boolean } {
    return { http: new HttpError(status, message, { code }), internal: false };
}

function libraryError(error: Qwen3EmbeddingError, retryAfterSeconds: number): { http: HttpError; internal: boolean } {
    switch (error.code) {
        case "ERR_INVALID_OPTION":
            return known(400, error.message, "invalid_value");
        case "ERR_CONTEXT_TOO_SMALL":
            return known(400, error.message, "context_too_small");
        case "ERR_QUEUE_FULL":
            return { http: tooManyRequests(queueFullMessage(error.message), "queue_full", retryAfterSeconds), internal: false };
        case "ERR_DEADLINE":
        case "ERR_ABORTED":
            return known(503, requestTimeoutMessage(), "timeout");
        case "ERR_DISPOSED":
            return known(503, "The server is shutting down", "shutting_down");
        case "ERR_WORKER":
            return { http: new HttpError(503, error.message, { code: "worker_failed", headers: { "retry-after": String(retryAfterSeconds) } }), internal: true };
        default:
            return { http: new HttpError(500, error.message, { code: "model_error" }), internal: true };
    }
}
