/** What a batch computes: embeddings (hidden-state rows) or rerank scores (one float per sequence). */
export type JobKind = "embed" | "rank";

/** How urgent a batch is: "interactive" batches run first, and between the decodes of a bulk batch in flight. */
export type BatchPriority = "interactive" | "bulk";

/** Runs batches for the scheduler: an engine context in this thread, or a pool of worker threads. */
export interface BatchRunner {
    /** Batches that may run at the same time. */
    readonly concurrency: number;
    /**
     * Whether an interactive batch may be started while every slot is busy with bulk work: the runner runs it
     * between the bulk batch's decodes instead of after it.
     */
    readonly interleavesInteractive: boolean;
    /** Resolves with one row per sequence, in order (embed: the embedding width; rank: one score). */
    runBatch(kind: JobKind, sequences: readonly Int32Array[], signal: AbortSignal, priority: BatchPriority): Promise<Float32Array>;
    /** Stops running batches and frees what the runner holds. */
    close(): Promise<void>;
}
