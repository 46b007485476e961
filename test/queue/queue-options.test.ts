/** The queue's options are checked before BullMQ loads or Redis is reached; job planning is pure. */
import { describe, expect, it } from "vitest";
import { enqueueIndexJobs, queueStatus, startIndexWorker, watchIndexJobs } from "../../src/exports/queue.js";
import { checkIndexJobData, indexJobId, planIndexJobs } from "../../src/queue/index-jobs.js";
import { prepareDocuments } from "../../src/applications/document-indexer.js";
import { VectorStore } from "../../src/store/vector-store.js";

const tokenizer = { tokenize: async (texts: readonly string[]) => texts.map((text) => new Int32Array(text.length)) };
const enqueue = (extra: Record<string, unknown>) => enqueueIndexJobs({ queue: "redis://127.0.0.1:1", tokenizer, documents: ["a"], ...extra } as never);

describe("queue options", () => {
    it("names the option, what was expected and what was received", async () => {
        await expect(enqueue({ queue: "http://x" })).rejects.toThrow('Expected a redis:// or rediss:// URL for queue but received the string "http://x"');
        await expect(enqueue({ queueName: "a:b" })).rejects.toThrow('Expected 1 to 100 letters, digits, "-", "_" or "." for queueName but received the string "a:b"');
        await expect(enqueue({ tokenizer: {} })).rejects.toThrow("Expected a Tokenizer (from createTokenizer) or an Embedder for tokenizer but received an object");
        await expect(enqueue({ jobTokens: 8 })).rejects.toThrow("Expected an integer between 16 and 1000000 for jobTokens but received number 8");
        await expect(enqueue({ attempts: 0 })).rejects.toThrow("Expected an integer between 1 and 100 for attempts but received number 0");
        await expect(enqueue({ backoffMs: -1 })).rejects.toThrow("Expected an integer between 0 and 3600000 for backoffMs but received number -1");
        await expect(enqueue({ priority: 1.5 })).rejects.toThrow("Expected an integer between 0 and 2097152 for priority but received number 1.5");
        await expect(enqueue({ attemps: 3 })).rejects.toThrow('Unknown option "attemps" in enqueueIndexJobs options');
        await expect(enqueue({ documents: ["ok", "bad\u0000"] })).rejects.toThrow("documents[1]");
        await expect(enqueue({ store: {} })).rejects.toThrow("Expected a store (from openStore) for store but received an object");
        const aStore = Object.create(VectorStore.prototype) as VectorStore; // passes the instanceof check; never reached
        await expect(enqueue({ store: aStore })).rejects.toThrow(
            "Expected a tokenizer with a modelPath (a Tokenizer from createTokenizer, or an Embedder) for tokenizer when a store is given, " +
            "to check the namespace's model against, but received an object",
        );
        await expect(watchIndexJobs({ queue: "redis://h", jobs: "x" } as never)).rejects.toThrow("Expected an array of jobs (EnqueueResult.jobs) for jobs but received the string \"x\"");
        await expect(watchIndexJobs({ queue: "redis://h", jobs: [], intervalMs: 10 })).rejects.toThrow("Expected an integer between 50 and 60000 for intervalMs but received number 10");
        await expect(queueStatus({ queue: "redis://h", failedLimit: -1 })).rejects.toThrow("Expected an integer between 0 and 10000 for failedLimit but received number -1");
        await expect(startIndexWorker({ queue: "redis://h", embedder: 3 } as never)).rejects.toThrow("Expected an Embedder (from createEmbedder) for embedder but received number 3");
        const embedder = { embedDocuments: () => undefined };
        const store = Object.create(VectorStore.prototype) as VectorStore; // passes the instanceof check; never reached
        await expect(startIndexWorker({ queue: "redis://h", embedder, store, maxJobsPerSecond: 0 } as never)).rejects.toThrow("Expected an integer between 1 and 100000 for maxJobsPerSecond but received number 0");
        await expect(startIndexWorker({ queue: "redis://h", embedder, store, stallIntervalMs: 999 } as never)).rejects.toThrow("Expected an integer between 1000 and 3600000 for stallIntervalMs but received number 999");
        await expect(startIndexWorker({ queue: "redis://h", embedder, store, tokenBudget: 8 } as never)).rejects.toThrow("Expected an integer between 16 and 10000000 for tokenBudget but received number 8");
        await expect(startIndexWorker({ queue: "redis://h", embedder, store: {} } as never)).rejects.toThrow("Expected a store (from openStore) for store but received an object");
    });
});

describe("planIndexJobs", () => {
    const documents = prepareDocuments(["one", "two", "three", "four", "a long one"]);

    it("groups whole documents in order up to the token size; a longer document is a job of its own", () => {
        const jobs = planIndexJobs("kb", documents, [10, 10, 10, 10, 50], 25);
        expect(jobs.map((job) => job.data.documents.map((document) => document.text))).toEqual([["one", "two"], ["three", "four"], ["a long one"]]);
        expect(jobs.map((job) => job.data.tokens)).toEqual([20, 20, 50]);
    });

    it("names a job by its namespace and contents", () => {
        const id = indexJobId("kb", documents.slice(0, 2));
        expect(id).toMatch(/^ix-[0-9a-f]{40}$/);
        expect(indexJobId("kb", prepareDocuments(["one", "two"]))).toBe(id);
        expect(indexJobId("other", documents.slice(0, 2))).not.toBe(id);
        expect(indexJobId("kb", prepareDocuments([{ text: "one", metadata: { a: 1 } }, "two"]))).not.toBe(id);
    });

    it("checks the data of a job a worker receives", () => {
        expect(() => checkIndexJobData("x")).toThrow("Expected an object { namespace, documents } for job data but received the string \"x\"");
        expect(() => checkIndexJobData({ namespace: "kb", documents: [] })).toThrow("Expected an array of 1 to 10000 documents for job data documents but received an array of length 0");
        expect(checkIndexJobData({ namespace: "kb", documents: ["a"] })).toEqual({ namespace: "kb", documents: ["a"] });
    });
});
