/**
 * The producer given the workers' database (`enqueueIndexJobs({ store })`, `index --queue --database`): documents the
 * namespace holds unchanged for the model are not enqueued, new and changed ones are. A real redis-server on 127.0.0.1,
 * an embedded (PGlite) store in a directory, the in-process indexer and an in-process worker on the tiny fixture model.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { Queue } from "bullmq";
import { describe, expect, it } from "vitest";
import { createEmbedder, createTokenizer } from "../../src/index.js";
import { createSearchIndex, openStore } from "../../src/exports/store.js";
import { enqueueIndexJobs, startIndexWorker } from "../../src/exports/queue.js";
import { ensureFixtureModel } from "../fixtures/qwen3-fixture.js";
import { loadTangPoems } from "../support/corpus.js";
import { until } from "../support/until.js";
import { runCli } from "../support/run-cli.js";
import { useQueueTestBed } from "./support/queue-test-bed.js";
import { startPgliteServer } from "./support/store-backends.js";

const NAMESPACE = "kb";
const QUEUE_NAME = "skip";

const bed = useQueueTestBed("qwen3-queue-skip-test-");

describe("the producer with the workers' database", () => {
    it("enqueues only new and changed documents, a worker writes them, and a re-run enqueues nothing", async () => {
        const { parent, redis, modelPath, database } = bed;
        const docs = loadTangPoems(3010).slice(3000).map((text, index) => ({ id: `p${index}`, text }));
        const revised = `${docs[3]!.text}（改）`;
        // The input of the queued run: p0..p7 as indexed except p3 (same id, another text), and p8, p9 new.
        const input = [...docs.slice(0, 8).map((doc) => (doc.id === "p3" ? { ...doc, text: revised } : doc)), ...docs.slice(8)];

        const embedder = await createEmbedder({ model: modelPath });
        const queue = new Queue(QUEUE_NAME, { connection: { url: redis.url, maxRetriesPerRequest: null } });
        queue.on("error", () => undefined);
        try {
            let store = await openStore({ database });
            try {
                // p0..p7 indexed by the in-process indexer.
                const index = await createSearchIndex({ embedder, store, namespace: NAMESPACE });
                expect(await index.index(docs.slice(0, 8))).toMatchObject({ written: 8 });

                // A namespace of another model (another file: the fixture with add_eos_token) is refused, nothing enqueued.
                const other = await createTokenizer({ model: await ensureFixtureModel({ kind: "embedding", size: "tiny", addEos: true }) });
                try {
                    await expect(enqueueIndexJobs({ queue: redis.url, queueName: QUEUE_NAME, tokenizer: other, namespace: NAMESPACE, documents: input, store }))
                        .rejects.toThrow(`Namespace "${NAMESPACE}" holds vectors of model`);
                } finally {
                    await other.dispose();
                }
                expect(await queue.count()).toBe(0);

                // The library call: 7 unchanged left out; p3 (changed), p8 and p9 enqueued, one document a job.
                const enqueued = await enqueueIndexJobs({ queue: redis.url, queueName: QUEUE_NAME, tokenizer: embedder, namespace: NAMESPACE, documents: input, store, jobTokens: 16 });
                expect(enqueued).toMatchObject({ namespace: NAMESPACE, documents: 3, unchanged: 7, jobs: [expect.anything(), expect.anything(), expect.anything()] });
                const jobs = await queue.getJobs(["waiting", "prioritized"]);
                expect(jobs).toHaveLength(3);
                const queued = jobs.flatMap((job) => (job.data as { documents: { id: string; text: string }[] }).documents);
                expect(queued.map((doc) => doc.id).sort()).toEqual(["p3", "p8", "p9"]);
                expect(queued.find((doc) => doc.id === "p3")!.text).toBe(revised);

                // An in-process worker on the same store drains them.
                const worker = await startIndexWorker({ queue: redis.url, queueName: QUEUE_NAME, embedder, store, jobTokens: 16 });
                try {
                    await until(async () => (await queue.getCompletedCount()) === 3, "the 3 jobs to complete");
                } finally {
                    await worker.close();
                }
                expect(worker.stats()).toMatchObject({ jobsCompleted: 3, documentsWritten: 3, documentsUnchanged: 0 });

                // The rows: 10, p3 rewritten with its new text, the 7 others never rewritten.
                expect(await store.count(NAMESPACE)).toBe(10);
                const rows = await store.get(NAMESPACE, input.map((doc) => doc.id));
                expect(rows.map((row) => row.text)).toEqual(input.map((doc) => doc.text));
                const rewritten = rows.filter((row) => row.updatedAt.getTime() !== row.createdAt.getTime()).map((row) => row.id);
                expect(rewritten).toEqual(["p3"]);
            } finally {
                await store.close();
            }

            // The CLI, with the directory free again: everything is stored now, so nothing is enqueued.
            const file = join(parent, "input.jsonl");
            writeFileSync(file, input.map((doc) => JSON.stringify(doc)).join("\n") + "\n");
            const args = ["index", "--queue", redis.url, "--queue-name", QUEUE_NAME, "--embedding-model", modelPath, "--namespace", NAMESPACE,
                "--input", file, "--job-tokens", "16", "--database", database, "--detach"];
            const again = await runCli(args);
            expect(again.code, again.stderr).toBe(0);
            expect(JSON.parse(again.stdout)).toEqual({ namespace: NAMESPACE, queue: expect.any(String), documents: 0, unchanged: 10, tokens: 0, jobs: 0 });
            expect(again.stderr).toContain(`checked 10 documents against ${database}: 10 stored unchanged (skipped), 0 to enqueue`);
            expect(await queue.count()).toBe(0);

            // While this process holds the embedded database, the producer names the problem and the fixes, and adds nothing.
            store = await openStore({ database });
            try {
                const locked = await runCli(args);
                expect(locked.code).toBe(1);
                expect(locked.stderr).toContain("Cannot read --database to skip documents stored unchanged: ");
                expect(locked.stderr).toContain(`is in use by process ${process.pid}`);
                expect(locked.stderr).toContain("give the workers and the producer a PostgreSQL server (--database postgres://...), or leave out --database");
            } finally {
                await store.close();
            }

            // A directory with no database in it: named, not created.
            const missing = await runCli([...args.slice(0, -3), "--database", join(parent, "nowhere"), "--detach"]);
            expect(missing.code).toBe(1);
            expect(missing.stderr).toContain(`Cannot read --database to skip documents stored unchanged: No database at ${join(parent, "nowhere")}`);
            expect(missing.stderr).toContain("leave out --database to enqueue every document");
            expect(await queue.count()).toBe(0);
        } finally {
            await queue.close();
            await embedder.dispose();
        }
    }, 180_000);

    it("reads a PostgreSQL server while a worker holds a connection to it", async () => {
        const { parent, redis, modelPath } = bed;
        const docs = loadTangPoems(3020).slice(3014).map((text, index) => ({ id: `s${index}`, text }));
        const served = await startPgliteServer(parent, "served");
        const embedder = await createEmbedder({ model: modelPath });
        const queue = new Queue("served", { connection: { url: redis.url, maxRetriesPerRequest: null } });
        queue.on("error", () => undefined);
        try {
            // s0..s3 indexed by a process that stays connected, as a worker does.
            const store = await openStore({ database: served.url, poolSize: 1 });
            try {
                const index = await createSearchIndex({ embedder, store, namespace: "kb5" });
                expect(await index.index(docs.slice(0, 4))).toMatchObject({ written: 4 });
                const file = join(parent, "served.jsonl");
                writeFileSync(file, docs.map((doc) => JSON.stringify(doc)).join("\n") + "\n");
                const run = await runCli(["index", "--queue", redis.url, "--queue-name", "served", "--embedding-model", modelPath, "--namespace", "kb5",
                    "--input", file, "--job-tokens", "16", "--database", served.url, "--detach"]);
                expect(run.code, run.stderr).toBe(0);
                expect(JSON.parse(run.stdout)).toMatchObject({ namespace: "kb5", documents: 2, unchanged: 4, jobs: 2 });
                const queued = (await queue.getJobs(["waiting", "prioritized"])).flatMap((job) => (job.data as { documents: { id: string }[] }).documents);
                expect(queued.map((doc) => doc.id).sort()).toEqual(["s4", "s5"]);
            } finally {
                await store.close();
            }
        } finally {
            await queue.close();
            await embedder.dispose();
            await served.stop();
        }
    }, 120_000);
});
