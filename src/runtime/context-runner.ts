import type { EngineContext } from "../engine/engine-context.js";
import type { BatchPriority, BatchRunner, JobKind } from "./batch-runner.js";

/** Runs batches on one engine context in this thread (`workers: 0`): no worker threads, one batch at a time. */
export class ContextRunner implements BatchRunner {
    readonly concurrency = 1;
    readonly interleavesInteractive = true;
    readonly #context: EngineContext;

    constructor(context: EngineContext) {
        this.#context = context;
    }

    runBatch(kind: JobKind, sequences: readonly Int32Array[], signal: AbortSignal, priority: BatchPriority): Promise<Float32Array> {
        const options = { signal, priority };
        return kind === "embed" ? this.#context.embedBatch(sequences, options) : this.#context.rankBatch(sequences, options);
    }

    async close(): Promise<void> {
        await this.#context.dispose();
    }
}
