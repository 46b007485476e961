/** What a queue holds: jobs by state, and the failed ones (moved aside after their last try) with their reasons. */
import { checkInteger, checkOptionsObject } from "../internal/validation.js";
import { checkQueueLocation, connectionOptions } from "./queue-connection.js";

export interface QueueStatusOptions {
    queue: string;
    queueName?: string;
    /** Failed jobs listed, 0..10000, most recent first. Default 20. */
    failedLimit?: number;
}

export interface QueueStatus {
    queueName: string;
    counts: { waiting: number; active: number; delayed: number; prioritized: number; completed: number; failed: number };
    /** Workers connected to the queue now. */
    workers: number;
    failed: { id: string; reason: string; attempts: number; documents: number; failedAt: string | undefined }[];
}

const STATUS_OPTIONS = ["queue", "queueName", "failedLimit"] as const;

export async function queueStatus(options: QueueStatusOptions): Promise<QueueStatus> {
    const opts = checkOptionsObject<QueueStatusOptions>("queueStatus options", options, STATUS_OPTIONS);
    const { url, queueName } = checkQueueLocation(opts);
    const failedLimit = opts.failedLimit === undefined ? 20 : checkInteger("failedLimit", opts.failedLimit, 0, 10_000);
    const { Queue } = await import("bullmq");
    const queue = new Queue(queueName, { connection: connectionOptions(url) });
    try {
        const counts = await queue.getJobCounts("waiting", "active", "delayed", "prioritized", "completed", "failed");
        const failed = failedLimit === 0 ? [] : await queue.getFailed(0, failedLimit - 1);
        const workers = await queue.getWorkersCount();
        return {
            queueName,
            counts: {
                waiting: counts["waiting"] ?? 0,
                active: counts["active"] ?? 0,
                delayed: counts["delayed"] ?? 0,
                prioritized: counts["prioritized"] ?? 0,
                completed: counts["completed"] ?? 0,
                failed: counts["failed"] ?? 0,
            },
            workers,
            failed: failed.filter((job) => job !== undefined).map((job) => ({
                id: String(job.id),
                reason: job.failedReason,
                attempts: job.attemptsMade,
                documents: Array.isArray((job.data as { documents?: unknown })?.documents) ? (job.data as { documents: unknown[] }).documents.length : 0,
                failedAt: job.finishedOn === undefined ? undefined : new Date(job.finishedOn).toISOString(),
            })),
        };
    } finally {
        await queue.close();
    }
}
