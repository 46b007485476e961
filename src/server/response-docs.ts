import type { ErrorShape } from "./error-shapes.js";
import type { JsonSchema } from "./json-schema.js";

/**
 * The responses the OpenAPI document shows. Documentation only: they reach the document through @fastify/swagger's
 * `transform` (openapi-document.ts), never a route's `schema.response`, so fastify's serializer never drops or
 * reshapes a field of an answer. Each route's errors are documented in its error shape (error-shapes.ts); the
 * successful answers of the main routes are documented here, as their handlers write them.
 */

declare module "fastify" {
    interface FastifyContextConfig {
        /** The route's successful answers, by status, for the OpenAPI document only (see response-docs.ts). */
        openapiResponses?: Readonly<Record<string, JsonSchema>>;
    }
}

const STRING: JsonSchema = { type: "string" };
const INTEGER: JsonSchema = { type: "integer" };
const NUMBER: JsonSchema = { type: "number" };
const VECTOR: JsonSchema = { type: "array", items: NUMBER };

function object(description: string, properties: Record<string, JsonSchema>, required = Object.keys(properties)): JsonSchema {
    return { type: "object", ...(description === "" ? {} : { description }), properties, required };
}

/** Every route's error answer, in its shape (error-shapes.ts). */
export function errorResponse(shape: ErrorShape | undefined): JsonSchema {
    switch (shape) {
        case "ollama":
            return object("An error, in Ollama's shape", { error: STRING });
        case "tei":
            return object("An error, in text-embeddings-inference's shape", {
                error: STRING,
                error_type: { type: "string", enum: ["unhealthy", "backend", "overloaded", "validation", "tokenizer", "empty"] },
            });
        case "cohere":
            return object("An error, in Cohere's shape (id: the request id)", { id: STRING, message: STRING });
        default:
            return object("An error, in OpenAI's shape: param names the request field at fault", {
                error: object("", { message: STRING, type: STRING, code: STRING, param: { anyOf: [STRING, { type: "null" }] } }),
            });
    }
}

export const OPENAI_EMBEDDINGS_RESPONSE = object("The vectors, in input order", {
    object: { type: "string", enum: ["list"] },
    data: {
        type: "array",
        items: object("", {
            object: { type: "string", enum: ["embedding"] },
            index: INTEGER,
            embedding: {
                description: "Numbers (float), base64 of little-endian float32 (base64), or the quantized bytes as integers (Jina's int8, uint8, binary, ubinary)",
                anyOf: [VECTOR, STRING, { type: "array", items: INTEGER }],
            },
        }),
    },
    model: STRING,
    usage: object("Tokens the model saw, instruction and <|endoftext|> included", { prompt_tokens: INTEGER, total_tokens: INTEGER }),
});

export const RERANK_RESPONSE: JsonSchema = {
    description: "Jina's / Cohere's answer, best first; TEI's bare array for a TEI body (texts)",
    anyOf: [
        object("Jina's / Cohere's / SiliconFlow's answer", {
            id: STRING,
            model: STRING,
            results: {
                type: "array",
                items: object("", { index: INTEGER, relevance_score: NUMBER, document: object("With return_documents", { text: STRING }) }, ["index", "relevance_score"]),
            },
            usage: object("", { total_tokens: INTEGER }),
            meta: object("", { tokens: object("", { input_tokens: INTEGER, output_tokens: INTEGER }) }),
        }),
        { type: "array", description: "TEI's answer", items: object("", { index: INTEGER, score: NUMBER, text: STRING }, ["index", "score"]) },
    ],
};

export const TEI_EMBED_RESPONSE: JsonSchema = { type: "array", description: "One vector per input, in order", items: VECTOR };

export const OLLAMA_EMBED_RESPONSE = object("The vectors; durations in nanoseconds", {
    model: STRING,
    embeddings: { type: "array", items: VECTOR },
    total_duration: INTEGER,
    load_duration: INTEGER,
    prompt_eval_count: INTEGER,
});

export const OLLAMA_EMBEDDINGS_RESPONSE = object("The vector", { embedding: VECTOR });

export const OLLAMA_TAGS_RESPONSE = object("The served models", {
    models: {
        type: "array",
        items: object("", {
            name: STRING,
            model: STRING,
            modified_at: { type: "string", description: "The GGUF file's modification time (ISO 8601)" },
            size: { type: "integer", description: "The GGUF file's size in bytes" },
            digest: { type: "string", description: "SHA-256 of the file's path, size and modification time (not of its content)" },
            details: object("", {
                parent_model: STRING,
                format: STRING,
                family: STRING,
                families: { type: "array", items: STRING },
                parameter_size: STRING,
                quantization_level: STRING,
            }),
        }),
    },
});

export const OLLAMA_VERSION_RESPONSE = object("This package's version", { version: STRING });

export const HEALTH_RESPONSE = object("Ready: the served models by kind", {
    status: { type: "string", enum: ["ok"] },
    models: { type: "object", description: "embedding / reranker → the model's id" },
});

export const HEALTH_UNAVAILABLE_RESPONSE = object("Not ready: loading, a model failed to load, or shutting down", {
    status: { type: "string", enum: ["loading", "failed", "shutting_down"] },
    error: (errorResponse(undefined).properties as Record<string, JsonSchema>)["error"]!,
});
