/**
 * Processes killed in the middle of a batch, and writers in several processes at once, on both backends: the store
 * is consistent afterwards (a batch is there entirely or not at all) and nothing written before is lost. On the
 * embedded store, nothing an upsert acknowledged is lost to a kill -9 (that it is on disk, not only in the operating
 * system's cache, is what embedded-commit-sync.store.test.ts checks).
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../fixtures/qwen3-fixture.js";
import { openStore } from "../../src/exports/store.js";
import { startLineChild } from "./support/line-child.js";
import { BACKENDS, newStoreDirectory, randomUnitVectors, startBackend, temporaryDirectory } from "./support/store-backends.js";

const CHILD = join(REPO_ROOT, "test", "applications", "support", "upsert-child.ts");
const ACKNOWLEDGING_WRITER = join(REPO_ROOT, "test", "applications", "support", "acknowledging-writer.ts");
const startChild = (args: string[]) => startLineChild(CHILD, args);
const parent = temporaryDirectory("qwen3-durability-test-");
afterAll(() => rmSync(parent, { recursive: true, force: true }));

describe.each(BACKENDS)("%s", (kind) => {
    it("a process killed in the middle of a batch upsert leaves the batch out and everything before intact", async () => {
        const backend = await startBackend(kind, join(parent, `kill-${kind}`));
        try {
            // Data indexed before, by this process.
            let store = await backend.open();
            await store.ensureNamespace("durable", { model: "test-model", dimensions: 16 });
            const before = randomUnitVectors(120, 16, 3).map((embedding, index) => ({ id: `before-${index}`, text: `before ${index}`, embedding }));
            await store.upsert("durable", before);
            if (kind === "pglite") await store.close(); // one process at a time holds an embedded database

            const child = startChild([backend.database, "durable", "0", "400", "hang"]);
            await child.waitFor("mid-transaction"); // 50 of its 400 rows are written, inside its transaction
            if (kind === "pglite") {
                // While it holds the directory nobody else may open it.
                await expect(backend.open()).rejects.toMatchObject({ reason: "locked", message: expect.stringContaining(`in use by process ${child.process.pid}`) as unknown as string });
            }
            child.process.kill("SIGKILL");
            expect((await child.exited).signal).toBe("SIGKILL");

            if (kind === "pglite") store = await backend.open(); // recovers, and takes over the dead process's lock
            expect(await store.count("durable")).toBe(before.length);
            const kept = await store.get("durable", before.map((item) => item.id), { withEmbeddings: true });
            expect(kept.map((item) => [item.id, item.text])).toEqual(before.map((item) => [item.id, item.text]));
            kept.forEach((item, index) => expect(item.embedding).toEqual(before[index]!.embedding));
            const [nearest] = await store.search("durable", before[7]!.embedding, { topK: 1 });
            expect(nearest!.id).toBe("before-7");

            // The same batch again, to the end: all of it is there.
            if (kind === "pglite") await store.close();
            const again = startChild([backend.database, "durable", "0", "400", "complete"]);
            await again.waitFor("committed");
            expect((await again.exited).code).toBe(0);
            if (kind === "pglite") store = await backend.open();
            expect(await store.count("durable")).toBe(before.length + 400);
            await store.close();
        } finally {
            await backend.stop();
        }
    });
});

describe("postgres", () => {
    it("writers in three processes at once over overlapping ids: every row once, none lost", async () => {
        const backend = await startBackend("postgres", join(parent, "concurrent"));
        try {
            const store = await backend.open();
            await store.ensureNamespace("shared", { model: "test-model", dimensions: 16 });
            // ids shared-0..299, shared-100..399, shared-200..499
            const children = [0, 100, 200].map((first) => startChild([backend.database, "shared", String(first), "300", "complete"]));
            const results = await Promise.all(children.map((child) => child.exited));
            for (const result of results) expect(result).toMatchObject({ code: 0 });
            expect(await store.count("shared")).toBe(500);
            const items = await store.get("shared", Array.from({ length: 500 }, (_, index) => `shared-${index}`));
            expect(items.length).toBe(500);
            const writers = new Set(children.map((child) => `written by pid ${child.process.pid}`));
            for (const item of items) expect(writers.has(item.text)).toBe(true);
            await store.close();
        } finally {
            await backend.stop();
        }
    });
});

describe("pglite", () => {
    it("kill -9 while writing batch after batch: every acknowledged item is there, with its content, and the store reopens", async () => {
        const database = await newStoreDirectory(parent, "acknowledged");
        const size = 64;
        const writer = startLineChild(ACKNOWLEDGING_WRITER, [database, "acked", String(size)]);
        await writer.waitFor((line) => line.startsWith("acknowledged 2 ")); // three batches acknowledged; it writes the fourth
        writer.process.kill("SIGKILL");
        expect((await writer.exited).signal).toBe("SIGKILL");
        const acknowledged = writer.lines().filter((line) => line.startsWith("acknowledged ")).map((line) => {
            const [, batch, ...ids] = line.split(" ");
            return { batch: Number(batch), ids };
        });
        expect(acknowledged.length).toBeGreaterThanOrEqual(3);

        const store = await openStore({ database }); // recovers, and takes over the dead writer's lock
        try {
            // Whole batches, in the order written: the acknowledged ones, and perhaps the one in flight when killed.
            const count = await store.count("acked");
            expect(count % size).toBe(0);
            expect(count / size).toBeGreaterThanOrEqual(acknowledged.length);
            for (const { batch, ids } of acknowledged) {
                const stored = await store.get("acked", ids, { withEmbeddings: true });
                expect(stored.map((item) => [item.id, item.text])).toEqual(ids.map((id) => [id, `text of ${id}`]));
                const vectors = randomUnitVectors(size, 16, 1000 + batch);
                stored.forEach((item, index) => expect(item.embedding).toEqual(vectors[index]));
            }
            const [nearest] = await store.search("acked", randomUnitVectors(size, 16, 1000)[5]!, { topK: 1 });
            expect(nearest!.id).toBe("acked-0-5");
        } finally {
            await store.close();
        }
    });
});
