/**
 * The producer of a queued index run: checks the documents, counts their tokens, groups whole documents into jobs and
 * adds them to a BullMQ queue on Redis. It needs no database: the workers hold it. Given the workers' store, it first
 * leaves out the documents stored there unchanged for its model. BullMQ loads on the first call.
 */
import { findUnchangedForModel, prepareDocuments, type IndexDocument } from "../applications/document-indexer.js";
import { checkOptionalFunction, checkStore } from "../applications/application-options.js";
import { modelFingerprint } from "../applications/model-fingerprint.js";
import type { TokenizerMethods } from "../facade/tokenizer.js";
import { AbortedError, InvalidOptionError } from "../internal/errors.js";
import { checkAbortSignal, checkInteger, checkOptionsObject, describeValue } from "../internal/validation.js";
import { checkNamespace } from "../store/item-validation.js";
import type { VectorStore } from "../store/vector-store.js";
import { checkObjectWithMethod, checkQueueLocation, connectionOptions } from "./queue-connection.js";
import { planIndexJobs, type PlannedJob } from "./index-jobs.js";

export interface EnqueueIndexOptions {
    /** The Redis holding the queue: `redis://[user:password@]host:port[/db]`. */
    queue: string;
    /** BullMQ queue name. Default "qwen3-embedding-index". Workers must name the same. */
    queueName?: string;
    /** Counts the documents' tokens: a Tokenizer (createTokenizer) or an Embedder of the workers' model. */
    tokenizer: TokenizerMethods;
    /** Default "default". */
    namespace?: string;
    documents: readonly IndexDocument[];
    /**
     * The workers' store (from openStore), read before enqueueing: documents the namespace already holds with the same
     * id, text hash and metadata, embedded by the tokenizer's model file (its `modelFingerprint`; the tokenizer must then
     * have a `modelPath`, as a Tokenizer and an Embedder do), are left out, as a worker would skip them. A namespace of
     * another model is an InvalidOptionError; one that does not exist yet skips nothing. Default: none, everything is
     * enqueued. The store is only read; the caller closes it (an embedded one as soon as this resolves, so that a
     * worker can open it).
     */
    store?: VectorStore;
    /** Tokens per job, 16..1000000 (a longer document is a job of its own). Default 1024: a worker's batch. */
    jobTokens?: number;
    /** Tries of a job before it is moved to the failed set with its reason, 1..100. Default 5. */
    attempts?: number;
    /** First retry delay in milliseconds, doubled at each further try (BullMQ's exponential backoff), 0..3600000. Default 2000. */
    backoffMs?: number;
    /** BullMQ priority, 0..2097152: 0 (the default) before everything prioritized, then 1 first. An interactive run on the same queue as a bulk one takes a lower number. */
    priority?: number;
    signal?: AbortSignal;
}

export interface EnqueueResult {
    queueName: string;
    namespace: string;
    /** Documents enqueued. */
    documents: number;
    /** Documents left out because `store` holds them unchanged (0 without a store). */
    unchanged: number;
    /** Tokens of the documents enqueued. */
    tokens: number;
    /** The jobs, in input order: their ids (re-enqueueing the same documents gives the same ids) and sizes. */
    jobs: { id: string; documents: number; tokens: number }[];
}

export interface QueueProgress {
    /** Jobs of this run finished: completed or failed for good. */
    jobsDone: number;
    jobsFailed: number;
    jobs: number;
    documentsDone: number;
    documents: number;
    tokensDone: number;
    tokens: number;
    /** Tokens per second since watching began. */
    tokensPerSecond: number;
    /** Seconds left at that rate; undefined before the first job finishes. */
    etaSeconds: number | undefined;
}

export interface WatchIndexOptions {
    queue: string;
    queueName?: string;
    /** The jobs to watch (EnqueueResult.jobs). */
    jobs: readonly { id: string; documents: number; tokens: number }[];
    onProgress?: (progress: QueueProgress) => void;
    /** Milliseconds between polls, 50..60000. Default 1000. */
    intervalMs?: number;
    signal?: AbortSignal;
}

const ENQUEUE_OPTIONS = ["queue", "queueName", "tokenizer", "namespace", "documents", "store", "jobTokens", "attempts", "backoffMs", "priority", "signal"] as const;
const WATCH_OPTIONS = ["queue", "queueName", "jobs", "onProgress", "intervalMs", "signal"] as const;
const ADD_CHUNK = 500;
const POLL_CHUNK = 1000;

