import { describe, expect, it } from "vitest";
import { bindLlamaLibrary } from "../../src/exports/engine.js";
import { RESOLVED_LIBRARY_ENV } from "../support/llama-library-setup.js";

// The model project pins the build its global setup resolved (QWEN3_EMBEDDING_LLAMA_LIBRARY); this file checks the
// path users take: no override, node-llama-cpp resolves the build.
const resolvedBySetup = process.env[RESOLVED_LIBRARY_ENV];
delete process.env["QWEN3_EMBEDDING_LLAMA_LIBRARY"];

describe("binding llama.cpp without an override", () => {
    it("takes node-llama-cpp's prebuilt build (never a source build) and its core count", async () => {
        const library = await bindLlamaLibrary();
        expect(library.buildType).toBe("prebuilt");
        expect(library.gpu).toBe(false);
        expect(library.mathCores).toBeGreaterThanOrEqual(1);
        expect(library.libraryPath).toMatch(/libllama/);
        if (resolvedBySetup !== undefined) expect(library.libraryPath).toBe(resolvedBySetup);
    });
});
