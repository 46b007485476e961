/** `index --queue`: the producer of a queued index run (see index-command.ts for the usage text). */
import { createTokenizer } from "../facade/tokenizer.js";
import { prepareDocuments } from "../applications/document-indexer.js";
import { resolveModelPath } from "../models/model-location.js";
import { enqueueIndexJobs, watchIndexJobs, type QueueProgress } from "../queue/index-producer.js";
import { checkQueueName, checkRedisUrl, redactedUrl } from "../queue/queue-connection.js";
import { checkNamespace } from "../store/item-validation.js";
import { openStore } from "../store/open-store.js";
import { StoreError } from "../store/store-error.js";
import { parseDatabaseLocation } from "../store/store-location.js";
import type { VectorStore } from "../store/vector-store.js";
import { asUsageError, asUsageErrorAsync, CommandFailure, requireString, UsageError, writeLine } from "./command.js";
import { positiveInteger, readDocuments } from "./index-command.js";

/** Flags of the queued producer only. */
export const QUEUE_ONLY_FLAGS = ["queue-name", "job-tokens", "attempts", "priority", "detach"] as const;
/** Flags of the in-process run only: the workers hold the database (the producer only reads it, with --database). */
const LOCAL_ONLY_FLAGS = ["durability", "batch-size", "dimensions"] as const;

export async function enqueueCommand(values: Record<string, unknown>): Promise<void> {
    for (const flag of LOCAL_ONLY_FLAGS) {
        if (values[flag] !== undefined) throw new UsageError(`--${flag} is a worker's flag (qwen3-embedding worker), not the producer's, with --queue`);
    }
    const queue = requireString(values, "queue");
    const model = requireString(values, "embedding-model");
    const namespace = values["namespace"] === undefined ? "default" : (values["namespace"] as string);
    const queueName = values["queue-name"] as string | undefined;
    asUsageError(() => {
        checkRedisUrl("--queue", queue);
        checkQueueName("--queue-name", queueName);
        checkNamespace("--namespace", namespace);
    });
    const jobTokens = positiveInteger(values, "job-tokens");
    const attempts = positiveInteger(values, "attempts");
    const priority = positiveInteger(values, "priority");
    const database = producerDatabase(values);
    const documents = prepareDocuments(await readDocuments(values["input"] as string | undefined));
    const store = database === undefined ? undefined : await openWorkersStore(database);
    let enqueued;
    try {
        const tokenizer = await createTokenizer({ model: await resolveModelPath(model) });
        try {
            enqueued = await asUsageErrorAsync(() => enqueueIndexJobs({
                queue,
                tokenizer,
                namespace,
                documents,
                ...(store === undefined ? {} : { store }),
                ...(queueName === undefined ? {} : { queueName }),
                ...(jobTokens === undefined ? {} : { jobTokens }),
                ...(attempts === undefined ? {} : { attempts }),
                ...(priority === undefined ? {} : { priority }),
            }));
        } finally {
            await tokenizer.dispose();
        }
    } finally {
        // Closed before watching: a worker may need the embedded database the producer read.
        await store?.close();
    }
    const summary = {
        namespace,
        queue: `${redactedUrl(queue)} ${enqueued.queueName}`,
        documents: enqueued.documents,
        ...(store === undefined ? {} : { unchanged: enqueued.unchanged }),
        tokens: enqueued.tokens,
        jobs: enqueued.jobs.length,
    };
    if (store !== undefined) {
        process.stderr.write(`checked ${enqueued.documents + enqueued.unchanged} documents against ${store.location}: ${enqueued.unchanged} stored unchanged (skipped), ${enqueued.documents} to enqueue\n`);
    }
    if (values["detach"] === true) {
        writeLine(summary);
        return;
    }
    const skipped = store === undefined ? "" : ` (${enqueued.unchanged} stored unchanged, skipped)`;
    const final = await watchIndexJobs({ queue, queueName: enqueued.queueName, jobs: enqueued.jobs, onProgress: (progress) => showProgress(progress, skipped) });
    if (process.stderr.isTTY) process.stderr.write("\n");
    writeLine({ ...summary, jobsFailed: final.jobsFailed });
    if (final.jobsFailed > 0) {
        throw new CommandFailure(`${final.jobsFailed} of ${final.jobs} jobs failed after their last try; \`qwen3-embedding queue status --queue ${redactedUrl(queue)}\` lists them with their reasons`);
    }
}

/**
 * --database with --queue: the workers' database, read to skip documents stored unchanged. No default (not
 * $QWEN3_EMBEDDING_DATABASE): without it every document is enqueued. "memory" is refused: it would hold nothing.
 */
function producerDatabase(values: Record<string, unknown>): string | undefined {
    const value = values["database"];
    if (value === undefined) return undefined;
    const location = asUsageError(() => parseDatabaseLocation(value, "--database"));
    if (location.kind === "memory") {
        throw new UsageError(
            `Expected the workers' database (a directory or a postgres:// URL) for --database with --queue but received ${JSON.stringify(value)}, ` +
            `a new empty database of this process that holds nothing to skip`,
        );
    }
    return value as string;
}

/** Opens the workers' database for reading, or fails naming the problem and what to do. */
async function openWorkersStore(database: string): Promise<VectorStore> {
    try {
        return await openStore({ database, create: false, poolSize: 1 });
    } catch (error) {
        if (!(error instanceof StoreError)) throw error;
        const fix = error.reason === "locked"
            ? "The producer reads an embedded database only while it checks the documents: run it while no worker or other process has " +
              "that directory open, give the workers and the producer a PostgreSQL server (--database postgres://...), or leave out " +
              "--database to enqueue every document (the workers still skip those stored unchanged)"
            : "Check --database (the workers' database), or leave out --database to enqueue every document (the workers still skip " +
              "those stored unchanged)";
        throw new StoreError(error.reason, `Cannot read --database to skip documents stored unchanged: ${error.message}. ${fix}`, { cause: error });
    }
}

let lastLine = 0;

/** One line on stderr: redrawn in place on a terminal, every few seconds otherwise. */
function showProgress(progress: QueueProgress, skipped: string): void {
    const now = Date.now();
    const final = progress.jobsDone === progress.jobs;
    if (!process.stderr.isTTY && !final && now - lastLine < 2000) return;
    lastLine = now;
    const eta = progress.etaSeconds === undefined ? "?" : `${Math.ceil(progress.etaSeconds)} s`;
    const text =
        `queued: documents ${progress.documentsDone}/${progress.documents}${skipped}, tokens ${progress.tokensDone}/${progress.tokens}, ` +
        `${progress.tokensPerSecond.toFixed(0)} tokens/s, ETA ${eta}, jobs ${progress.jobsDone}/${progress.jobs} (${progress.jobsFailed} failed)`;
    process.stderr.write(process.stderr.isTTY ? `\r${text}\u001b[K` : text + "\n");
}
