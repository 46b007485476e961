/**
 * The errors qwen3-embedding throws. Each has a stable `code`; `Qwen3EmbeddingError.fromCode` rebuilds the right
 * class from a code and message after the error crossed a worker-thread boundary.
 */
export type ErrorCode =
    | "ERR_INVALID_OPTION"
    | "ERR_MODEL_FILE"
    | "ERR_UNSUPPORTED_MODEL"
    | "ERR_NATIVE_LOAD"
    | "ERR_CONTEXT_TOO_SMALL"
    | "ERR_DECODE"
    | "ERR_ABORTED"
    | "ERR_DISPOSED"
    | "ERR_QUEUE_FULL"
    | "ERR_DEADLINE"
    | "ERR_WORKER"
    | "ERR_STORE";

export class Qwen3EmbeddingError extends Error {
    readonly code: ErrorCode;

    constructor(code: ErrorCode, message: string, options?: ErrorOptions) {
        super(message, options);
        this.code = code;
        this.name = new.target.name;
    }

    static fromCode(code: string, message: string): Qwen3EmbeddingError {
        switch (code) {
            case "ERR_INVALID_OPTION": return new InvalidOptionError(message);
            case "ERR_MODEL_FILE": return new ModelFileError(message);
            case "ERR_UNSUPPORTED_MODEL": return new UnsupportedModelError(message);
            case "ERR_NATIVE_LOAD": return new NativeLoadError(message);
            case "ERR_CONTEXT_TOO_SMALL": return new ContextTooSmallError(message);
            case "ERR_ABORTED": return new AbortedError(message);
            case "ERR_DISPOSED": return new DisposedError(message);
            case "ERR_QUEUE_FULL": return new QueueFullError(message);
            case "ERR_DEADLINE": return new DeadlineExceededError(message);
            case "ERR_WORKER": return new WorkerError(message);
            default: return new DecodeError(message);
        }
    }
}

/** An option or argument has the wrong type or value. The message names it, what was expected and what was received. */
export class InvalidOptionError extends Qwen3EmbeddingError {
    /** The option (or argument) at fault, as the message names it (`userId`, `filter`), when the check knew it; not kept across a worker-thread boundary. */
    readonly option: string | undefined;

    constructor(message: string, options?: { option?: string }) {
        super("ERR_INVALID_OPTION", message);
        this.option = options?.option;
    }
}

/** The model file is missing, unreadable, truncated or not a GGUF. */
export class ModelFileError extends Qwen3EmbeddingError {
    constructor(message: string, options?: ErrorOptions) { super("ERR_MODEL_FILE", message, options); }
}

/** The file is a GGUF but not a model this library can run for the requested job. */
export class UnsupportedModelError extends Qwen3EmbeddingError {
    constructor(message: string) { super("ERR_UNSUPPORTED_MODEL", message); }
}

/** The native addon or the llama.cpp libraries could not be loaded. */
export class NativeLoadError extends Qwen3EmbeddingError {
    constructor(message: string, options?: ErrorOptions) { super("ERR_NATIVE_LOAD", message, options); }
}

/** An input does not fit the context the engine was created with. */
export class ContextTooSmallError extends Qwen3EmbeddingError {
    constructor(message: string) { super("ERR_CONTEXT_TOO_SMALL", message); }
}

/** llama.cpp failed while evaluating a batch, or a context could not be created. */
export class DecodeError extends Qwen3EmbeddingError {
    constructor(message: string) { super("ERR_DECODE", message); }
}

/** The caller's AbortSignal fired. */
export class AbortedError extends Qwen3EmbeddingError {
    constructor(message = "the operation was aborted") { super("ERR_ABORTED", message); }
}

/** The object was disposed; create a new one. */
export class DisposedError extends Qwen3EmbeddingError {
    constructor(message: string) { super("ERR_DISPOSED", message); }
}

/** The scheduler's queue holds its limit of waiting tokens or calls; retry later (an HTTP server answers 429). */
export class QueueFullError extends Qwen3EmbeddingError {
    constructor(message: string) { super("ERR_QUEUE_FULL", message); }
}

/** The call's deadline (`timeoutMs`) passed before its results were ready. */
export class DeadlineExceededError extends Qwen3EmbeddingError {
    constructor(message: string) { super("ERR_DEADLINE", message); }
}

/** An engine worker thread died or could not start; only the calls it was running fail. */
export class WorkerError extends Qwen3EmbeddingError {
    constructor(message: string, options?: ErrorOptions) { super("ERR_WORKER", message, options); }
}
