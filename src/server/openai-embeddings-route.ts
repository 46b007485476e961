import { endianness } from "node:os";
import type { FastifyInstance } from "fastify";
import { readEmbeddingCall, runEmbedding } from "./embedding-call.js";
import { checkRequestedModel } from "./model-names.js";
import { RequestBody } from "./request-body.js";
import type { RouteContext } from "./route-context.js";

const FIELDS = [
    "model", "input", "encoding_format", "dimensions", "user",
    // Qwen3 / DashScope / Cohere extensions:
    "instruction", "instruct", "task", "input_type", "text_type", "normalize", "truncate",
] as const;

const ENCODINGS = ["float", "base64"] as const;

/**
 * OpenAI `POST /v1/embeddings`: `input` as a string, strings, token ids or arrays of token ids; `encoding_format`
 * "float" or "base64" (little-endian float32, what the official clients ask for by default); `dimensions`; `user`
 * accepted. Extensions: `instruction` / `instruct`, `task`, `input_type` / `text_type` (query | document),
 * `normalize`, `truncate`. `usage` counts the tokens the model saw (instruction and <|endoftext|> included).
 */
export function registerOpenAiEmbeddingsRoute(app: FastifyInstance, context: RouteContext): void {
    app.post("/v1/embeddings", async (request, reply) => {
        const served = context.models.embedding();
        const body = new RequestBody(request.body, FIELDS);
        const model = checkRequestedModel(body.string("model"), served.names, context.models.namesOf("reranker"));
        const call = readEmbeddingCall(body, "input", context, served.model);
        const encoding = body.oneOf("encoding_format", ENCODINGS) ?? "float";
        body.string("user");
        const result = await runEmbedding(context, reply, served, call);
        return {
            object: "list",
            data: result.embeddings.map((embedding, index) => ({
                object: "embedding",
                index,
                embedding: encoding === "base64" ? float32Base64(embedding as Float32Array) : Array.from(embedding),
            })),
            model,
            usage: { prompt_tokens: result.totalTokens, total_tokens: result.totalTokens },
        };
    });
}

const LITTLE_ENDIAN = endianness() === "LE";

/** The vector's float32 values, little-endian, in base64: what OpenAI's `encoding_format: "base64"` returns. */
export function float32Base64(vector: Float32Array): string {
    if (LITTLE_ENDIAN) return Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength).toString("base64");
    const bytes = Buffer.allocUnsafe(vector.length * 4);
    vector.forEach((value, index) => bytes.writeFloatLE(value, index * 4));
    return bytes.toString("base64");
}
