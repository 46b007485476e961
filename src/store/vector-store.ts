import { InvalidOptionError } from "../internal/errors.js";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { checkBoolean, checkInteger, checkOneOf, checkOptionsObject, checkString, describeValue } from "../internal/validation.js";
import {
    checkEmbedding,
    checkItemId,
    checkItemText,
    checkMetadata,
    checkNamespace,
    checkUserId,
    type Metadata,
} from "./item-validation.js";
import { compileMetadataFilter, type MetadataFilter } from "./metadata-filter.js";
import { migrate, type Migration, MIGRATIONS } from "./migrations.js";
import { DURABILITIES, type Durability, openPgliteDriver, PGLITE_DATA_SUBDIRECTORY } from "./pglite-driver.js";
import { openPostgresDriver } from "./postgres-driver.js";
import type { SqlDriver, SqlDriverKind, SqlExecutor, SqlParameter } from "./sql-driver.js";
import { StoreError } from "./store-error.js";
import { DATABASE_ENV, defaultDatabase, parseDatabaseLocation } from "./store-location.js";
import { parseVectorText, sha256Hex, toVectorText } from "./vector-text.js";

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

/** A namespace: a set of items embedded by one model at one dimension, with its own HNSW index. */
export interface NamespaceInfo {
    id: number;
    name: string;
    /** The embedding model's fingerprint (see `modelFingerprint`). */
    model: string;
    dimensions: number;
    createdAt: Date;
}

export interface StoreRecord {
    /** Stable id within the namespace and user: the caller's, or a content hash the application layer computed. */
    id: string;
    /** Owner; "" (the default) for items that belong to no user. */
    userId?: string;
    text: string;
    metadata?: Metadata;
    embedding: Float32Array | readonly number[];
}

export interface UpsertOptions {
    /** Rows per INSERT statement inside the one transaction. Default 500. */
    chunkSize?: number;
    /** Called (and awaited) after each chunk is written, inside the transaction. */
    onProgress?: (progress: { written: number; total: number }) => void | Promise<void>;
}

export interface UpsertResult {
    inserted: number;
    /** Existing ids whose text, metadata or embedding changed. */
    updated: number;
    /** Existing ids written with exactly what they already held (left untouched). */
    unchanged: number;
}

export interface StoredItem {
    id: string;
    userId: string;
    text: string;
    metadata: Metadata;
    createdAt: Date;
    updatedAt: Date;
    /** Present when asked for (`withEmbeddings`). */
    embedding?: Float32Array;
}

export interface SearchHit extends StoredItem {
    /** Cosine similarity to the query vector, in [-1, 1]. */
    score: number;
}

export interface StoreSearchOptions {
    /** Results wanted, 1..1000. Default 10. */
    topK?: number;
    /** Only this user's items. Default: every item of the namespace. */
    userId?: string;
    filter?: MetadataFilter;
    /** Include each hit's stored vector. Default false. */
    withEmbeddings?: boolean;
}

export interface ListOptions {
    userId?: string;
    filter?: MetadataFilter;
    /** 1..10000, default 100. */
    limit?: number;
    offset?: number;
}

/** Identifies cached embeddings: the same text embedded by the same model, instruction and dimension. */
export interface CacheKey {
    model: string;
    dimensions: number;
    /** The query instruction; "" for documents (raw text). */
    instruction: string;
}

export interface NamespaceStats extends NamespaceInfo {
    items: number;
    hasVectorIndex: boolean;
    vectorIndexBytes: number;
}

export interface StoreStats {
    kind: SqlDriverKind;
    location: string;
    schemaVersion: number;
    namespaces: NamespaceStats[];
    /** q3e_items with its indexes and TOAST. */
    itemsBytes: number;
    cacheEntries: number;
    cacheBytes: number;
    /** The whole data directory (embedded) or database (PostgreSQL). */
    sizeOnDisk: number;
}

