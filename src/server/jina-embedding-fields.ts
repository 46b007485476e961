import { HttpError } from "./error-responses.js";
import { EMBEDDING_ENCODINGS, type EmbeddingEncoding } from "./embedding-encodings.js";
import { described, type JsonSchema } from "./json-schema.js";
import type { RequestBody } from "./request-body.js";
import { EMBEDDING_TYPE_FIELD } from "./request-fields.js";

/**
 * Jina's fields of `POST /v1/embeddings` (https://api.jina.ai/redoc, jina-embeddings-v3) beyond OpenAI's:
 * `embedding_type` ("float", "base64", "binary", "ubinary", and "int8" / "uint8"), `normalized` (Jina's name for
 * `normalize`) and `late_chunking`. Its `task` and `dimensions` are read with the other instruction fields (see
 * jina-tasks.ts).
 */
export const JINA_EMBEDDING_FIELDS = {
    embedding_type: EMBEDDING_TYPE_FIELD,
    normalized: described({ type: "boolean" }, "Jina's name for normalize"),
    late_chunking: described({ type: "boolean" }, "Only false: true is refused (no token-level outputs)"),
} as const satisfies Record<string, JsonSchema>;

const OPENAI_ENCODINGS = ["float", "base64"] as const;

/** OpenAI's `encoding_format` or Jina's `embedding_type` (not both, unless they agree); default "float". */
export function readVectorEncoding(body: RequestBody): EmbeddingEncoding {
    const format = body.oneOf("encoding_format", OPENAI_ENCODINGS);
    const type = body.oneOf("embedding_type", EMBEDDING_ENCODINGS);
    if (format !== undefined && type !== undefined && format !== type) {
        throw new HttpError(400, `encoding_format says ${JSON.stringify(format)} but embedding_type says ${JSON.stringify(type)}; give one`, {
            code: "invalid_value", param: "embedding_type",
        });
    }
    readLateChunking(body);
    return type ?? format ?? "float";
}

/**
 * `late_chunking: true` is refused: it needs the hidden state at every token of one long pass (to pool each input's
 * span), and the engine asks llama.cpp for one output row per sequence, its last token (see ARCHITECTURE.md: that is
 * what keeps the vocabulary head off every other token). `false` is accepted.
 */
function readLateChunking(body: RequestBody): void {
    if (body.boolean("late_chunking") === true) {
        throw new HttpError(400, "late_chunking is not supported: this server's engine reads one pooled output per input (its last token) " +
            "and has no token-level outputs to pool spans of a concatenated pass from; embed the chunks as separate inputs", {
            code: "unsupported_value", param: "late_chunking",
        });
    }
}
