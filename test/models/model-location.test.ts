import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { homedir, tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { InvalidOptionError, ModelFileError } from "../../src/internal/errors.js";
import {
    MODELS_DIR_ENV,
    defaultModelsDirectory,
    findLocalModel,
    isLocalModelPath,
    locatePulledModel,
    pullCommand,
    resolveModelPath,
} from "../../src/models/model-location.js";

const KNOWN = "qwen3-embedding-0.6b, qwen3-embedding-4b, qwen3-embedding-8b, qwen3-reranker-0.6b, qwen3-reranker-4b, qwen3-reranker-8b";

let dir: string;
let modelsDir: string;
let hfCache: string;
let localFile: string;

beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "qwen3-location-"));
    modelsDir = join(dir, "models");
    hfCache = join(dir, "hf-hub");
    await mkdir(modelsDir);
    localFile = join(dir, "my-model.bin");
    await writeFile(localFile, "not even a gguf: the resolver does not read files");
});

afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
});

beforeEach(() => {
    // The user's own Hugging Face cache stays out of these tests.
    vi.stubEnv("HF_HUB_CACHE", hfCache);
});

afterEach(() => {
    vi.unstubAllEnvs();
});

async function rejection(promise: Promise<unknown>): Promise<Error> {
    return promise.then(
        () => { throw new Error("expected a rejection"); },
        (error: unknown) => error as Error,
    );
}

describe("local paths", () => {
    it("returns an absolute path as it is", async () => {
        expect(await resolveModelPath(localFile)).toBe(localFile);
    });

    it("makes a relative path absolute against the working directory", async () => {
        const relativePath = relative(process.cwd(), localFile);
        expect(await resolveModelPath(relativePath)).toBe(localFile);
        expect(isLocalModelPath(relativePath)).toBe(true);
    });

    it("treats ./, ../, ~/ and .gguf names as paths even when they do not exist", () => {
        for (const model of ["./x", "../x", "~/x", "x.gguf", "X.GGUF", "qwen3-embedding-0.6b.gguf", "/abs/x"]) {
            expect(isLocalModelPath(model), model).toBe(true);
        }
        for (const model of ["qwen3-embedding-0.6b", "qwen3-embedding-0.6b:F16", "Qwen/Qwen3-Embedding-0.6B-GGUF"]) {
            expect(isLocalModelPath(model), model).toBe(false);
        }
    });

    it("names a missing file and how to get a model", async () => {
        const missing = join(dir, "absent.gguf");
        const error = await rejection(resolveModelPath(missing));
        expect(error).toBeInstanceOf(ModelFileError);
        expect(error.message).toBe(
            `Model file not found: ${missing}. Pass the path of an existing .gguf file, or a registry id such as qwen3-embedding-0.6b ` +
            "once downloaded with `npx qwen3-embedding pull qwen3-embedding-0.6b`",
        );
    });

    it("names a missing relative file by its absolute path", async () => {
        const error = await rejection(resolveModelPath("./no-such-dir/model.gguf"));
        expect(error).toBeInstanceOf(ModelFileError);
        expect(error.message).toMatch(new RegExp(`^Model file not found: ${escape(join(process.cwd(), "no-such-dir", "model.gguf"))}\\. `));
    });

    it("refuses a directory", async () => {
        const error = await rejection(resolveModelPath(modelsDir));
        expect(error).toBeInstanceOf(ModelFileError);
        expect(error.message).toBe(`${modelsDir} is not a file; pass the path of a .gguf model file`);
    });
});

