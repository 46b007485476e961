import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AbortedError, cosineSimilarity, createEmbedder, createReranker, InvalidOptionError, WorkerError, type Embedder } from "../../src/index.js";
import { loadNativeAddon } from "../../src/engine/native-addon.js";
import { EnginePool } from "../../src/runtime/engine-pool.js";
import { inspectGguf } from "../../src/models/gguf-inspection.js";
import { ensureFixtureModel } from "../fixtures/qwen3-fixture.js";
import { loadTestCorpus } from "../support/corpus.js";
import { afterCpuTime } from "../support/cpu-time.js";

const texts = loadTestCorpus().map((item) => item.text).filter((text) => text.length < 2500).slice(0, 24);
let path: string;
let inProcess: Embedder;

beforeAll(async () => {
    path = await ensureFixtureModel({ kind: "embedding", size: "tiny" });
    inProcess = await createEmbedder({ model: path, workers: 0, batchTokens: 256, contextSize: 4096 });
});
afterAll(async () => {
    await inProcess?.close();
});

describe("engine worker pool", () => {
    it("two workers share one copy of the weights and give the same embeddings as the engine in this thread", async () => {
        const before = loadNativeAddon().liveModelCount();
        const pooled = await createEmbedder({ model: path, workers: 2, batchTokens: 256, contextSize: 4096 });
        try {
            expect(loadNativeAddon().liveModelCount()).toBe(before); // this thread already holds the file
            // Concurrent calls keep both workers busy.
            const results = await Promise.all(texts.map((text) => pooled.embed([text])));
            const reference = await inProcess.embed(texts);
            results.forEach((result, index) => {
                expect(cosineSimilarity(result.embeddings[0] as Float32Array, reference.embeddings[index] as Float32Array)).toBeGreaterThanOrEqual(0.99999);
            });
            expect(pooled.stats()!.completedBatches).toBeGreaterThanOrEqual(2);
        } finally {
            await pooled.close();
        }
        expect(loadNativeAddon().liveModelCount()).toBe(before);
    });

    it("a worker that dies fails only its batch with WorkerError; a replacement serves the next call", async () => {
        const pool = await EnginePool.start({ workers: 1, model: await inspectGguf(path), load: {}, context: { batchTokens: 256, contextSize: 4096 } });
        try {
            const [first] = pool.threads;
            const sequences = Array.from({ length: 64 }, (_, i) => Int32Array.from({ length: 200 }, (_, j) => 100 + ((i * 7 + j) % 5000)));
            const running = pool.runBatch("embed", sequences, new AbortController().signal, "bulk").catch((error: unknown) => error);
            // The idle worker takes the task as it is posted: terminating it right after cannot miss the batch.
            setImmediate(() => void first!.terminate());
            const error = await running;
            expect(error).toBeInstanceOf(WorkerError);
            expect((error as Error).message).toMatch(/^An engine worker stopped while running this batch; it is being replaced, so retry the call \(/);
            const rows = await pool.runBatch("embed", [Int32Array.of(1, 2, 3)], new AbortController().signal, "bulk");
            expect(rows.length).toBe(pool.info.embeddingSize);
            expect(pool.threads[0]!.threadId).not.toBe(first!.threadId);
        } finally {
            await pool.close();
        }
    });

    it("an abort reaches the batch running in the worker, which then serves the next call", async () => {
        const pool = await EnginePool.start({ workers: 1, model: await inspectGguf(path), load: {}, context: { batchTokens: 256, contextSize: 4096 } });
        try {
            // Several hundred ms of decoding: once the worker has used 50 ms of CPU on it, the abort lands while it runs.
            const sequences = Array.from({ length: 256 }, (_, i) => Int32Array.from({ length: 200 }, (_, j) => 100 + ((i * 7 + j) % 5000)));
            const controller = new AbortController();
            const running = pool.runBatch("embed", sequences, controller.signal, "bulk").catch((error: unknown) => error);
            await afterCpuTime(50);
            controller.abort();
            expect(await running).toBeInstanceOf(AbortedError);
            await expect(pool.runBatch("embed", sequences, AbortSignal.abort(), "bulk")).rejects.toBeInstanceOf(AbortedError);
            const rows = await pool.runBatch("embed", [Int32Array.of(1, 2, 3)], new AbortController().signal, "bulk");
            expect(rows.length).toBe(pool.info.embeddingSize);
        } finally {
            await pool.close();
        }
    });

    it("a worker that cannot start fails createEmbedder with the worker's typed error, once, and leaves nothing running", async () => {
        const before = loadNativeAddon().liveModelCount();
        const attempt = createEmbedder({ model: path, workers: 2, batchTokens: 512, contextSize: 256 });
        await expect(attempt).rejects.toBeInstanceOf(InvalidOptionError);
        await expect(attempt).rejects.toThrow(/contextSize/);
        expect(loadNativeAddon().liveModelCount()).toBe(before);
    });

    it("validates the pool options", async () => {
        await expect(createEmbedder({ model: path, workers: -1 })).rejects.toThrow(/workers/);
        await expect(createEmbedder({ model: path, workers: 1.5 })).rejects.toThrow(/workers/);
        await expect(createEmbedder({ model: path, maxQueuedTokens: 0 })).rejects.toThrow(/maxQueuedTokens/);
        await expect(inProcess.embed(["x"], { priority: "urgent" as never })).rejects.toThrow(/priority/);
        await expect(inProcess.embed(["x"], { timeoutMs: 0 })).rejects.toThrow(/timeoutMs/);
    });

    it("reranks through the pool with the same scores as in this thread", async () => {
        const rankPath = await ensureFixtureModel({ kind: "reranker-rank", size: "tiny" });
        const pooled = await createReranker({ model: rankPath, workers: 1, batchTokens: 256, contextSize: 4096 });
        const local = await createReranker({ model: rankPath, workers: 0, batchTokens: 256, contextSize: 4096 });
        try {
            const documents = texts.slice(0, 8);
            const [a, b] = await Promise.all([pooled.score(documents.map((d) => ["what is this about?", d])), local.score(documents.map((d) => ["what is this about?", d]))]);
            a.forEach((score, index) => expect(Math.abs(score - b[index]!)).toBeLessThan(1e-6));
        } finally {
            await Promise.all([pooled.close(), local.close()]);
        }
    });
});
