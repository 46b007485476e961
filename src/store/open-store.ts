/** Opening a store: picking the driver for the database named, bringing the schema up to date, session settings. */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { InvalidOptionError } from "../internal/errors.js";
import { checkBoolean, checkInteger, checkOneOf, checkOptionsObject } from "../internal/validation.js";
import { migrate, type Migration, MIGRATIONS } from "./migrations.js";
import { DURABILITIES, type Durability, openPgliteDriver, PGLITE_DATA_SUBDIRECTORY } from "./pglite-driver.js";
import { openPostgresDriver } from "./postgres-driver.js";
import type { SqlDriver } from "./sql-driver.js";
import { StoreError } from "./store-error.js";
import { DATABASE_ENV, defaultDatabase, parseDatabaseLocation } from "./store-location.js";
import { VectorStore } from "./vector-store.js";

export interface OpenStoreOptions {
    /**
     * A directory for the embedded database (PGlite + pgvector, in this process), `"memory"` for one that vanishes
     * on close, or a `postgres://` URL of a PostgreSQL server with pgvector.
     * Default: the `QWEN3_EMBEDDING_DATABASE` environment variable, else `<user data folder>/qwen3-embedding/store`.
     */
    database?: string;
    /** Connections to a PostgreSQL server. Default 4. Ignored by the embedded database (one session). */
    poolSize?: number;
    /** HNSW candidate list size for searches (pgvector's `hnsw.ef_search`): higher finds more true neighbours, slower. Default 100. */
    efSearch?: number;
    /**
     * Create the embedded database when its directory holds none (default true). With false, a missing one is a
     * StoreError("unavailable"): a reader does not create an empty database by mistake.
     */
    create?: boolean;
    /**
     * When an embedded store's commits reach the disk. `"full"` (the default): an upsert or delete resolves once its
     * write-ahead log is fsynced, so a power cut loses nothing acknowledged. `"relaxed"`: nothing is fsynced until
     * `close()`, which fsyncs the whole directory: faster bulk loads, but a power cut or an operating-system crash before
     * `close()` returns can lose or corrupt the database (a killed process loses nothing it committed). A PostgreSQL
     * server's commits follow its own settings (`fsync`, `synchronous_commit`), so `"relaxed"` is refused with a
     * `postgres://` database; `"memory"` has nothing to sync.
     */
    durability?: Durability;
}

const OPEN_OPTIONS = ["database", "poolSize", "efSearch", "create", "durability"] as const;

/**
 * Opens (creating when needed) a store and brings its schema up to date.
 *
 * @throws StoreError "locked" when another process holds the embedded database, "unavailable" when it cannot be
 * opened or reached, "schema" when its schema is newer than this library or a migration failed (rolled back).
 */
export async function openStore(options: OpenStoreOptions = {}): Promise<VectorStore> {
    const opts = checkOptionsObject<OpenStoreOptions>("openStore options", options, OPEN_OPTIONS);
    const location = parseDatabaseLocation(opts.database ?? defaultDatabase(), "database");
    const poolSize = opts.poolSize === undefined ? 4 : checkInteger("poolSize", opts.poolSize, 1, 1000);
    const efSearch = opts.efSearch === undefined ? 100 : checkInteger("efSearch", opts.efSearch, 1, 1000);
    const create = opts.create === undefined ? true : checkBoolean("create", opts.create);
    const durability = opts.durability === undefined ? "full" : checkOneOf("durability", opts.durability, DURABILITIES);
    if (durability === "relaxed" && location.kind === "postgres") {
        throw new InvalidOptionError(
            `Expected "full" (or no durability) for durability with a postgres:// database, whose commits follow the server's own ` +
            `settings (fsync, synchronous_commit), but received the string "relaxed"`,
        );
    }
    if (!create && location.kind === "directory" && !existsSync(join(location.path, PGLITE_DATA_SUBDIRECTORY, "PG_VERSION"))) {
        throw new StoreError("unavailable", `No database at ${location.path}; create one with \`qwen3-embedding index\` (or check --database / ${DATABASE_ENV})`);
    }
    const driver = location.kind === "postgres"
        ? await openPostgresDriver(location.url, { poolSize })
        : await openPgliteDriver(location.kind === "directory" ? location.path : undefined, { durability });
    return openStoreOnDriver(driver, { efSearch });
}

/** @internal Migrations and session settings on an open driver (tests pass their own migrations). */
export async function openStoreOnDriver(driver: SqlDriver, options: { efSearch?: number; migrations?: readonly Migration[] } = {}): Promise<VectorStore> {
    try {
        const report = await migrate(driver, options.migrations ?? MIGRATIONS);
        const [extension] = await driver.query<{ version: string }>("SELECT extversion AS version FROM pg_extension WHERE extname = 'vector'");
        const [major = 0, minor = 0] = (extension?.version ?? "0.0").split(".").map(Number);
        const settings = [`SET hnsw.ef_search = ${options.efSearch ?? 100}`];
        // pgvector >= 0.8 keeps scanning the graph until enough rows pass the WHERE clause (a user's memories, a
        // metadata filter); older versions return at most ef_search candidates before filtering.
        if (major > 0 || minor >= 8) settings.push("SET hnsw.iterative_scan = strict_order");
        await driver.configureSessions(settings);
        return new VectorStore(driver, report.to);
    } catch (error) {
        await driver.close().catch(() => undefined);
        throw error;
    }
}
