import type { FastifyBaseLogger } from "fastify";
import type { CreateTokenizerOptions } from "../facade/tokenizer.js";
import { createEmbedder, type CreateEmbedderOptions } from "../facade/embedder.js";
import { createReranker } from "../facade/reranker.js";
import { HttpError } from "./error-responses.js";
import { modelNames, type ModelNames, type ServedKind } from "./model-names.js";
import type { ServerMetrics } from "./server-metrics.js";
import type { SchedulerBatchEvent, ModelSource, ResolvedServerOptions, SchedulerQueueStats, ServedEmbedder, ServedReranker } from "./server-options.js";
import { tokenCodecFor, type TokenCodec } from "./token-input.js";

export type ServerState = "loading" | "ready" | "failed" | "closing";

export interface ServedModel<T> {
    model: T;
    names: ModelNames;
    /** Tokens per input (embedding) or per prompt (reranker): the server's limit, at most the model's context. */
    maxTokens: number;
}

interface Loaded<T> extends ServedModel<T> {
    owned: boolean;
}

/**
 * The models behind the routes and the server's lifecycle state: "loading" until every model is ready (routes and
 * /health answer 503), "ready", "failed" (a model did not load; 503 with the reason), "closing" (draining; 503).
 * Disposes only the models it loaded itself.
 */
export class ServedModels {
    #state: ServerState = "loading";
    #failure: Error | undefined;
    #embedding: Loaded<ServedEmbedder> | undefined;
    #reranker: Loaded<ServedReranker> | undefined;
    #codec: Promise<{ codec: TokenCodec; dispose(): Promise<void> }> | undefined;
    #loading: Promise<void> | undefined;
    readonly #unsubscribe: (() => void)[] = [];
    readonly #options: ResolvedServerOptions;
    readonly #log: FastifyBaseLogger;
    readonly #metrics: ServerMetrics;

    constructor(options: ResolvedServerOptions, log: FastifyBaseLogger, metrics: ServerMetrics) {
        this.#options = options;
        this.#log = log;
        this.#metrics = metrics;
    }

    get state(): ServerState {
        return this.#state;
    }

    get failure(): Error | undefined {
        return this.#failure;
    }

