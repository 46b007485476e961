/**
 * pullModel against hosts on loopback (test/support/fake-hub.ts): a fake Hugging Face hub that HF_ENDPOINT points at,
 * a closed port and a server that never answers. Every test runs with its own models directory, an empty Hugging Face
 * cache and no token, so nothing here reads or writes the user's real caches.
 */
import { existsSync, readFileSync, rmSync } from "node:fs";
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { AbortedError, InvalidOptionError, ModelFileError, UnsupportedModelError } from "../../src/internal/errors.js";
import { CONNECT_TIMEOUT_ENV, STALL_TIMEOUT_ENV, formatProgress, pullModel, type DownloadProgress, type DownloadStart } from "../../src/models/model-download.js";
import { MODELS_DIR_ENV, locatePulledModel } from "../../src/models/model-location.js";
import { closedPortUrl, startConnectProxy, startFakeHub, startSilentServer, type FakeHub } from "../support/fake-hub.js";
import { qwen3HeaderBytes, writeQwen3HeaderFile, type HeaderFlavour, type HeaderShape } from "./qwen3-header-file.js";

let dir: string;
let modelsDir: string;
let hfCache: string;
let hub: FakeHub;
let counter = 0;

beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "qwen3-pull-"));
    hub = await startFakeHub();
});

afterAll(async () => {
    await hub.close();
    await rm(dir, { recursive: true, force: true });
});

