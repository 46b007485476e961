import { describe, expect, it } from "vitest";
import { kvCacheOption, kvCacheTypeFrom } from "../../src/cli/kv-cache-flags.js";
import { serverOptionsFrom } from "../../src/cli/serve-command.js";

describe("--exact and --kv-cache-type", () => {
    it("--exact is kvCacheType f32; --kv-cache-type gives it outright; neither leaves the library's default", () => {
        expect(kvCacheOption({ exact: true })).toEqual({ kvCacheType: "f32" });
        expect(kvCacheOption({ "kv-cache-type": "f16" })).toEqual({ kvCacheType: "f16" });
        expect(kvCacheOption({ "kv-cache-type": "f32" })).toEqual({ kvCacheType: "f32" });
        expect(kvCacheOption({ exact: true, "kv-cache-type": "f32" })).toEqual({ kvCacheType: "f32" });
        expect(kvCacheOption({})).toEqual({});
    });

    it("refuses a conflict naming both, and a type it does not offer naming the flag, what it takes and what it got", () => {
        expect(() => kvCacheOption({ exact: true, "kv-cache-type": "f16" })).toThrow(
            "--exact asks for the f32 KV cache (exact mode) but --kv-cache-type asks for f16; pass one of them",
        );
        expect(() => kvCacheOption({ "kv-cache-type": "q8_0" })).toThrow('Expected f16 or f32 for --kv-cache-type but received "q8_0"');
        expect(() => kvCacheTypeFrom(undefined, { value: "F32", from: "QWEN3_EMBEDDING_KV_CACHE_TYPE" })).toThrow(
            'Expected f16 or f32 for QWEN3_EMBEDDING_KV_CACHE_TYPE but received "F32"',
        );
    });

    it("serve passes it to both models, from the flags or the environment, and names the variable in a conflict", () => {
        const both = { "embedding-model": "e.gguf", "reranker-model": "r.gguf" };
        const exact = serverOptionsFrom({ ...both, exact: true, "context-size": "4096" }, {});
        expect(exact.embedderOptions).toEqual({ contextSize: 4096, kvCacheType: "f32" });
        expect(exact.rerankerOptions).toEqual({ contextSize: 4096, kvCacheType: "f32" });
        expect(serverOptionsFrom(both, { QWEN3_EMBEDDING_EXACT: "true" }).rerankerOptions).toEqual({ kvCacheType: "f32" });
        expect(serverOptionsFrom(both, { QWEN3_EMBEDDING_KV_CACHE_TYPE: "f16" }).embedderOptions).toEqual({ kvCacheType: "f16" });
        expect(serverOptionsFrom(both, { QWEN3_EMBEDDING_EXACT: "false" }).embedderOptions).toEqual({});
        expect(() => serverOptionsFrom({ ...both, "kv-cache-type": "f16" }, { QWEN3_EMBEDDING_EXACT: "1" })).toThrow(
            "QWEN3_EMBEDDING_EXACT asks for the f32 KV cache (exact mode) but --kv-cache-type asks for f16; pass one of them",
        );
    });
});
