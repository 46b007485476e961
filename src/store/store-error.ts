import { Qwen3EmbeddingError } from "../internal/errors.js";

/** Why a store operation failed, for callers that branch on it (an HTTP server maps them to status codes). */
export type StoreErrorReason =
    /** Another process holds the embedded database directory. */
    | "locked"
    /** The database's schema is newer than this library, or a migration failed (and was rolled back). */
    | "schema"
    /** The database could not be opened or reached, or the pgvector extension is missing. */
    | "unavailable"
    /** A namespace that does not exist was named where one must exist. */
    | "namespace_not_found";

/**
 * A failure of the PostgreSQL + pgvector store (embedded PGlite or a PostgreSQL server). Bad arguments are
 * InvalidOptionError as everywhere else; StoreError is what the database itself refused or could not do.
 */
export class StoreError extends Qwen3EmbeddingError {
    readonly reason: StoreErrorReason;

    constructor(reason: StoreErrorReason, message: string, options?: ErrorOptions) {
        super("ERR_STORE", message, options);
        this.reason = reason;
    }
}
