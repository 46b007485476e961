/** The shapes the store's calls take and return: namespaces, items, search hits, cache keys, statistics. */
import type { Metadata } from "./item-validation.js";
import type { MetadataFilter } from "./metadata-filter.js";
import type { SqlDriverKind } from "./sql-driver.js";

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
