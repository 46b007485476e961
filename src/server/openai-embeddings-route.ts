import type { FastifyInstance } from "fastify";
import { chooseEmbeddingModel, readEmbeddingCall, runEmbedding } from "./embedding-call.js";
import { encodeEmbedding } from "./embedding-encodings.js";
import { described, objectSchema, type JsonSchema } from "./json-schema.js";
import { JINA_EMBEDDING_FIELDS, readVectorEncoding } from "./jina-embedding-fields.js";
import { RequestBody } from "./request-body.js";
import {
    DIMENSIONS_FIELD, ENCODING_FORMAT_FIELD, INSTRUCTION_FIELDS, MODEL_FIELD, NORMALIZE_FIELD, TEXT_INPUT_FIELD, TRUNCATE_FIELD,
} from "./request-fields.js";
import { OPENAI_EMBEDDINGS_RESPONSE } from "./response-docs.js";
import { bodyRoute } from "./route-docs.js";
import type { RouteContext } from "./route-context.js";

/** One input as Jina's v3 and clip models take it: a string, `{ text }`, or `{ image }` (refused: text only). */
const JINA_INPUT_ITEM: JsonSchema = {
    "x-expected": "a string or a { text } object",
    anyOf: [
        { type: "string" },
        objectSchema({ text: { type: "string" } }, ["text"], "Jina's text input"),
        objectSchema({ image: { type: "string" } }, ["image"], "Jina's image input (clip models): refused, this server embeds text"),
    ],
};

/** OpenAI's `input`, whose strings may also be Jina's `{ text }` objects. */
const INPUT_FIELD: JsonSchema = {
    ...TEXT_INPUT_FIELD,
    description: `${TEXT_INPUT_FIELD.description!}; the strings may also be Jina's { text } objects`,
    anyOf: TEXT_INPUT_FIELD.anyOf!.map((alternative, index) => (index === 1 ? { type: "array", items: JINA_INPUT_ITEM } : alternative)),
};

const BODY = objectSchema({
    model: MODEL_FIELD,
    input: INPUT_FIELD,
    encoding_format: ENCODING_FORMAT_FIELD,
    dimensions: DIMENSIONS_FIELD,
    user: described({ type: "string" }, "Accepted and unused"),
    // Qwen3 / DashScope / Cohere extensions:
    ...INSTRUCTION_FIELDS,
    normalize: NORMALIZE_FIELD,
    truncate: TRUNCATE_FIELD,
    ...JINA_EMBEDDING_FIELDS,
}, ["input"]);

/**
 * OpenAI `POST /v1/embeddings`: `input` as a string, strings, token ids or arrays of token ids; `encoding_format`
 * "float" or "base64" (little-endian float32, what the official clients ask for by default); `dimensions`; `user`
 * accepted. Extensions: `instruction` / `instruct`, `task`, `input_type` / `text_type` (query | document),
 * `normalize`, `truncate`; Jina's `task`, `embedding_type`, `normalized`, `late_chunking` (jina-embedding-fields.ts).
 * `input` strings may be Jina's `{ text }` objects (`{ image }` is refused: text only).
 * `model` may be a `:query` / `:document` alias. `usage` counts the tokens the model saw (instruction and
 * <|endoftext|> included).
 */
export function registerOpenAiEmbeddingsRoute(app: FastifyInstance, context: RouteContext): void {
    const doc = { summary: "Embed texts (OpenAI; Jina's fields and { text } inputs too)", tags: ["OpenAI", "Jina"], responses: { 200: OPENAI_EMBEDDINGS_RESPONSE } } as const;
    app.post("/v1/embeddings", bodyRoute(doc, BODY), async (request, reply) => {
        const body = new RequestBody(request.body, BODY);
        const chosen = chooseEmbeddingModel(context, body.string("model"));
        const call = readEmbeddingCall(body, "input", context, chosen, true);
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
