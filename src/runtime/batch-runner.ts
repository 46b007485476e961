/** What a batch computes: embeddings (hidden-state rows) or rerank scores (one float per sequence). */
export type JobKind = "embed" | "rank";

/** Runs batches for the scheduler: an engine context in this thread, or a pool of worker threads. */
export interface BatchRunner {
    /** Batches that may run at the same time. */
    readonly concurrency: number;
    /** Resolves with one row per sequence, in order (embed: the embedding width; rank: one score). */
    runBatch(kind: JobKind, sequences: readonly Int32Array[], signal: AbortSignal): Promise<Float32Array>;
    /** Stops running batches and frees what the runner holds. */
    close(): Promise<void>;
}
