// POSTing JSON to an HTTP endpoint with a time limit, retries with backoff, and one error class per caller: the
// evaluation's reference endpoints (src/evaluation/json-http-client.ts) and the adapters' remote serve.
import { HttpRequestError } from "./http-request-error.js";

export interface JsonRequestOptions {
    /** sent as `Authorization: Bearer <key>` */
    apiKey?: string | undefined;
    /** attempts after the first for network errors, timeouts, 408, 429 and 5xx answers */
    retries: number;
    /** the first backoff; doubled on each retry, plus up to 25% jitter. A Retry-After header wins (at most 60 s). */
    retryDelayMs: number;
    /** per attempt */
    timeoutMs: number;
    signal?: AbortSignal | undefined;
    /** told before each retry */
    onRetry?: ((info: { url: string; attempt: number; reason: string; delayMs: number }) => void) | undefined;
    /** The error thrown: the caller's kind of HttpRequestError. */
    errorClass: new (message: string, url: string, status?: number, options?: ErrorOptions) => HttpRequestError;
    /** Said after a status in the error's message, e.g. 401: " (check the API key)". */
    statusHints?: Readonly<Record<number, string>> | undefined;
}

const RETRYABLE = new Set([408, 425, 429, 500, 502, 503, 504]);

function retryAfterMs(header: string | null): number | undefined {
    if (header === null) return undefined;
    const seconds = Number(header);
    if (Number.isFinite(seconds) && seconds >= 0) return Math.min(60_000, seconds * 1000);
    const date = Date.parse(header);
    return Number.isNaN(date) ? undefined : Math.min(60_000, Math.max(0, date - Date.now()));
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
    return new Promise((resolve, reject) => {
        if (signal?.aborted) return reject(signal.reason);
        const timer = setTimeout(() => {
            signal?.removeEventListener("abort", onAbort);
            resolve();
        }, ms);
        const onAbort = () => {
            clearTimeout(timer);
            reject(signal!.reason);
        };
        signal?.addEventListener("abort", onAbort, { once: true });
    });
}

function triesAfter(attempt: number): string {
    return attempt === 0 ? "" : ` after ${attempt + 1} attempts`;
}

/** POSTs JSON and returns the parsed JSON answer, retrying what can succeed on a second try. */
export async function postJson(url: string, body: unknown, options: JsonRequestOptions): Promise<unknown> {
    const headers: Record<string, string> = { "content-type": "application/json", accept: "application/json" };
    if (options.apiKey !== undefined && options.apiKey !== "") headers["authorization"] = `Bearer ${options.apiKey}`;
    const payload = JSON.stringify(body);
    for (let attempt = 0; ; attempt++) {
        const backoff = options.retryDelayMs * 2 ** attempt * (1 + Math.random() * 0.25);
        let reason: string;
        let delayMs = backoff;
        try {
            const timeout = AbortSignal.timeout(options.timeoutMs);
            const signal = options.signal === undefined ? timeout : AbortSignal.any([options.signal, timeout]);
            const response = await fetch(url, { method: "POST", headers, body: payload, signal });
            if (response.ok) {
                const text = await response.text();
                try {
                    return JSON.parse(text);
                } catch {
                    throw new options.errorClass(`POST ${url} answered ${response.status} with a body that is not JSON: ${text.slice(0, 200)}`, url, response.status);
                }
            }
            const text = (await response.text()).replace(/\s+/g, " ").slice(0, 300);
            if (!RETRYABLE.has(response.status) || attempt >= options.retries) {
                const hint = options.statusHints?.[response.status] ?? "";
                throw new options.errorClass(`POST ${url} answered ${response.status}${hint}${triesAfter(attempt)}: ${text}`, url, response.status);
            }
            reason = `HTTP ${response.status}`;
            delayMs = retryAfterMs(response.headers.get("retry-after")) ?? backoff;
        } catch (error) {
            if (error instanceof options.errorClass) throw error;
            if (options.signal?.aborted) throw error;
            const cause = error as Error & { cause?: { code?: string; message?: string } };
            reason = cause.name === "TimeoutError" ? `no answer within ${options.timeoutMs} ms` : (cause.cause?.code ?? cause.cause?.message ?? cause.message);
            if (attempt >= options.retries) {
                throw new options.errorClass(`POST ${url} failed${triesAfter(attempt)}: ${reason}`, url, undefined, { cause: error });
            }
        }
        options.onRetry?.({ url, attempt: attempt + 1, reason, delayMs });
        await sleep(delayMs, options.signal);
    }
}
