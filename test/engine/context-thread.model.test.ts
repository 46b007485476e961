// The native runtime of a context (native/context-thread.h): each call has its own abort flag, raised whether the
// call is queued or running; interactive calls run between a bulk call's decodes; dispose stops everything and
// frees the context on its own thread. No test here waits on a clock: each acts on what the engine has reported.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AbortedError, DisposedError } from "../../src/index.js";
import { loadEngineModel, type EngineContext, type EngineModel } from "../../src/exports/engine.js";
import { ensureFixtureModel } from "../fixtures/qwen3-fixture.js";

let path: string;
let model: EngineModel;
let context: EngineContext;

beforeAll(async () => {
    path = await ensureFixtureModel({ kind: "embedding", size: "tiny" });
    model = await loadEngineModel(path);
    context = await model.createContext({ batchTokens: 512, contextSize: 1024 });
});

afterAll(async () => {
    await context?.dispose();
    await model?.dispose();
});

/** `count` sequences of `length` tokens, distinct from each other. */
const texts = (count: number, length: number, seed = 0) =>
    Array.from({ length: count }, (_, i) => Int32Array.from({ length }, (_, j) => 100 + ((i * 7919 + j * 31 + seed * 104729) % 50000)));

describe("abort", () => {
    it("an abort raised while the call is still queued behind another is never lost", async () => {
        const first = texts(16, 300);
        const queued = texts(4, 300, 1);
        const controller = new AbortController();
        const running = context.embedBatch(first);
        const waiting = context.embedBatch(queued, { signal: controller.signal });
        controller.abort(); // `waiting` has not started: the first call holds the context's thread
        await expect(waiting).rejects.toBeInstanceOf(AbortedError);
        const rows = await running;
        expect(rows).toEqual(await context.embedBatch(first)); // the call ahead of it was not touched
    });

    it("a call aborted as soon as it is made does not run to the end", async () => {
        const sequences = texts(64, 300, 2);
        const before = context.decodeCount;
        const controller = new AbortController();
        const call = context.embedBatch(sequences, { signal: controller.signal });
        controller.abort();
        await expect(call).rejects.toBeInstanceOf(AbortedError);
        expect(context.decodeCount - before).toBeLessThan(sequences.length);
    });

    it("an abort between decodes stops the call before its next one", async () => {
        // 64 texts of 300 tokens: over 64 decodes. The interactive call runs between two of them, so when it has
        // resolved the bulk call is part way through; the abort raised then stops it at its next decode boundary
        // (or, on the CPU, inside the decode in flight).
        const bulkTexts = texts(64, 300, 3);
        const controller = new AbortController();
        const bulk = context.embedBatch(bulkTexts, { signal: controller.signal }).then(
            () => "resolved",
            (error: unknown) => error,
        );
        await context.embedBatch(texts(1, 20, 4), { priority: "interactive" });
        const decodesAtAbort = context.decodeCount;
        controller.abort();
        expect(await bulk).toBeInstanceOf(AbortedError);
        expect(context.decodeCount - decodesAtAbort).toBeLessThanOrEqual(1);
        expect(context.decodeCount).toBeLessThan(decodesAtAbort + bulkTexts.length);
    });
});

