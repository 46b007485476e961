/**
 * pullModel without a network: node-llama-cpp's downloader is replaced by a fake that writes header-only GGUFs, and
 * fetch by a stub that fails the test if anything reaches for the network.
 */
import { existsSync } from "node:fs";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { AbortedError, InvalidOptionError, ModelFileError, UnsupportedModelError } from "../../src/internal/errors.js";
import { formatProgress, pullModel, type DownloadProgress } from "../../src/models/model-download.js";
import { MODELS_DIR_ENV } from "../../src/models/model-location.js";
import { writeQwen3HeaderFile, type HeaderFlavour } from "./qwen3-header-file.js";

interface FakeDownloaderOptions {
    modelUri: string;
    dirPath: string;
    fileName: string;
    skipExisting: boolean;
    deleteTempFileOnCancel: boolean;
    onProgress?: (status: { totalSize: number; downloadedSize: number; estimatedTimeLeft: number; averageSpeed: number }) => void;
}

const fake = vi.hoisted(() => ({
    imported: false,
    calls: [] as FakeDownloaderOptions[],
    /** What the fake does for one URI: write a file, fail, or wait for the abort signal. */
    behave: (_options: FakeDownloaderOptions, _signal: AbortSignal | undefined): Promise<void> => Promise.resolve(),
}));

vi.mock("node-llama-cpp", () => {
    fake.imported = true;
    return {
        createModelDownloader: async (options: FakeDownloaderOptions) => {
            fake.calls.push(options);
            return {
                download: async ({ signal }: { signal?: AbortSignal } = {}) => {
                    await fake.behave(options, signal);
                    return join(options.dirPath, options.fileName);
                },
            };
        },
    };
});

const fetchStub = vi.fn(() => {
    throw new Error("no network access expected");
});

let dir: string;
let modelsDir: string;
let counter = 0;

beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "qwen3-pull-"));
    vi.stubGlobal("fetch", fetchStub);
});

afterAll(async () => {
    vi.unstubAllGlobals();
    await rm(dir, { recursive: true, force: true });
});

beforeEach(() => {
    modelsDir = join(dir, `models-${counter++}`);
    fake.calls = [];
    fake.behave = () => Promise.reject(new Error("the fake downloader was not set up for this test"));
});

afterEach(() => {
    vi.unstubAllEnvs();
    expect(fetchStub).not.toHaveBeenCalled();
});

function writes(flavour: HeaderFlavour, shape: { hiddenSize: number; layers: number; name?: string }) {
    return (options: FakeDownloaderOptions): Promise<void> => {
        options.onProgress?.({ totalSize: 2_000_000, downloadedSize: 1_000_000, estimatedTimeLeft: 4000, averageSpeed: 250_000 });
        writeQwen3HeaderFile(join(options.dirPath, options.fileName), flavour, shape);
        return Promise.resolve();
    };
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
    return promise.then(
        () => { throw new Error("expected a rejection"); },
        (error: unknown) => error as Error,
    );
}

describe("argument checks (before any download)", () => {
    it.each([
        ["an empty id", () => pullModel(""), 'Expected a non-empty string for model id but received the string ""'],
        ["a non-string id", () => pullModel(7 as unknown as string), "Expected a non-empty string for model id but received number 7"],
        ["an unknown option", () => pullModel("qwen3-embedding-0.6b", { quantization: "F16" } as never),
            'Unknown option "quantization" in pullModel options; the known options are quant, modelsDir, onProgress, signal'],
        ["options that are not an object", () => pullModel("qwen3-embedding-0.6b", "F16" as never),
            'Expected an options object for pullModel options but received the string "F16"'],
        ["an empty quant", () => pullModel("qwen3-embedding-0.6b", { quant: "" }), 'Expected a non-empty string for quant but received the string ""'],
        ["a non-function onProgress", () => pullModel("qwen3-embedding-0.6b", { onProgress: "bar" as never }),
            'Expected a function for onProgress but received the string "bar"'],
        ["a non-signal", () => pullModel("qwen3-embedding-0.6b", { signal: {} as never }), "Expected an AbortSignal for signal but received an object"],
        ["an empty models directory", () => pullModel("qwen3-embedding-0.6b", { modelsDir: "" }),
            'Expected a non-empty string for modelsDir but received the string ""'],
        ["an unknown model", () => pullModel("qwen3-embedding-1b"),
            'Unknown model "qwen3-embedding-1b"; the known models are qwen3-embedding-0.6b, qwen3-embedding-4b, qwen3-embedding-8b, qwen3-reranker-0.6b, qwen3-reranker-4b, qwen3-reranker-8b'],
        ["an unknown quantization", () => pullModel("qwen3-reranker-4b", { quant: "F16" }),
            'Unknown quantization "F16" for qwen3-reranker-4b; the available quantizations are Q4_K_M, Q8_0 (default)'],
        ["conflicting quantizations", () => pullModel("qwen3-embedding-0.6b:F16", { quant: "Q8_0" }),
            'Conflicting quantizations for qwen3-embedding-0.6b: "F16" in the model id and "Q8_0" in quant; give one'],
    ])("refuses %s with InvalidOptionError", async (_, call, message) => {
        const error = await rejection(call());
        expect(error).toBeInstanceOf(InvalidOptionError);
        expect(error.message).toBe(message);
        expect(fake.calls).toEqual([]);
    });

    it("refuses an already aborted signal without downloading", async () => {
        const error = await rejection(pullModel("qwen3-embedding-0.6b", { modelsDir, signal: AbortSignal.abort() }));
        expect(error).toBeInstanceOf(AbortedError);
        expect(error.message).toBe("Downloading qwen3-embedding-0.6b (Q8_0) was aborted");
        expect(fake.calls).toEqual([]);
    });

    it("has imported node-llama-cpp for none of these", () => {
        expect(fake.imported).toBe(false);
    });
});

