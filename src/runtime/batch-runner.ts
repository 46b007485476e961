/** What a batch computes: embeddings (hidden-state rows) or rerank scores (one float per sequence). */
export type JobKind = "embed" | "rank";

/** How urgent a batch is: "interactive" batches run first, and between the decodes of a bulk batch in flight. */
export type BatchPriority = "interactive" | "bulk";

/**
 * For a runner that interleaves: interactive batches in flight per bulk slot, so that the next one already waits at
 * the runner when one ends and runs at the same decode boundary, not after the next bulk decode.
 */
export const INTERACTIVE_BATCHES_PER_SLOT = 2;

/** Runs batches for the scheduler: an engine context in this thread, or a pool of worker threads. */
export interface BatchRunner {
    /** Batches that may run at the same time. */
    readonly concurrency: number;
    /**
     * Whether the runner runs interactive batches between the decodes of the bulk batches in flight. The scheduler
     * then never mixes the two in a batch and keeps up to `concurrency` bulk batches running and
     * INTERACTIVE_BATCHES_PER_SLOT times as many interactive ones.
     */
    readonly interleavesInteractive: boolean;
    /** Resolves with one row per sequence, in order (embed: the embedding width; rank: one score). */
    runBatch(kind: JobKind, sequences: readonly Int32Array[], signal: AbortSignal, priority: BatchPriority): Promise<Float32Array>;
    /** Stops running batches and frees what the runner holds. */
    close(): Promise<void>;
}
