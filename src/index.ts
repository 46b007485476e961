// The package's root entry: the facade (embedder, reranker, tokenizer, the Qwen3 contract), its errors, and models.
// Everything else has its own door: qwen3-embedding/server, /store (search, memory, recommendations on PostgreSQL +
// pgvector), /evaluation (verify, calibrate, evaluate) and /engine (the batched llama.cpp engine underneath).
export { createEmbedder, Embedder, type CreateEmbedderOptions, type EmbedOptions, type EmbedRole, type RoleOptions, type EmbeddingResult, type SingleEmbeddingResult, type EmbeddingVector } from "./facade/embedder.js";
export { createReranker, Reranker, type CreateRerankerOptions, type RerankOptions, type RerankResult, type RerankResultItem, type ScorePair } from "./facade/reranker.js";
export { createTokenizer, Tokenizer, type CreateTokenizerOptions, type TokenizerMethods } from "./facade/tokenizer.js";
export { loadCalibration, type ScoreCalibration } from "./facade/score-map.js";
export type { FacadeModelOptions, ScheduleOptions } from "./facade/facade-model.js";
export type { KvCacheType, PrecisionMode } from "./facade/precision-mode.js";
export type { BatchEvent, SchedulerStats, Priority } from "./scheduler/batch-scheduler.js";
export { TASK_INSTRUCTIONS, TASK_NAMES, DEFAULT_INSTRUCTION, type TaskName } from "./format/task-instructions.js";
export { formatQuery, END_OF_TEXT_TOKEN } from "./format/embedding-input.js";
export { RERANK_PREFIX, RERANK_SUFFIX, formatRerankBody } from "./format/rerank-prompt.js";
export { OUTPUT_TYPES, quantizeEmbedding, type OutputType, type EmbeddingArray } from "./format/output-types.js";
export { cosineSimilarity } from "./format/vector-math.js";

// Models: registry, download, inspection.
export { listModels, findModel, resolveModelSource, type RegistryModel } from "./models/model-registry.js";
export { pullModel, type PullModelOptions, type PulledModel, type DownloadProgress, type DownloadStart } from "./models/model-download.js";
export { resolveModelPath } from "./models/model-location.js";
export { inspectGguf, type GgufInspection, type PoolingType } from "./models/gguf-inspection.js";
export type { ModelKind, ModelFlavour, ModelClassification } from "./models/model-kind.js";

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
