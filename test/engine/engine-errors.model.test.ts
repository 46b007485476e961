import { copyFile, mkdtemp, open, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AbortedError, ContextTooSmallError, DecodeError, DisposedError, InvalidOptionError, ModelFileError, UnsupportedModelError } from "../../src/index.js";
import { loadEngineModel, type EngineModel } from "../../src/exports/engine.js";
import { ensureFixtureModel } from "../fixtures/qwen3-fixture.js";
import { kv, writeGguf } from "../fixtures/gguf-writer.js";
import { callNative } from "../../src/engine/native-errors.js";
import { loadNativeAddon } from "../../src/engine/native-addon.js";
import { afterCpuTime } from "../support/cpu-time.js";

let dir: string;
let embeddingPath: string;
let model: EngineModel;

beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "qwen3-engine-errors-"));
    embeddingPath = await ensureFixtureModel({ kind: "embedding", size: "tiny" });
    model = await loadEngineModel(embeddingPath);
});

afterAll(async () => {
    model?.dispose();
    await rm(dir, { recursive: true, force: true });
});

describe("model files", () => {
    it("names a missing file and how to get one", async () => {
        const path = join(dir, "nope.gguf");
        const error = await loadEngineModel(path).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(ModelFileError);
        expect((error as ModelFileError).code).toBe("ERR_MODEL_FILE");
        expect((error as Error).message).toBe(
            `Model file not found: ${path}. Pass the path of a .gguf file, or download one with \`npx qwen3-embedding pull <model>\``,
        );
    });

    it("refuses a directory", async () => {
        await expect(loadEngineModel(dir)).rejects.toThrow(`${dir} is not a file; pass the path of a .gguf model file`);
    });

    it("refuses a file that is not a GGUF", async () => {
        const path = join(dir, "notes.gguf");
        await writeFile(path, "this is a text file, not a model\n");
        await expect(loadEngineModel(path)).rejects.toThrow(
            `${path} is not a GGUF file (it does not start with the bytes "GGUF"); qwen3-embedding loads llama.cpp GGUF models such as Qwen/Qwen3-Embedding-0.6B-GGUF`,
        );
        await writeFile(path, "");
        await expect(loadEngineModel(path)).rejects.toBeInstanceOf(ModelFileError);
    });

    it("refuses a truncated download, in the tensor data or in the header", async () => {
        const path = join(dir, "truncated.gguf");
        await copyFile(embeddingPath, path);
        const handle = await open(path, "r+");
        const { size } = await handle.stat();
        await handle.truncate(size - 4096);
        await handle.close();
        await expect(loadEngineModel(path)).rejects.toThrow(
            new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} is truncated: its tensors need ${size} bytes but the file has ${size - 4096}; the download was probably interrupted, download it again$`),
        );

        const header = await open(path, "r+");
        await header.truncate(100_000); // inside the vocabulary arrays
        await header.close();
        const error = await loadEngineModel(path).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(ModelFileError);
        expect((error as Error).message).toBe(
            `${path} has a damaged or truncated GGUF header (it declares ${model.inspection.tensorCount} tensors and ends at byte 100000); download the file again`,
        );
    });

    it("refuses another architecture", async () => {
        const path = join(dir, "bert.gguf");
        await writeGguf(path, { "general.architecture": kv.str("bert"), "bert.embedding_length": kv.u32(8) }, []);
        const error = await loadEngineModel(path).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(UnsupportedModelError);
        expect((error as Error).message).toBe(
            `${path} is a GGUF for architecture "bert", not a Qwen3 model; qwen3-embedding runs Qwen3-Embedding and Qwen3-Reranker GGUFs (architecture qwen3)`,
        );
    });

    it("surfaces llama.cpp's own complaint when a Qwen3 header lacks tensors", async () => {
        const path = join(dir, "hollow-qwen3.gguf");
        await writeGguf(path, { "general.architecture": kv.str("qwen3"), "qwen3.embedding_length": kv.u32(64) }, []);
        const error = await loadEngineModel(path).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(ModelFileError);
        expect((error as Error).message).toMatch(new RegExp(`^llama\\.cpp could not load .*hollow-qwen3\\.gguf: .+`));
    });
});

describe("options", () => {
    it("validates load options by name, expected and received", async () => {
        await expect(loadEngineModel(embeddingPath, { gpuLayers: -3 })).rejects.toThrow(
            "Expected an integer between 0 and 100000 for gpuLayers but received number -3",
        );
        await expect(loadEngineModel(embeddingPath, { gpu: "rocm" as never })).rejects.toThrow(
            'Expected one of "auto", "cuda", "vulkan", "metal" for gpu but received the string "rocm"',
        );
        await expect(loadEngineModel(embeddingPath, { useMmap: "yes" as never })).rejects.toThrow(
            "Expected a boolean for useMmap but received the string \"yes\"",
        );
        await expect(loadEngineModel(embeddingPath, { gpuLayer: 3 } as never)).rejects.toThrow(
            'Unknown option "gpuLayer" in loadEngineModel options; the known options are gpu, gpuLayers, useMmap, repackWeights, libraryPath',
        );
        await expect(loadEngineModel("")).rejects.toThrow('Expected a non-empty string for path but received the string ""');
    });

    it("validates context options", async () => {
        await expect(model.createContext({ batchTokens: 0 })).rejects.toThrow(
            "Expected an integer between 1 and 1048576 for batchTokens but received number 0",
        );
        await expect(model.createContext({ batchTokens: 512, contextSize: 256 })).rejects.toThrow(
            "Expected an integer between 512 and 32768 for contextSize but received number 256",
        );
        await expect(model.createContext({ batchTokens: 64, maxSequences: 65 })).rejects.toThrow(
            "Expected an integer between 1 and 64 for maxSequences but received number 65",
        );
        await expect(model.createContext({ sequenceAlignment: 300 })).rejects.toThrow(
            "Expected an integer between 0 and 256 for sequenceAlignment but received number 300",
        );
        await expect(model.createContext({ kvCacheType: "q4_0" as never })).rejects.toThrow(
            'Expected one of "f16", "f32", "q8_0" for kvCacheType but received the string "q4_0"',
        );
        await expect(model.createContext({ flashAttention: "on" as never })).rejects.toThrow(
            'Expected a boolean for flashAttention but received the string "on"',
        );
        await expect(model.createContext({ threads: 1.5 })).rejects.toThrow(
            "Expected an integer between 1 and 1024 for threads but received number 1.5",
        );
        await expect(model.createContext({ batchSize: 8 } as never)).rejects.toThrow(/^Unknown option "batchSize" in createContext options/);
    });
});

describe("batches", () => {
    it("rejects bad sequences with the index and the fix", async () => {
        const context = await model.createContext({ batchTokens: 64, contextSize: 256 });
        expect(context.info.contextSize).toBe(256);
        await expect(context.embedBatch([[1, 2], []])).rejects.toThrow(
            new InvalidOptionError("sequences[1] is empty; every sequence needs at least one token"),
        );
        await expect(context.embedBatch([[1, 151936]])).rejects.toThrow(
            "Expected token ids between 0 and 151935 but sequences[0][1] is 151936",
        );
        await expect(context.embedBatch([[1, -1]])).rejects.toThrow("Expected token ids between 0 and 151935 but sequences[0][1] is -1");
        await expect(context.embedBatch([[1, 2.5]])).rejects.toThrow("Expected token ids between 0 and 151935 but sequences[0][1] is 2.5");
        await expect(context.embedBatch("hello" as never)).rejects.toThrow("Expected an array of token sequences but received string");
        const tooLong = new Int32Array(257).fill(100);
        const error = await context.embedBatch([[1], tooLong]).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(ContextTooSmallError);
        expect((error as Error).message).toBe(
            "sequences[1] has 257 tokens but the context holds 256; truncate it or create the context with a larger contextSize",
        );
        // The context still works after rejected input.
        expect((await context.embedBatch([[1, 2, 3]])).length).toBe(64);
        context.dispose();
    });

    it("evaluates a sequence as long as the whole context, across several decodes", async () => {
        const context = await model.createContext({ batchTokens: 256, contextSize: 1024 });
        expect(context.info.contextSize).toBe(1024);
        const full = Int32Array.from({ length: 1024 }, (_, i) => 100 + (i % 5000));
        const hidden = await context.embedBatch([full, [1, 2]]);
        expect(hidden.length).toBe(2 * 64);
        expect(hidden.every(Number.isFinite)).toBe(true);
        context.dispose();
    });

    it("reports failures inside the native decode as DecodeError with llama.cpp's reason", async () => {
        // Straight to the addon, past the TypeScript checks, to reach its own guards.
        const nativeModel = await loadNativeAddon().loadModel(embeddingPath, {});
        const native = await nativeModel.createContext({
            batchTokens: 64, contextSize: 256, maxSequences: 8, threads: 1, flashAttention: 2, kvCacheType: 1, llamaPooling: false, sequenceAlignment: 16,
        });
        const mismatch = await callNative(() => native.embedBatch(Int32Array.from([1, 2, 3]), Uint32Array.from([2]), 1, false)).catch((e: unknown) => e);
        expect(mismatch).toBeInstanceOf(DecodeError);
        expect((mismatch as Error).message).toBe("the lengths add up to 2 but 3 tokens were given");
        const tooLong = await callNative(() => native.embedBatch(new Int32Array(300).fill(7), Uint32Array.from([300]), 2, false)).catch((e: unknown) => e);
        expect(tooLong).toBeInstanceOf(ContextTooSmallError);
        expect((tooLong as Error).message).toBe(
            "sequence 0 has 300 tokens but the context holds 256: truncate it or create the context with a larger contextSize",
        );
        const outside = await callNative(() => native.embedBatch(Int32Array.from([5, 999999]), Uint32Array.from([2]), 3, false)).catch((e: unknown) => e);
        expect((outside as Error).message).toBe("token 999999 at position 1 is outside the vocabulary (0..151935)");
        expect(() => native.embedBatch([1, 2] as never, Uint32Array.from([2]), 4, false)).toThrow(
            "embedBatch(tokens: Int32Array, lengths: Uint32Array, callId: number, interactive: boolean)",
        );
        expect(() => native.abort("every" as never)).toThrow("abort(callId?: number)");
        await native.dispose();
        nativeModel.dispose();
    });

    it("carries the caller's stack on native errors", async () => {
        const context = await model.createContext({ batchTokens: 64, contextSize: 128 });
        context.dispose();
        const error = (await context.embedBatch([[1]]).catch((e: unknown) => e)) as Error;
        expect(error).toBeInstanceOf(DisposedError);
        expect(error.message).toBe("The context was disposed; create a new one");
    });

    it("aborts through an AbortSignal, before and during a batch", async () => {
        const context = await model.createContext({ batchTokens: 64, contextSize: 4096 });
        const already = AbortSignal.abort();
        await expect(context.embedBatch([[1, 2]], { signal: already })).rejects.toBeInstanceOf(AbortedError);
        const controller = new AbortController();
        const long = Array.from({ length: 40 }, () => new Int32Array(4000).fill(1000));
        const pending = context.embedBatch(long, { signal: controller.signal });
        // Once the decode has used 100 ms of CPU it is under way, and has seconds more to go.
        await afterCpuTime(100);
        controller.abort();
        await expect(pending).rejects.toBeInstanceOf(AbortedError);
        expect((await context.embedBatch([[1, 2]])).length).toBe(64);
        context.dispose();
    });

    it("dispose makes later calls throw, on the context and on the model", async () => {
        const path = await ensureFixtureModel({ kind: "embedding", size: "tiny" });
        const own = await loadEngineModel(path);
        const context = await own.createContext({ batchTokens: 64, contextSize: 128 });
        own.dispose();
        // The context keeps the weights alive until it is disposed too.
        expect((await context.embedBatch([[5, 6]])).length).toBe(64);
        context.dispose();
        await expect(context.embedBatch([[1]])).rejects.toBeInstanceOf(DisposedError);
        await expect(own.tokenize(["x"], { special: false })).rejects.toThrow(`The model ${path} was disposed; load it again`);
        await expect(own.createContext()).rejects.toBeInstanceOf(DisposedError);
    });
});