describe("a file already complete", () => {
    it("is checked and returned without downloading", async () => {
        const path = join(dir, "present", "Qwen3-Embedding-0.6B-Q8_0.gguf");
        await import("node:fs/promises").then((fs) => fs.mkdir(join(dir, "present"), { recursive: true }));
        writeQwen3HeaderFile(path, "embedding-last", { hiddenSize: 1024, layers: 28 });
        const result = await pullModel("qwen3-embedding-0.6b", { modelsDir: join(dir, "present") });
        expect(result).toEqual({ path, bytes: expect.any(Number), id: "qwen3-embedding-0.6b", quant: "Q8_0", downloaded: false });
        expect(result.bytes).toBeGreaterThan(0);
        expect(fake.calls).toEqual([]);
    });
});

describe("downloading (with a fake downloader)", () => {
    it("asks node-llama-cpp for hf:<repo>/<file> into the models directory, resumable, and reports progress", async () => {
        fake.behave = writes("embedding-last", { hiddenSize: 2560, layers: 36 });
        const progress: DownloadProgress[] = [];
        const result = await pullModel("qwen3-embedding-4b", { quant: "q4_k_m", modelsDir, onProgress: (p) => progress.push(p) });
        expect(result).toEqual({
            path: join(modelsDir, "Qwen3-Embedding-4B-Q4_K_M.gguf"),
            bytes: expect.any(Number),
            id: "qwen3-embedding-4b",
            quant: "Q4_K_M",
            downloaded: true,
        });
        expect(fake.calls).toHaveLength(1);
        expect(fake.calls[0]).toMatchObject({
            modelUri: "hf:Qwen/Qwen3-Embedding-4B-GGUF/Qwen3-Embedding-4B-Q4_K_M.gguf",
            dirPath: modelsDir,
            fileName: "Qwen3-Embedding-4B-Q4_K_M.gguf",
            skipExisting: true,
            deleteTempFileOnCancel: false,
        });
        expect(progress).toEqual([{ downloadedBytes: 1_000_000, totalBytes: 2_000_000, bytesPerSecond: 250_000, secondsLeft: 4 }]);
    });

    it("uses QWEN3_EMBEDDING_MODELS_DIR when no directory is given", async () => {
        vi.stubEnv(MODELS_DIR_ENV, modelsDir);
        fake.behave = writes("reranker-rank", { hiddenSize: 1024, layers: 28 });
        const result = await pullModel("qwen3-reranker-0.6b");
        expect(result.path).toBe(join(modelsDir, "qwen3-reranker-0.6b-q8_0.gguf"));
        expect(fake.calls[0]?.modelUri).toBe("hf:ggml-org/Qwen3-Reranker-0.6B-Q8_0-GGUF/qwen3-reranker-0.6b-q8_0.gguf");
    });

    it("accepts a causal-LM reranker conversion", async () => {
        fake.behave = writes("reranker-causal", { hiddenSize: 2560, layers: 36 });
        const result = await pullModel("qwen3-reranker-4b:Q8_0", { modelsDir });
        expect(result.path).toBe(join(modelsDir, "Qwen3-Reranker-4B.Q8_0.gguf"));
    });

    it("accepts an embedding conversion without a pooling key", async () => {
        fake.behave = writes("embedding-unpooled", { hiddenSize: 1024, layers: 28, name: "Qwen3-Embedding-0.6B" });
        expect((await pullModel("qwen3-embedding-0.6b", { quant: "F16", modelsDir })).quant).toBe("F16");
    });

    it("falls back to the repository's file for the quantization when the named file is gone", async () => {
        fake.behave = (options) => {
            if (options.modelUri.endsWith(".gguf")) {
                return Promise.reject(Object.assign(new Error("Url: https://huggingface.co/x, Status code: 404, status text: Not Found"), { statusCode: 404 }));
            }
            return writes("reranker-rank", { hiddenSize: 4096, layers: 36 })(options);
        };
        const result = await pullModel("qwen3-reranker-8b", { modelsDir });
        expect(fake.calls.map((call) => [call.modelUri, call.fileName])).toEqual([
            ["hf:giladgd/Qwen3-Reranker-8B-GGUF/Qwen3-Reranker-8B.Q8_0.gguf", "Qwen3-Reranker-8B.Q8_0.gguf"],
            ["hf:giladgd/Qwen3-Reranker-8B-GGUF:Q8_0", "Qwen3-Reranker-8B.Q8_0.gguf"],
        ]);
        expect(result.path).toBe(join(modelsDir, "Qwen3-Reranker-8B.Q8_0.gguf"));
    });

    it("says the registry is out of date when neither the file nor the quantization exists", async () => {
        fake.behave = (options) => Promise.reject(options.modelUri.endsWith(".gguf")
            ? Object.assign(new Error("Url: https://huggingface.co/x, Status code: 404, status text: Not Found"), { statusCode: 404 })
            : new Error('Cannot get quantization "Q8_0" for model "hf:giladgd/Qwen3-Reranker-8B-GGUF" or it does not exist'));
        const error = await rejection(pullModel("qwen3-reranker-8b", { modelsDir }));
        expect(error).toBeInstanceOf(ModelFileError);
        expect(error.message).toBe(
            "Downloading qwen3-reranker-8b (Q8_0) from https://huggingface.co/giladgd/Qwen3-Reranker-8B-GGUF/resolve/main/Qwen3-Reranker-8B.Q8_0.gguf failed: " +
            'Cannot get quantization "Q8_0" for model "hf:giladgd/Qwen3-Reranker-8B-GGUF" or it does not exist' +
            "; the repository has no such file, so the registry entry is out of date: download a Q8_0 GGUF of Qwen3-Reranker-8B by hand and pass its path",
        );
    });

    it("says how to resume after a network failure", async () => {
        fake.behave = () => Promise.reject(new Error("getaddrinfo ENOTFOUND huggingface.co"));
        const error = await rejection(pullModel("qwen3-embedding-0.6b", { modelsDir }));
        expect(error).toBeInstanceOf(ModelFileError);
        expect(error.message).toBe(
            "Downloading qwen3-embedding-0.6b (Q8_0) from https://huggingface.co/Qwen/Qwen3-Embedding-0.6B-GGUF/resolve/main/Qwen3-Embedding-0.6B-Q8_0.gguf failed: " +
            "getaddrinfo ENOTFOUND huggingface.co; run " +
            `\`${MODELS_DIR_ENV}=${modelsDir} npx qwen3-embedding pull qwen3-embedding-0.6b --quant Q8_0\`` +
            " again to resume, set HF_TOKEN if the repository needs a login, or HF_ENDPOINT to use a mirror",
        );
        expect(fake.calls).toHaveLength(1);
    });

    it.each([
        ["rejects", true],
        ["returns as if done (as node-llama-cpp 3.22 does)", false],
    ])("keeps the partial file when aborted and says the command resumes it (the downloader %s)", async (_, rejects) => {
        const controller = new AbortController();
        fake.behave = (options, signal) => new Promise((resolve, reject) => {
            void writeFile(join(options.dirPath, `${options.fileName}.ipull`), "partial").then(() => controller.abort());
            signal?.addEventListener("abort", () => (rejects ? reject(signal.reason) : resolve()));
        });
        const error = await rejection(pullModel("qwen3-embedding-0.6b", { modelsDir, signal: controller.signal }));
        const partial = join(modelsDir, "Qwen3-Embedding-0.6B-Q8_0.gguf.ipull");
        expect(error).toBeInstanceOf(AbortedError);
        expect(error.message).toBe(
            `Downloading qwen3-embedding-0.6b (Q8_0) was aborted; the partial file ${partial} is kept and ` +
            `\`${MODELS_DIR_ENV}=${modelsDir} npx qwen3-embedding pull qwen3-embedding-0.6b --quant Q8_0\` resumes it`,
        );
        expect(existsSync(partial)).toBe(true);
    });

    it("downloads again (resuming) when a partial file sits next to the final one", async () => {
        const { mkdir } = await import("node:fs/promises");
        await mkdir(modelsDir, { recursive: true });
        const path = join(modelsDir, "Qwen3-Embedding-0.6B-Q8_0.gguf");
        await writeFile(path, "stale");
        await writeFile(`${path}.ipull`, "partial");
        fake.behave = writes("embedding-last", { hiddenSize: 1024, layers: 28 });
        expect((await pullModel("qwen3-embedding-0.6b", { modelsDir })).downloaded).toBe(true);
        expect(fake.calls).toHaveLength(1);
    });
});

