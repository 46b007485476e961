import { createHash, timingSafeEqual } from "node:crypto";
import { HttpError } from "./error-responses.js";

/**
 * Bearer-token check against the configured API keys. Keys are kept only as SHA-256 digests; a presented token is
 * hashed and compared with every digest by `crypto.timingSafeEqual` (equal-length inputs, no early exit), so the
 * time taken says nothing about how much of a key matched, nor which key. No key material is logged or echoed.
 */
export class ApiKeyCheck {
    readonly #digests: readonly Buffer[];

    constructor(keys: readonly string[]) {
        this.#digests = keys.map(digest);
    }

    get enabled(): boolean {
        return this.#digests.length > 0;
    }

    /** Throws a 401 unless the Authorization header carries `Bearer <one of the keys>`; does nothing without keys. */
    check(authorization: string | undefined): void {
        if (!this.enabled) return;
        const match = authorization === undefined ? null : /^Bearer[ \t]+(\S.*?)[ \t]*$/i.exec(authorization);
        if (match === null) {
            throw unauthorized("Missing API key: send it as Authorization: Bearer <key>", "missing_api_key");
        }
        const presented = digest(match[1]!);
        let found = false;
        for (const key of this.#digests) found = timingSafeEqual(presented, key) || found;
        if (!found) throw unauthorized("Invalid API key", "invalid_api_key");
    }
}

function digest(key: string): Buffer {
    return createHash("sha256").update(key, "utf8").digest();
}

function unauthorized(message: string, code: string): HttpError {
    return new HttpError(401, message, { code, headers: { "www-authenticate": 'Bearer realm="qwen3-embedding"' } });
}
