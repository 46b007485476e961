import type { Pool, PoolClient } from "pg";
import type { SqlDriver, SqlExecutor, SqlParameter } from "./sql-driver.js";
import { StoreError } from "./store-error.js";

export interface PostgresDriverOptions {
    /** Connections in the pool. Default 4. */
    poolSize?: number;
}

/**
 * A PostgreSQL server with pgvector, through a `pg` connection pool. The URL is `postgres://user:pass@host:port/db`
 * (any libpq-style URL `pg` accepts: `?sslmode=require`, `?options=-c search_path=...`).
 */
export async function openPostgresDriver(url: string, options: PostgresDriverOptions = {}): Promise<SqlDriver> {
    const { default: pg } = await import("pg"); // loaded on first use
    const pool = new pg.Pool({ connectionString: url, max: options.poolSize ?? 4 });
    // An idle connection that the server drops must not crash the process; the next query reconnects.
    pool.on("error", () => undefined);
    const driver = new PostgresDriver(pool, redactUrl(url));
    try {
        await driver.query("SELECT 1");
    } catch (error) {
        await pool.end().catch(() => undefined);
        throw new StoreError("unavailable", `Cannot connect to PostgreSQL at ${driver.location}: ${(error as Error).message}`, { cause: error });
    }
    return driver;
}

/** The URL with its password replaced, for messages and logs. */
export function redactUrl(url: string): string {
    try {
        const parsed = new URL(url);
        if (parsed.password !== "") parsed.password = "***";
        return parsed.toString();
    } catch {
        return "postgres://(unparsable URL)";
    }
}

class PostgresDriver implements SqlDriver {
    readonly kind = "postgres" as const;
    readonly location: string;
    readonly #pool: Pool;
    #sessionStatements: readonly string[] = [];
    #generation = 0;
    readonly #configured = new WeakMap<PoolClient, number>();
    readonly #listened = new WeakSet<PoolClient>();
    #closed: Promise<void> | undefined;

    constructor(pool: Pool, location: string) {
        this.#pool = pool;
        this.location = location;
    }

    async query<Row extends object>(sql: string, params: readonly SqlParameter[] = []): Promise<Row[]> {
        const client = await this.#connect();
        let broken: Error | undefined;
        try {
            return (await client.query<Row>(sql, params as SqlParameter[])).rows;
        } catch (error) {
            if (isConnectionError(error)) broken = error as Error;
            throw error;
        } finally {
            client.release(broken);
        }
    }

    async transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
        const client = await this.#connect();
        let broken: Error | undefined;
        try {
            await client.query("BEGIN");
        } catch (error) {
            client.release(isConnectionError(error) ? (error as Error) : undefined);
            throw error;
        }
        try {
            const result = await work({
                query: async <Row extends object>(sql: string, params: readonly SqlParameter[] = []) => (await client.query<Row>(sql, params as SqlParameter[])).rows,
            });
            try {
                await client.query("COMMIT");
            } catch (error) {
                if (isConnectionError(error)) broken = error as Error;
                throw error;
            }
            return result;
        } catch (error) {
            if (broken === undefined) {
                try {
                    await client.query("ROLLBACK");
                } catch (rollbackError) {
                    broken = rollbackError as Error; // the connection is unusable: the pool discards it
                }
            }
            throw error;
        } finally {
            client.release(broken);
        }
    }

    async configureSessions(statements: readonly string[]): Promise<void> {
        this.#sessionStatements = [...statements];
        this.#generation++;
    }

    async sizeOnDisk(): Promise<number> {
        const [row] = await this.query<{ bytes: number }>("SELECT pg_database_size(current_database())::float8 AS bytes");
        return row?.bytes ?? 0;
    }

    close(): Promise<void> {
        this.#closed ??= this.#pool.end();
        return this.#closed;
    }

    async #connect(): Promise<PoolClient> {
        if (this.#closed !== undefined) throw new StoreError("unavailable", `The store at ${this.location} is closed`);
        let client: PoolClient;
        try {
            client = await this.#pool.connect();
        } catch (error) {
            throw new StoreError("unavailable", `Cannot connect to PostgreSQL at ${this.location}: ${(error as Error).message}`, { cause: error });
        }
        // A connection lost while checked out (the server restarted mid-transaction) rejects its query and also emits
        // "error" on the client, which the pool listens to only while the client is idle: unheard, it would end the
        // process. The query's rejection reports it; the pool then discards the client (released with the error).
        if (!this.#listened.has(client)) {
            client.on("error", () => undefined);
            this.#listened.add(client);
        }
        if (this.#configured.get(client) !== this.#generation) {
            try {
                for (const statement of this.#sessionStatements) await client.query(statement);
                this.#configured.set(client, this.#generation);
            } catch (error) {
                client.release(error as Error);
                throw error;
            }
        }
        return client;
    }
}

/** Errors after which a pooled connection must not be reused (lost socket, server shutdown), not SQL errors. */
function isConnectionError(error: unknown): boolean {
    const code = (error as { code?: unknown })?.code;
    if (typeof code !== "string") return true; // no SQLSTATE: a socket or protocol failure
    return code.startsWith("08") || code === "57P01" || code === "57P02" || code === "57P03";
}