describe("checking what was downloaded", () => {
    it.each([
        ["an embedding model pulled as a reranker", "qwen3-reranker-0.6b", "embedding-last", { hiddenSize: 1024, layers: 28 },
            "qwen3-reranker-0.6b-q8_0.gguf", "Qwen3-Reranker-0.6B reranker", "it is an embedding model (pooling last)",
            "https://huggingface.co/ggml-org/Qwen3-Reranker-0.6B-Q8_0-GGUF/resolve/main/qwen3-reranker-0.6b-q8_0.gguf", "qwen3-reranker-0.6b"],
        ["a RANK reranker pulled as an embedding model", "qwen3-embedding-0.6b", "reranker-rank", { hiddenSize: 1024, layers: 28 },
            "Qwen3-Embedding-0.6B-Q8_0.gguf", "Qwen3-Embedding-0.6B embedding", "it is a reranker (RANK pooling, 2 classifier rows)",
            "https://huggingface.co/Qwen/Qwen3-Embedding-0.6B-GGUF/resolve/main/Qwen3-Embedding-0.6B-Q8_0.gguf", "qwen3-embedding-0.6b"],
        ["a causal LM pulled as an embedding model", "qwen3-embedding-0.6b", "reranker-causal", { hiddenSize: 1024, layers: 28, name: "Qwen3 Reranker" },
            "Qwen3-Embedding-0.6B-Q8_0.gguf", "Qwen3-Embedding-0.6B embedding", "it is a reranker (a plain causal LM)",
            "https://huggingface.co/Qwen/Qwen3-Embedding-0.6B-GGUF/resolve/main/Qwen3-Embedding-0.6B-Q8_0.gguf", "qwen3-embedding-0.6b"],
        ["another model size", "qwen3-embedding-8b", "embedding-last", { hiddenSize: 2560, layers: 36 },
            "Qwen3-Embedding-8B-Q8_0.gguf", "Qwen3-Embedding-8B embedding", "its hidden size is 2560, not 4096",
            "https://huggingface.co/Qwen/Qwen3-Embedding-8B-GGUF/resolve/main/Qwen3-Embedding-8B-Q8_0.gguf", "qwen3-embedding-8b"],
        ["another layer count", "qwen3-reranker-4b", "reranker-rank", { hiddenSize: 2560, layers: 28 },
            "Qwen3-Reranker-4B.Q8_0.gguf", "Qwen3-Reranker-4B reranker", "it has 28 layers, not 36",
            "https://huggingface.co/giladgd/Qwen3-Reranker-4B-GGUF/resolve/main/Qwen3-Reranker-4B.Q8_0.gguf", "qwen3-reranker-4b"],
    ] as const)("refuses %s, keeping the file", async (_, id, flavour, shape, file, what, reason, url, modelId) => {
        fake.behave = writes(flavour, shape);
        const error = await rejection(pullModel(id, { modelsDir }));
        const path = join(modelsDir, file);
        expect(error).toBeInstanceOf(UnsupportedModelError);
        expect(error.message).toBe(
            `${path} is not a usable ${what} model: ${reason}. The file was kept; it came from ${url}: delete it, or pull another quantization (${modelId}:<quant>)`,
        );
        expect(existsSync(path)).toBe(true);
    });

    it("passes on the kind check's own refusal", async () => {
        fake.behave = writes("mean-pooled", { hiddenSize: 1024, layers: 28 });
        const error = await rejection(pullModel("qwen3-embedding-0.6b", { modelsDir }));
        expect(error).toBeInstanceOf(UnsupportedModelError);
        expect(error.message).toBe(
            `${join(modelsDir, "Qwen3-Embedding-0.6B-Q8_0.gguf")} is not a usable Qwen3-Embedding-0.6B embedding model: ` +
            `${join(modelsDir, "Qwen3-Embedding-0.6B-Q8_0.gguf")} uses MEAN pooling, which no Qwen3 embedding or reranker model uses; convert the original checkpoint again with llama.cpp's convert_hf_to_gguf.py. ` +
            "The file was kept; it came from https://huggingface.co/Qwen/Qwen3-Embedding-0.6B-GGUF/resolve/main/Qwen3-Embedding-0.6B-Q8_0.gguf: delete it, or pull another quantization (qwen3-embedding-0.6b:<quant>)",
        );
    });

    it("says to delete and pull again a file that is not a GGUF", async () => {
        fake.behave = async (options) => writeFile(join(options.dirPath, options.fileName), "<html>rate limited</html>");
        const error = await rejection(pullModel("qwen3-embedding-0.6b", { modelsDir }));
        const path = join(modelsDir, "Qwen3-Embedding-0.6B-Q8_0.gguf");
        expect(error).toBeInstanceOf(ModelFileError);
        expect(error.message).toBe(
            `The downloaded file is not a usable GGUF: ${path} is not a GGUF file (it does not start with the bytes "GGUF"); ` +
            "qwen3-embedding loads llama.cpp GGUF models such as Qwen/Qwen3-Embedding-0.6B-GGUF. " +
            `Delete ${path} and run \`${MODELS_DIR_ENV}=${modelsDir} npx qwen3-embedding pull qwen3-embedding-0.6b --quant Q8_0\``,
        );
    });

    it("tells an unpooled header's kind by its general.name, not by a path that mentions qwen3-embedding", async () => {
        const checkout = join(dir, "qwen3-embedding", `models-${counter++}`);
        fake.behave = writes("reranker-causal", { hiddenSize: 1024, layers: 28, name: "Qwen3 Reranker 0.6B" });
        const result = await pullModel("qwen3-reranker-0.6b", { modelsDir: checkout });
        expect(result.path).toBe(join(checkout, "qwen3-reranker-0.6b-q8_0.gguf"));
        expect(await readdir(checkout)).toEqual(["qwen3-reranker-0.6b-q8_0.gguf"]);
    });

    it("trusts the registry for an unpooled header whose name says nothing", async () => {
        fake.behave = writes("reranker-causal", { hiddenSize: 1024, layers: 28, name: "" });
        expect((await pullModel("qwen3-embedding-0.6b", { modelsDir })).downloaded).toBe(true);
        fake.behave = writes("embedding-unpooled", { hiddenSize: 2560, layers: 36, name: "" });
        expect((await pullModel("qwen3-reranker-4b", { modelsDir })).downloaded).toBe(true);
    });
});

