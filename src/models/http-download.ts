/**
 * HTTP for `pull`, on undici (the library behind Node's own fetch) with two time limits that Node's global fetch does
 * not expose: a connect timeout (name resolution, TCP and TLS) and a stall timeout (the longest wait for the answer's
 * headers, then between two pieces of its body). Through the proxy that HTTPS_PROXY / HTTP_PROXY name, except for the
 * hosts NO_PROXY lists, as curl does (proxy-from-env.ts). Nothing is retried: a failure is reported at once, and the next
 * `pull` resumes what was written. Not node-llama-cpp's downloader, which cannot be bounded: README, "Why not
 * node-llama-cpp's downloader", has what was tried.
 */
import { createWriteStream } from "node:fs";
import { rename, rm, stat } from "node:fs/promises";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { Agent, fetch, ProxyAgent, type Dispatcher, type Response } from "undici";
import { proxyFromEnv } from "./proxy-from-env.js";

export interface HttpTimeouts {
    connectTimeoutMs: number;
    stallTimeoutMs: number;
}

/** Bytes written so far of the file a download makes, as told to onProgress (at most four times a second, and at the end). */
export interface TransferProgress {
    downloadedBytes: number;
    /** 0 while unknown. */
    totalBytes: number;
    /** Average over this transfer; 0 before the first bytes. */
    bytesPerSecond: number;
}

/** An answer with a status other than 2xx. */
export class HttpStatusError extends Error {
    constructor(readonly status: number, readonly url: string) {
        super(`${url} answered HTTP ${status}`);
        this.name = "HttpStatusError";
    }
}

/**
 * The network failed: `unreachable` (the host cannot be resolved or connected to), `timeout` (the connect or the stall
 * timeout ran out) or `interrupted` (the connection broke during the transfer). The message says which and why.
 */
export class NetworkError extends Error {
    constructor(readonly kind: "unreachable" | "timeout" | "interrupted", message: string, options?: ErrorOptions) {
        super(message, options);
        this.name = "NetworkError";
    }
}

/** One client (connection pool) with the time limits; close() drops its connections, a stalled one included. */
export class HttpSession {
    readonly #agent: Agent;
    readonly #proxyAgents = new Map<string, ProxyAgent>();
    readonly #timeouts: HttpTimeouts;
    readonly #headers: Record<string, string>;

    constructor(timeouts: HttpTimeouts, headers: Record<string, string> = {}) {
        this.#timeouts = timeouts;
        this.#headers = headers;
        this.#agent = new Agent(this.#agentOptions());
    }

