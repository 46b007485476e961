/**
 * The store's one public class. Each group of calls lives in a file of its own, which this class delegates to:
 * namespaces (store-namespaces.ts), items (store-items.ts), search (store-search.ts), the embedding cache's table
 * (embedding-cache-table.ts), figures (store-stats.ts). Opening a store is open-store.ts; the types are store-types.ts.
 */
import {
    clearCachedEmbeddings,
    lookUpCachedEmbeddings,
    storeCachedEmbeddings,
} from "./embedding-cache-table.js";
import type { Metadata } from "./item-validation.js";
import type { MetadataFilter } from "./metadata-filter.js";
import type { SqlDriver, SqlDriverKind } from "./sql-driver.js";
import { countItems, deleteItems, getItems, listItems, unchangedItemIds, upsertItems } from "./store-items.js";
import * as namespaces from "./store-namespaces.js";
import { searchItems } from "./store-search.js";
import { collectStoreStats } from "./store-stats.js";
import type {
    CacheKey,
    ListOptions,
    NamespaceInfo,
    SearchHit,
    StoredItem,
    StoreRecord,
    StoreSearchOptions,
    StoreStats,
    UpsertOptions,
    UpsertResult,
} from "./store-types.js";

/**
 * Vectors, texts and JSON metadata in PostgreSQL with pgvector, embedded (PGlite) or on a server (`pg`): the same
 * schema and statements either way. Create with `openStore`; release with `dispose()` (or `await using`).
 */
export class VectorStore {
    readonly kind: SqlDriverKind;
    /** A directory, "memory", or the server URL without its password. */
    readonly location: string;
    readonly #driver: SqlDriver;
    readonly #schemaVersion: number;
    #disposal: Promise<void> | undefined;

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
    ensureNamespace(name: string, options: { model: string; dimensions: number }): Promise<NamespaceInfo> {
        return namespaces.ensureNamespace(this.#driver, name, options);
    }

    /**
     * Returns an existing namespace, checking that it holds vectors of this model and dimension when they are given.
     * @throws StoreError("namespace_not_found") when it does not exist.
     */
    requireNamespace(name: string, expected?: { model: string; dimensions: number }): Promise<NamespaceInfo> {
        return namespaces.requireNamespace(this.#driver, name, expected);
    }

    getNamespace(name: string): Promise<NamespaceInfo | undefined> {
        return namespaces.getNamespace(this.#driver, name);
    }

    listNamespaces(): Promise<NamespaceInfo[]> {
        return namespaces.listNamespaces(this.#driver);
    }

    /** Deletes a namespace with all its items and its index. Returns false when it did not exist. */
    dropNamespace(name: string): Promise<boolean> {
        return namespaces.dropNamespace(this.#driver, name);
    }

    /**
     * Drops the namespace's HNSW index before a bulk load: pgvector inserts into an HNSW graph one row at a time, while
     * building it once over all rows is several times faster. Searches stay correct meanwhile (exact scans).
     * `buildVectorIndex` puts it back.
     */
    dropVectorIndex(name: string): Promise<void> {
        return namespaces.dropVectorIndex(this.#driver, name);
    }

    /** Builds the namespace's HNSW index when it is missing (after a bulk load, or one that was interrupted). */
    buildVectorIndex(name: string): Promise<boolean> {
        return namespaces.buildVectorIndex(this.#driver, name);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Items

    /**
     * Inserts or updates items by id, all in ONE transaction: after a crash the batch is there entirely or not at
     * all. Items whose text, metadata and vector did not change are left untouched. The same id twice in one batch:
     * the last one wins.
     */
    upsert(namespace: string, records: readonly StoreRecord[], options: UpsertOptions = {}): Promise<UpsertResult> {
        return upsertItems(this.#driver, namespace, records, options);
    }

    /** The items nearest to `vector` by cosine similarity, best first. */
    search(namespace: string, vector: Float32Array | readonly number[], options: StoreSearchOptions = {}): Promise<SearchHit[]> {
        return searchItems(this.#driver, namespace, vector, options);
    }

    /** Items by id, in the order asked; ids not found are left out. */
    get(namespace: string, ids: readonly string[], options: { userId?: string; withEmbeddings?: boolean } = {}): Promise<StoredItem[]> {
        return getItems(this.#driver, namespace, ids, options);
    }

    /** Items newest first (then by id). */
    list(namespace: string, options: ListOptions = {}): Promise<StoredItem[]> {
        return listItems(this.#driver, namespace, options);
    }

    count(namespace: string, options: { userId?: string; filter?: MetadataFilter } = {}): Promise<number> {
        return countItems(this.#driver, namespace, options);
    }

    /** Deletes items by id (of one user: "" by default); returns the ids that existed. */
    delete(namespace: string, ids: readonly string[], options: { userId?: string } = {}): Promise<string[]> {
        return deleteItems(this.#driver, namespace, ids, options);
    }

    /**
     * Which of these (id, text, metadata) are already stored exactly so: an indexer skips them without embedding or
     * writing anything.
     */
    unchangedIds(
        namespace: string,
        candidates: readonly { id: string; text: string; metadata?: Metadata }[],
        options: { userId?: string } = {},
    ): Promise<Set<string>> {
        return unchangedItemIds(this.#driver, namespace, candidates, options);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Embedding cache

    /** Cached vectors by text hash (hex SHA-256 of the text); hashes not cached are absent from the map. */
    cacheLookup(key: CacheKey, textHashes: readonly string[]): Promise<Map<string, Float32Array>> {
        return lookUpCachedEmbeddings(this.#driver, key, textHashes);
    }

    /** Stores vectors by text hash; entries already cached are kept as they are. */
    cacheStore(key: CacheKey, entries: readonly { textHash: string; embedding: Float32Array | readonly number[] }[]): Promise<void> {
        return storeCachedEmbeddings(this.#driver, key, entries);
    }

    /** Deletes cached vectors: all of them, or one model's. Returns how many. */
    clearCache(options: { model?: string } = {}): Promise<number> {
        return clearCachedEmbeddings(this.#driver, options);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Maintenance and figures

    /**
     * Refreshes the planner's statistics of the store's tables. A PostgreSQL server's autovacuum does this on its own;
     * embedded PGlite has no background workers, so the indexer calls it after large loads.
     */
    async analyze(): Promise<void> {
        await this.#driver.query("ANALYZE q3e_items");
        await this.#driver.query("ANALYZE q3e_embedding_cache");
    }

    stats(): Promise<StoreStats> {
        return collectStoreStats(this.#driver, this.#schemaVersion);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Lifecycle

    /** True once `dispose()` (or `close()`) was called. */
    get disposed(): boolean {
        return this.#disposal !== undefined;
    }

    /**
     * Closes the database (PGlite: flushes, fsyncs a `"relaxed"` store's directory and releases the directory lock;
     * PostgreSQL: ends the pool) and resolves when that is done; calling it again returns the same promise. Every call
     * after it fails with StoreError("unavailable") "The store at … is closed": open the store again with `openStore`.
     */
    dispose(): Promise<void> {
        this.#disposal ??= this.#driver.close();
        return this.#disposal;
    }

    /** The same as `dispose()`, under the name the store has always had. */
    close(): Promise<void> {
        return this.dispose();
    }

    /** `await using store = await openStore()` disposes it at the end of the block. */
    async [Symbol.asyncDispose](): Promise<void> {
        await this.dispose();
    }
}
