import { describe, expect, it } from "vitest";
import { describeModelsPrecision, describePrecision, precisionModeOf } from "../../src/facade/precision-mode.js";

describe("precision modes", () => {
    it("names each KV cache precision's mode", () => {
        expect(precisionModeOf("f32")).toBe("exact");
        expect(precisionModeOf("f16")).toBe("fast");
        expect(precisionModeOf("q8_0")).toBe("quantized");
        expect(describePrecision("f32")).toBe("exact (f32 KV cache)");
        expect(describePrecision("f16")).toBe("fast (f16 KV cache)");
    });

    it("describes a run of two models as one mode when they agree, and names both when they differ", () => {
        expect(describeModelsPrecision({ embedding: "f32", reranker: "f32" })).toBe("exact (f32 KV cache)");
        expect(describeModelsPrecision({ reranker: "f16" })).toBe("fast (f16 KV cache)");
        expect(describeModelsPrecision({ embedding: "f32", reranker: "f16" })).toBe("embedding exact (f32 KV cache), reranker fast (f16 KV cache)");
        expect(describeModelsPrecision({})).toBeUndefined();
    });
});
