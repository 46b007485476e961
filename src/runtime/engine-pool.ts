import { Piscina } from "piscina";
import type { EngineContextOptions } from "../engine/engine-context.js";
import type { LoadEngineModelOptions } from "../engine/engine-model.js";
import type { GgufInspection } from "../models/gguf-inspection.js";
import { Qwen3EmbeddingError, WorkerError } from "../internal/errors.js";
import { INTERACTIVE_BATCHES_PER_SLOT, type BatchPriority, type BatchRunner, type JobKind } from "./batch-runner.js";
import { createAbortFlag, raiseAbortFlag } from "./batch-abort-flag.js";
import type { EngineWorkerData, EngineWorkerFailure, EngineWorkerInfo, EngineWorkerTask } from "./engine-worker.js";

export interface EnginePoolOptions {
    /** Worker threads, each with its own context over the one shared copy of the weights. */
    workers: number;
    /** The model's header as the caller read it: workers load the file without parsing it again. */
    model: GgufInspection;
    load: LoadEngineModelOptions;
    context: EngineContextOptions;
}

// From the TypeScript sources (tests, tsx) the worker needs tsx registered in its thread first.
const WORKER_FILE = import.meta.url.endsWith(".ts")
    ? new URL("./engine-worker-dev.mjs", import.meta.url)
    : new URL("./engine-worker.js", import.meta.url);

/**
 * Piscina worker threads that run engine batches, so decoding never touches the event loop's thread and several
 * contexts (GPUs, sockets) can run at once. A worker that dies fails only the batch it was running; piscina
 * starts a replacement, which reuses the weights still held by the other threads.
 */
export class EnginePool implements BatchRunner {
    readonly concurrency: number;
    readonly interleavesInteractive = true;
    /** The context each worker made (all alike). */
    readonly info: EngineWorkerInfo;
    readonly #piscina: Piscina<EngineWorkerTask, unknown>;

    private constructor(piscina: Piscina<EngineWorkerTask, unknown>, workers: number, info: EngineWorkerInfo) {
        this.#piscina = piscina;
        this.concurrency = workers;
        this.info = info;
    }

    /** Starts the workers and resolves once every one has loaded the model; a failed load rejects and stops them. */
    static async start(options: EnginePoolOptions): Promise<EnginePool> {
        const workerData: EngineWorkerData = { model: options.model, load: options.load, context: options.context };
        const piscina = new Piscina<EngineWorkerTask, unknown>({
            filename: WORKER_FILE.href,
            minThreads: options.workers,
            maxThreads: options.workers,
            // A worker running a bulk batch also takes the interactive ones the scheduler sends, which its context
            // runs between decodes.
            concurrentTasksPerWorker: 1 + INTERACTIVE_BATCHES_PER_SLOT,
            idleTimeout: Number.POSITIVE_INFINITY,
            workerData,
        });
        // Errors of idle workers surface through the tasks that follow; keep them from becoming uncaught.
        piscina.on("error", () => undefined);
        try {
            const infos = await Promise.all(
                Array.from({ length: options.workers }, async () => readResult<EngineWorkerInfo>(await piscina.run({ type: "info" }))),
            );
            return new EnginePool(piscina, options.workers, infos[0]!);
        } catch (error) {
            await piscina.destroy();
            throw toWorkerError(error, "An engine worker failed to start");
        }
    }

    /** The worker threads (for diagnostics and tests). */
    get threads(): readonly { threadId: number; terminate(): Promise<number> }[] {
        return this.#piscina.threads;
    }

    async runBatch(kind: JobKind, sequences: readonly Int32Array[], signal: AbortSignal, priority: BatchPriority): Promise<Float32Array> {
        const lengths = new Uint32Array(sequences.length);
        let total = 0;
        sequences.forEach((sequence, index) => {
            lengths[index] = sequence.length;
            total += sequence.length;
        });
        const tokens = new Int32Array(total);
        let at = 0;
        for (const sequence of sequences) {
            tokens.set(sequence, at);
            at += sequence.length;
        }
        const abortFlag = createAbortFlag();
        const onAbort = () => raiseAbortFlag(abortFlag);
        if (signal.aborted) onAbort();
        signal.addEventListener("abort", onAbort, { once: true });
        try {
            const task: EngineWorkerTask = { type: "batch", kind, priority, tokens, lengths, abortFlag };
            return readResult<Float32Array>(await this.#piscina.run(task, { transferList: [tokens.buffer, lengths.buffer] }));
        } catch (error) {
            throw toWorkerError(error, "An engine worker stopped while running this batch; it is being replaced, so retry the call");
        } finally {
            signal.removeEventListener("abort", onAbort);
        }
    }

    async close(): Promise<void> {
        // Aborts nothing itself: the scheduler has stopped the running batches, and destroy ends the threads.
        await this.#piscina.destroy();
    }
}

function readResult<T>(result: unknown): T {
    if (result !== null && typeof result === "object" && "code" in result && "message" in result) {
        const failure = result as EngineWorkerFailure;
        throw Qwen3EmbeddingError.fromCode(failure.code, failure.message);
    }
    return result as T;
}

function toWorkerError(error: unknown, context: string): Error {
    if (error instanceof Qwen3EmbeddingError) return error;
    return new WorkerError(`${context} (${String((error as Error)?.message ?? error)})`, { cause: error });
}
