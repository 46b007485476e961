import { Qwen3EmbeddingError } from "../internal/errors.js";

const NATIVE_CODES: Record<string, string> = {
    ERR_MODEL_LOAD: "ERR_MODEL_FILE",
    ERR_CONTEXT_CREATE: "ERR_DECODE",
    ERR_DECODE: "ERR_DECODE",
    ERR_TOKENIZE: "ERR_DECODE",
    ERR_ABORTED: "ERR_ABORTED",
    ERR_CONTEXT_TOO_SMALL: "ERR_CONTEXT_TOO_SMALL",
    ERR_DISPOSED: "ERR_DISPOSED",
    ERR_LIBRARY_LOAD: "ERR_NATIVE_LOAD",
    ERR_NOT_INITIALIZED: "ERR_NATIVE_LOAD",
    ERR_INVALID_ARGUMENT: "ERR_INVALID_OPTION",
};

/**
 * Runs a native call and turns its failure into one of our error classes whose stack is the caller's, not the
 * libuv thread's (the native rejection carries no useful JS stack).
 */
export async function callNative<T>(run: () => Promise<T> | T): Promise<T> {
    const caller = new Error();
    try {
        return await run();
    } catch (error) {
        throw toEngineError(error, caller);
    }
}

export function toEngineError(error: unknown, caller?: Error): Error {
    if (error instanceof Qwen3EmbeddingError) return error;
    const native = error as { code?: unknown; message?: unknown };
    if (typeof native?.code !== "string" || !(native.code in NATIVE_CODES)) return error as Error;
    const message = String(native.message);
    const code = NATIVE_CODES[native.code]!;
    const converted = Qwen3EmbeddingError.fromCode(code, message);
    if (caller?.stack !== undefined) {
        converted.stack = `${converted.name}: ${message}\n${caller.stack.split("\n").slice(1).join("\n")}`;
    }
    (converted as Error).cause = error;
    return converted;
}
