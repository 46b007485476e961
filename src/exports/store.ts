// qwen3-embedding/store: semantic search, recommendations and long-term memory on PostgreSQL + pgvector (PGlite and
// pg load on the first openStore).
export { openStore, type OpenStoreOptions } from "../store/open-store.js";
export { VectorStore } from "../store/vector-store.js";
export type { NamespaceInfo, NamespaceStats, StoreRecord, UpsertOptions, UpsertResult, StoredItem, SearchHit, StoreSearchOptions, ListOptions, CacheKey, StoreStats } from "../store/store-types.js";
export { StoreError, type StoreErrorReason } from "../store/store-error.js";
export type { Durability } from "../store/pglite-driver.js";
export type { MetadataFilter, MetadataOperators, MetadataScalar } from "../store/metadata-filter.js";
export type { Metadata } from "../store/item-validation.js";
export { defaultDatabase, userDataDirectory, DATABASE_ENV } from "../store/store-location.js";
export { createMemory, Memory, memoryId, type CreateMemoryOptions, type AddMemoryOptions, type MemoryEntry, type MemoryItem, type MemorySearchOptions, type MemorySearchResult, type ListMemoriesOptions } from "../applications/memory.js";
export { selectByMmr } from "../applications/mmr-selection.js";
export { createRecommender, Recommender, PREFERENCE_INSTRUCTION, type CreateRecommenderOptions, type RecommendItem, type Recommendation, type FindSimilarOptions, type RecommendOptions } from "../applications/recommender.js";
export { createSearchIndex, SearchIndex, type CreateSearchIndexOptions, type SearchOptions, type SearchResult } from "../applications/search-index.js";
export { documentId, type IndexDocument, type IndexOptions, type IndexProgress, type IndexResult } from "../applications/document-indexer.js";
export { createEmbeddingCache, EmbeddingCache, type CreateEmbeddingCacheOptions, type CachedEmbeddings, type EmbeddingCacheStats } from "../applications/embedding-cache.js";
export { modelFingerprint } from "../applications/model-fingerprint.js";
