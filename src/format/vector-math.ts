import { InvalidOptionError } from "../internal/errors.js";
import { checkInteger } from "../internal/validation.js";

// Sums of squares and products are accumulated in float64, whatever the input array type (meanDirection's sum of
// components is kept in float32).

/** A new vector scaled to unit length. The zero vector stays zero (there is no direction to keep). */
export function l2Normalize(vector: Float32Array): Float32Array {
    let sumOfSquares = 0;
    for (let i = 0; i < vector.length; i++) sumOfSquares += vector[i]! * vector[i]!;
    const result = new Float32Array(vector.length);
    if (sumOfSquares === 0) return result;
    const norm = Math.sqrt(sumOfSquares);
    for (let i = 0; i < vector.length; i++) result[i] = vector[i]! / norm;
    return result;
}

/**
 * The direction of the vectors' mean, as a unit vector: their sum (the mean's direction), added up component by
 * component in a Float32Array, then l2Normalize'd. The zero vector when they cancel out.
 */
export function meanDirection(vectors: readonly Float32Array[]): Float32Array {
    if (vectors.length === 0) throw new InvalidOptionError("Expected at least one vector for vectors but received an empty array");
    const sum = new Float32Array(vectors[0]!.length);
    for (const vector of vectors) {
        checkSameLength(sum, vector);
        for (let i = 0; i < vector.length; i++) sum[i]! += vector[i]!;
    }
    return l2Normalize(sum);
}

/**
 * Matryoshka (MRL) truncation: the first `dimensions` components, THEN L2-normalized again. A new vector.
 * Qwen3 Embedding is trained for any `dimensions` from 32 to its hidden size; the caller enforces that lower bound,
 * this function only requires 1..`vector.length`.
 */
export function truncateDimensions(vector: Float32Array, dimensions: number): Float32Array {
    checkInteger("dimensions", dimensions, 1, vector.length);
    return l2Normalize(vector.subarray(0, dimensions));
}

function checkSameLength(a: ArrayLike<number>, b: ArrayLike<number>): void {
    if (a.length !== b.length) {
        throw new InvalidOptionError(`Cannot compare vectors of different lengths: ${a.length} and ${b.length}`);
    }
}

/** Sum of the products of the components. For unit vectors this is their cosine similarity. */
export function dotProduct(a: ArrayLike<number>, b: ArrayLike<number>): number {
    checkSameLength(a, b);
    let sum = 0;
    for (let i = 0; i < a.length; i++) sum += a[i]! * b[i]!;
    return sum;
}

/** The cosine of the angle between two vectors, in [-1, 1]; 0 when either is the zero vector. */
export function cosineSimilarity(a: ArrayLike<number>, b: ArrayLike<number>): number {
    checkSameLength(a, b);
    let dot = 0;
    let squaresA = 0;
    let squaresB = 0;
    for (let i = 0; i < a.length; i++) {
        dot += a[i]! * b[i]!;
        squaresA += a[i]! * a[i]!;
        squaresB += b[i]! * b[i]!;
    }
    if (squaresA === 0 || squaresB === 0) return 0;
    return Math.max(-1, Math.min(1, dot / (Math.sqrt(squaresA) * Math.sqrt(squaresB))));
}