    #agentOptions() {
        const { connectTimeoutMs, stallTimeoutMs } = this.#timeouts;
        return { connect: { timeout: connectTimeoutMs }, headersTimeout: stallTimeoutMs, bodyTimeout: stallTimeoutMs };
    }

    /** The direct agent, or the one for the proxy the environment names for `url`. */
    #dispatcherFor(url: string): Dispatcher {
        const proxy = proxyFromEnv(url);
        if (proxy === undefined) return this.#agent;
        let agent = this.#proxyAgents.get(proxy.url);
        if (agent === undefined) {
            agent = new ProxyAgent({ ...this.#agentOptions(), uri: proxy.url, proxyTls: { timeout: this.#timeouts.connectTimeoutMs } });
            this.#proxyAgents.set(proxy.url, agent);
        }
        return agent;
    }

    /** GETs a JSON document. */
    async getJson(url: string, signal: AbortSignal | undefined): Promise<unknown> {
        const response = await this.#get(url, { accept: "application/json" }, signal);
        try {
            return await response.json();
        } catch (error) {
            throw this.#networkError(error, url);
        }
    }

    /**
     * Downloads `url` into `<target><partialSuffix>`, appending to what an earlier attempt left there (a Range request;
     * from the start when the server ignores it), and renames it to `target` once whole. On any failure the partial file
     * is kept for the next attempt.
     */
    async downloadFile(
        url: string,
        target: string,
        options: {
            partialSuffix: string;
            signal?: AbortSignal | undefined;
            onStart?: ((start: { resumeFromBytes: number }) => void) | undefined;
            onProgress?: ((progress: TransferProgress) => void) | undefined;
        },
    ): Promise<void> {
        const partial = target + options.partialSuffix;
        let start = (await stat(partial).catch(() => undefined))?.size ?? 0;
        options.onStart?.({ resumeFromBytes: start });
        let response: Response;
        try {
            response = await this.#get(url, start > 0 ? { range: `bytes=${start}-` } : {}, options.signal);
        } catch (error) {
            // 416: the partial file is not a prefix of the file there now (it changed, or it was already whole): start over.
            if (!(error instanceof HttpStatusError && error.status === 416 && start > 0)) throw error;
            await rm(partial, { force: true });
            start = 0;
            response = await this.#get(url, {}, options.signal);
        }
        if (start > 0 && response.status !== 206) start = 0;
        const length = Number(response.headers.get("content-length") ?? Number.NaN);
        const totalBytes = Number.isFinite(length) ? start + length : 0;
        const began = performance.now();
        let downloadedBytes = start;
        let reported = 0;
        const report = (force: boolean): void => {
            const now = performance.now();
            if (options.onProgress === undefined || (!force && now - reported < 250)) return;
            reported = now;
            const seconds = (now - began) / 1000;
            options.onProgress({ downloadedBytes, totalBytes, bytesPerSecond: seconds > 0 ? (downloadedBytes - start) / seconds : 0 });
        };
        const meter = new Transform({
            transform(chunk: Buffer, _encoding, done) {
                downloadedBytes += chunk.length;
                report(false);
                done(null, chunk);
            },
        });
        if (response.body === null) throw new NetworkError("interrupted", `${hostOf(url)} answered without a body`);
        try {
            await pipeline(
                Readable.fromWeb(response.body as unknown as WebReadableStream<Uint8Array>),
                meter,
                createWriteStream(partial, { flags: start > 0 ? "a" : "w" }),
            );
        } catch (error) {
            if (options.signal?.aborted) throw options.signal.reason;
            throw this.#networkError(error, url);
        }
        report(true);
        if (totalBytes > 0 && downloadedBytes !== totalBytes) {
            throw new NetworkError("interrupted", `the transfer from ${hostOf(url)} ended after ${downloadedBytes} of ${totalBytes} bytes`);
        }
        await rename(partial, target);
    }

    /** Drops every connection, a stalled one included, so that nothing keeps the process alive. */
    async close(): Promise<void> {
        await Promise.all([this.#agent, ...this.#proxyAgents.values()].map((agent) => agent.destroy()));
    }

    async #get(url: string, headers: Record<string, string>, signal: AbortSignal | undefined): Promise<Response> {
        let response: Response;
        try {
            response = await fetch(url, {
                dispatcher: this.#dispatcherFor(url),
                headers: { "accept-encoding": "identity", ...this.#headers, ...headers },
                ...(signal !== undefined ? { signal } : {}),
            });
        } catch (error) {
            if (signal?.aborted) throw signal.reason;
            throw this.#networkError(error, url);
        }
        if (!response.ok) {
            await response.body?.cancel().catch(() => undefined);
            throw new HttpStatusError(response.status, url);
        }
        return response;
    }

    /** Names what failed in words (with the code), from the error or its causes: resolving, connecting, a timeout. */
    #networkError(error: unknown, url: string): NetworkError | Error {
        const code = errorCode(error);
        const proxy = proxyFromEnv(url);
        const host = hostOf(url) + (proxy === undefined ? "" : ` (through the proxy ${proxy.url}, ${proxy.variable})`);
        const { connectTimeoutMs, stallTimeoutMs } = this.#timeouts;
        const options = { cause: error };
        switch (code) {
            case "ENOTFOUND": case "EAI_AGAIN": case "EAI_NONAME": case "EAI_FAIL": case "EAI_NODATA":
                return new NetworkError("unreachable", `cannot resolve the host ${host} (${code})`, options);
            case "ECONNREFUSED": case "EHOSTUNREACH": case "ENETUNREACH": case "EADDRNOTAVAIL": case "ENETDOWN": case "EHOSTDOWN":
                return new NetworkError("unreachable", `cannot connect to ${host} (${code})`, options);
            case "UND_ERR_CONNECT_TIMEOUT":
                return new NetworkError("timeout", `no connection to ${host} within the connect timeout of ${connectTimeoutMs} ms`, options);
            case "UND_ERR_HEADERS_TIMEOUT":
                return new NetworkError("timeout", `${host} accepted the connection but sent no answer within the stall timeout of ${stallTimeoutMs} ms`, options);
            case "UND_ERR_BODY_TIMEOUT":
                return new NetworkError("timeout", `the transfer from ${host} stalled: nothing arrived within the stall timeout of ${stallTimeoutMs} ms`, options);
            case "UND_ERR_SOCKET": case "ECONNRESET": case "EPIPE": case "ETIMEDOUT":
                return new NetworkError("interrupted", `the connection to ${host} broke (${code})`, options);
            default:
                return error instanceof Error ? error : new Error(String(error));
        }
    }
}

/** The first `code` along an error's causes (and an AggregateError's errors), such as ENOTFOUND or UND_ERR_BODY_TIMEOUT. */
function errorCode(error: unknown, depth = 0): string | undefined {
    if (error === null || typeof error !== "object" || depth > 8) return undefined;
    const { code, cause, errors } = error as { code?: unknown; cause?: unknown; errors?: unknown };
    if (typeof code === "string") return code;
    const fromCause = errorCode(cause, depth + 1);
    if (fromCause !== undefined) return fromCause;
    return Array.isArray(errors) ? errors.map((inner) => errorCode(inner, depth + 1)).find((inner) => inner !== undefined) : undefined;
}

function hostOf(url: string): string {
    return new URL(url).host;
}
