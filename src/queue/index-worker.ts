/**
 * A worker of queued index runs: one embedder, one store, and a BullMQ worker that takes as many jobs at once as fill
 * its token budget. Each job's documents are written in one transaction, idempotent by content hash: a retried job
 * (after a crash, a stall, a lost connection) finds them stored unchanged and writes nothing. BullMQ loads on start.
 */
import type { Job, Queue, Worker } from "bullmq";
import { checkStore } from "../applications/application-options.js";
import { prepareDocuments, type IndexResult, type PreparedDocument } from "../applications/document-indexer.js";
import { createSearchIndex, type SearchIndex } from "../applications/search-index.js";
import type { Embedder } from "../facade/embedder.js";
import { InvalidOptionError } from "../internal/errors.js";
import { checkInteger, checkOptionsObject, checkString, describeValue } from "../internal/validation.js";
import type { VectorStore } from "../store/vector-store.js";
import { checkIndexJobData, MAX_DOCUMENTS_PER_JOB } from "./index-jobs.js";
import { checkObjectWithMethod, checkQueueLocation, connectionOptions } from "./queue-connection.js";

export interface StartIndexWorkerOptions {
    /** The Redis holding the queue: `redis://[user:password@]host:port[/db]`. */
    queue: string;
    /** BullMQ queue name. Default "qwen3-embedding-index". */
    queueName?: string;
    embedder: Embedder;
    store: VectorStore;
    /** Matryoshka dimension of the namespaces it creates. Default: the model's. */
    dimensions?: number;
    /** Tokens this worker embeds at once, 16..10000000. Default 2048. With `jobTokens`, sets how many jobs it takes at once. */
    tokenBudget?: number;
    /** The producer's tokens per job, 16..1000000. Default 1024 (the producer's default). */
    jobTokens?: number;
    /**
     * Milliseconds after which a job whose worker stopped renewing its lock (killed, frozen) goes back to the queue for
     * another worker, 1000..3600000 (BullMQ's lockDuration and stalledInterval). Default 30000.
     */
    stallIntervalMs?: number;
    /**
     * At most this many jobs started per second by ALL the workers of the queue together (BullMQ's rate limiter, kept
     * in Redis), 1..100000: to spare a shared PostgreSQL. Every worker of the queue should pass the same value. Default:
     * no limit.
     */
    maxJobsPerSecond?: number;
    /** A name stored on the jobs this worker takes (BullMQ's worker name). Default: none. */
    name?: string;
    /** Called as jobs start, finish and fail, and on Redis errors (a repeated one once, until a job completes). */
    onEvent?: (event: IndexWorkerEvent) => void;
}

export type IndexWorkerEvent =
    | { event: "active"; job: string; documents: number; attempt: number }
    | { event: "completed"; job: string; result: IndexResult }
    | { event: "failed"; job: string; reason: string; attempt: number; final: boolean }
    /**
     * Redis could not be reached, or refused a job's result ("Missing lock for job <id>", "Job <id> is not in the active
     * state"): Redis was away longer than the stall interval, or a result resent after a reconnect found the job already
     * finished. Such a job has an `active` event and neither `completed` nor `failed` here; unless it was finished, it
     * goes back to the queue and a worker does it again (its documents are skipped as unchanged).
     */
    | { event: "error"; reason: string };

export interface IndexWorkerStats {
    jobsCompleted: number;
    jobsFailed: number;
    documentsWritten: number;
    documentsUnchanged: number;
    /** Tokens of the jobs completed (the producer's count). */
    tokensCompleted: number;
    /** Jobs this worker holds now. */
    active: number;
}

const START_OPTIONS = ["queue", "queueName", "embedder", "store", "dimensions", "tokenBudget", "jobTokens", "stallIntervalMs", "maxJobsPerSecond", "name", "onEvent"] as const;

/** A running worker: `close()` stops taking jobs and finishes those it holds. */
export class IndexWorker {
    readonly queueName: string;
    /** Jobs taken at once. */
    readonly concurrency: number;
    readonly #worker: Worker;
    readonly #stats: IndexWorkerStats;
    readonly #url: string;
    #queue: Queue | undefined;

    /** @internal */
    constructor(worker: Worker, url: string, queueName: string, concurrency: number, stats: IndexWorkerStats) {
        this.#worker = worker;
        this.#url = url;
        this.queueName = queueName;
        this.concurrency = concurrency;
        this.#stats = stats;
    }

    /** The queue's jobs by state (every worker's), read from Redis now. */
    async queueCounts(): Promise<Record<"waiting" | "active" | "delayed" | "prioritized" | "completed" | "failed", number>> {
        if (this.#queue === undefined) {
            const { Queue } = await import("bullmq");
            this.#queue = new Queue(this.queueName, { connection: connectionOptions(this.#url) });
            this.#queue.on("error", () => undefined);
        }
        const counts = await this.#queue.getJobCounts("waiting", "active", "delayed", "prioritized", "completed", "failed");
        return {
            waiting: counts["waiting"] ?? 0, active: counts["active"] ?? 0, delayed: counts["delayed"] ?? 0,
            prioritized: counts["prioritized"] ?? 0, completed: counts["completed"] ?? 0, failed: counts["failed"] ?? 0,
        };
    }

