import type { EngineContext } from "../engine/engine-context.js";
import type { BatchRunner, JobKind } from "./batch-runner.js";

/** Runs batches on one engine context in this thread (`workers: 0`): no worker threads, one batch at a time. */
export class ContextRunner implements BatchRunner {
    readonly concurrency = 1;
    readonly #context: EngineContext;

    constructor(context: EngineContext) {
        this.#context = context;
    }

    runBatch(kind: JobKind, sequences: readonly Int32Array[], signal: AbortSignal): Promise<Float32Array> {
        return kind === "embed" ? this.#context.embedBatch(sequences, { signal }) : this.#context.rankBatch(sequences, { signal });
    }

    async close(): Promise<void> {
        await this.#context.dispose();
    }
}
