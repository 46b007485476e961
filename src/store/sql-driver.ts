/**
 * The one seam between the store and a database: a PGlite instance in this process, or a pool of connections to a
 * PostgreSQL server. Every SQL statement lives in the store and is the same for both.
 */

/** A value bound to a `$n` parameter. Objects and arrays are sent as JSON text by the store itself, never here. */
export type SqlParameter = string | number | boolean | null;

/** Runs parameterized statements. Rows come back as plain objects; cast in SQL to get numbers (`::int`, `::float8`). */
export interface SqlExecutor {
    query<Row extends object = Record<string, unknown>>(sql: string, params?: readonly SqlParameter[]): Promise<Row[]>;
}

export type SqlDriverKind = "pglite" | "postgres";

export interface SqlDriver extends SqlExecutor {
    readonly kind: SqlDriverKind;
    /** Where the data lives, for messages: a directory, "memory", or a URL without its password. */
    readonly location: string;
    /**
     * Runs `work` in one transaction on one connection: COMMIT when it resolves, ROLLBACK when it throws. Statements
     * must go through the executor it is given.
     */
    transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T>;
    /**
     * Statements run at the start of every session (`SET ...`): at once on PGlite's single session, and on each pooled
     * PostgreSQL connection before its next use.
     */
    configureSessions(statements: readonly string[]): Promise<void>;
    /** Bytes the database occupies on disk (the data directory, or pg_database_size on a server). */
    sizeOnDisk(): Promise<number>;
    close(): Promise<void>;
}
