// Facade: the Qwen3 contract.
export { createEmbedder, Embedder, type CreateEmbedderOptions, type EmbedOptions, type EmbeddingResult, type SingleEmbeddingResult, type EmbeddingVector } from "./embedder.js";
export { createReranker, Reranker, type CreateRerankerOptions, type RerankOptions, type RerankResult, type RerankResultItem, type ScorePair } from "./reranker.js";
export type { FacadeModelOptions } from "./facade-model.js";
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
} from "./errors.js";