/** Splits documents into jobs of whole documents sized by tokens and adds them to the queue. */
export async function enqueueIndexJobs(options: EnqueueIndexOptions): Promise<EnqueueResult> {
    const opts = checkOptionsObject<EnqueueIndexOptions>("enqueueIndexJobs options", options, ENQUEUE_OPTIONS);
    const { url, queueName } = checkQueueLocation(opts);
    const tokenizer = checkObjectWithMethod<TokenizerMethods>("tokenizer", opts.tokenizer, "tokenize", "a Tokenizer (from createTokenizer) or an Embedder");
    const namespace = opts.namespace === undefined ? "default" : checkNamespace("namespace", opts.namespace);
    const jobTokens = opts.jobTokens === undefined ? 1024 : checkInteger("jobTokens", opts.jobTokens, 16, 1_000_000);
    const attempts = opts.attempts === undefined ? 5 : checkInteger("attempts", opts.attempts, 1, 100);
    const backoffMs = opts.backoffMs === undefined ? 2000 : checkInteger("backoffMs", opts.backoffMs, 0, 3_600_000);
    const priority = opts.priority === undefined ? 0 : checkInteger("priority", opts.priority, 0, 2_097_152);
    const signal = checkAbortSignal("signal", opts.signal);
    const store = opts.store === undefined ? undefined : checkStore(opts.store);
    const modelPath = store === undefined ? undefined : checkModelPath(tokenizer);
    const prepared = prepareDocuments(opts.documents);

    let documents = prepared;
    if (store !== undefined) {
        const unchanged = await findUnchangedForModel(store, namespace, prepared, { model: await modelFingerprint(modelPath!) }, undefined, signal);
        documents = prepared.filter((document) => !unchanged.has(document.id));
    }
    // + 1: the <|endoftext|> the embedder appends to every document.
    const tokenCounts = documents.length === 0 ? [] : (await tokenizer.tokenize(documents.map((document) => document.text))).map((ids) => ids.length + 1);
    const jobs = planIndexJobs(namespace, documents, tokenCounts, jobTokens);
    const { Queue } = await import("bullmq");
    const queue = new Queue(queueName, { connection: connectionOptions(url) });
    try {
        for (let start = 0; start < jobs.length; start += ADD_CHUNK) {
            if (signal?.aborted) throw new AbortedError();
            await queue.addBulk(jobs.slice(start, start + ADD_CHUNK).map((job: PlannedJob) => ({
                name: "index",
                data: job.data,
                opts: { jobId: job.id, attempts, backoff: { type: "exponential", delay: backoffMs }, ...(priority === 0 ? {} : { priority }) },
            })));
        }
    } finally {
        await queue.close();
    }
    return {
        queueName,
        namespace,
        documents: documents.length,
        unchanged: prepared.length - documents.length,
        tokens: tokenCounts.reduce((sum, count) => sum + count, 0),
        jobs: jobs.map((job) => ({ id: job.id, documents: job.data.documents.length, tokens: job.data.tokens })),
    };
}

/** With a store, the tokenizer's model file: the namespace's model is checked against its fingerprint. */
function checkModelPath(tokenizer: TokenizerMethods): string {
    const modelPath = (tokenizer as { modelPath?: unknown }).modelPath;
    if (typeof modelPath !== "string" || modelPath === "") {
        throw new InvalidOptionError(
            `Expected a tokenizer with a modelPath (a Tokenizer from createTokenizer, or an Embedder) for tokenizer when a store is given, ` +
            `to check the namespace's model against, but received ${describeValue(tokenizer)}`,
            { option: "tokenizer" },
        );
    }
    return modelPath;
}

/**
 * Polls the jobs of a run until each is completed or failed for good (retries exhausted), reporting documents and
 * tokens done, the rate and the time left. Resolves with the last progress.
 */
export async function watchIndexJobs(options: WatchIndexOptions): Promise<QueueProgress> {
    const opts = checkOptionsObject<WatchIndexOptions>("watchIndexJobs options", options, WATCH_OPTIONS);
    const { url, queueName } = checkQueueLocation(opts);
    if (!Array.isArray(opts.jobs)) throw new InvalidOptionError(`Expected an array of jobs (EnqueueResult.jobs) for jobs but received ${describeValue(opts.jobs)}`, { option: "jobs" });
    const onProgress = checkOptionalFunction<(progress: QueueProgress) => void>("onProgress", opts.onProgress);
    const intervalMs = opts.intervalMs === undefined ? 1000 : checkInteger("intervalMs", opts.intervalMs, 50, 60_000);
    const signal = checkAbortSignal("signal", opts.signal);

    const total = { jobs: opts.jobs.length, documents: 0, tokens: 0 };
    for (const job of opts.jobs) {
        total.documents += job.documents;
        total.tokens += job.tokens;
    }
    const done = { jobsDone: 0, jobsFailed: 0, documentsDone: 0, tokensDone: 0 };
    const started = Date.now();
    const progress = (): QueueProgress => {
        const seconds = (Date.now() - started) / 1000;
        const tokensPerSecond = seconds > 0 ? done.tokensDone / seconds : 0;
        const etaSeconds = done.tokensDone > 0 ? (total.tokens - done.tokensDone) / tokensPerSecond : undefined;
        return { ...done, jobs: total.jobs, documents: total.documents, tokens: total.tokens, tokensPerSecond, etaSeconds };
    };
    let pending = [...opts.jobs];
    const { Queue } = await import("bullmq");
    const queue = new Queue(queueName, { connection: connectionOptions(url) });
    try {
        while (true) {
            if (signal?.aborted) throw new AbortedError();
            const still: typeof pending = [];
            for (let start = 0; start < pending.length; start += POLL_CHUNK) {
                const chunk = pending.slice(start, start + POLL_CHUNK);
                const states = await Promise.all(chunk.map((job) => queue.getJobState(job.id)));
                chunk.forEach((job, index) => {
                    const state = states[index];
                    // "unknown": removed from the queue (by hand, or by an age limit) after it finished.
                    if (state !== "completed" && state !== "failed" && state !== "unknown") {
                        still.push(job);
                        return;
                    }
                    done.jobsDone++;
                    if (state === "failed") done.jobsFailed++;
                    done.documentsDone += job.documents;
                    done.tokensDone += job.tokens;
                });
            }
            pending = still;
            onProgress?.(progress());
            if (pending.length === 0) return progress();
            await new Promise((resolve) => setTimeout(resolve, intervalMs));
        }
    } finally {
        await queue.close();
    }
}