describe("registry ids", () => {
    it("resolves an id to the file pull stores, when it is there", async () => {
        const path = join(modelsDir, "Qwen3-Embedding-0.6B-Q8_0.gguf");
        await writeFile(path, "weights");
        try {
            expect(await resolveModelPath("qwen3-embedding-0.6b", { modelsDir })).toBe(path);
            expect(await resolveModelPath("Qwen/Qwen3-Embedding-0.6B-GGUF", { modelsDir })).toBe(path);
            expect(await resolveModelPath("QWEN3-EMBEDDING-0.6B:q8_0", { modelsDir })).toBe(path);
        } finally {
            await rm(path);
        }
    });

    it("says which command downloads an absent model", async () => {
        const error = await rejection(resolveModelPath("qwen3-embedding-0.6b", { modelsDir }));
        expect(error).toBeInstanceOf(ModelFileError);
        expect(error.message).toBe(
            `Model qwen3-embedding-0.6b (Q8_0) is not downloaded: ${join(modelsDir, "Qwen3-Embedding-0.6B-Q8_0.gguf")} does not exist, ` +
            `nor does Qwen3-Embedding-0.6B-Q8_0.gguf of Qwen/Qwen3-Embedding-0.6B-GGUF in the Hugging Face cache ${hfCache}. ` +
            `Download it with \`${MODELS_DIR_ENV}=${modelsDir} npx qwen3-embedding pull qwen3-embedding-0.6b --quant Q8_0\``,
        );
    });

    it("leaves the directory out of the command when it is the default one", async () => {
        vi.stubEnv(MODELS_DIR_ENV, modelsDir);
        const error = await rejection(resolveModelPath("qwen3-reranker-4b:q4_k_m"));
        expect(error).toBeInstanceOf(ModelFileError);
        expect(error.message).toBe(
            `Model qwen3-reranker-4b (Q4_K_M) is not downloaded: ${join(modelsDir, "Qwen3-Reranker-4B.Q4_K_M.gguf")} does not exist, ` +
            `nor does Qwen3-Reranker-4B.Q4_K_M.gguf of giladgd/Qwen3-Reranker-4B-GGUF in the Hugging Face cache ${hfCache}. ` +
            "Download it with `npx qwen3-embedding pull qwen3-reranker-4b --quant Q4_K_M`",
        );
    });

    it("mentions a partial download and the quantizations already there", async () => {
        vi.stubEnv(MODELS_DIR_ENV, modelsDir);
        const target = join(modelsDir, "Qwen3-Embedding-0.6B-Q8_0.gguf");
        const other = join(modelsDir, "Qwen3-Embedding-0.6B-f16.gguf");
        await writeFile(`${target}.part`, "partial");
        await writeFile(other, "weights");
        try {
            const error = await rejection(resolveModelPath("qwen3-embedding-0.6b"));
            expect(error.message).toBe(
                `Model qwen3-embedding-0.6b (Q8_0) is not downloaded: ${target} does not exist, ` +
                `nor does Qwen3-Embedding-0.6B-Q8_0.gguf of Qwen/Qwen3-Embedding-0.6B-GGUF in the Hugging Face cache ${hfCache}. ` +
                "Download it with `npx qwen3-embedding pull qwen3-embedding-0.6b --quant Q8_0`" +
                `; a partial download is at ${target}.part, and that command resumes it` +
                '; already downloaded: "qwen3-embedding-0.6b:F16"',
            );
            expect(await resolveModelPath("qwen3-embedding-0.6b:F16")).toBe(other);
        } finally {
            await rm(`${target}.part`);
            await rm(other);
        }
    });

    it("quotes a models directory with spaces in the command", () => {
        const location = locatePulledModel("qwen3-embedding-8b", { modelsDir: join(dir, "my models") });
        expect(pullCommand(location)).toBe(`${MODELS_DIR_ENV}='${join(dir, "my models")}' npx qwen3-embedding pull qwen3-embedding-8b --quant Q8_0`);
    });

    it("refuses something that is neither a file nor a known id", async () => {
        const error = await rejection(resolveModelPath("models/bge-m3", { modelsDir }));
        expect(error).toBeInstanceOf(InvalidOptionError);
        expect(error.message).toBe(
            `Unknown model "models/bge-m3": no file exists at ${join(process.cwd(), "models", "bge-m3")}, and it is not a known model id; ` +
            `pass the path of a .gguf file or one of ${KNOWN}`,
        );
    });

    it("lists the available quantizations for an unknown one", async () => {
        const error = await rejection(resolveModelPath("qwen3-embedding-0.6b:Q4_K_M", { modelsDir }));
        expect(error).toBeInstanceOf(InvalidOptionError);
        expect(error.message).toBe('Unknown quantization "Q4_K_M" for qwen3-embedding-0.6b; the available quantizations are Q8_0 (default), F16');
    });
});

