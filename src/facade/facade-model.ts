import { batchedSequenceLength, checkContextOptions, defaultThreads, type EngineContextOptions } from "../engine/engine-context.js";
import { checkLoadOptions, loadInspectedEngineModel, type EngineModel, type LoadEngineModelOptions } from "../engine/engine-model.js";
import type { NativeContextInfo } from "../engine/native-addon.js";
import { inspectGguf } from "../models/gguf-inspection.js";
import { requireModelKind, type ModelClassification, type ModelKind } from "../models/model-kind.js";
import { resolveModelPath } from "../models/model-location.js";
import { EnginePool } from "../runtime/engine-pool.js";
import type { BatchRunner } from "../runtime/batch-runner.js";
import { BatchScheduler, PRIORITIES, type BatchEvent, type Priority, type SchedulerStats } from "../scheduler/batch-scheduler.js";
import { ContextRunner } from "../runtime/context-runner.js";
import { DisposedError } from "../internal/errors.js";
import { checkInteger, checkOneOf, checkString } from "../internal/validation.js";
import type { KvCacheType } from "./precision-mode.js";

/** What createEmbedder and createReranker take to find, load and evaluate a model. */
export interface FacadeModelOptions extends LoadEngineModelOptions {
    /** A .gguf path, or a registry id such as "qwen3-embedding-0.6b" (downloaded beforehand with `qwen3-embedding pull`). */
    model: string;
    /** KV cells of each evaluation context: the longest input (maxTokens) must fit. Default 8192 (or the model's context if smaller). */
    contextSize?: number;
    /** Tokens per llama.cpp decode, and per scheduled batch. Default 512 (measured fastest on CPU: see README). */
    batchTokens?: number;
    /** CPU threads per decode. Default: physical cores. */
    threads?: number;
    /** See EngineContextOptions.flashAttention. */
    flashAttention?: boolean | "auto";
    /** See EngineContextOptions.kvCacheType: "f16" (default) or "f32", the exact mode. */
    kvCacheType?: "f16" | "f32" | "q8_0";
    /**
     * Engine worker threads, each with its own context over one shared copy of the weights. Default
     * QWEN3_EMBEDDING_WORKERS, else 1: a CPU decode already uses every physical core; use one per GPU. 0 runs the
     * engine in this thread (no worker threads).
     */
    workers?: number;
    /** Tokens waiting in the scheduler before calls are refused with QueueFullError. Default 1,048,576. */
    maxQueuedTokens?: number;
    /** Calls waiting in the scheduler before calls are refused with QueueFullError. Default 10,000. */
    maxQueuedCalls?: number;
}

export const FACADE_MODEL_OPTIONS = [
    "model", "gpu", "gpuLayers", "useMmap", "repackWeights", "libraryPath", "contextSize", "batchTokens", "threads", "flashAttention", "kvCacheType",
    "workers", "maxQueuedTokens", "maxQueuedCalls",
] as const;

/** Options every embed/rerank call takes for scheduling. */
export interface ScheduleOptions {
    /** "interactive" calls are batched ahead of "bulk" ones. */
    priority?: Priority;
    /** Fail with DeadlineExceededError when the results are not ready this many milliseconds after the call. */
    timeoutMs?: number;
    signal?: AbortSignal;
}

export const DEFAULT_BATCH_TOKENS = 512;

/** The environment variable that sets the default number of engine worker threads of every embedder and reranker. */
export const WORKERS_ENV = "QWEN3_EMBEDDING_WORKERS";

function defaultWorkers(): number {
    const value = process.env[WORKERS_ENV];
    if (value === undefined || value === "") return 1;
    return checkInteger(WORKERS_ENV, /^\d+$/.test(value) ? Number(value) : value, 0, 64);
}

/** @internal The engine behind one embedder or reranker: a model for tokenizing, and a scheduler over contexts in workers. */
export class FacadeModel {
    #parts: { model: EngineModel; scheduler: BatchScheduler; runner: BatchRunner } | undefined;
    readonly info: NativeContextInfo;
    readonly classification: ModelClassification;
    readonly modelPath: string;
    /** The KV cache precision of its contexts, resolved ("f16" when not given). */
    readonly kvCacheType: KvCacheType;
    /** "embedder" or "reranker", for messages. */
    readonly owner: string;
    /** Tokens the scheduler holds waiting (`maxQueuedTokens`): a call of more is refused. */
    readonly maxQueuedTokens: number;

    constructor(
        model: EngineModel,
        runner: BatchRunner,
        info: NativeContextInfo,
        classification: ModelClassification,
        limits: { maxQueuedTokens: number; maxQueuedCalls: number },
        kvCacheType: KvCacheType,
    ) {
        const scheduler = new BatchScheduler(
            runner,
            { batchTokens: info.batchTokens, batchSequences: info.maxSequences, batchedLength: (tokens) => batchedSequenceLength(info, tokens), ...limits },
            { embed: info.embeddingSize, rank: 1 },
        );
        this.#parts = { model, scheduler, runner };
        this.info = info;
        this.classification = classification;
        this.modelPath = model.path;
        this.kvCacheType = kvCacheType;
        this.owner = classification.kind === "embedding" ? "embedder" : "reranker";
        this.maxQueuedTokens = limits.maxQueuedTokens;
    }

