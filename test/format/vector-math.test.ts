import { describe, expect, it } from "vitest";
import { cosineSimilarity, dotProduct, l2Normalize, meanDirection, truncateDimensions } from "../../src/format/vector-math.js";
import { expectInvalidOption } from "./expect-invalid-option.js";

const norm = (vector: Float32Array): number => Math.sqrt(vector.reduce((sum, x) => sum + x * x, 0));

describe("l2Normalize", () => {
    it("scales to unit length in a new array", () => {
        const vector = Float32Array.of(3, 4);
        const result = l2Normalize(vector);
        expect(Array.from(result)).toEqual([Math.fround(0.6), Math.fround(0.8)]);
        expect(Array.from(vector)).toEqual([3, 4]);
    });

    it("keeps the zero vector zero", () => {
        expect(Array.from(l2Normalize(new Float32Array(3)))).toEqual([0, 0, 0]);
        expect(l2Normalize(new Float32Array(0)).length).toBe(0);
    });

    it("handles components too large to square in float32", () => {
        const result = l2Normalize(Float32Array.of(3e30, 4e30));
        expect(result[0]).toBeCloseTo(0.6, 6);
        expect(result[1]).toBeCloseTo(0.8, 6);
    });
});

describe("truncateDimensions (Matryoshka)", () => {
    it("takes the first dimensions, then renormalizes", () => {
        const vector = l2Normalize(Float32Array.of(3, 4, 12)); // [3, 4, 12] / 13
        const result = truncateDimensions(vector, 2);
        expect(result.length).toBe(2);
        expect(result[0]).toBeCloseTo(0.6, 6);
        expect(result[1]).toBeCloseTo(0.8, 6);
        expect(norm(result)).toBeCloseTo(1, 6);
    });

    it("is renormalization when dimensions equals the length", () => {
        const vector = Float32Array.of(1, 1, 1, 1);
        expect(Array.from(truncateDimensions(vector, 4))).toEqual([0.5, 0.5, 0.5, 0.5]);
    });

    it("a 32-dimension prefix of a 1024-dimension vector has unit length and the prefix's direction", () => {
        const vector = l2Normalize(Float32Array.from({ length: 1024 }, (_, i) => Math.sin(i + 1)));
        const result = truncateDimensions(vector, 32);
        expect(norm(result)).toBeCloseTo(1, 6);
        expect(cosineSimilarity(result, vector.subarray(0, 32))).toBeCloseTo(1, 6);
    });

    it("rejects dimensions outside 1..length", () => {
        const vector = new Float32Array(1024);
        expectInvalidOption(
            () => truncateDimensions(vector, 2048),
            "Expected an integer between 1 and 1024 for dimensions but received number 2048",
        );
        expectInvalidOption(
            () => truncateDimensions(vector, 0),
            "Expected an integer between 1 and 1024 for dimensions but received number 0",
        );
        expectInvalidOption(
            () => truncateDimensions(vector, 64.5),
            "Expected an integer between 1 and 1024 for dimensions but received number 64.5",
        );
    });
});

describe("dotProduct and cosineSimilarity", () => {
    it("computes the dot product", () => {
        expect(dotProduct(Float32Array.of(1, 2, 3), Float32Array.of(4, -5, 6))).toBe(12);
        expect(dotProduct([], [])).toBe(0);
    });

    it("computes the cosine, which equals the dot product of unit vectors", () => {
        const a = Float32Array.of(1, 2, 3);
        const b = Float32Array.of(4, -5, 6);
        expect(cosineSimilarity(a, b)).toBeCloseTo(12 / (Math.sqrt(14) * Math.sqrt(77)), 12);
        expect(cosineSimilarity(a, b)).toBeCloseTo(dotProduct(l2Normalize(a), l2Normalize(b)), 6);
        expect(cosineSimilarity(a, a)).toBe(1);
        expect(cosineSimilarity([1, 0], [-1, 0])).toBe(-1);
        expect(cosineSimilarity([1, 0], [0, 1])).toBe(0);
    });

    it("gives 0 for a zero vector instead of NaN", () => {
        expect(cosineSimilarity([0, 0], [1, 2])).toBe(0);
    });

    it("rejects vectors of different lengths", () => {
        expectInvalidOption(
            () => dotProduct(new Float32Array(1024), new Float32Array(512)),
            "Cannot compare vectors of different lengths: 1024 and 512",
        );
        expectInvalidOption(
            () => cosineSimilarity([1, 2], [1]),
            "Cannot compare vectors of different lengths: 2 and 1",
        );
    });
});

describe("meanDirection", () => {
    it("is the unit vector along the mean, in a new array", () => {
        const a = Float32Array.of(1, 0);
        const b = Float32Array.of(0, 1);
        const result = meanDirection([a, b]);
        expect(Array.from(result)).toEqual([Math.fround(Math.SQRT1_2), Math.fround(Math.SQRT1_2)]);
        expect(Array.from(a)).toEqual([1, 0]);
        expect(Array.from(meanDirection([Float32Array.of(3, 4)]))).toEqual([Math.fround(0.6), Math.fround(0.8)]);
    });

    it("adds the components up in float32, then normalizes as l2Normalize does", () => {
        // In float32, 1 + 2^-24 rounds back to 1 (twice): the sum is [1, 1], where float64 would give [1 + 2^-23, 1].
        const vectors = [Float32Array.of(1, 1), Float32Array.of(2 ** -24, 0), Float32Array.of(2 ** -24, 0)];
        const result = Array.from(meanDirection(vectors));
        expect(result).toEqual(Array.from(l2Normalize(Float32Array.of(1, 1))));
        expect(result).not.toEqual(Array.from(l2Normalize(Float32Array.of(1 + 2 ** -23, 1))));
    });

    it("is the zero vector when the vectors cancel out", () => {
        expect(Array.from(meanDirection([Float32Array.of(1, -2), Float32Array.of(-1, 2)]))).toEqual([0, 0]);
    });

    it("rejects an empty list and vectors of different lengths", () => {
        expectInvalidOption(() => meanDirection([]), "Expected at least one vector for vectors but received an empty array");
        expectInvalidOption(
            () => meanDirection([new Float32Array(4), new Float32Array(3)]),
            "Cannot compare vectors of different lengths: 4 and 3",
        );
    });
});
