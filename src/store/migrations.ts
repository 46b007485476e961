import type { SqlDriver, SqlExecutor } from "./sql-driver.js";
import { StoreError } from "./store-error.js";

/** One step of the schema. Applied once, in order, inside a transaction together with its schema_version row. */
export interface Migration {
    version: number;
    name: string;
    statements: readonly string[];
}

/** Every table the store owns starts with this prefix, so the store can share a PostgreSQL database. */
export const TABLE_PREFIX = "q3e_";

/**
 * The schema. Vectors: one `q3e_items` table whose `embedding` column is an unconstrained `vector`; each namespace
 * is bound to one model and one dimension (`q3e_namespaces`) and gets its own partial HNSW index over
 * `embedding::vector(<dimensions>)` restricted to its rows (created by the store, see store-namespaces.ts). That keeps
 * one table and one set of statements for every model size and Matryoshka dimension, gives every namespace an exact
 * (unfiltered) HNSW graph, and lets a bulk load into one namespace build its graph once at the end.
 *
 * The primary key (namespace, user, id) is the only b-tree: lookups by id and a user's items use it whatever the
 * planner's statistics say (PGlite has no autovacuum; with a second index on the same prefix and no statistics the
 * planner picked the wrong one and filtered a whole namespace per lookup).
 */
export const MIGRATIONS: readonly Migration[] = [
    {
        version: 1,
        name: "namespaces, items, embedding cache",
        statements: [
            "CREATE EXTENSION IF NOT EXISTS vector",
            `CREATE TABLE q3e_namespaces (
                id serial PRIMARY KEY,
                name text NOT NULL UNIQUE,
                model text NOT NULL,
                dimensions integer NOT NULL CHECK (dimensions BETWEEN 1 AND 16000),
                created_at timestamptz NOT NULL DEFAULT now()
            )`,
            `CREATE TABLE q3e_items (
                namespace_id integer NOT NULL REFERENCES q3e_namespaces (id) ON DELETE CASCADE,
                user_id text NOT NULL DEFAULT '',
                id text NOT NULL,
                text text NOT NULL,
                content_hash text NOT NULL,
                metadata jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(metadata) = 'object'),
                embedding vector NOT NULL,
                created_at timestamptz NOT NULL DEFAULT now(),
                updated_at timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (namespace_id, user_id, id)
            )`,
            "CREATE INDEX q3e_items_metadata ON q3e_items USING gin (metadata)",
            `CREATE TABLE q3e_embedding_cache (
                model text NOT NULL,
                dimensions integer NOT NULL,
                instruction_hash text NOT NULL,
                text_hash text NOT NULL,
                embedding vector NOT NULL,
                created_at timestamptz NOT NULL DEFAULT now(),
                PRIMARY KEY (model, dimensions, instruction_hash, text_hash)
            )`,
        ],
    },
];

/** Serializes migrations between processes sharing one PostgreSQL database (an arbitrary constant: "q3e" + 1). */
const MIGRATION_LOCK_KEY = 0x71336501;

export interface MigrationReport {
    /** The schema version before and after. */
    from: number;
    to: number;
    applied: number[];
}

/**
 * Brings the schema to the latest version: creates `q3e_schema_version` when missing, then applies the pending
 * migrations in ONE transaction (all of them or none), under an advisory lock so that concurrent openers wait for
 * each other instead of applying a migration twice. Refuses a database whose schema is newer than this library.
 */
export async function migrate(driver: SqlDriver, migrations: readonly Migration[] = MIGRATIONS): Promise<MigrationReport> {
    const latest = migrations.reduce((max, migration) => Math.max(max, migration.version), 0);
    try {
        return await driver.transaction(async (tx) => {
            await tx.query(`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK_KEY})`);
            await tx.query(`CREATE TABLE IF NOT EXISTS q3e_schema_version (
                version integer PRIMARY KEY,
                name text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )`);
            const from = await currentVersion(tx);
            if (from > latest) {
                throw new StoreError(
                    "schema",
                    `The database at ${driver.location} has schema version ${from}, newer than this version of qwen3-embedding ` +
                    `understands (${latest}); upgrade qwen3-embedding`,
                );
            }
            const applied: number[] = [];
            for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
                if (migration.version <= from) continue;
                for (const statement of migration.statements) await tx.query(statement);
                await tx.query("INSERT INTO q3e_schema_version (version, name) VALUES ($1, $2)", [migration.version, migration.name]);
                applied.push(migration.version);
            }
            return { from, to: Math.max(from, latest), applied };
        });
    } catch (error) {
        if (error instanceof StoreError) throw error;
        throw new StoreError(
            "schema",
            `Migrating the database at ${driver.location} failed and was rolled back: ${(error as Error).message}` +
            (/extension "vector"|vector\.control/i.test((error as Error).message)
                ? "; the pgvector extension must be installed on the server (CREATE EXTENSION vector needs a superuser once)"
                : ""),
            { cause: error },
        );
    }
}

async function currentVersion(tx: SqlExecutor): Promise<number> {
    const [row] = await tx.query<{ version: number | null }>("SELECT max(version)::int AS version FROM q3e_schema_version");
    return row?.version ?? 0;
}