    /** The model and scheduler; throws DisposedError naming the owner once disposed. */
    use(): { model: EngineModel; scheduler: BatchScheduler } {
        if (this.#parts === undefined) throw new DisposedError(`The ${this.owner} was disposed; create a new one`);
        return this.#parts;
    }

    stats(): SchedulerStats | undefined {
        return this.#parts?.scheduler.stats();
    }

    onBatch(listener: (event: BatchEvent) => void): () => void {
        return this.#parts?.scheduler.onBatch(listener) ?? (() => undefined);
    }

    get disposed(): boolean {
        return this.#parts === undefined;
    }

    /** Fails waiting and running calls with DisposedError, stops the workers, then releases the model. */
    async dispose(): Promise<void> {
        const parts = this.#parts;
        if (parts === undefined) return;
        this.#parts = undefined;
        parts.scheduler.close(`The ${this.owner} was disposed while the call waited or ran; create a new one`);
        try {
            await parts.runner.close();
        } finally {
            await parts.model.dispose();
        }
    }
}

/** Every option checked, before the model is resolved, its header read or anything loaded. */
function checkFacadeModelOptions(options: FacadeModelOptions, trainedContextSize = Number.MAX_SAFE_INTEGER) {
    const model = checkString("model", options.model, { allowEmpty: false });
    const workers = options.workers === undefined ? defaultWorkers() : checkInteger("workers", options.workers, 0, 64);
    const maxQueuedTokens = options.maxQueuedTokens === undefined ? 1 << 20 : checkInteger("maxQueuedTokens", options.maxQueuedTokens, 1, 2 ** 31);
    const maxQueuedCalls = options.maxQueuedCalls === undefined ? 10_000 : checkInteger("maxQueuedCalls", options.maxQueuedCalls, 1, 2 ** 31);
    const { gpu, gpuLayers, useMmap, repackWeights, libraryPath, contextSize, flashAttention, kvCacheType, threads } = options;
    const load: LoadEngineModelOptions = definedOnly({ gpu, gpuLayers, useMmap, repackWeights, libraryPath });
    checkLoadOptions(load);
    const batchTokens = options.batchTokens ?? DEFAULT_BATCH_TOKENS;
    const context: EngineContextOptions = definedOnly({ contextSize, batchTokens, threads, flashAttention, kvCacheType });
    const { kvCacheType: resolvedKvCacheType } = checkContextOptions(context, trainedContextSize, "model options");
    return { model, workers, limits: { maxQueuedTokens, maxQueuedCalls }, load, context, kvCacheType: resolvedKvCacheType };
}

/** @internal Resolves the model argument, refuses a file of the wrong kind before loading it, then loads it and starts its workers. */
export async function loadFacadeModel(options: FacadeModelOptions, kind: ModelKind): Promise<FacadeModel> {
    const { model: source, workers, limits, load, context, kvCacheType } = checkFacadeModelOptions(options);
    const path = await resolveModelPath(source);
    const inspection = await inspectGguf(path);
    const classification = requireModelKind(inspection, kind);
    checkFacadeModelOptions(options, inspection.trainedContextSize); // contextSize against this model's trained context
    // This thread's copy is the same native model the workers load (a process-wide registry): it tokenizes.
    const model = await loadInspectedEngineModel(inspection, load);
    try {
        // Workers bind the library this thread already loaded, without node-llama-cpp's core count: pass it on.
        const contextOptions: EngineContextOptions = { ...context, threads: context.threads ?? defaultThreads(model.library) };
        let runner: BatchRunner;
        let info: NativeContextInfo;
        if (workers === 0) {
            const engineContext = await model.createContext(contextOptions);
            runner = new ContextRunner(engineContext);
            info = engineContext.info;
        } else {
            const pool = await EnginePool.start({ workers, model: inspection, load, context: contextOptions });
            runner = pool;
            info = pool.info;
        }
        return new FacadeModel(model, runner, info, classification, limits, kvCacheType);
    } catch (error) {
        await model.dispose();
        throw error;
    }
}

/** Validates the scheduling options of one call; `fallback` is the priority when none is given. */
export function checkScheduleOptions(options: ScheduleOptions, fallback: Priority): { priority: Priority; timeoutMs?: number } {
    const priority = options.priority === undefined ? fallback : checkOneOf("priority", options.priority, PRIORITIES);
    if (options.timeoutMs === undefined) return { priority };
    return { priority, timeoutMs: checkInteger("timeoutMs", options.timeoutMs, 1, 2 ** 31 - 1) };
}

function definedOnly<T extends object>(value: T): T {
    return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined)) as T;
}
