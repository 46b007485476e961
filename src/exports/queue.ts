// qwen3-embedding/queue: indexing across machines on a BullMQ queue in Redis (BullMQ loads on the first call).
export { enqueueIndexJobs, watchIndexJobs, type EnqueueIndexOptions, type EnqueueResult, type QueueProgress, type WatchIndexOptions } from "../queue/index-producer.js";
export { startIndexWorker, IndexWorker, type StartIndexWorkerOptions, type IndexWorkerEvent, type IndexWorkerStats } from "../queue/index-worker.js";
export { queueStatus, type QueueStatus, type QueueStatusOptions } from "../queue/queue-status.js";
export { DEFAULT_QUEUE_NAME } from "../queue/queue-connection.js";
export type { IndexJobData } from "../queue/index-jobs.js";