beforeEach(() => {
    modelsDir = join(dir, `models-${counter}`);
    hfCache = join(dir, `hf-hub-${counter++}`);
    hub.requests.length = 0;
    hub.files.clear();
    hub.handle = undefined;
    hub.ranges = true;
    vi.stubEnv("HF_ENDPOINT", hub.url);
    vi.stubEnv("HF_HUB_CACHE", hfCache);
    vi.stubEnv("HF_HOME", join(dir, "hf-home"));
    vi.stubEnv("HF_TOKEN", "");
    vi.stubEnv("HF_TOKEN_PATH", join(dir, "no-token"));
    vi.stubEnv(MODELS_DIR_ENV, join(dir, "unused-default"));
    vi.stubEnv(CONNECT_TIMEOUT_ENV, "");
    vi.stubEnv(STALL_TIMEOUT_ENV, "");
    for (const proxy of ["http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "no_proxy", "NO_PROXY"]) vi.stubEnv(proxy, undefined);
});

afterEach(() => {
    vi.unstubAllEnvs();
});

/** Puts a header-only GGUF on the fake hub where the registry says the model's file is; returns its bytes. */
function serveModel(reference: string, flavour: HeaderFlavour, shape: HeaderShape): Buffer {
    const { source } = locatePulledModel(reference, { modelsDir });
    const bytes = qwen3HeaderBytes(flavour, shape);
    hub.files.set(`${source.repo}/${source.file}`, bytes);
    return bytes;
}

/** Makes the fake hub answer every request with the first `count` bytes of `bytes` (announcing all of them), then nothing. */
function stallAfterFirstBytes(bytes: Buffer, count: number): void {
    hub.handle = (_request, response) => {
        response.writeHead(200, { "content-length": String(bytes.length) });
        response.write(bytes.subarray(0, count));
        return true;
    };
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
    return promise.then(
        () => { throw new Error("expected a rejection"); },
        (error: unknown) => error as Error,
    );
}

const EMBEDDING_06B = { hiddenSize: 1024, layers: 28 };
const PULL_06B = `${MODELS_DIR_ENV}=%DIR% npx qwen3-embedding pull qwen3-embedding-0.6b --quant Q8_0`;
const pullCommandFor = (directory: string): string => PULL_06B.replace("%DIR%", directory);

describe("argument checks (before any download)", () => {
    it.each([
        ["an empty id", () => pullModel(""), 'Expected a non-empty string for model id but received the string ""'],
        ["a non-string id", () => pullModel(7 as unknown as string), "Expected a non-empty string for model id but received number 7"],
        ["an unknown option", () => pullModel("qwen3-embedding-0.6b", { quantization: "F16" } as never),
            'Unknown option "quantization" in pullModel options; the known options are quant, modelsDir, connectTimeoutMs, stallTimeoutMs, onDownloadStart, onProgress, signal'],
        ["options that are not an object", () => pullModel("qwen3-embedding-0.6b", "F16" as never),
            'Expected an options object for pullModel options but received the string "F16"'],
        ["an empty quant", () => pullModel("qwen3-embedding-0.6b", { quant: "" }), 'Expected a non-empty string for quant but received the string ""'],
        ["a non-function onProgress", () => pullModel("qwen3-embedding-0.6b", { onProgress: "bar" as never }),
            'Expected a function for onProgress but received the string "bar"'],
        ["a non-function onDownloadStart", () => pullModel("qwen3-embedding-0.6b", { onDownloadStart: 1 as never }),
            "Expected a function for onDownloadStart but received number 1"],
        ["a non-signal", () => pullModel("qwen3-embedding-0.6b", { signal: {} as never }), "Expected an AbortSignal for signal but received an object"],
        ["an empty models directory", () => pullModel("qwen3-embedding-0.6b", { modelsDir: "" }),
            'Expected a non-empty string for modelsDir but received the string ""'],
        ["a zero connect timeout", () => pullModel("qwen3-embedding-0.6b", { connectTimeoutMs: 0 }),
            "Expected an integer between 1 and 3600000 for connectTimeoutMs but received number 0"],
        ["a fractional stall timeout", () => pullModel("qwen3-embedding-0.6b", { stallTimeoutMs: 1.5 }),
            "Expected an integer between 1 and 3600000 for stallTimeoutMs but received number 1.5"],
        ["a stall timeout given as a string", () => pullModel("qwen3-embedding-0.6b", { stallTimeoutMs: "30s" as never }),
            'Expected an integer between 1 and 3600000 for stallTimeoutMs but received the string "30s"'],
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
        expect(hub.requests).toEqual([]);
    });

    it.each([
        [CONNECT_TIMEOUT_ENV, "ten", 'Expected an integer between 1 and 3600000 for QWEN3_EMBEDDING_CONNECT_TIMEOUT but received the string "ten"'],
        [STALL_TIMEOUT_ENV, "0", "Expected an integer between 1 and 3600000 for QWEN3_EMBEDDING_STALL_TIMEOUT but received number 0"],
        ["HF_ENDPOINT", "hf-mirror.com", 'Expected an http:// or https:// URL for HF_ENDPOINT but received the string "hf-mirror.com"'],
    ])("refuses %s=%s with InvalidOptionError", async (variable, value, message) => {
        vi.stubEnv(variable, value);
        const error = await rejection(pullModel("qwen3-embedding-0.6b", { modelsDir }));
        expect(error).toBeInstanceOf(InvalidOptionError);
        expect(error.message).toBe(message);
        expect(hub.requests).toEqual([]);
    });

    it("refuses an already aborted signal without downloading", async () => {
        const error = await rejection(pullModel("qwen3-embedding-0.6b", { modelsDir, signal: AbortSignal.abort() }));
        expect(error).toBeInstanceOf(AbortedError);
        expect(error.message).toBe("Downloading qwen3-embedding-0.6b (Q8_0) was aborted");
        expect(hub.requests).toEqual([]);
    });
});

describe("a file already here", () => {
    it("is checked and returned without downloading when complete in the models directory", async () => {
        await mkdir(modelsDir, { recursive: true });
        const path = writeQwen3HeaderFile(join(modelsDir, "Qwen3-Embedding-0.6B-Q8_0.gguf"), "embedding-last", EMBEDDING_06B);
        const result = await pullModel("qwen3-embedding-0.6b", { modelsDir });
        expect(result).toEqual({ path, bytes: expect.any(Number), id: "qwen3-embedding-0.6b", quant: "Q8_0", downloaded: false, place: "models-dir" });
        expect(result.bytes).toBeGreaterThan(0);
        expect(hub.requests).toEqual([]);
    });

    it("is used where it is in the Hugging Face cache (the revision refs/main names), and nothing is copied", async () => {
        const repoDir = join(hfCache, "models--Qwen--Qwen3-Embedding-0.6B-GGUF");
        await mkdir(join(repoDir, "refs"), { recursive: true });
        await mkdir(join(repoDir, "blobs"), { recursive: true });
        await writeFile(join(repoDir, "refs", "main"), "abc123\n");
        for (const revision of ["abc123", "old456"]) {
            await mkdir(join(repoDir, "snapshots", revision), { recursive: true });
            writeQwen3HeaderFile(join(repoDir, "blobs", revision), "embedding-last", EMBEDDING_06B);
            await symlink(join("..", "..", "blobs", revision), join(repoDir, "snapshots", revision, "Qwen3-Embedding-0.6B-Q8_0.gguf"));
        }
        const result = await pullModel("qwen3-embedding-0.6b", { modelsDir });
        expect(result).toMatchObject({ path: join(repoDir, "snapshots", "abc123", "Qwen3-Embedding-0.6B-Q8_0.gguf"), downloaded: false, place: "hf-cache" });
        expect(hub.requests).toEqual([]);
        expect(existsSync(modelsDir)).toBe(false);

        await rm(join(repoDir, "refs"), { recursive: true });
        await rm(join(repoDir, "blobs", "abc123"));
        const other = await pullModel("qwen3-embedding-0.6b", { modelsDir });
        expect(other.path).toBe(join(repoDir, "snapshots", "old456", "Qwen3-Embedding-0.6B-Q8_0.gguf"));
    });

    it("follows HF_HOME when HF_HUB_CACHE is not set", async () => {
        vi.stubEnv("HF_HUB_CACHE", "");
        const home = join(dir, `hf-home-${counter++}`);
        vi.stubEnv("HF_HOME", home);
        const snapshot = join(home, "hub", "models--Qwen--Qwen3-Embedding-0.6B-GGUF", "snapshots", "r1");
        await mkdir(snapshot, { recursive: true });
        const path = writeQwen3HeaderFile(join(snapshot, "Qwen3-Embedding-0.6B-Q8_0.gguf"), "embedding-last", EMBEDDING_06B);
        expect((await pullModel("qwen3-embedding-0.6b", { modelsDir })).path).toBe(path);
        expect(hub.requests).toEqual([]);
    });
});

describe("downloading (from a fake hub on loopback)", () => {
    it("GETs <HF_ENDPOINT>/<repo>/resolve/main/<file> into the models directory, saying where first, with progress", async () => {
        const bytes = serveModel("qwen3-embedding-4b:Q4_K_M", "embedding-last", { hiddenSize: 2560, layers: 36 });
        const events: (DownloadStart | DownloadProgress)[] = [];
        const result = await pullModel("qwen3-embedding-4b", {
            quant: "q4_k_m", modelsDir, onDownloadStart: (start) => events.push(start), onProgress: (progress) => events.push(progress),
        });
        const path = join(modelsDir, "Qwen3-Embedding-4B-Q4_K_M.gguf");
        expect(result).toEqual({ path, bytes: bytes.length, id: "qwen3-embedding-4b", quant: "Q4_K_M", downloaded: true, place: "models-dir" });
        expect(hub.requests).toEqual([
            { method: "GET", path: "/Qwen/Qwen3-Embedding-4B-GGUF/resolve/main/Qwen3-Embedding-4B-Q4_K_M.gguf", range: undefined, authorization: undefined },
        ]);
        expect(events[0]).toEqual({ url: `${hub.url}/Qwen/Qwen3-Embedding-4B-GGUF/resolve/main/Qwen3-Embedding-4B-Q4_K_M.gguf`, path, resumeFromBytes: 0 });
        expect(events.at(-1)).toMatchObject({ downloadedBytes: bytes.length, totalBytes: bytes.length });
        expect(readFileSync(path).equals(bytes)).toBe(true);
        expect(await readdir(modelsDir)).toEqual(["Qwen3-Embedding-4B-Q4_K_M.gguf"]);
    });

    it("goes through the proxy http_proxy / HTTP_PROXY names, and around it for a host NO_PROXY lists", async () => {
        const proxy = await startConnectProxy();
        try {
            const bytes = serveModel("qwen3-embedding-0.6b", "embedding-last", EMBEDDING_06B);
            vi.stubEnv("HTTP_PROXY", proxy.url);
            const result = await pullModel("qwen3-embedding-0.6b", { modelsDir });
            expect(readFileSync(result.path).equals(bytes)).toBe(true);
            expect(proxy.tunnels).toEqual([new URL(hub.url).host]);

            rmSync(result.path);
            vi.stubEnv("NO_PROXY", new URL(hub.url).hostname);
            await pullModel("qwen3-embedding-0.6b", { modelsDir });
            expect(proxy.tunnels).toHaveLength(1);
            expect(hub.requests).toHaveLength(2);
        } finally {
            await proxy.close();
        }
    });

    it("uses QWEN3_EMBEDDING_MODELS_DIR when no directory is given", async () => {
        vi.stubEnv(MODELS_DIR_ENV, modelsDir);
        serveModel("qwen3-reranker-0.6b", "reranker-rank", EMBEDDING_06B);
        const result = await pullModel("qwen3-reranker-0.6b");
        expect(result.path).toBe(join(modelsDir, "qwen3-reranker-0.6b-q8_0.gguf"));
        expect(hub.requests.map((request) => request.path)).toEqual(["/ggml-org/Qwen3-Reranker-0.6B-Q8_0-GGUF/resolve/main/qwen3-reranker-0.6b-q8_0.gguf"]);
    });

    it("sends HF_TOKEN as a bearer token", async () => {
        vi.stubEnv("HF_TOKEN", "hf_secret");
        serveModel("qwen3-embedding-0.6b", "embedding-last", EMBEDDING_06B);
        await pullModel("qwen3-embedding-0.6b", { modelsDir });
        expect(hub.requests.map((request) => request.authorization)).toEqual(["Bearer hf_secret"]);
    });

    it("reads the token huggingface-cli login wrote when HF_TOKEN is not set", async () => {
        const tokenPath = join(dir, `token-${counter++}`);
        await writeFile(tokenPath, "hf_from_file\n");
        vi.stubEnv("HF_TOKEN_PATH", tokenPath);
        serveModel("qwen3-embedding-0.6b", "embedding-last", EMBEDDING_06B);
        await pullModel("qwen3-embedding-0.6b", { modelsDir });
        expect(hub.requests.map((request) => request.authorization)).toEqual(["Bearer hf_from_file"]);
    });

    it("accepts a causal-LM reranker conversion", async () => {
        serveModel("qwen3-reranker-4b:Q8_0", "reranker-causal", { hiddenSize: 2560, layers: 36 });
        const result = await pullModel("qwen3-reranker-4b:Q8_0", { modelsDir });
        expect(result.path).toBe(join(modelsDir, "Qwen3-Reranker-4B.Q8_0.gguf"));
    });

    it("accepts an embedding conversion without a pooling key", async () => {
        serveModel("qwen3-embedding-0.6b:F16", "embedding-unpooled", { ...EMBEDDING_06B, name: "Qwen3-Embedding-0.6B" });
        expect((await pullModel("qwen3-embedding-0.6b", { quant: "F16", modelsDir })).quant).toBe("F16");
    });

    it("falls back to the file the repository lists for the quantization when the named file is gone", async () => {
        const bytes = qwen3HeaderBytes("reranker-rank", { hiddenSize: 4096, layers: 36 });
        hub.files.set("giladgd/Qwen3-Reranker-8B-GGUF/Qwen3-Reranker-8B.Q4_K_M.gguf", Buffer.from("other"));
        hub.files.set("giladgd/Qwen3-Reranker-8B-GGUF/qwen3-reranker-8b-q8_0.gguf", bytes);
        const result = await pullModel("qwen3-reranker-8b", { modelsDir });
        expect(hub.requests.map((request) => request.path)).toEqual([
            "/giladgd/Qwen3-Reranker-8B-GGUF/resolve/main/Qwen3-Reranker-8B.Q8_0.gguf",
            "/api/models/giladgd/Qwen3-Reranker-8B-GGUF",
            "/giladgd/Qwen3-Reranker-8B-GGUF/resolve/main/qwen3-reranker-8b-q8_0.gguf",
        ]);
        expect(result.path).toBe(join(modelsDir, "Qwen3-Reranker-8B.Q8_0.gguf"));
        expect(readFileSync(result.path).equals(bytes)).toBe(true);
    });

    it("says the registry is out of date when neither the file nor the quantization exists", async () => {
        hub.files.set("giladgd/Qwen3-Reranker-8B-GGUF/Qwen3-Reranker-8B.Q4_K_M.gguf", Buffer.from("other"));
        const error = await rejection(pullModel("qwen3-reranker-8b", { modelsDir }));
        expect(error).toBeInstanceOf(ModelFileError);
        expect(error.message).toBe(
            `Downloading qwen3-reranker-8b (Q8_0) from ${hub.url}/giladgd/Qwen3-Reranker-8B-GGUF/resolve/main/Qwen3-Reranker-8B.Q8_0.gguf failed: HTTP 404` +
            "; the repository has no such file, so the registry entry is out of date: download a Q8_0 GGUF of Qwen3-Reranker-8B by hand and pass its path",
        );
    });

    it("says a gated repository needs HF_TOKEN", async () => {
        hub.handle = (_request, response) => (response.writeHead(401).end(), true);
        const error = await rejection(pullModel("qwen3-embedding-0.6b", { modelsDir }));
        expect(error.message).toBe(
            `Downloading qwen3-embedding-0.6b (Q8_0) from ${hub.url}/Qwen/Qwen3-Embedding-0.6B-GGUF/resolve/main/Qwen3-Embedding-0.6B-Q8_0.gguf failed: HTTP 401` +
            `; the repository needs a login: set HF_TOKEN to a Hugging Face access token and run \`${pullCommandFor(modelsDir)}\` again`,
        );
    });

    it("resumes a partial download with a Range request", async () => {
        const bytes = serveModel("qwen3-embedding-0.6b", "embedding-last", EMBEDDING_06B);
        await mkdir(modelsDir, { recursive: true });
        const path = join(modelsDir, "Qwen3-Embedding-0.6B-Q8_0.gguf");
        await writeFile(`${path}.part`, bytes.subarray(0, 100));
        const starts: DownloadStart[] = [];
        const result = await pullModel("qwen3-embedding-0.6b", { modelsDir, onDownloadStart: (start) => starts.push(start) });
        expect(result.downloaded).toBe(true);
        expect(starts.map((start) => start.resumeFromBytes)).toEqual([100]);
        expect(hub.requests.map((request) => request.range)).toEqual(["bytes=100-"]);
        expect(readFileSync(path).equals(bytes)).toBe(true);
        expect(existsSync(`${path}.part`)).toBe(false);
    });

    it("starts over when the server ignores the Range, or the partial file is longer than the file", async () => {
        const bytes = serveModel("qwen3-embedding-0.6b", "embedding-last", EMBEDDING_06B);
        await mkdir(modelsDir, { recursive: true });
        const path = join(modelsDir, "Qwen3-Embedding-0.6B-Q8_0.gguf");
        hub.ranges = false;
        await writeFile(`${path}.part`, "garbage");
        await pullModel("qwen3-embedding-0.6b", { modelsDir });
        expect(readFileSync(path).equals(bytes)).toBe(true);

        await rm(path);
        hub.ranges = true;
        await writeFile(`${path}.part`, Buffer.concat([bytes, Buffer.from("trailing")]));
        await pullModel("qwen3-embedding-0.6b", { modelsDir });
        expect(readFileSync(path).equals(bytes)).toBe(true);
        expect(hub.requests.slice(1).map((request) => request.range)).toEqual([`bytes=${bytes.length + 8}-`, undefined]);
    });

    it("downloads again (resuming) when a partial file sits next to the final one", async () => {
        const bytes = serveModel("qwen3-embedding-0.6b", "embedding-last", EMBEDDING_06B);
        await mkdir(modelsDir, { recursive: true });
        const path = join(modelsDir, "Qwen3-Embedding-0.6B-Q8_0.gguf");
        await writeFile(path, "stale");
        await writeFile(`${path}.part`, bytes.subarray(0, 10));
        expect((await pullModel("qwen3-embedding-0.6b", { modelsDir })).downloaded).toBe(true);
        expect(readFileSync(path).equals(bytes)).toBe(true);
    });

    it("keeps the partial file when aborted and says the command resumes it", async () => {
        const bytes = serveModel("qwen3-embedding-0.6b", "embedding-last", EMBEDDING_06B);
        stallAfterFirstBytes(bytes, 64);
        const controller = new AbortController();
        const error = await rejection(pullModel("qwen3-embedding-0.6b", {
            modelsDir,
            signal: controller.signal,
            // A moment after the first bytes, so that they are on disk: the abort, not the test, decides what is kept.
            onProgress: (progress) => progress.downloadedBytes > 0 && setTimeout(() => controller.abort(), 50),
        }));
        const partial = join(modelsDir, "Qwen3-Embedding-0.6B-Q8_0.gguf.part");
        expect(error).toBeInstanceOf(AbortedError);
        expect(error.message).toBe(
            `Downloading qwen3-embedding-0.6b (Q8_0) was aborted; the partial file ${partial} is kept and \`${pullCommandFor(modelsDir)}\` resumes it`,
        );
        expect(readFileSync(partial).equals(bytes.subarray(0, 64))).toBe(true);
    });
});

describe("a network that fails: each ends with the message, however long it took", () => {
    it("fails at once when nothing listens on the port (a closed port), saying what to check", async () => {
        const url = await closedPortUrl();
        vi.stubEnv("HF_ENDPOINT", url);
        const started = performance.now();
        const error = await rejection(pullModel("qwen3-embedding-0.6b", { modelsDir, connectTimeoutMs: 5_000, stallTimeoutMs: 5_000 }));
        console.info(`closed port: failed after ${Math.round(performance.now() - started)} ms`);
        expect(error).toBeInstanceOf(ModelFileError);
        expect(error.message).toBe(
            `Downloading qwen3-embedding-0.6b (Q8_0) from ${url}/Qwen/Qwen3-Embedding-0.6B-GGUF/resolve/main/Qwen3-Embedding-0.6B-Q8_0.gguf failed: ` +
            `cannot connect to ${new URL(url).host} (ECONNREFUSED); check the network connection (or set HF_ENDPOINT to a mirror you can reach), ` +
            `then run \`${pullCommandFor(modelsDir)}\` again`,
        );
    });

    it("names the proxy when the connection goes through one", async () => {
        vi.stubEnv("http_proxy", await closedPortUrl());
        const error = await rejection(pullModel("qwen3-embedding-0.6b", { modelsDir, connectTimeoutMs: 5_000, stallTimeoutMs: 5_000 }));
        expect(error.message).toContain(
            `failed: cannot connect to ${new URL(hub.url).host} (through the proxy ${process.env["http_proxy"]}, http_proxy) (ECONNREFUSED)`,
        );
    });

    it("gives up on a server that accepts the connection and never answers after the stall timeout", async () => {
        const silent = await startSilentServer();
        try {
            vi.stubEnv("HF_ENDPOINT", silent.url);
            const started = performance.now();
            const error = await rejection(pullModel("qwen3-embedding-0.6b", { modelsDir, stallTimeoutMs: 300 }));
            console.info(`silent server: failed after ${Math.round(performance.now() - started)} ms (stall timeout 300 ms)`);
            expect(error).toBeInstanceOf(ModelFileError);
            expect(error.message).toBe(
                `Downloading qwen3-embedding-0.6b (Q8_0) from ${silent.url}/Qwen/Qwen3-Embedding-0.6B-GGUF/resolve/main/Qwen3-Embedding-0.6B-Q8_0.gguf failed: ` +
                `${new URL(silent.url).host} accepted the connection but sent no answer within the stall timeout of 300 ms; ` +
                `run \`${pullCommandFor(modelsDir)}\` again to resume, or raise the timeouts for a slow network (${CONNECT_TIMEOUT_ENV}, ${STALL_TIMEOUT_ENV}, in ms)`,
            );
            expect(silent.connections()).toBe(1);
        } finally {
            await silent.close();
        }
    });

    it("takes the stall timeout from QWEN3_EMBEDDING_STALL_TIMEOUT", async () => {
        const silent = await startSilentServer();
        try {
            vi.stubEnv("HF_ENDPOINT", silent.url);
            vi.stubEnv(STALL_TIMEOUT_ENV, "200");
            const error = await rejection(pullModel("qwen3-embedding-0.6b", { modelsDir }));
            expect(error.message).toContain("sent no answer within the stall timeout of 200 ms; ");
        } finally {
            await silent.close();
        }
    });

    it("gives up on a transfer that stops in the middle, keeping what arrived", async () => {
        const bytes = serveModel("qwen3-embedding-0.6b", "embedding-last", EMBEDDING_06B);
        stallAfterFirstBytes(bytes, 64);
        const error = await rejection(pullModel("qwen3-embedding-0.6b", { modelsDir, stallTimeoutMs: 300 }));
        expect(error.message).toBe(
            `Downloading qwen3-embedding-0.6b (Q8_0) from ${hub.url}/Qwen/Qwen3-Embedding-0.6B-GGUF/resolve/main/Qwen3-Embedding-0.6B-Q8_0.gguf failed: ` +
            `the transfer from ${new URL(hub.url).host} stalled: nothing arrived within the stall timeout of 300 ms; ` +
            `run \`${pullCommandFor(modelsDir)}\` again to resume, or raise the timeouts for a slow network (${CONNECT_TIMEOUT_ENV}, ${STALL_TIMEOUT_ENV}, in ms)`,
        );
        expect(readFileSync(join(modelsDir, "Qwen3-Embedding-0.6B-Q8_0.gguf.part")).length).toBe(64);
    });

    it("says so when the host name cannot be resolved", async () => {
        vi.stubEnv("HF_ENDPOINT", "http://qwen3-embedding-test.invalid");
        const error = await rejection(pullModel("qwen3-embedding-0.6b", { modelsDir, connectTimeoutMs: 5_000 }));
        expect(error).toBeInstanceOf(ModelFileError);
        expect(error.message).toMatch(/ failed: cannot resolve the host qwen3-embedding-test\.invalid \((ENOTFOUND|EAI_AGAIN|EAI_NODATA|EAI_NONAME|EAI_FAIL)\); check the network connection/);
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
        serveModel(id, flavour, shape);
        const error = await rejection(pullModel(id, { modelsDir }));
        const path = join(modelsDir, file);
        expect(error).toBeInstanceOf(UnsupportedModelError);
        expect(error.message).toBe(
            `${path} is not a usable ${what} model: ${reason}. The file was kept; it came from ${url}: delete it, or pull another quantization (${modelId}:<quant>)`,
        );
        expect(existsSync(path)).toBe(true);
    });

    it("passes on the kind check's own refusal", async () => {
        serveModel("qwen3-embedding-0.6b", "mean-pooled", EMBEDDING_06B);
        const error = await rejection(pullModel("qwen3-embedding-0.6b", { modelsDir }));
        expect(error).toBeInstanceOf(UnsupportedModelError);
        expect(error.message).toBe(
            `${join(modelsDir, "Qwen3-Embedding-0.6B-Q8_0.gguf")} is not a usable Qwen3-Embedding-0.6B embedding model: ` +
            `${join(modelsDir, "Qwen3-Embedding-0.6B-Q8_0.gguf")} uses MEAN pooling, which no Qwen3 embedding or reranker model uses; convert the original checkpoint again with llama.cpp's convert_hf_to_gguf.py. ` +
            "The file was kept; it came from https://huggingface.co/Qwen/Qwen3-Embedding-0.6B-GGUF/resolve/main/Qwen3-Embedding-0.6B-Q8_0.gguf: delete it, or pull another quantization (qwen3-embedding-0.6b:<quant>)",
        );
    });

    it("says to delete and pull again a file that is not a GGUF", async () => {
        hub.files.set("Qwen/Qwen3-Embedding-0.6B-GGUF/Qwen3-Embedding-0.6B-Q8_0.gguf", Buffer.from("<html>rate limited</html>"));
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
        serveModel("qwen3-reranker-0.6b", "reranker-causal", { ...EMBEDDING_06B, name: "Qwen3 Reranker 0.6B" });
        const result = await pullModel("qwen3-reranker-0.6b", { modelsDir: checkout });
        expect(result.path).toBe(join(checkout, "qwen3-reranker-0.6b-q8_0.gguf"));
        expect(await readdir(checkout)).toEqual(["qwen3-reranker-0.6b-q8_0.gguf"]);
    });

    it("trusts the registry for an unpooled header whose name says nothing", async () => {
        serveModel("qwen3-embedding-0.6b", "reranker-causal", { ...EMBEDDING_06B, name: "" });
        expect((await pullModel("qwen3-embedding-0.6b", { modelsDir })).downloaded).toBe(true);
        serveModel("qwen3-reranker-4b", "embedding-unpooled", { hiddenSize: 2560, layers: 36, name: "" });
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