    stats(): IndexWorkerStats {
        return { ...this.#stats };
    }

    /** Stops taking jobs and waits for those it holds to finish (graceful), or, with `force`, leaves them to be retried elsewhere. */
    async close(options: { force?: boolean } = {}): Promise<void> {
        await this.#worker.close(options.force === true);
        await this.#queue?.close();
    }

    async [Symbol.asyncDispose](): Promise<void> {
        await this.close();
    }
}

/** Starts taking index jobs from the queue. Resolves once connected to Redis. */
export async function startIndexWorker(options: StartIndexWorkerOptions): Promise<IndexWorker> {
    const opts = checkOptionsObject<StartIndexWorkerOptions>("startIndexWorker options", options, START_OPTIONS);
    const { url, queueName } = checkQueueLocation(opts);
    const embedder = checkObjectWithMethod<Embedder>("embedder", opts.embedder, "embedDocuments", "an Embedder (from createEmbedder)");
    const store = checkStore(opts.store);
    const dimensions = opts.dimensions === undefined ? undefined : checkInteger("dimensions", opts.dimensions, 1, 100_000);
    const tokenBudget = opts.tokenBudget === undefined ? 2048 : checkInteger("tokenBudget", opts.tokenBudget, 16, 10_000_000);
    const jobTokens = opts.jobTokens === undefined ? 1024 : checkInteger("jobTokens", opts.jobTokens, 16, 1_000_000);
    const stallIntervalMs = opts.stallIntervalMs === undefined ? 30_000 : checkInteger("stallIntervalMs", opts.stallIntervalMs, 1000, 3_600_000);
    const maxJobsPerSecond = opts.maxJobsPerSecond === undefined ? undefined : checkInteger("maxJobsPerSecond", opts.maxJobsPerSecond, 1, 100_000);
    const name = opts.name === undefined ? undefined : checkString("name", opts.name, { allowEmpty: false });
    if (opts.onEvent !== undefined && typeof opts.onEvent !== "function") {
        throw new InvalidOptionError(`Expected a function for onEvent but received ${describeValue(opts.onEvent)}`, { option: "onEvent" });
    }
    const onEvent = opts.onEvent;
    const concurrency = Math.max(1, Math.floor(tokenBudget / jobTokens));
    const stats: IndexWorkerStats = { jobsCompleted: 0, jobsFailed: 0, documentsWritten: 0, documentsUnchanged: 0, tokensCompleted: 0, active: 0 };

    // One SearchIndex per namespace, opened on its first job (it creates the namespace, bound to this model).
    const indexes = new Map<string, Promise<SearchIndex>>();
    const indexFor = (namespace: string) => {
        let index = indexes.get(namespace);
        if (index === undefined) {
            index = createSearchIndex({ embedder, store, namespace, ...(dimensions === undefined ? {} : { dimensions }) });
            index.catch(() => indexes.delete(namespace));
            indexes.set(namespace, index);
        }
        return index;
    };

    const indexJob = async (job: Job): Promise<IndexResult> => {
        const data = checkIndexJobData(job.data);
        const good: PreparedDocument[] = [];
        const bad: string[] = [];
        // Each document checked on its own: a bad one (a client that skipped the producer's checks) is reported, the
        // others are written.
        data.documents.forEach((document, index) => {
            try {
                good.push(...prepareDocuments([document]));
            } catch (error) {
                bad.push(`documents[${index}]: ${(error as Error).message.replace(/documents\[0\]/g, `documents[${index}]`)}`);
            }
        });
        const index = await indexFor(data.namespace);
        const result = good.length === 0 ? undefined : await index.index(good, { batchSize: MAX_DOCUMENTS_PER_JOB, deferIndex: false });
        if (result !== undefined) {
            stats.documentsWritten += result.written;
            stats.documentsUnchanged += result.unchanged;
        }
        if (bad.length > 0) {
            throw new InvalidOptionError(`${bad.length} of ${data.documents.length} documents of job ${job.id} cannot be indexed (the other ${good.length} were): ${bad.join("; ")}`);
        }
        return result!;
    };

    const { Worker } = await import("bullmq");
    const worker = new Worker(queueName, async (job: Job) => {
        stats.active++;
        onEvent?.({ event: "active", job: job.id!, documents: Array.isArray(job.data?.documents) ? job.data.documents.length : 0, attempt: job.attemptsMade + 1 });
        try {
            const result = await indexJob(job);
            stats.tokensCompleted += typeof job.data?.tokens === "number" ? job.data.tokens : 0;
            return result;
        } finally {
            stats.active--;
        }
    }, {
        connection: connectionOptions(url),
        concurrency,
        lockDuration: stallIntervalMs,
        stalledInterval: stallIntervalMs,
        // A job survives a few stalls (a killed worker, a Redis restart) before it is failed for stalling.
        maxStalledCount: 3,
        // A result that could not be written (Redis away) is tried again before its lock runs out; BullMQ's default,
        // 15 s, outlasts the lock, and the job is done twice.
        runRetryDelay: Math.min(15_000, Math.floor(stallIntervalMs / 3)),
        ...(maxJobsPerSecond === undefined ? {} : { limiter: { max: maxJobsPerSecond, duration: 1000 } }),
        ...(name === undefined ? {} : { name }),
        autorun: false,
    });
    let lastError: string | undefined;
    worker.on("completed", (job: Job, result: IndexResult) => {
        lastError = undefined;
        stats.jobsCompleted++;
        onEvent?.({ event: "completed", job: job.id!, result });
    });
    worker.on("failed", (job: Job | undefined, error: Error) => {
        if (job === undefined) return;
        const final = job.attemptsMade >= (job.opts.attempts ?? 1);
        if (final) stats.jobsFailed++;
        onEvent?.({ event: "failed", job: job.id!, reason: error.message, attempt: job.attemptsMade, final });
    });
    // Connection errors (a Redis restart) are retried by the client; without a listener Node would throw them.
    worker.on("error", (error: Error) => {
        if (error.message === lastError) return;
        lastError = error.message;
        onEvent?.({ event: "error", reason: error.message });
    });
    await worker.waitUntilReady();
    void worker.run();
    return new IndexWorker(worker, url, queueName, concurrency, stats);
}
