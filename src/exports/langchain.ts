// qwen3-embedding/langchain: LangChain embeddings (queries get the Qwen3 instruction) and a reranking document
// compressor; needs @langchain/core.
export { Qwen3Embeddings, type Qwen3EmbeddingsOptions } from "../adapters/langchain-embeddings.js";
export { Qwen3Rerank, type Qwen3RerankOptions } from "../adapters/langchain-reranker.js";
export type { QueryInstruction } from "../adapters/embedding-source.js";
export type { RankedDocument } from "../adapters/rerank-source.js";
export { ServeRequestError, type ServeConnection } from "../adapters/serve-client.js";