const OPEN_OPTIONS = ["database", "poolSize", "efSearch", "create", "durability"] as const;
const UPSERT_OPTIONS = ["chunkSize", "onProgress"] as const;
const SEARCH_OPTIONS = ["topK", "userId", "filter", "withEmbeddings"] as const;
const LIST_OPTIONS = ["userId", "filter", "limit", "offset"] as const;
const USER_OPTIONS = ["userId"] as const;
const GET_OPTIONS = ["userId", "withEmbeddings"] as const;
const NAMESPACE_OPTIONS = ["model", "dimensions"] as const;
const MAX_IDS = 100_000;

const ITEM_COLUMNS = "id, user_id, text, metadata, created_at, updated_at";

interface ItemRow {
    id: string;
    user_id: string;
    text: string;
    metadata: Metadata | string;
    created_at: Date | string;
    updated_at: Date | string;
    embedding?: string;
}

interface NamespaceRow {
    id: number;
    name: string;
    model: string;
    dimensions: number;
    created_at: Date | string;
}

/**
 * Vectors, texts and JSON metadata in PostgreSQL with pgvector, embedded (PGlite) or on a server (`pg`): the same
 * schema and statements either way. Create with `openStore`.
 */
export class VectorStore {
    readonly kind: SqlDriverKind;
    /** A directory, "memory", or the server URL without its password. */
    readonly location: string;
    readonly #driver: SqlDriver;
    readonly #schemaVersion: number;

    /** @internal */
    constructor(driver: SqlDriver, schemaVersion: number) {
        this.#driver = driver;
        this.kind = driver.kind;
        this.location = driver.location;
        this.#schemaVersion = schemaVersion;
    }

    // ---------------------------------------------------------------------------------------------------------
    // Namespaces