describe("the Hugging Face cache", () => {
    const snapshot = (revision: string) => join(hfCache, "models--Qwen--Qwen3-Embedding-0.6B-GGUF", "snapshots", revision);

    it("resolves an id to the file in the hub cache when the models directory does not have it, the models directory first", async () => {
        await mkdir(snapshot("r1"), { recursive: true });
        const cached = join(snapshot("r1"), "Qwen3-Embedding-0.6B-f16.gguf");
        await writeFile(cached, "weights");
        const pulled = join(modelsDir, "Qwen3-Embedding-0.6B-f16.gguf");
        try {
            expect(await resolveModelPath("qwen3-embedding-0.6b:F16", { modelsDir })).toBe(cached);
            const location = locatePulledModel("qwen3-embedding-0.6b:F16", { modelsDir });
            expect(await findLocalModel(location)).toEqual({ place: "hf-cache", path: cached, bytes: 7 });
            await writeFile(pulled, "pulled");
            expect(await resolveModelPath("qwen3-embedding-0.6b:F16", { modelsDir })).toBe(pulled);
            expect(await findLocalModel(location)).toEqual({ place: "models-dir", path: pulled, bytes: 6 });
            await writeFile(`${pulled}.part`, "p");
            expect(await findLocalModel(location)).toEqual({ place: "hf-cache", path: cached, bytes: 7 });
        } finally {
            await rm(join(hfCache), { recursive: true, force: true });
            await rm(pulled, { force: true });
            await rm(`${pulled}.part`, { force: true });
        }
    });

    it("follows HF_HOME, then XDG_CACHE_HOME, when HF_HUB_CACHE is not set", async () => {
        vi.stubEnv("HF_HUB_CACHE", "");
        vi.stubEnv("HF_HOME", join(dir, "hf-home"));
        const { huggingFaceHubCache } = await import("../../src/models/huggingface-cache.js");
        expect(huggingFaceHubCache()).toBe(join(dir, "hf-home", "hub"));
        expect(huggingFaceHubCache({ XDG_CACHE_HOME: "/xdg" })).toBe(join("/xdg", "huggingface", "hub"));
        expect(huggingFaceHubCache({})).toBe(join(homedir(), ".cache", "huggingface", "hub"));
    });
});

describe("models directory", () => {
    it("defaults to the per-user cache folder of the platform", () => {
        vi.stubEnv(MODELS_DIR_ENV, "");
        expect(defaultModelsDirectory({}, "linux")).toBe(join(homedir(), ".cache", "qwen3-embedding"));
        expect(defaultModelsDirectory({ XDG_CACHE_HOME: "/xdg-cache" }, "linux")).toBe(join("/xdg-cache", "qwen3-embedding"));
        expect(defaultModelsDirectory({ XDG_CACHE_HOME: "relative/ignored" }, "linux")).toBe(join(homedir(), ".cache", "qwen3-embedding"));
        expect(defaultModelsDirectory({}, "darwin")).toBe(join(homedir(), "Library", "Caches", "qwen3-embedding"));
        expect(defaultModelsDirectory({ LOCALAPPDATA: "C:\\Users\\me\\AppData\\Local" }, "win32")).toBe(join("C:\\Users\\me\\AppData\\Local", "qwen3-embedding"));
    });

    it("follows QWEN3_EMBEDDING_MODELS_DIR, relative to the working directory", () => {
        vi.stubEnv(MODELS_DIR_ENV, "some/dir");
        expect(defaultModelsDirectory()).toBe(join(process.cwd(), "some", "dir"));
        expect(defaultModelsDirectory({ [MODELS_DIR_ENV]: "/abs", XDG_CACHE_HOME: "/xdg-cache" }, "linux")).toBe("/abs");
    });

    it("places a pulled model at <modelsDir>/<file>", () => {
        const location = locatePulledModel("qwen3-reranker-0.6b", { modelsDir: "rel" });
        expect(location.path).toBe(join(process.cwd(), "rel", "qwen3-reranker-0.6b-q8_0.gguf"));
        expect(location.source.quant).toBe("Q8_0");
        expect(location.model.kind).toBe("reranker");
    });
});

describe("argument checks", () => {
    it("refuses an empty model", async () => {
        expect((await rejection(resolveModelPath(""))).message).toBe('Expected a non-empty string for model but received the string ""');
    });

    it("refuses an unknown option", async () => {
        const error = await rejection(resolveModelPath(localFile, { modelDir: "x" } as never));
        expect(error).toBeInstanceOf(InvalidOptionError);
        expect(error.message).toBe('Unknown option "modelDir" in resolveModelPath options; the known options are modelsDir');
    });

    it("refuses an empty models directory", async () => {
        expect((await rejection(resolveModelPath("qwen3-embedding-0.6b", { modelsDir: "" }))).message).toBe(
            'Expected a non-empty string for modelsDir but received the string ""',
        );
    });
});

function escape(text: string): string {
    return text.replace(/[\\^$.*+?()[\]{}|]/g, "\\$&");
}
