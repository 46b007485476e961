import { describe, expect, it } from "vitest";
import { createEmbedder, createReranker, createTokenizer, InvalidOptionError } from "../../src/index.js";

/** A path that does not exist: an option error proves the options were checked before the model was even looked for. */
const MISSING_MODEL = "/nonexistent/qwen3-embedding-options-check.gguf";

async function rejection(action: () => Promise<unknown>): Promise<InvalidOptionError> {
    const error = await action().then(() => undefined, (thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(InvalidOptionError);
    return error as InvalidOptionError;
}

describe("every create option is checked before anything loads", () => {
    it.each([
        [{ kvCacheType: "q4" }, 'Expected one of "f16", "f32", "q8_0" for kvCacheType but received the string "q4"'],
        [{ batchTokens: 0 }, "batchTokens"],
        [{ contextSize: 16, batchTokens: 512 }, "contextSize"],
        [{ threads: 0 }, "threads"],
        [{ flashAttention: "yes" }, "flashAttention"],
        [{ gpu: "tpu" }, "gpu"],
        [{ gpuLayers: -2 }, "gpuLayers"],
        [{ useMmap: "no" }, "useMmap"],
        [{ repackWeights: "off" }, 'Expected a boolean for repackWeights but received the string "off"'],
        [{ workers: 65 }, "workers"],
        [{ maxQueuedCalls: 0 }, "maxQueuedCalls"],
    ])("createEmbedder(%o) names the option", async (options, named) => {
        const error = await rejection(() => createEmbedder({ model: MISSING_MODEL, ...(options as object) }));
        expect(error.message).toContain(named);
    });

    it("QWEN3_EMBEDDING_WORKERS, the default of workers, is checked the same way and named", async () => {
        process.env["QWEN3_EMBEDDING_WORKERS"] = "lots";
        try {
            expect((await rejection(() => createEmbedder({ model: MISSING_MODEL }))).message).toBe(
                'Expected an integer between 0 and 64 for QWEN3_EMBEDDING_WORKERS but received the string "lots"',
            );
        } finally {
            delete process.env["QWEN3_EMBEDDING_WORKERS"];
        }
    });

    it("createReranker checks the same options, and its own, before loading", async () => {
        expect((await rejection(() => createReranker({ model: MISSING_MODEL, kvCacheType: "q4" as "f16" }))).message).toContain("kvCacheType");
        expect((await rejection(() => createReranker({ model: MISSING_MODEL, normalizeInput: 1 as unknown as boolean }))).message).toContain("normalizeInput");
    });

    it("createTokenizer takes only the model and how to load it", async () => {
        expect((await rejection(() => createTokenizer({ model: MISSING_MODEL, batchTokens: 512 } as never))).message).toContain("batchTokens");
        expect((await rejection(() => createTokenizer({ model: "" }))).message).toContain("model");
    });
});
