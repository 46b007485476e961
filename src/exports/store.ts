// qwen3-embedding/store: semantic search, recommendations and long-term memory on PostgreSQL + pgvector (PGlite and
// pg load on the first openStore).
export { openStore, VectorStore, type OpenStoreOptions, type NamespaceInfo, type NamespaceStats, type StoreRecord, type UpsertOptions, type UpsertResult, type StoredItem, type SearchHit, type StoreSearchOptions, type ListOptions, type CacheKey, type StoreStats } from "../store/vector-store.js";
export { StoreError, type StoreErrorReason } from "../store/store-error.js";
export type { Durability } from "../store/pglite-driver.js";
export type { MetadataFilter, MetadataOperators, MetadataScalar } from "../store/metadata-filter.js";
export type { Metadata } from "../store/item-validation.js";
export { defaultDatabase, userDataDirectory, DATABASE_ENV } from "../store/store-location.js";
export { createMemory, Memory, memoryId, type CreateMemoryOptions, type AddMemoryOptions, type MemoryEntry, type MemoryItem, type MemorySearchOptions, type MemorySearchResult, type ListMemoriesOptions } from "../applications/memory.js";
export { createRecommender, Recommender, selectByMmr, PREFERENCE_INSTRUCTION, type CreateRecommenderOptions, type RecommendItem, type Recommendation, type FindSimilarOptions, type RecommendOptions } from "../applications/recommender.js";
export { createSearchIndex, SearchIndex, type CreateSearchIndexOptions, type SearchOptions, type SearchResult } from "../applications/search-index.js";
export { documentId, type IndexDocument, type IndexOptions, type IndexProgress, type IndexResult } from "../applications/document-indexer.js";
export { createEmbeddingCache, EmbeddingCache, type CreateEmbeddingCacheOptions, type CachedEmbeddings, type EmbeddingCacheStats } from "../applications/embedding-cache.js";
export { modelFingerprint } from "../applications/model-fingerprint.js";