    /**
     * Returns the namespace, creating it (with its HNSW index) when it does not exist. A namespace holds the vectors
     * of one model at one dimension: naming another model or dimension for an existing namespace is an error.
     */
    async ensureNamespace(name: string, options: { model: string; dimensions: number }): Promise<NamespaceInfo> {
        checkNamespace("namespace", name);
        const opts = checkOptionsObject<{ model: string; dimensions: number }>("ensureNamespace options", options, NAMESPACE_OPTIONS);
        const model = checkString("model", opts.model, { allowEmpty: false });
        const dimensions = checkInteger("dimensions", opts.dimensions, 1, 16_000);
        const existing = await this.getNamespace(name);
        if (existing !== undefined) return checkNamespaceModel(existing, model, dimensions);
        const created = await this.#driver.transaction(async (tx) => {
            // Two processes creating the same namespace at once: the second waits here, then finds it.
            await tx.query("SELECT pg_advisory_xact_lock(hashtext('q3e_namespace:' || $1::text))", [name]);
            const [found] = await tx.query<NamespaceRow>("SELECT id, name, model, dimensions, created_at FROM q3e_namespaces WHERE name = $1", [name]);
            if (found !== undefined) return toNamespace(found);
            const [row] = await tx.query<NamespaceRow>(
                "INSERT INTO q3e_namespaces (name, model, dimensions) VALUES ($1, $2, $3) RETURNING id, name, model, dimensions, created_at",
                [name, model, dimensions],
            );
            const info = toNamespace(row!);
            await tx.query(createIndexSql(info));
            return info;
        });
        return checkNamespaceModel(created, model, dimensions);
    }

    /**
     * Returns an existing namespace, checking that it holds vectors of this model and dimension when they are given.
     * @throws StoreError("namespace_not_found") when it does not exist.
     */
    async requireNamespace(name: string, expected?: { model: string; dimensions: number }): Promise<NamespaceInfo> {
        const ns = await this.#requireNamespace(name);
        if (expected === undefined) return ns;
        const opts = checkOptionsObject<{ model: string; dimensions: number }>("requireNamespace options", expected, NAMESPACE_OPTIONS);
        return checkNamespaceModel(ns, checkString("model", opts.model, { allowEmpty: false }), checkInteger("dimensions", opts.dimensions, 1, 16_000));
    }

    async getNamespace(name: string): Promise<NamespaceInfo | undefined> {
        checkNamespace("namespace", name);
        const [row] = await this.#driver.query<NamespaceRow>("SELECT id, name, model, dimensions, created_at FROM q3e_namespaces WHERE name = $1", [name]);
        return row === undefined ? undefined : toNamespace(row);
    }

    async listNamespaces(): Promise<NamespaceInfo[]> {
        const rows = await this.#driver.query<NamespaceRow>("SELECT id, name, model, dimensions, created_at FROM q3e_namespaces ORDER BY name");
        return rows.map(toNamespace);
    }

    /** Deletes a namespace with all its items and its index. Returns false when it did not exist. */
    async dropNamespace(name: string): Promise<boolean> {
        checkNamespace("namespace", name);
        return this.#driver.transaction(async (tx) => {
            const [row] = await tx.query<{ id: number }>("DELETE FROM q3e_namespaces WHERE name = $1 RETURNING id", [name]);
            if (row === undefined) return false;
            await tx.query(`DROP INDEX IF EXISTS ${indexName(row.id)}`);
            return true;
        });
    }

    /**
     * Drops the namespace's HNSW index before a bulk load: pgvector inserts into an HNSW graph one row at a time, while
     * building it once over all rows is several times faster. Searches stay correct meanwhile (exact scans).
     * `buildVectorIndex` puts it back.
     */
    async dropVectorIndex(name: string): Promise<void> {
        const ns = await this.#requireNamespace(name);
        await this.#driver.query(`DROP INDEX IF EXISTS ${indexName(ns.id)}`);
    }

    /** Builds the namespace's HNSW index when it is missing (after a bulk load, or one that was interrupted). */
    async buildVectorIndex(name: string): Promise<boolean> {
        const ns = await this.#requireNamespace(name);
        return this.#driver.transaction(async (tx) => {
            await tx.query("SELECT pg_advisory_xact_lock(hashtext('q3e_namespace:' || $1::text))", [name]);
            if (await hasIndex(tx, ns.id)) return false;
            // The graph is built in memory when it fits maintenance_work_mem, far faster than on disk.
            await tx.query("SET LOCAL maintenance_work_mem = '256MB'");
            await tx.query(createIndexSql(ns));
            return true;
        });
    }

    // ---------------------------------------------------------------------------------------------------------
    // Items

    /**
     * Inserts or updates items by id, all in ONE transaction: after a crash the batch is there entirely or not at
     * all. Items whose text, metadata and vector did not change are left untouched. The same id twice in one batch:
     * the last one wins.
     */
    async upsert(namespace: string, records: readonly StoreRecord[], options: UpsertOptions = {}): Promise<UpsertResult> {
        const opts = checkOptionsObject<UpsertOptions>("upsert options", options, UPSERT_OPTIONS);
        const chunkSize = opts.chunkSize === undefined ? 500 : checkInteger("chunkSize", opts.chunkSize, 1, 10_000);
        if (opts.onProgress !== undefined && typeof opts.onProgress !== "function") {
            throw new InvalidOptionError(`Expected a function for onProgress but received ${describeValue(opts.onProgress)}`);
        }
        if (!Array.isArray(records)) throw new InvalidOptionError(`Expected an array of records for records but received ${describeValue(records)}`);
        const ns = await this.#requireNamespace(namespace);
        // Everything is checked before anything is written.
        const byKey = new Map<string, Record<string, string>>();
        records.forEach((record: unknown, index) => {
            const name = `records[${index}]`;
            const value = checkOptionsObject<StoreRecord>(name, record, ["id", "userId", "text", "metadata", "embedding"]);
            const id = checkItemId(`${name}.id`, value.id);
            const userId = value.userId === undefined ? "" : checkUserId(`${name}.userId`, value.userId, { allowEmpty: true });
            const text = checkItemText(`${name}.text`, value.text);
            const metadata = checkMetadata(`${name}.metadata`, value.metadata);
            const embedding = toVectorText(checkEmbedding(`${name}.embedding`, value.embedding, ns.dimensions));
            const key = JSON.stringify([userId, id]);
            byKey.delete(key); // keep the last occurrence's position
            byKey.set(key, { user_id: userId, id, text, content_hash: sha256Hex(text), metadata, embedding });
        });
        const rows = [...byKey.values()];
        const total = rows.length;
        if (total === 0) return { inserted: 0, updated: 0, unchanged: 0 };
        return this.#driver.transaction(async (tx) => {
            let inserted = 0;
            let updated = 0;
            for (let start = 0; start < total; start += chunkSize) {
                const chunk = rows.slice(start, start + chunkSize);
                const payload = "[" + chunk.map((row) => `{"user_id":${JSON.stringify(row["user_id"])},"id":${JSON.stringify(row["id"])},"text":${JSON.stringify(row["text"])},"content_hash":"${row["content_hash"]}","metadata":${row["metadata"]},"embedding":"${row["embedding"]}"}`).join(",") + "]";
                const written = await tx.query<{ inserted: boolean }>(
                    `INSERT INTO q3e_items AS item (namespace_id, user_id, id, text, content_hash, metadata, embedding)
                     SELECT ${ns.id}, r.user_id, r.id, r.text, r.content_hash, r.metadata, r.embedding::vector
                     FROM jsonb_to_recordset($1::jsonb) AS r(user_id text, id text, text text, content_hash text, metadata jsonb, embedding text)
                     ON CONFLICT (namespace_id, user_id, id) DO UPDATE
                        SET text = EXCLUDED.text, content_hash = EXCLUDED.content_hash, metadata = EXCLUDED.metadata,
                            embedding = EXCLUDED.embedding, updated_at = now()
                        WHERE item.content_hash <> EXCLUDED.content_hash OR item.metadata <> EXCLUDED.metadata
                           OR item.embedding <> EXCLUDED.embedding
                     RETURNING (xmax = 0) AS inserted`,
                    [payload],
                );
                for (const row of written) {
                    if (row.inserted) inserted++;
                    else updated++;
                }
                await opts.onProgress?.({ written: Math.min(start + chunkSize, total), total });
            }
            return { inserted, updated, unchanged: total - inserted - updated };
        });
    }

    /** The items nearest to `vector` by cosine similarity, best first. */
    async search(namespace: string, vector: Float32Array | readonly number[], options: StoreSearchOptions = {}): Promise<SearchHit[]> {
        const opts = checkOptionsObject<StoreSearchOptions>("search options", options, SEARCH_OPTIONS);
        const topK = opts.topK === undefined ? 10 : checkInteger("topK", opts.topK, 1, 1000);
        const withEmbeddings = checkOptionalBoolean("withEmbeddings", opts.withEmbeddings);
        const ns = await this.#requireNamespace(namespace);
        const query = toVectorText(checkEmbedding("vector", vector, ns.dimensions));
        const params: SqlParameter[] = [query];
        let where = `namespace_id = ${ns.id}`;
        if (opts.userId !== undefined) {
            params.push(checkUserId("userId", opts.userId, { allowEmpty: true }));
            where += ` AND user_id = $${params.length}`;
        }
        const filter = compileMetadataFilter(opts.filter, "metadata", params.length + 1);
        params.push(...filter.params);
        if (filter.sql !== "TRUE") where += ` AND ${filter.sql}`;
        const distance = `embedding::vector(${ns.dimensions}) <=> $1::vector(${ns.dimensions})`;
        const rows = await this.#driver.query<ItemRow & { score: number }>(
            `SELECT ${ITEM_COLUMNS}${withEmbeddings ? ", embedding::text AS embedding" : ""}, (1 - (${distance}))::float8 AS score
             FROM q3e_items WHERE ${where} ORDER BY ${distance} LIMIT ${topK}`,
            params,
        );
        return rows.map((row) => ({ ...toItem(row), score: row.score }));
    }

    /** Items by id, in the order asked; ids not found are left out. */
    async get(namespace: string, ids: readonly string[], options: { userId?: string; withEmbeddings?: boolean } = {}): Promise<StoredItem[]> {
        const opts = checkOptionsObject<{ userId?: string; withEmbeddings?: boolean }>("get options", options, GET_OPTIONS);
        const wanted = checkIds("ids", ids);
        const withEmbeddings = checkOptionalBoolean("withEmbeddings", opts.withEmbeddings);
        const userId = opts.userId === undefined ? "" : checkUserId("userId", opts.userId, { allowEmpty: true });
        const ns = await this.#requireNamespace(namespace);
        if (wanted.length === 0) return [];
        const rows = await this.#driver.query<ItemRow>(
            `SELECT ${ITEM_COLUMNS}${withEmbeddings ? ", embedding::text AS embedding" : ""} FROM q3e_items
             WHERE namespace_id = ${ns.id} AND user_id = $1 AND id = ANY (ARRAY(SELECT jsonb_array_elements_text($2::jsonb)))`,
            [userId, JSON.stringify(wanted)],
        );
        const found = new Map(rows.map((row) => [row.id, toItem(row)]));
        return wanted.flatMap((id) => found.get(id) ?? []);
    }

    /** Items newest first (then by id). */
    async list(namespace: string, options: ListOptions = {}): Promise<StoredItem[]> {
        const opts = checkOptionsObject<ListOptions>("list options", options, LIST_OPTIONS);
        const limit = opts.limit === undefined ? 100 : checkInteger("limit", opts.limit, 1, 10_000);
        const offset = opts.offset === undefined ? 0 : checkInteger("offset", opts.offset, 0, Number.MAX_SAFE_INTEGER);
        const ns = await this.#requireNamespace(namespace);
        const { where, params } = this.#itemConditions(ns, opts.userId, opts.filter);
        const rows = await this.#driver.query<ItemRow>(
            `SELECT ${ITEM_COLUMNS} FROM q3e_items WHERE ${where} ORDER BY created_at DESC, id LIMIT ${limit} OFFSET ${offset}`,
            params,
        );
        return rows.map(toItem);
    }

    async count(namespace: string, options: { userId?: string; filter?: MetadataFilter } = {}): Promise<number> {
        const opts = checkOptionsObject<{ userId?: string; filter?: MetadataFilter }>("count options", options, ["userId", "filter"]);
        const ns = await this.#requireNamespace(namespace);
        const { where, params } = this.#itemConditions(ns, opts.userId, opts.filter);
        const [row] = await this.#driver.query<{ count: number }>(`SELECT count(*)::float8 AS count FROM q3e_items WHERE ${where}`, params);
        return row?.count ?? 0;
    }

    /** Deletes items by id (of one user: "" by default); returns the ids that existed. */
    async delete(namespace: string, ids: readonly string[], options: { userId?: string } = {}): Promise<string[]> {
        const opts = checkOptionsObject<{ userId?: string }>("delete options", options, USER_OPTIONS);
        const wanted = checkIds("ids", ids);
        const userId = opts.userId === undefined ? "" : checkUserId("userId", opts.userId, { allowEmpty: true });
        const ns = await this.#requireNamespace(namespace);
        if (wanted.length === 0) return [];
        const rows = await this.#driver.query<{ id: string }>(
            `DELETE FROM q3e_items WHERE namespace_id = ${ns.id} AND user_id = $1 AND id = ANY (ARRAY(SELECT jsonb_array_elements_text($2::jsonb))) RETURNING id`,
            [userId, JSON.stringify(wanted)],
        );
        const deleted = new Set(rows.map((row) => row.id));
        return wanted.filter((id) => deleted.has(id));
    }

    /**
     * Which of these (id, text, metadata) are already stored exactly so: an indexer skips them without embedding or
     * writing anything.
     */
    async unchangedIds(
        namespace: string,
        candidates: readonly { id: string; text: string; metadata?: Metadata }[],
        options: { userId?: string } = {},
    ): Promise<Set<string>> {
        const opts = checkOptionsObject<{ userId?: string }>("unchangedIds options", options, USER_OPTIONS);
        const userId = opts.userId === undefined ? "" : checkUserId("userId", opts.userId, { allowEmpty: true });
        const ns = await this.#requireNamespace(namespace);
        if (candidates.length === 0) return new Set();
        const payload = "[" + candidates.map((candidate, index) =>
            `{"id":${JSON.stringify(checkItemId(`candidates[${index}].id`, candidate.id))},"content_hash":"${sha256Hex(checkItemText(`candidates[${index}].text`, candidate.text))}","metadata":${checkMetadata(`candidates[${index}].metadata`, candidate.metadata)}}`,
        ).join(",") + "]";
        // One primary-key lookup per candidate (LATERAL, kept a nested loop by OFFSET 0): the plan does not depend on
        // statistics, which PGlite only has after an explicit ANALYZE.
        const rows = await this.#driver.query<{ id: string }>(
            `SELECT r.id FROM jsonb_to_recordset($2::jsonb) AS r(id text, content_hash text, metadata jsonb)
             CROSS JOIN LATERAL (
                 SELECT item.content_hash, item.metadata FROM q3e_items AS item
                 WHERE item.namespace_id = ${ns.id} AND item.user_id = $1 AND item.id = r.id
                 OFFSET 0
             ) AS item
             WHERE item.content_hash = r.content_hash AND item.metadata = r.metadata`,
            [userId, payload],
        );
        return new Set(rows.map((row) => row.id));
    }

    // ---------------------------------------------------------------------------------------------------------
    // Embedding cache

    /** Cached vectors by text hash (hex SHA-256 of the text); hashes not cached are absent from the map. */
    async cacheLookup(key: CacheKey, textHashes: readonly string[]): Promise<Map<string, Float32Array>> {
        const { model, dimensions, instructionHash } = checkCacheKey(key);
        const unique = [...new Set(checkHashes(textHashes))];
        const found = new Map<string, Float32Array>();
        for (let start = 0; start < unique.length; start += 1000) {
            const rows = await this.#driver.query<{ text_hash: string; embedding: string }>(
                `SELECT wanted.text_hash, cached.embedding::text AS embedding
                 FROM jsonb_array_elements_text($4::jsonb) AS wanted(text_hash)
                 CROSS JOIN LATERAL (
                     SELECT embedding FROM q3e_embedding_cache
                     WHERE model = $1 AND dimensions = $2 AND instruction_hash = $3 AND text_hash = wanted.text_hash
                     OFFSET 0
                 ) AS cached`,
                [model, dimensions, instructionHash, JSON.stringify(unique.slice(start, start + 1000))],
            );
            for (const row of rows) found.set(row.text_hash, parseVectorText(row.embedding));
        }
        return found;
    }

    /** Stores vectors by text hash; entries already cached are kept as they are. */
    async cacheStore(key: CacheKey, entries: readonly { textHash: string; embedding: Float32Array | readonly number[] }[]): Promise<void> {
        const { model, dimensions, instructionHash } = checkCacheKey(key);
        const byHash = new Map<string, string>();
        entries.forEach((entry, index) => {
            const [hash] = checkHashes([entry.textHash]);
            byHash.set(hash!, toVectorText(checkEmbedding(`entries[${index}].embedding`, entry.embedding, dimensions)));
        });
        const rows = [...byHash.entries()];
        for (let start = 0; start < rows.length; start += 1000) {
            const payload = "[" + rows.slice(start, start + 1000).map(([hash, vector]) => `{"text_hash":"${hash}","embedding":"${vector}"}`).join(",") + "]";
            await this.#driver.query(
                `INSERT INTO q3e_embedding_cache (model, dimensions, instruction_hash, text_hash, embedding)
                 SELECT $1, $2, $3, r.text_hash, r.embedding::vector FROM jsonb_to_recordset($4::jsonb) AS r(text_hash text, embedding text)
                 ON CONFLICT DO NOTHING`,
                [model, dimensions, instructionHash, payload],
            );
        }
    }

    /** Deletes cached vectors: all of them, or one model's. Returns how many. */
    async clearCache(options: { model?: string } = {}): Promise<number> {
        const opts = checkOptionsObject<{ model?: string }>("clearCache options", options, ["model"]);
        const rows = opts.model === undefined
            ? await this.#driver.query<{ count: number }>("WITH gone AS (DELETE FROM q3e_embedding_cache RETURNING 1) SELECT count(*)::float8 AS count FROM gone")
            : await this.#driver.query<{ count: number }>(
                "WITH gone AS (DELETE FROM q3e_embedding_cache WHERE model = $1 RETURNING 1) SELECT count(*)::float8 AS count FROM gone",
                [checkString("model", opts.model, { allowEmpty: false })],
            );
        return rows[0]?.count ?? 0;
    }

    /**
     * Refreshes the planner's statistics of the store's tables. A PostgreSQL server's autovacuum does this on its own;
     * embedded PGlite has no background workers, so the indexer calls it after large loads.
     */
    async analyze(): Promise<void> {
        await this.#driver.query("ANALYZE q3e_items");
        await this.#driver.query("ANALYZE q3e_embedding_cache");
    }

    // ---------------------------------------------------------------------------------------------------------

    async stats(): Promise<StoreStats> {
        const namespaces = await this.listNamespaces();
        const counts = await this.#driver.query<{ namespace_id: number; count: number }>(
            "SELECT namespace_id, count(*)::float8 AS count FROM q3e_items GROUP BY namespace_id",
        );
        const countOf = new Map(counts.map((row) => [row.namespace_id, row.count]));
        const namespaceStats: NamespaceStats[] = [];
        for (const ns of namespaces) {
            const [index] = await this.#driver.query<{ bytes: number | null }>(
                `SELECT pg_relation_size(to_regclass($1))::float8 AS bytes WHERE to_regclass($1) IS NOT NULL`,
                [indexName(ns.id)],
            );
            namespaceStats.push({ ...ns, items: countOf.get(ns.id) ?? 0, hasVectorIndex: index !== undefined, vectorIndexBytes: index?.bytes ?? 0 });
        }
        const [sizes] = await this.#driver.query<{ items: number; cache: number; entries: number }>(
            `SELECT pg_total_relation_size('q3e_items')::float8 AS items, pg_total_relation_size('q3e_embedding_cache')::float8 AS cache,
                    (SELECT count(*) FROM q3e_embedding_cache)::float8 AS entries`,
        );
        return {
            kind: this.kind,
            location: this.location,
            schemaVersion: this.#schemaVersion,
            namespaces: namespaceStats,
            itemsBytes: sizes?.items ?? 0,
            cacheEntries: sizes?.entries ?? 0,
            cacheBytes: sizes?.cache ?? 0,
            sizeOnDisk: await this.#driver.sizeOnDisk(),
        };
    }

    /** Closes the database (PGlite: flushes and releases the directory lock; PostgreSQL: ends the pool). */
    close(): Promise<void> {
        return this.#driver.close();
    }

    async [Symbol.asyncDispose](): Promise<void> {
        await this.close();
    }

    async #requireNamespace(name: string): Promise<NamespaceInfo> {
        const ns = await this.getNamespace(name);
        if (ns === undefined) {
            throw new StoreError("namespace_not_found", `No namespace ${JSON.stringify(name)} in the store at ${this.location}; index something into it first`);
        }
        return ns;
    }

    #itemConditions(ns: NamespaceInfo, userId: unknown, filter: unknown): { where: string; params: SqlParameter[] } {
        const params: SqlParameter[] = [];
        let where = `namespace_id = ${ns.id}`;
        if (userId !== undefined) {
            params.push(checkUserId("userId", userId, { allowEmpty: true }));
            where += ` AND user_id = $${params.length}`;
        }
        const compiled = compileMetadataFilter(filter, "metadata", params.length + 1);
        params.push(...compiled.params);
        if (compiled.sql !== "TRUE") where += ` AND ${compiled.sql}`;
        return { where, params };
    }
}

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

