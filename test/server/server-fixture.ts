import { expect } from "vitest";
import { ensureFixtureModel } from "../fixtures/qwen3-fixture.js";
import { startServer, type RunningServer, type ServerOptions } from "../../src/exports/server.js";

/** The model options every server test uses, for the server and for the library it is compared with. */
export const MODEL_OPTIONS = { batchTokens: 256, contextSize: 4096 } as const;

export async function fixturePaths(): Promise<{ embedding: string; reranker: string }> {
    return {
        embedding: await ensureFixtureModel({ kind: "embedding", size: "tiny" }),
        reranker: await ensureFixtureModel({ kind: "reranker-rank", size: "tiny" }),
    };
}

/** A real server on 127.0.0.1, a free port, logs silent; both fixture models unless the options say otherwise. Ready when resolved. */
export async function startFixtureServer(options: Partial<ServerOptions> = {}): Promise<RunningServer> {
    const usesGiven = options.embedder !== undefined || options.reranker !== undefined;
    const paths = usesGiven ? undefined : await fixturePaths();
    const server = await startServer({
        ...(paths === undefined ? {} : {
            embeddingModel: paths.embedding,
            rerankerModel: paths.reranker,
            embedderOptions: MODEL_OPTIONS,
            rerankerOptions: MODEL_OPTIONS,
        }),
        host: "127.0.0.1",
        port: 0,
        logLevel: "silent",
        ...options,
    });
    await server.ready;
    return server;
}

export interface JsonResponse {
    status: number;
    headers: Headers;
    body: any; // response bodies are checked field by field
}

/** POSTs a JSON body (or a raw string) and parses the JSON answer. */
export async function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<JsonResponse> {
    const response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: typeof body === "string" ? body : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, headers: response.headers, body: text === "" ? undefined : JSON.parse(text) };
}

/** Asserts OpenAI's error shape, the status, the code and a part of the message; no stack trace anywhere. */
export function expectError(response: JsonResponse, status: number, code: string, message?: string | RegExp, param?: string | null): void {
    expect(response.status, JSON.stringify(response.body)).toBe(status);
    expect(Object.keys(response.body)).toEqual(["error"]);
    const error = response.body.error;
    expect(Object.keys(error).sort()).toEqual(["code", "message", "param", "type"]);
    expect(error.code).toBe(code);
    expect(typeof error.message).toBe("string");
    expect(error.message).not.toMatch(/\n\s+at /); // no stack frames
    if (message !== undefined) expect(error.message).toMatch(message);
    if (param !== undefined) expect(error.param).toBe(param);
    const type = status === 401 ? "authentication_error" : status === 403 ? "permission_error" : status === 404 ? "not_found_error" : status === 429 ? "rate_limit_error"
        : status === 503 ? "service_unavailable" : status >= 500 ? "server_error" : "invalid_request_error";
    expect(error.type).toBe(type);
}

/** The largest absolute difference between two vectors of the same length. */
export function maxAbsDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
    expect(a.length).toBe(b.length);
    let worst = 0;
    for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
    return worst;
}

/**
 * Float precision for results of two separate evaluations of the same input (server vs library): batches of
 * different composition round differently in the last bits of float32.
 */
export const FLOAT_TOLERANCE = 1e-6;

export function expectVectorsClose(actual: ArrayLike<number>, expected: ArrayLike<number>): void {
    expect(maxAbsDifference(actual, expected)).toBeLessThanOrEqual(FLOAT_TOLERANCE);
}

/** The cosine similarity of two vectors (any scale). */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
    let dot = 0, na = 0, nb = 0;
    for (let i = 0; i < a.length; i++) {
        dot += a[i]! * b[i]!;
        na += a[i]! * a[i]!;
        nb += b[i]! * b[i]!;
    }
    return dot / Math.sqrt(na * nb);
}

/** A promise with its resolve/reject handles. */
export function deferred<T = void>(): { promise: Promise<T>; resolve(value: T): void; reject(error: unknown): void } {
    let resolve!: (value: T) => void;
    let reject!: (error: unknown) => void;
    const promise = new Promise<T>((ok, fail) => {
        resolve = ok;
        reject = fail;
    });
    return { promise, resolve, reject };
}
