import { InvalidOptionError } from "../internal/errors.js";
import { checkOneOf } from "../internal/validation.js";
import { bucketCentre, OUTPUT_TYPES, type EmbeddingArray, type OutputType } from "./output-types.js";
import { cosineSimilarity } from "./vector-math.js";

/** The output type an array most likely came from when the caller does not say: its element type's scalar one. */
export function defaultOutputTypeOf(vector: EmbeddingArray): OutputType {
    if (vector instanceof Float32Array) return "float32";
    if (vector instanceof Int8Array) return "int8";
    if (vector instanceof Uint8Array) return "uint8";
    throw new InvalidOptionError(`Expected a Float32Array, Int8Array or Uint8Array embedding but received ${Object.prototype.toString.call(vector)}`);
}

/**
 * The similarity of two embeddings of the same output type, on the scale of cosine similarity:
 * - "float32": the cosine;
 * - "int8" / "uint8": the cosine of the bucket centres (what the bytes stand for), within about one bucket of the float cosine;
 * - "binary" / "ubinary": the cosine of the ±1 sign vectors, `1 - 2 * hamming / bits` (padding bits agree by construction).
 */
export function embeddingSimilarity(a: EmbeddingArray, b: EmbeddingArray, outputType: OutputType = defaultOutputTypeOf(a)): number {
    const type = checkOneOf("outputType", outputType, OUTPUT_TYPES);
    const expected = type === "float32" ? Float32Array : type === "int8" || type === "binary" ? Int8Array : Uint8Array;
    for (const [name, vector] of [["a", a], ["b", b]] as const) {
        if (!(vector instanceof expected)) {
            throw new InvalidOptionError(`Expected a ${expected.name} for ${name} (outputType "${type}") but received ${Object.prototype.toString.call(vector)}`, { option: name });
        }
    }
    if (type === "float32") return cosineSimilarity(a, b);
    if (type === "int8" || type === "uint8") {
        const centre = (byte: number) => bucketCentre(byte, type);
        return cosineSimilarity(Array.from(a, centre), Array.from(b, centre));
    }
    if (a.length !== b.length) throw new InvalidOptionError(`Cannot compare packed embeddings of ${a.length} and ${b.length} bytes`);
    const offset = type === "binary" ? 128 : 0;
    let differing = 0;
    for (let i = 0; i < a.length; i++) {
        let bits = ((a[i]! + offset) ^ (b[i]! + offset)) & 0xff;
        for (; bits !== 0; bits &= bits - 1) differing++;
    }
    return a.length === 0 ? 0 : 1 - (2 * differing) / (8 * a.length);
}