function indexName(namespaceId: number): string {
    if (!Number.isSafeInteger(namespaceId) || namespaceId < 1) throw new StoreError("schema", `Corrupt namespace id ${String(namespaceId)}`);
    return `q3e_items_hnsw_${namespaceId}`;
}

function createIndexSql(ns: NamespaceInfo): string {
    // Integers from our own table are the only values written into the statement.
    const dimensions = ns.dimensions;
    if (!Number.isSafeInteger(dimensions) || dimensions < 1) throw new StoreError("schema", `Corrupt dimensions ${String(dimensions)} for namespace ${ns.name}`);
    return `CREATE INDEX IF NOT EXISTS ${indexName(ns.id)} ON q3e_items USING hnsw ((embedding::vector(${dimensions})) vector_cosine_ops) WHERE namespace_id = ${ns.id}`;
}

async function hasIndex(tx: SqlExecutor, namespaceId: number): Promise<boolean> {
    const [row] = await tx.query<{ present: boolean }>("SELECT to_regclass($1) IS NOT NULL AS present", [indexName(namespaceId)]);
    return row?.present === true;
}

function toNamespace(row: NamespaceRow): NamespaceInfo {
    return { id: Number(row.id), name: row.name, model: row.model, dimensions: Number(row.dimensions), createdAt: new Date(row.created_at) };
}

