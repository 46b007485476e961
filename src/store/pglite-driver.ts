import { existsSync, mkdirSync, readdirSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import type { PGlite } from "@electric-sql/pglite";
import { DirectoryLock } from "./directory-lock.js";
import { createSyncingNodeFs, DURABLE_SETTINGS, syncDirectoryTree, syncPath } from "./pglite-disk-sync.js";
import type { SqlDriver, SqlExecutor, SqlParameter } from "./sql-driver.js";
import { StoreError } from "./store-error.js";

/** The PostgreSQL data directory inside a store directory; the lock file sits beside it. */
export const PGLITE_DATA_SUBDIRECTORY = "pgdata";
export const LOCK_FILE_NAME = "lock";

/** When an embedded store's commits reach the disk: see `OpenStoreOptions.durability`. */
export type Durability = "full" | "relaxed";
export const DURABILITIES: readonly Durability[] = ["full", "relaxed"];

/**
 * PostgreSQL compiled to WebAssembly, in this process, with pgvector. `directory` holds the data (`pgdata/`) and the
 * lock file; `undefined` keeps everything in memory (where durability means nothing). Opening a new directory runs
 * initdb (a few seconds); reopening takes about a second.
 */
export async function openPgliteDriver(directory: string | undefined, { durability = "full" }: { durability?: Durability } = {}): Promise<SqlDriver> {
    let lock: DirectoryLock | undefined;
    let root: string | undefined;
    let dataDir: string | undefined;
    if (directory !== undefined) {
        root = resolve(directory);
        try {
            mkdirSync(root, { recursive: true });
        } catch (error) {
            throw new StoreError("unavailable", `Cannot create the database directory ${root}: ${(error as Error).message}`, { cause: error });
        }
        lock = DirectoryLock.acquire(join(root, LOCK_FILE_NAME), `The database directory ${root}`);
        dataDir = join(root, PGLITE_DATA_SUBDIRECTORY);
    }
    try {
        // Loaded on first use: nothing heavy happens when the library is imported.
        const [{ PGlite }, { vector }] = await Promise.all([import("@electric-sql/pglite"), import("@electric-sql/pglite-pgvector")]);
        const durable = dataDir !== undefined && durability === "full";
        const creating = dataDir !== undefined && !existsSync(join(dataDir, "PG_VERSION"));
        const durableOptions = durable
            ? { fs: await createSyncingNodeFs(dataDir!), startParams: [...PGlite.defaultStartParams.filter((parameter) => parameter !== "-F"), ...DURABLE_SETTINGS] }
            : {};
        const db = await PGlite.create({ extensions: { vector }, ...(dataDir === undefined ? {} : { dataDir }), ...durableOptions });
        if (durable && creating) {
            try {
                syncDirectoryTree(root!);
                syncPath(dirname(root!), "directory");
            } catch (error) {
                await db.close().catch(() => undefined);
                throw error;
            }
        }
        return new PgliteDriver(db, root ?? "memory", dataDir, lock, !durable && root !== undefined);
    } catch (error) {
        lock?.release();
        throw new StoreError("unavailable", `Cannot open the embedded database ${dataDir ?? "(in memory)"}: ${(error as Error).message}`, { cause: error });
    }
}

class PgliteDriver implements SqlDriver {
    readonly kind = "pglite" as const;
    readonly location: string;
    readonly #db: PGlite;
    readonly #dataDir: string | undefined;
    readonly #lock: DirectoryLock | undefined;
    readonly #syncOnClose: boolean;
    #closed: Promise<void> | undefined;

    constructor(db: PGlite, location: string, dataDir: string | undefined, lock: DirectoryLock | undefined, syncOnClose: boolean) {
        this.#db = db;
        this.location = location;
        this.#dataDir = dataDir;
        this.#lock = lock;
        this.#syncOnClose = syncOnClose;
    }

    async query<Row extends object>(sql: string, params: readonly SqlParameter[] = []): Promise<Row[]> {
        this.#checkOpen();
        return (await this.#db.query<Row>(sql, params as SqlParameter[])).rows;
    }

    async transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
        this.#checkOpen();
        return this.#db.transaction(async (tx) =>
            work({ query: async <Row extends object>(sql: string, params: readonly SqlParameter[] = []) => (await tx.query<Row>(sql, params as SqlParameter[])).rows }),
        );
    }

    async configureSessions(statements: readonly string[]): Promise<void> {
        for (const statement of statements) await this.query(statement);
    }

    async sizeOnDisk(): Promise<number> {
        if (this.#dataDir === undefined) {
            const [row] = await this.query<{ bytes: number }>("SELECT pg_database_size(current_database())::float8 AS bytes");
            return row?.bytes ?? 0;
        }
        return directorySize(this.#dataDir);
    }

    close(): Promise<void> {
        this.#closed ??= this.#db
            .close()
            .then(() => {
                if (this.#syncOnClose) syncDirectoryTree(this.location);
            })
            .finally(() => this.#lock?.release());
        return this.#closed;
    }

    #checkOpen(): void {
        if (this.#closed !== undefined) throw new StoreError("unavailable", `The store at ${this.location} is closed`);
    }
}

function directorySize(path: string): number {
    let total = 0;
    for (const entry of readdirSync(path, { withFileTypes: true })) {
        const child = join(path, entry.name);
        if (entry.isDirectory()) total += directorySize(child);
        else if (entry.isFile()) total += statSync(child).size;
    }
    return total;
}
