// qwen3-embedding/llamaindex: a LlamaIndex embedding whose getQueryEmbedding gives queries the Qwen3 instruction;
// needs @llamaindex/core.
export { Qwen3Embedding, type Qwen3LlamaIndexEmbeddingOptions } from "../adapters/llamaindex-embedding.js";
export type { QueryInstruction } from "../adapters/embedding-source.js";
export { ServeRequestError, type ServeConnection } from "../adapters/serve-client.js";
