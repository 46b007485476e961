import type { FacadeModel } from "./facade-model.js";
import type { BatchEvent, SchedulerStats } from "../scheduler/batch-scheduler.js";

/** What the embedder and the reranker share: their loaded model behind a scheduler, its figures, and closing it. */
export abstract class ScheduledFacade {
    readonly modelPath: string;
    readonly contextSize: number;
    protected readonly loaded: FacadeModel;

    protected constructor(loaded: FacadeModel) {
        this.loaded = loaded;
        this.modelPath = loaded.modelPath;
        this.contextSize = loaded.info.contextSize;
    }

    /** Scheduler queue and throughput figures (undefined once disposed). */
    stats(): SchedulerStats | undefined {
        return this.loaded.stats();
    }

    /** Called after every batch the scheduler runs; returns a function that unsubscribes. */
    onBatch(listener: (event: BatchEvent) => void): () => void {
        return this.loaded.onBatch(listener);
    }

    /** Fails waiting calls with DisposedError, stops the workers and releases the model; resolves when done. */
    close(): Promise<void> {
        return this.loaded.close();
    }

    /** Starts close() without waiting for it. */
    dispose(): void {
        void this.close().catch(() => undefined);
    }

    async [Symbol.asyncDispose](): Promise<void> {
        await this.close();
    }
}