function toItem(row: ItemRow): StoredItem {
    return {
        id: row.id,
        userId: row.user_id,
        text: row.text,
        metadata: typeof row.metadata === "string" ? (JSON.parse(row.metadata) as Metadata) : row.metadata,
        createdAt: new Date(row.created_at),
        updatedAt: new Date(row.updated_at),
        ...(row.embedding === undefined ? {} : { embedding: parseVectorText(row.embedding) }),
    };
}

function checkNamespaceModel(ns: NamespaceInfo, model: string, dimensions: number): NamespaceInfo {
    if (ns.model !== model || ns.dimensions !== dimensions) {
        throw new InvalidOptionError(
            `Namespace ${JSON.stringify(ns.name)} holds vectors of model ${ns.model} at ${ns.dimensions} dimensions, but this one ` +
            `embeds with model ${model} at ${dimensions} dimensions; use another namespace, or drop this one and index again`,
        );
    }
    return ns;
}

function checkIds(name: string, ids: unknown): string[] {
    if (!Array.isArray(ids)) throw new InvalidOptionError(`Expected an array of ids for ${name} but received ${describeValue(ids)}`);
    if (ids.length > MAX_IDS) throw new InvalidOptionError(`Expected at most ${MAX_IDS} ids for ${name} but received ${ids.length}`);
    return ids.map((id, index) => checkItemId(`${name}[${index}]`, id));
}

function checkHashes(hashes: readonly unknown[]): string[] {
    if (!Array.isArray(hashes)) throw new InvalidOptionError(`Expected an array of hex SHA-256 hashes for textHashes but received ${describeValue(hashes)}`);
    return hashes.map((hash, index) => {
        if (typeof hash !== "string" || !/^[0-9a-f]{64}$/.test(hash)) {
            throw new InvalidOptionError(`Expected a hex SHA-256 hash for textHashes[${index}] but received ${describeValue(hash)}`);
        }
        return hash;
    });
}

function checkCacheKey(key: CacheKey): { model: string; dimensions: number; instructionHash: string } {
    const value = checkOptionsObject<CacheKey>("cache key", key, ["model", "dimensions", "instruction"]);
    return {
        model: checkString("model", value.model, { allowEmpty: false }),
        dimensions: checkInteger("dimensions", value.dimensions, 1, 16_000),
        instructionHash: sha256Hex(checkString("instruction", value.instruction)),
    };
}

function checkOptionalBoolean(name: string, value: unknown): boolean {
    if (value === undefined) return false;
    if (typeof value !== "boolean") throw new InvalidOptionError(`Expected a boolean for ${name} but received ${describeValue(value)}`);
    return value;
}