describe("interactive calls between bulk decodes", () => {
    it("run before the bulk call in flight ends, and both get the bits they get alone (bulk texts then go in chunks)", async () => {
        // A context that has seen no interactive call decodes bulk texts whole; while interactive calls come in it
        // decodes them in chunks of 64 to 127 tokens, so that they can run in between. Same bits either way.
        const fresh = await model.createContext({ batchTokens: 512, contextSize: 1024 });
        try {
            const bulkTexts = [...texts(16, 300, 5), ...texts(4, 130, 10), ...texts(4, 191, 11), ...texts(8, 40, 6)];
            const query = texts(3, 25, 7);
            const bulkWhole = await fresh.embedBatch(bulkTexts);
            const queryAlone = await fresh.embedBatch(query);
            const decodesWhole = fresh.decodeCount;
            await fresh.embedBatch(query, { priority: "interactive" }); // interactive traffic from now on
            const order: string[] = [];
            const before = fresh.decodeCount;
            const bulk = fresh.embedBatch(bulkTexts).then((rows) => (order.push("bulk"), rows));
            const interactive = fresh.embedBatch(query, { priority: "interactive" }).then((rows) => (order.push("interactive"), rows));
            const [bulkRows, queryRows] = await Promise.all([bulk, interactive]);
            expect(order).toEqual(["interactive", "bulk"]);
            expect(queryRows).toEqual(queryAlone);
            expect(bulkRows).toEqual(bulkWhole);
            // This time the 300-token texts went in four chunks each (of 75 tokens), the others in two, not one each.
            expect(fresh.decodeCount - before).toBeGreaterThanOrEqual(decodesWhole - 1 + 3 * 16 + 4 + 4);
        } finally {
            await fresh.dispose();
        }
    });

    it("give up a whole decode in flight for the first interactive call, which runs at once; the text is decoded again in chunks, to the same bits", async () => {
        // No interactive call yet, so bulk texts are decoded whole: 8000 tokens in one decode (a second or so).
        const fresh = await model.createContext({ batchTokens: 8192, contextSize: 8192 });
        try {
            const long = texts(1, 8000, 12);
            const query = texts(2, 30, 13);
            const whole = await fresh.embedBatch(long);
            const queryAlone = await fresh.embedBatch(query);
            const order: string[] = [];
            const before = fresh.decodeCount;
            const bulk = fresh.embedBatch(long).then((rows) => (order.push("bulk"), rows));
            while (fresh.decodeCount === before) await new Promise(setImmediate); // the whole decode has started
            const interactive = fresh.embedBatch(query, { priority: "interactive" }).then((rows) => (order.push("interactive"), rows));
            const [bulkRows, queryRows] = await Promise.all([bulk, interactive]);
            expect(order).toEqual(["interactive", "bulk"]);
            expect(queryRows).toEqual(queryAlone);
            expect(bulkRows).toEqual(whole);
            // The given-up decode, the interactive call's, then 8000 tokens in chunks of 64 to 127.
            expect(fresh.decodeCount - before).toBeGreaterThanOrEqual(2 + 62);
        } finally {
            await fresh.dispose();
        }
    });
});

describe("dispose", () => {
    it("rejects the queued and the running calls with DisposedError and resolves once the context is freed", async () => {
        const own = await loadEngineModel(path);
        const ownContext = await own.createContext({ batchTokens: 512, contextSize: 1024 });
        const running = ownContext.embedBatch(texts(64, 300, 8)).catch((error: unknown) => error);
        const queued = ownContext.embedBatch(texts(2, 300, 9)).catch((error: unknown) => error);
        await ownContext.dispose();
        expect(await running).toBeInstanceOf(DisposedError);
        expect(await queued).toBeInstanceOf(DisposedError);
        await own.dispose();
    });
});

describe("threads", () => {
    it("decodes do not run on libuv's pool: with UV_THREADPOOL_SIZE=1, a file read during a long decode is not held up", () => {
        const script = fileURLToPath(new URL("../support/read-file-during-decode.ts", import.meta.url));
        const child = spawnSync(process.execPath, ["--import", "tsx", script, path], {
            env: { ...process.env, UV_THREADPOOL_SIZE: "1" },
            encoding: "utf8",
            timeout: 300_000,
        });
        expect(child.stderr).toBe("");
        const { decodeMs, readMs } = JSON.parse(child.stdout) as { decodeMs: number; readMs: number };
        // A read that had to wait for the decode would take about as long as the decode itself.
        expect(readMs).toBeLessThan(decodeMs / 10);
    });
});
