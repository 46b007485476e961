// bindLlamaLibrary's options are checked before anything loads: no addon, no llama.cpp (this is a fast test, where
// loading either fails at once).
import { describe, expect, it } from "vitest";
import { bindLlamaLibrary } from "../../src/exports/engine.js";
import { InvalidOptionError } from "../../src/index.js";

describe("bindLlamaLibrary options", () => {
    it.each([
        [{ gpu: "rocm" }, 'Expected one of "auto", "cuda", "vulkan", "metal" for gpu but received the string "rocm"'],
        [{ gpu: true }, 'Expected one of "auto", "cuda", "vulkan", "metal" for gpu but received boolean true'],
        [{ libraryPath: "" }, "Expected a non-empty string for libraryPath"],
        [{ libraryPath: 42 }, "Expected a non-empty string for libraryPath but received number 42"],
        [{ gpuLayers: 1 }, 'Unknown option "gpuLayers" in bindLlamaLibrary options'],
    ])("refuses %j naming the option", async (options, message) => {
        const error = await bindLlamaLibrary(options as never).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(InvalidOptionError);
        expect((error as Error).message).toContain(message);
    });
});
