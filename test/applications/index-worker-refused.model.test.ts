/**
 * A job whose result Redis refuses: the worker's lock on it is gone by the time the job is done (Redis was away longer
 * than the stall interval, or came back without it). The worker says so with an `error` event naming the job, instead
 * of nothing; the job goes back to the queue and is done again, and its documents are written once. A real
 * redis-server on 127.0.0.1, an embedded store, an in-process worker on the tiny fixture model.
 */
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { createEmbedder, type Embedder } from "../../src/index.js";
import { openStore } from "../../src/exports/store.js";
import { startIndexWorker, type IndexWorkerEvent } from "../../src/exports/queue.js";
import { loadTangPoems } from "../support/corpus.js";
import { until } from "../support/until.js";
import { useQueueTestBed } from "./support/queue-test-bed.js";

const QUEUE_NAME = "refused";
const NAMESPACE = "kb";

const bed = useQueueTestBed("qwen3-worker-refused-test-");

describe("a job whose result Redis refuses", () => {
    it("is reported with its id, goes back to the queue, and is written once", async () => {
        const { redis, modelPath, database } = bed;
        const docs = loadTangPoems(3032).slice(3030).map((text, index) => ({ id: `r${index}`, text }));
        const embedder = await createEmbedder({ model: modelPath });
        // The first embedDocuments call waits until the test has taken the job's lock away.
        let release: (() => void) | undefined;
        const lockGone = new Promise<void>((resolve) => (release = resolve));
        let calls = 0;
        const gated = new Proxy(embedder, {
            get(target, property, receiver) {
                if (property !== "embedDocuments") return Reflect.get(target, property, receiver) as unknown;
                return async (...args: Parameters<Embedder["embedDocuments"]>) => {
                    if (calls++ === 0) await lockGone;
                    return target.embedDocuments(...args);
                };
            },
        });
        const queue = new Queue(QUEUE_NAME, { connection: { url: redis.url, maxRetriesPerRequest: null } });
        queue.on("error", () => undefined);
        const store = await openStore({ database });
        const events: IndexWorkerEvent[] = [];
        try {
            const worker = await startIndexWorker({
                queue: redis.url, queueName: QUEUE_NAME, embedder: gated, store, stallIntervalMs: 1000, onEvent: (event) => events.push(event),
            });
            try {
                await queue.add("index", { namespace: NAMESPACE, documents: docs, tokens: 100 }, { jobId: "j1" });
                await until(() => events.some((event) => event.event === "active"), "the worker to take the job");
                const client = new Redis(redis.url);
                try {
                    expect(await client.del(`bull:${QUEUE_NAME}:j1:lock`)).toBe(1);
                } finally {
                    client.disconnect();
                }
                release!();

                await until(() => events.some((event) => event.event === "completed"), "the job to be done again and complete");
                expect(await queue.getCompletedCount()).toBe(1);
                // Redis's refusal names the job: the lock renewal's "could not renew lock for job j1" when it runs first
                // (a loaded host), then the result's "Missing lock for job j1" ("Lock mismatch" if the stalled-job check
                // gave the job out again before the first result came).
                const first = events.findIndex((event) => event.event === "error");
                const reasons = events.flatMap((event) => (event.event === "error" ? [event.reason] : []));
                expect(reasons.some((reason) => /^(Missing lock|Lock mismatch) for job j1\b/.test(reason)), reasons.join("; ")).toBe(true);
                expect(reasons.every((reason) => /\bjob j1\b/.test(reason)), reasons.join("; ")).toBe(true);
                // Taken twice, completed once: the first result was refused, not reported as completed.
                expect(events.filter((event) => event.event === "active")).toHaveLength(2);
                expect(events.filter((event) => event.event === "completed")).toEqual([{ event: "completed", job: "j1", result: expect.anything() }]);
                expect(events.findIndex((event) => event.event === "completed")).toBeGreaterThan(first);
            } finally {
                await worker.close();
            }
            // The refused run wrote its rows; the second found them unchanged.
            expect(worker.stats()).toMatchObject({ jobsCompleted: 1, documentsWritten: 2, documentsUnchanged: 2 });
            expect(await store.count(NAMESPACE)).toBe(2);
        } finally {
            await store.close();
            await queue.close();
            await embedder.dispose();
        }
    }, 120_000);
});