    /** Which kinds this server serves (known before loading). */
    serves(kind: ServedKind): boolean {
        return (kind === "embedding" ? this.#options.embedding : this.#options.reranker) !== undefined;
    }

    /** Loads (or awaits) the models, once. Rejects with the first failure; the state then stays "failed". */
    load(): Promise<void> {
        this.#loading ??= this.#load();
        return this.#loading;
    }

    async #load(): Promise<void> {
        const options = this.#options;
        const embedding = loadSource(options.embedding, (model, opts) => createEmbedder({ ...opts, model }));
        const reranker = loadSource(options.reranker, (model, opts) => createReranker({ ...opts, model }));
        const [embeddingResult, rerankerResult] = await Promise.allSettled([embedding, reranker]);
        const failed = [embeddingResult, rerankerResult].find((result): result is PromiseRejectedResult => result.status === "rejected");
        if (failed !== undefined) {
            for (const result of [embeddingResult, rerankerResult]) {
                if (result.status === "fulfilled" && result.value?.owned) await result.value.instance.dispose();
            }
            this.#failure = failed.reason instanceof Error ? failed.reason : new Error(String(failed.reason));
            if (this.#state === "loading") this.#state = "failed";
            throw this.#failure;
        }
        if (embeddingResult.status === "fulfilled" && embeddingResult.value !== undefined) this.#embedding = this.#serve("embedding", embeddingResult.value);
        if (rerankerResult.status === "fulfilled" && rerankerResult.value !== undefined) this.#reranker = this.#serve("reranker", rerankerResult.value);
        if (this.#state === "loading") this.#state = "ready";
    }

    #serve<T extends ServedEmbedder | ServedReranker>(kind: ServedKind, loaded: { instance: T; owned: boolean; argument: string | undefined }): Loaded<T> {
        const { instance, owned, argument } = loaded;
        this.#observe(kind, instance);
        return {
            model: instance,
            owned,
            names: modelNames(kind, instance.modelPath, argument, this.#options.servedModelNames),
            maxTokens: this.#tokenLimit(kind, instance.contextSize),
        };
    }

    #tokenLimit(kind: ServedKind, contextSize: number): number {
        const wanted = this.#options.maxTokensPerInput;
        if (wanted === undefined) return Math.min(8192, contextSize);
        if (wanted > contextSize) {
            this.#log.warn({ model: kind, maxTokensPerInput: wanted, contextSize }, `maxTokensPerInput exceeds the ${kind} model's context; using ${contextSize}`);
            return contextSize;
        }
        return wanted;
    }

    /**
     * Wires the optional scheduler hooks of a model, both duck-typed: its `stats()` (read when the server has no
     * schedulerStats option) for the queue gauges, and its `onBatch(listener)` for the batch histograms.
     */
    #observe(kind: ServedKind, instance: object): void {
        const duck = instance as { stats?: unknown; onBatch?: unknown };
        if (this.#options.schedulerStats === undefined && typeof duck.stats === "function") {
            const stats = duck.stats as () => SchedulerQueueStats;
            this.#metrics.addQueueSource({ model: kind, stats: () => stats.call(instance) });
        }
        if (typeof duck.onBatch === "function") {
            const subscribe = duck.onBatch as (listener: (batch: SchedulerBatchEvent) => void) => unknown;
            const unsubscribe = subscribe.call(instance, (batch: SchedulerBatchEvent) => this.#metrics.batch(kind, batch));
            if (typeof unsubscribe === "function") this.#unsubscribe.push(unsubscribe as () => void);
        }
    }

    /** The embedding model, or the 503/404 a request for it gets now. */
    embedding(): ServedModel<ServedEmbedder> {
        return this.#use("embedding", this.#embedding);
    }

    reranker(): ServedModel<ServedReranker> {
        return this.#use("reranker", this.#reranker);
    }

    /** Names of the other kind's model, for 404 hints. */
    namesOf(kind: ServedKind): ModelNames | undefined {
        return (kind === "embedding" ? this.#embedding : this.#reranker)?.names;
    }

    /** Every loaded model, for /v1/models. */
    list(): { kind: ServedKind; names: ModelNames; served: ServedEmbedder | ServedReranker; maxTokens: number }[] {
        const entries: { kind: ServedKind; names: ModelNames; served: ServedEmbedder | ServedReranker; maxTokens: number }[] = [];
        if (this.#embedding) entries.push({ kind: "embedding", names: this.#embedding.names, served: this.#embedding.model, maxTokens: this.#embedding.maxTokens });
        if (this.#reranker) entries.push({ kind: "reranker", names: this.#reranker.names, served: this.#reranker.model, maxTokens: this.#reranker.maxTokens });
        return entries;
    }

    /** The tokenizer of `model` (the served embedder) for token-id inputs, loaded on first use. */
    tokenCodec(model: ServedEmbedder): Promise<TokenCodec> {
        if (this.#codec === undefined) {
            const source = this.#options.embedding;
            const codec = tokenCodecFor(model, source?.kind === "load" ? pickLoadOptions(source.options) : {});
            this.#codec = codec;
            codec.catch(() => {
                if (this.#codec === codec) this.#codec = undefined; // a failed load is retried by the next request
            });
        }
        return this.#codec.then(({ codec }) => codec);
    }

    /** The answer to a request while the models are not usable. */
    unavailable(): HttpError | undefined {
        switch (this.#state) {
            case "ready":
                return undefined;
            case "loading":
                return new HttpError(503, "The models are still loading; retry shortly", { code: "loading", headers: { "retry-after": "1" } });
            case "failed":
                return new HttpError(503, `A model failed to load: ${this.#failure?.message ?? "unknown error"}`, { code: "load_failed" });
            case "closing":
                return new HttpError(503, "The server is shutting down", { code: "shutting_down", headers: { connection: "close" } });
        }
    }

    /** Marks the server as draining: /health and new requests get 503 while admitted ones finish. */
    beginClosing(): void {
        this.#state = "closing";
    }

    /** Disposes the models the server loaded (after loading settles) and the token codec. */
    async dispose(): Promise<void> {
        this.#state = "closing";
        await this.#loading?.catch(() => undefined);
        for (const unsubscribe of this.#unsubscribe.splice(0)) unsubscribe();
        const codec = await this.#codec?.catch(() => undefined);
        await codec?.dispose();
        const owned = [this.#embedding, this.#reranker].filter((loaded) => loaded?.owned).map((loaded) => loaded!.model);
        this.#embedding = undefined;
        this.#reranker = undefined;
        await Promise.all(owned.map((model) => model.dispose()));
    }

    /**
     * A model for a request already admitted: usable while draining ("closing"), since new requests are turned away
     * at the door (see create-server) and the models are disposed only after the admitted ones finish.
     */
    #use<T>(kind: ServedKind, loaded: Loaded<T> | undefined): ServedModel<T> {
        if (this.#state === "loading" || this.#state === "failed") throw this.unavailable()!;
        if (loaded === undefined) {
            if (this.#state === "closing" && this.serves(kind)) throw this.unavailable()!;
            const flag = kind === "embedding" ? "--embedding-model" : "--reranker-model";
            throw new HttpError(404, `This server serves no ${kind} model; start it with ${flag}`, { code: "model_not_found", param: "model" });
        }
        return loaded;
    }
}

async function loadSource<T, O>(
    source: ModelSource<T, O> | undefined,
    create: (model: string, options: O) => Promise<T>,
): Promise<{ instance: T; owned: boolean; argument: string | undefined } | undefined> {
    if (source === undefined) return undefined;
    if (source.kind === "given") return { instance: await source.instance, owned: false, argument: undefined };
    return { instance: await create(source.model, source.options), owned: true, argument: source.model };
}

function pickLoadOptions(options: Omit<CreateEmbedderOptions, "model">): Omit<CreateTokenizerOptions, "model"> {
    const { gpu, gpuLayers, useMmap, repackWeights, libraryPath } = options;
    return Object.fromEntries(Object.entries({ gpu, gpuLayers, useMmap, repackWeights, libraryPath }).filter(([, value]) => value !== undefined));
}
