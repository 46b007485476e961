// One engine worker thread of the pool: loads the model (shared with every other thread through the native
// registry) and a context, then runs batches. Errors go back as {code, message} so the pool can rebuild the
// typed error; a failed load is reported by every task rather than retried.
import { move, workerData } from "piscina";
import { threadId } from "node:worker_threads";
import type { EngineContext, EngineContextOptions } from "../engine/engine-context.js";
import { loadInspectedEngineModel, type LoadEngineModelOptions } from "../engine/engine-model.js";
import type { GgufInspection } from "../models/gguf-inspection.js";
import type { NativeContextInfo } from "../engine/native-addon.js";
import { Qwen3EmbeddingError } from "../internal/errors.js";
import type { BatchPriority, JobKind } from "./batch-runner.js";
import { watchAbortFlag } from "./batch-abort-flag.js";

export interface EngineWorkerData {
    // Parsed once by the creating thread: parsing the tokenizer arrays again would cost each worker tens of MB of heap.
    model: GgufInspection;
    load: LoadEngineModelOptions;
    context: EngineContextOptions;
}

export type EngineWorkerTask =
    | { type: "info" }
    | { type: "batch"; kind: JobKind; priority: BatchPriority; tokens: Int32Array; lengths: Uint32Array; abortFlag: Int32Array };

export type EngineWorkerInfo = NativeContextInfo & { threadId: number };

export type EngineWorkerFailure = { code: string; message: string };

async function start() {
    const { model: inspection, load, context: contextOptions } = workerData as EngineWorkerData;
    let context: EngineContext | undefined;
    let failure: EngineWorkerFailure | undefined;
    try {
        const model = await loadInspectedEngineModel(inspection, load);
        try {
            context = await model.createContext(contextOptions);
        } catch (error) {
            await model.dispose();
            throw error;
        }
    } catch (error) {
        failure = toFailure(error);
    }

    return async (task: EngineWorkerTask): Promise<EngineWorkerInfo | Float32Array | EngineWorkerFailure> => {
        if (context === undefined) return failure!;
        if (task.type === "info") return { ...context.info, threadId };
        const sequences: Int32Array[] = [];
        let at = 0;
        for (const length of task.lengths) {
            sequences.push(task.tokens.subarray(at, at + length));
            at += length;
        }
        const controller = new AbortController();
        const stopWatching = watchAbortFlag(task.abortFlag, controller);
        try {
            const options = { signal: controller.signal, priority: task.priority };
            const rows = task.kind === "embed" ? await context.embedBatch(sequences, options) : await context.rankBatch(sequences, options);
            return move(rows) as Float32Array;
        } catch (error) {
            return toFailure(error);
        } finally {
            stopWatching();
        }
    };
}

function toFailure(error: unknown): EngineWorkerFailure {
    if (error instanceof Qwen3EmbeddingError) return { code: error.code, message: error.message };
    return { code: "ERR_WORKER", message: String((error as Error)?.message ?? error) };
}

export default start();
