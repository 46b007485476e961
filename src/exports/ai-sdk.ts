// qwen3-embedding/ai-sdk: a Vercel AI SDK provider (embed, embedMany, rerank); needs @ai-sdk/provider (types) and ai.
export {
    createQwen3,
    Qwen3EmbeddingModel,
    Qwen3RerankingModel,
    PROVIDER_OPTIONS_KEY,
    type Qwen3Provider,
    type Qwen3ProviderOptions,
    type Qwen3EmbeddingSettings,
    type Qwen3RerankingSettings,
    type Qwen3EmbeddingProviderOptions,
    type InputType,
} from "../adapters/ai-sdk-provider.js";
export type { QueryInstruction } from "../adapters/embedding-source.js";
export { ServeRequestError, type ServeConnection } from "../adapters/serve-client.js";
