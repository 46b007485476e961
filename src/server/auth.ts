import { createHash, timingSafeEqual } from "node:crypto";
import { KeyAccess, type ResolvedApiKey } from "./api-key-access.js";
import { HttpError } from "./error-responses.js";

/**
 * Bearer-token check against the configured API keys. Keys are kept only as SHA-256 digests; a presented token is
 * hashed and compared with every digest by `crypto.timingSafeEqual` (equal-length inputs, no early exit), so the
 * time taken says nothing about how much of a key matched, nor which key. No key material is logged or echoed.
 */
export class ApiKeyCheck {
    readonly #keys: readonly { digest: Buffer; access: KeyAccess }[];

    constructor(keys: readonly ResolvedApiKey[]) {
        this.#keys = keys.map(({ key, access }) => ({ digest: digest(key), access }));
    }

    get enabled(): boolean {
        return this.#keys.length > 0;
    }

    /**
     * What the request's key allows; throws a 401 unless the Authorization header carries `Bearer <one of the keys>`.
     * Without keys, everything is allowed.
     */
    check(authorization: string | undefined): KeyAccess {
        if (!this.enabled) return KeyAccess.ADMIN;
        const match = authorization === undefined ? null : /^Bearer[ \t]+(\S.*?)[ \t]*$/i.exec(authorization);
        if (match === null) {
            throw unauthorized("Missing API key: send it as Authorization: Bearer <key>", "missing_api_key");
        }
        const presented = digest(match[1]!);
        let found: KeyAccess | undefined;
        for (const key of this.#keys) {
            if (timingSafeEqual(presented, key.digest)) found = key.access;
        }
        if (found === undefined) throw unauthorized("Invalid API key", "invalid_api_key");
        return found;
    }
}

function digest(key: string): Buffer {
    return createHash("sha256").update(key, "utf8").digest();
}

function unauthorized(message: string, code: string): HttpError {
    return new HttpError(401, message, { code, headers: { "www-authenticate": 'Bearer realm="qwen3-embedding"' } });
}
