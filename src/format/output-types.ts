import { InvalidOptionError } from "../internal/errors.js";
import { checkOneOf } from "../internal/validation.js";

/**
 * How an embedding is returned, with the names and byte layouts of sentence-transformers' `quantize_embeddings`:
 * - `"float32"`: the vector itself.
 * - `"uint8"` / `"int8"`: one byte per dimension, 256 buckets over [-1, 1].
 * - `"ubinary"` / `"binary"`: one bit per dimension (`x > 0`), packed 8 to a byte, first dimension in the most
 *   significant bit of byte 0 (numpy `packbits` order); `ceil(dimensions / 8)` bytes, the last one padded with 0 bits.
 */
export type OutputType = "float32" | "int8" | "uint8" | "binary" | "ubinary";

export const OUTPUT_TYPES: readonly OutputType[] = Object.freeze(["float32", "int8", "uint8", "binary", "ubinary"]);

/** The array each output type produces. */
export interface QuantizedArrays {
    float32: Float32Array;
    int8: Int8Array;
    uint8: Uint8Array;
    binary: Int8Array;
    ubinary: Uint8Array;
}

export type QuantizedEmbedding = QuantizedArrays[OutputType];

/** The calibration range used for every dimension: the components of a unit vector lie in it. */
const RANGE_START = -1;
const RANGE_END = 1;
/** sentence-transformers' bucket width, `(ranges[1] - ranges[0]) / 255`, computed the same way in float64. */
const STEP = (RANGE_END - RANGE_START) / 255;

/**
 * Converts one embedding to `type`. Always returns a new array (also for `"float32"`).
 *
 * `"uint8"` and `"int8"` reproduce sentence-transformers exactly for
 * `quantize_embeddings(x, precision, ranges=np.array([[-1.0] * dim, [1.0] * dim]))`, in float64 like numpy does there:
 * `uint8 = trunc((x - (-1)) / (2 / 255))` and `int8 = trunc((x - (-1)) / (2 / 255) - 128)`, where `.astype`'s
 * truncation toward zero makes int8 differ from `uint8 - 128` whenever the scaled value is below 128 and not whole
 * (x = 0 gives uint8 127 but int8 0; x = -0.5 gives 63 and -64). x = 1 gives 255 and 127; x = -1 gives 0 and -128.
 *
 * Deviation, on purpose: without `ranges` sentence-transformers derives each dimension's range from the batch being
 * quantized (or from calibration embeddings), so a vector's bytes depend on what it was batched with. Here the range
 * is fixed to [-1, 1] for every dimension, so a vector always quantizes the same way, as Cohere's per-vector int8
 * does. Components outside [-1, 1] (an unnormalized vector) are clamped to the end buckets, where numpy's cast would be
 * undefined; NaN has no bucket and is rejected.
 *
 * @throws InvalidOptionError for an unknown `type`, or a NaN component with `"int8"` / `"uint8"`.
 */
export function quantizeEmbedding<T extends OutputType>(vector: Float32Array, type: T): QuantizedArrays[T];
export function quantizeEmbedding(vector: Float32Array, type: OutputType): QuantizedEmbedding {
    switch (checkOneOf("outputType", type, OUTPUT_TYPES)) {
        case "float32": return Float32Array.from(vector);
        case "uint8": return quantizeScalar(vector, new Uint8Array(vector.length), 0, 0, 255);
        case "int8": return quantizeScalar(vector, new Int8Array(vector.length), 128, -128, 127);
        case "ubinary": return packSignBits(vector);
        case "binary": {
            const packed = packSignBits(vector);
            return Int8Array.from(packed, (byte) => byte - 128);
        }
    }
}

/** The value an "int8" or "uint8" byte stands for: the centre of its bucket over [-1, 1]. */
export function bucketCentre(byte: number, type: "int8" | "uint8"): number {
    return RANGE_START + (byte + (type === "int8" ? 128 : 0) + 0.5) * STEP;
}

/** Writes `trunc((x - start) / step - offset)`, clamped to [min, max], for each component into `out`. */
function quantizeScalar<A extends Uint8Array | Int8Array>(
    vector: Float32Array,
    out: A,
    offset: number,
    min: number,
    max: number,
): A {
    for (let i = 0; i < vector.length; i++) {
        const x = vector[i]!;
        if (Number.isNaN(x)) throw new InvalidOptionError(`Cannot quantize an embedding whose component ${i} is NaN`);
        const scaled = (x - RANGE_START) / STEP - offset;
        out[i] = Math.min(max, Math.max(min, Math.trunc(scaled)));
    }
    return out;
}

/** numpy `packbits(vector > 0)`: big-endian bit order in each byte, trailing bits 0; NaN > 0 is false, as in numpy. */
function packSignBits(vector: Float32Array): Uint8Array {
    const packed = new Uint8Array(Math.ceil(vector.length / 8));
    for (let i = 0; i < vector.length; i++) {
        if (vector[i]! > 0) packed[i >> 3]! |= 0x80 >> (i & 7);
    }
    return packed;
}

/** The array `embed` returns for output type T: Float32Array by default, Int8Array for "int8"/"binary", Uint8Array for "uint8"/"ubinary". */
export type EmbeddingArray<T extends OutputType = OutputType> = QuantizedArrays[T];
