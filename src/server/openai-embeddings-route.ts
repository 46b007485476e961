import type { FastifyInstance } from "fastify";
import { chooseEmbeddingModel, readEmbeddingCall, runEmbedding } from "./embedding-call.js";
import { encodeEmbedding } from "./embedding-encodings.js";
import { JINA_EMBEDDING_FIELDS, readVectorEncoding } from "./jina-embedding-fields.js";
import { RequestBody } from "./request-body.js";
import type { RouteContext } from "./route-context.js";

const FIELDS = [
    "model", "input", "encoding_format", "dimensions", "user",
    // Qwen3 / DashScope / Cohere extensions:
    "instruction", "instruct", "task", "input_type", "text_type", "normalize", "truncate",
    ...JINA_EMBEDDING_FIELDS,
] as const;

/**
 * OpenAI `POST /v1/embeddings`: `input` as a string, strings, token ids or arrays of token ids; `encoding_format`
 * "float" or "base64" (little-endian float32, what the official clients ask for by default); `dimensions`; `user`
 * accepted. Extensions: `instruction` / `instruct`, `task`, `input_type` / `text_type` (query | document),
 * `normalize`, `truncate`; Jina's `task`, `embedding_type`, `normalized`, `late_chunking` (jina-embedding-fields.ts).
 * `model` may be a `:query` / `:document` alias. `usage` counts the tokens the model saw (instruction and
 * <|endoftext|> included).
 */
export function registerOpenAiEmbeddingsRoute(app: FastifyInstance, context: RouteContext): void {
    app.post("/v1/embeddings", async (request, reply) => {
        const body = new RequestBody(request.body, FIELDS);
        const chosen = chooseEmbeddingModel(context, body.string("model"));
        const call = readEmbeddingCall(body, "input", context, chosen);
        const encoding = readVectorEncoding(body);
        body.string("user");
        const result = await runEmbedding(context, reply, chosen.served, call);
        return {
            object: "list",
            data: result.embeddings.map((embedding, index) => ({
                object: "embedding",
                index,
                embedding: encodeEmbedding(embedding as Float32Array, encoding),
            })),
            model: chosen.name,
            usage: { prompt_tokens: result.totalTokens, total_tokens: result.totalTokens },
        };
    });
}
