// Facade: the Qwen3 contract.
export { createEmbedder, Embedder, type CreateEmbedderOptions, type EmbedOptions, type EmbeddingResult, type SingleEmbeddingResult, type EmbeddingVector } from "./facade/embedder.js";
export { createReranker, Reranker, type CreateRerankerOptions, type RerankOptions, type RerankResult, type RerankResultItem, type ScorePair } from "./facade/reranker.js";
export type { FacadeModelOptions } from "./facade/facade-model.js";
export { TASK_INSTRUCTIONS, TASK_NAMES, DEFAULT_INSTRUCTION, type TaskName } from "./format/task-instructions.js";
export { formatQuery, END_OF_TEXT_TOKEN } from "./format/embedding-input.js";
export { RERANK_PREFIX, RERANK_SUFFIX, formatRerankBody } from "./format/rerank-prompt.js";
export { OUTPUT_TYPES, quantizeEmbedding, type OutputType } from "./format/output-types.js";
export { cosineSimilarity, dotProduct, l2Normalize, truncateDimensions } from "./format/vector-math.js";
export { normalizeInputText } from "./format/input-normalization.js";

// Models: registry, download, inspection.
export { listModels, findModel, resolveModelSource, type RegistryModel } from "./models/model-registry.js";
export { pullModel } from "./models/model-download.js";
export { resolveModelPath } from "./models/model-location.js";
export { inspectGguf, type GgufInspection, type PoolingType } from "./models/gguf-inspection.js";
export { classifyModel, type ModelKind, type ModelFlavour, type ModelClassification } from "./models/model-kind.js";

// Engine: batched llama.cpp evaluation.
export { loadEngineModel, EngineModel, type LoadEngineModelOptions } from "./engine/engine-model.js";
export { EngineContext, type EngineContextOptions, type TokenSequence } from "./engine/engine-context.js";
export { bindLlamaLibrary, type GpuOption, type LlamaLibrary } from "./engine/llama-library.js";

export {
    Qwen3EmbeddingError,
    InvalidOptionError,
    ModelFileError,
    UnsupportedModelError,
    NativeLoadError,
    ContextTooSmallError,
    DecodeError,
    AbortedError,
    DisposedError,
    QueueFullError,
    DeadlineExceededError,
    WorkerError,
    type ErrorCode,
} from "./internal/errors.js";

// HTTP server (fastify is loaded on the first createServer / startServer call).
export { createServer, startServer, type Qwen3Server, type RunningServer } from "./server/server-entry.js";
export type { ServerOptions, ServedEmbedder, ServedReranker, SchedulerQueueStats, SchedulerBatchEvent, LogLevel } from "./server/server-options.js";
export type { ApiKeySpec } from "./server/api-key-access.js";

// Applications: semantic search, recommendation and long-term memory on PostgreSQL + pgvector (PGlite and pg load on first open).
export { openStore, type OpenStoreOptions } from "./store/open-store.js";
export { VectorStore } from "./store/vector-store.js";
export type { NamespaceInfo, NamespaceStats, StoreRecord, UpsertOptions, UpsertResult, StoredItem, SearchHit, StoreSearchOptions, ListOptions, CacheKey, StoreStats } from "./store/store-types.js";
export { StoreError, type StoreErrorReason } from "./store/store-error.js";
export type { Durability } from "./store/pglite-driver.js";
export type { MetadataFilter, MetadataOperators, MetadataScalar } from "./store/metadata-filter.js";
export type { Metadata } from "./store/item-validation.js";
export { defaultDatabase, userDataDirectory, DATABASE_ENV } from "./store/store-location.js";
export { MIGRATIONS, type Migration } from "./store/migrations.js";
export { createMemory, Memory, memoryId, type CreateMemoryOptions, type AddMemoryOptions, type MemoryEntry, type MemoryItem, type MemorySearchOptions, type MemorySearchResult, type ListMemoriesOptions } from "./applications/memory.js";
export { createRecommender, Recommender, PREFERENCE_INSTRUCTION, type CreateRecommenderOptions, type RecommendItem, type Recommendation, type FindSimilarOptions, type RecommendOptions } from "./applications/recommender.js";
export { selectByMmr } from "./applications/mmr-selection.js";
export { createSearchIndex, SearchIndex, type CreateSearchIndexOptions, type SearchOptions, type SearchResult } from "./applications/search-index.js";
export { documentId, type IndexDocument, type IndexOptions, type IndexProgress, type IndexResult } from "./applications/document-indexer.js";
export { createEmbeddingCache, EmbeddingCache, type CreateEmbeddingCacheOptions, type CachedEmbeddings, type EmbeddingCacheStats } from "./applications/embedding-cache.js";
export { modelFingerprint } from "./applications/model-fingerprint.js";
export { registerApplicationRoutes, type ApplicationRoutesOptions } from "./server/application-routes.js";

// Proof: verify against a hosted API or reference file, calibrate reranker scores, evaluate retrieval.
export { verifyAgainstReference, type VerifyOptions, type VerificationReport } from "./evaluation/verification.js";
export { DEFAULT_THRESHOLDS, type VerificationThresholds } from "./evaluation/verification-thresholds.js";
export { applyCalibration, calibrateReranker, loadCalibration, saveCalibration, CalibratedReranker, type ScoreCalibration } from "./evaluation/score-calibration.js";
export { fitCalibration } from "./evaluation/calibration-fitting.js";
export { evaluateRetrieval, type RetrievalEvaluation } from "./evaluation/retrieval-evaluation.js";
export { loadBeirDataset } from "./evaluation/beir-dataset.js";
export { readReferenceFile, writeReferenceFile } from "./evaluation/reference-file.js";
export { collectRemoteReference } from "./evaluation/remote-reference.js";
export { writeVerificationReport } from "./evaluation/report-writer.js";
