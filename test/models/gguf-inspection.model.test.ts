import { describe, expect, it } from "vitest";
import { inspectGguf } from "../../src/index.js";
import { ensureFixtureModel } from "../fixtures/qwen3-fixture.js";

// inspectGguf reads the vocabulary in a short-lived thread (test/internal/short-lived-thread.test.ts), here on a
// fixture model's header.
describe("inspectGguf in a thread of its own", () => {
    it("still counts the vocabulary it leaves behind", async () => {
        const inspection = await inspectGguf(await ensureFixtureModel({ kind: "embedding", size: "tiny" }));
        // The real Qwen3 tokenizer's 151,643 tokens plus the fixture's padding to the model's vocabulary rows.
        expect(inspection.vocabularySize).toBe(151_936);
        expect(inspection.architecture).toBe("qwen3");
        expect(inspection.tensorCount).toBeGreaterThan(0);
    });
});