describe("formatProgress", () => {
    it("draws a bar with sizes in MB, percent, speed and time left", () => {
        expect(formatProgress({ downloadedBytes: 312_400_000, totalBytes: 639_200_000, bytesPerSecond: 12_300_000, secondsLeft: 27 })).toBe(
            "[##########----------]  312.4/639.2 MB   48.9%   12.3 MB/s   ETA 27s",
        );
    });

    it("pads the downloaded size to the total's width and formats long waits", () => {
        expect(formatProgress({ downloadedBytes: 5_000_000, totalBytes: 8_049_900_000, bytesPerSecond: 1_000_000, secondsLeft: 8045 })).toBe(
            "[--------------------]     5.0/8049.9 MB    0.1%   1.0 MB/s   ETA 2h14m",
        );
        expect(formatProgress({ downloadedBytes: 0, totalBytes: 1e9, bytesPerSecond: 0, secondsLeft: 125 }, { barWidth: 4 })).toBe(
            "[----]     0.0/1000.0 MB    0.0%   -- MB/s   ETA 2m05s",
        );
    });

    it("drops the time left when done or unknown", () => {
        expect(formatProgress({ downloadedBytes: 1e9, totalBytes: 1e9, bytesPerSecond: 5e6, secondsLeft: 0 })).toBe(
            "[####################]  1000.0/1000.0 MB  100.0%   5.0 MB/s",
        );
        expect(formatProgress({ downloadedBytes: 1e8, totalBytes: 1e9, bytesPerSecond: 5e6, secondsLeft: undefined })).toBe(
            "[##------------------]   100.0/1000.0 MB   10.0%   5.0 MB/s",
        );
    });

    it("shows only what is known before the size is", () => {
        expect(formatProgress({ downloadedBytes: 2_500_000, totalBytes: 0, bytesPerSecond: 0, secondsLeft: undefined })).toBe("2.5 MB   -- MB/s");
    });
});
