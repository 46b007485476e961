import type { FacadeModel } from "./facade-model.js";
import type { BatchEvent, SchedulerStats } from "../scheduler/batch-scheduler.js";
import type { KvCacheType } from "./precision-mode.js";
import { detokenizeWith, tokenizeWith, type TokenizerMethods } from "./tokenizer.js";

/** What the embedder and the reranker share: their loaded model behind a scheduler, its figures, and disposing of it. */
export abstract class ScheduledFacade implements TokenizerMethods {
    readonly modelPath: string;
    readonly contextSize: number;
    readonly vocabularySize: number;
    /**
     * The KV cache precision its contexts run with: "f16" (the default, the fast mode), "f32" (the exact mode) or
     * "q8_0"; see the kvCacheType option.
     */
    readonly kvCacheType: KvCacheType;
    /** @internal */
    protected readonly loaded: FacadeModel;

    /** @internal */
    protected constructor(loaded: FacadeModel) {
        this.loaded = loaded;
        this.modelPath = loaded.modelPath;
        this.contextSize = loaded.info.contextSize;
        this.vocabularySize = loaded.use().model.info.vocabularySize;
        this.kvCacheType = loaded.kvCacheType;
    }

    /** The model's tokens of each text as written: nothing added, spelled-out control tokens kept as plain text. */
    async tokenize(texts: readonly string[]): Promise<Int32Array[]> {
        return tokenizeWith(this.loaded.use().model, texts);
    }

    /** The text the ids spell, special tokens rendered as nothing. */
    async detokenize(ids: Int32Array | readonly number[]): Promise<string> {
        return detokenizeWith(this.loaded.use().model, ids);
    }

    /** Scheduler queue and throughput figures (undefined once disposed). */
    stats(): SchedulerStats | undefined {
        return this.loaded.stats();
    }

    /** Called after every batch the scheduler runs; returns a function that unsubscribes. */
    onBatch(listener: (event: BatchEvent) => void): () => void {
        return this.loaded.onBatch(listener);
    }

    /** Whether dispose() (or close()) was called. */
    get disposed(): boolean {
        return this.loaded.disposed;
    }

    /**
     * Fails waiting and running calls with DisposedError, stops the workers and releases the model; resolves when all
     * of it is done. Calling it again returns at once.
     */
    dispose(): Promise<void> {
        return this.loaded.dispose();
    }

    /** The same as dispose(), kept for code written against earlier versions. */
    close(): Promise<void> {
        return this.dispose();
    }

    async [Symbol.asyncDispose](): Promise<void> {
        await this.dispose();
    }
}
