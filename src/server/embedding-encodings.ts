import { endianness } from "node:os";
import { quantizeEmbedding } from "../format/output-types.js";

/**
 * How a route writes one vector in JSON, by the names Cohere (`embedding_types`) and Jina (`embedding_type`) use:
 * "float" (numbers), "base64" (little-endian float32 bytes in base64, as OpenAI, Cohere and Jina decode it), and the
 * library's quantized output types "int8", "uint8", "binary", "ubinary" (quantizeEmbedding: the same bytes as
 * `embed(texts, { outputType })`), written as arrays of integers.
 */
export type EmbeddingEncoding = "float" | "base64" | "int8" | "uint8" | "binary" | "ubinary";

export const EMBEDDING_ENCODINGS: readonly EmbeddingEncoding[] = Object.freeze(["float", "base64", "int8", "uint8", "binary", "ubinary"]);

/** `vector` (the float32 embedding) written as `encoding` asks. */
export function encodeEmbedding(vector: Float32Array, encoding: EmbeddingEncoding): number[] | string {
    switch (encoding) {
        case "float": return Array.from(vector);
        case "base64": return float32Base64(vector);
        default: return Array.from(quantizeEmbedding(vector, encoding));
    }
}

const LITTLE_ENDIAN = endianness() === "LE";

/** The vector's float32 values, little-endian, in base64: what OpenAI's `encoding_format: "base64"` returns. */
export function float32Base64(vector: Float32Array): string {
    if (LITTLE_ENDIAN) return Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength).toString("base64");
    const bytes = Buffer.allocUnsafe(vector.length * 4);
    vector.forEach((value, index) => bytes.writeFloatLE(value, index * 4));
    return bytes.toString("base64");
}
