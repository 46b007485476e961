import { HttpRequestError } from "../internal/http-request-error.js";
import { postJson } from "../internal/post-json.js";
import { InvalidOptionError } from "../internal/errors.js";
import { checkInteger, checkString, describeValue } from "../internal/validation.js";

/** A `qwen3-embedding serve` (or compatible server) that could not be reached, or that refused a request. */
export class ServeRequestError extends HttpRequestError {}

/** Where a remote `serve` is and how to talk to it. */
export interface ServeConnection {
    /** The server's root URL, e.g. "http://10.0.0.5:8080" (a trailing "/v1" is accepted and dropped). */
    baseUrl: string;
    /** Sent as `model`; the server answers 404 when it serves no model of that name. Default: none (the served model). */
    model?: string;
    /** Sent as `Authorization: Bearer <apiKey>`. */
    apiKey?: string;
    /** Per request. Default 60000. */
    timeoutMs?: number;
}

/** The keys of ServeConnection, for the adapters' option lists. */
export const SERVE_CONNECTION_OPTIONS = ["baseUrl", "model", "apiKey", "timeoutMs"] as const;

/** A validated ServeConnection: the root URL without trailing slash or "/v1". */
export interface ServeClient {
    readonly root: string;
    readonly model: string | undefined;
    post(path: string, body: Record<string, unknown>, signal?: AbortSignal): Promise<unknown>;
}

/** Checks a ServeConnection (names are `${prefix}baseUrl`, ...) and returns a client for it. */
export function serveClient(connection: ServeConnection, prefix = ""): ServeClient {
    const baseUrl = checkString(`${prefix}baseUrl`, connection.baseUrl, { allowEmpty: false });
    let url: URL;
    try {
        url = new URL(baseUrl);
    } catch {
        throw new InvalidOptionError(`Expected an http:// or https:// URL for ${prefix}baseUrl but received ${describeValue(baseUrl)}`, { option: `${prefix}baseUrl` });
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") {
        throw new InvalidOptionError(`Expected an http:// or https:// URL for ${prefix}baseUrl but received ${describeValue(baseUrl)}`, { option: `${prefix}baseUrl` });
    }
    const root = url.href.replace(/\/+$/, "").replace(/\/v1$/, "");
    const model = connection.model === undefined ? undefined : checkString(`${prefix}model`, connection.model, { allowEmpty: false });
    const apiKey = connection.apiKey === undefined ? undefined : checkString(`${prefix}apiKey`, connection.apiKey, { allowEmpty: false });
    const timeoutMs = connection.timeoutMs === undefined ? 60_000 : checkInteger(`${prefix}timeoutMs`, connection.timeoutMs, 1, 2_147_483_647);
    return {
        root,
        model,
        post: (path, body, signal) =>
            postJson(root + path, model === undefined ? body : { model, ...body }, { apiKey, retries: 0, retryDelayMs: 0, timeoutMs, signal, errorClass: ServeRequestError }),
    };
}
