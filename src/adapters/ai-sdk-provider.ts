import type { EmbeddingModelV3, EmbeddingModelV3CallOptions, EmbeddingModelV3Result, JSONObject, RerankingModelV3, RerankingModelV3CallOptions } from "@ai-sdk/provider";
import { Embedder } from "../facade/embedder.js";
import { Reranker } from "../facade/reranker.js";
import { isSymmetricTask, type TaskName } from "../format/task-instructions.js";
import { InvalidOptionError } from "../internal/errors.js";
import { checkOneOf, checkOptionsObject, describeValue, isPlainObject } from "../internal/validation.js";
import { checkQueryInstruction, EmbeddingSource, type QueryInstruction } from "./embedding-source.js";
import { RerankSource } from "./rerank-source.js";
import { serveClient, type ServeConnection } from "./serve-client.js";

/** The key of `providerOptions` this provider reads: `providerOptions: { qwen3: { inputType: "query" } }`. */
export const PROVIDER_OPTIONS_KEY = "qwen3";

/** A served request's input limit when nothing says otherwise: `serve`'s default --max-inputs. */
const SERVE_MAX_INPUTS = 2048;

export type InputType = "query" | "document";
const INPUT_TYPES: readonly InputType[] = ["query", "document"];

/** Give `embedder` and/or `reranker` (in process), or the `baseUrl` of a serve (both models through it). */
export interface Qwen3ProviderOptions extends Omit<Partial<ServeConnection>, "model"> {
    embedder?: Embedder;
    reranker?: Reranker;
}

export interface Qwen3EmbeddingSettings extends QueryInstruction {
    /** The served model's name (remote only). */
    model?: string;
    /** Matryoshka: keep the first N components, then L2-normalize again. */
    dimensions?: number;
    /** The role of values a call does not say (providerOptions.qwen3.inputType). Default "document". */
    inputType?: InputType;
}

export interface Qwen3RerankingSettings {
    /** The served model's name (remote only). */
    model?: string;
    /** The reranker's instruction (default: the reranker's / the server's own). */
    instruction?: string;
}

/** `providerOptions.qwen3` of an embed / embedMany call. */
export interface Qwen3EmbeddingProviderOptions extends QueryInstruction {
    /** "query": the values get the Qwen3 instruction; "document": raw text. Default: the model's inputType ("document"), or "query" when an instruction or task is given. */
    inputType?: InputType;
}

export interface Qwen3Provider {
    /** An AI SDK embedding model (for `embed` / `embedMany`). */
    embeddingModel(settings?: Qwen3EmbeddingSettings): EmbeddingModelV3;
    /** Alias of embeddingModel. */
    textEmbeddingModel(settings?: Qwen3EmbeddingSettings): EmbeddingModelV3;
    /** An AI SDK reranking model (for `rerank`). */
    rerankingModel(settings?: Qwen3RerankingSettings): RerankingModelV3;
}

const PROVIDER_OPTIONS = ["embedder", "reranker", "baseUrl", "apiKey", "timeoutMs"] as const;

/**
 * A Vercel AI SDK provider over Qwen3-Embedding and Qwen3-Reranker. `embed` / `embedMany` embed documents (raw text)
 * unless `providerOptions: { qwen3: { inputType: "query" } }` (optionally with `instruction` or `task`) says the values
 * are queries; then they get `Instruct: {instruction}\nQuery:{text}`.
 */
export function createQwen3(options: Qwen3ProviderOptions): Qwen3Provider {
    const opts = checkOptionsObject<Qwen3ProviderOptions>("createQwen3 options", options, PROVIDER_OPTIONS);
    const local = opts.embedder !== undefined || opts.reranker !== undefined;
    if (local && opts.baseUrl !== undefined) {
        throw new InvalidOptionError("Pass either embedder / reranker (in process) or baseUrl (a qwen3-embedding serve) in createQwen3 options, not both", { option: "baseUrl" });
    }
    if (!local && opts.baseUrl === undefined) {
        throw new InvalidOptionError("Expected embedder, reranker or baseUrl (a qwen3-embedding serve URL) in createQwen3 options but received none of them", { option: "baseUrl" });
    }
    if (opts.baseUrl !== undefined) serveClient({ ...opts, baseUrl: opts.baseUrl });
    if (opts.embedder !== undefined && !(opts.embedder instanceof Embedder)) {
        throw new InvalidOptionError(`Expected an Embedder from createEmbedder for embedder but received ${describeValue(opts.embedder)}`, { option: "embedder" });
    }
    if (opts.reranker !== undefined && !(opts.reranker instanceof Reranker)) {
        throw new InvalidOptionError(`Expected a Reranker from createReranker for reranker but received ${describeValue(opts.reranker)}`, { option: "reranker" });
    }
    const remote = opts.baseUrl === undefined ? {} : {
        baseUrl: opts.baseUrl,
        ...(opts.apiKey === undefined ? {} : { apiKey: opts.apiKey }),
        ...(opts.timeoutMs === undefined ? {} : { timeoutMs: opts.timeoutMs }),
    };
    const embeddingModel = (settings: Qwen3EmbeddingSettings = {}) => {
        if (local && opts.embedder === undefined) throw new InvalidOptionError("embeddingModel() needs an embedder in createQwen3 options (or a baseUrl)", { option: "embedder" });
        return new Qwen3EmbeddingModel({ ...remote, ...(opts.embedder === undefined ? {} : { embedder: opts.embedder }) }, settings);
    };
    return {
        embeddingModel,
        textEmbeddingModel: embeddingModel,
        rerankingModel(settings: Qwen3RerankingSettings = {}) {
            if (local && opts.reranker === undefined) throw new InvalidOptionError("rerankingModel() needs a reranker in createQwen3 options (or a baseUrl)", { option: "reranker" });
            return new Qwen3RerankingModel({ ...remote, ...(opts.reranker === undefined ? {} : { reranker: opts.reranker }) }, settings);
        },
    };
}

/** The AI SDK embedding model (specification v3) of createQwen3. */
export class Qwen3EmbeddingModel implements EmbeddingModelV3 {
    readonly specificationVersion = "v3";
    readonly provider = "qwen3-embedding";
    readonly modelId: string;
    readonly maxEmbeddingsPerCall: number;
    readonly supportsParallelCalls = true;
    readonly #source: EmbeddingSource;
    readonly #inputType: InputType;
    readonly #symmetric: boolean;

    /** @internal */
    constructor(target: Partial<ServeConnection> & { embedder?: Embedder }, settings: Qwen3EmbeddingSettings) {
        const checked = checkOptionsObject<Qwen3EmbeddingSettings>("embeddingModel settings", settings, ["model", "instruction", "task", "dimensions", "inputType"]);
        const { inputType, ...sourceSettings } = checked;
        this.#inputType = inputType === undefined ? "document" : checkOneOf("inputType", inputType, INPUT_TYPES);
        this.#source = new EmbeddingSource("embeddingModel settings", { ...target, ...sourceSettings });
        this.#symmetric = checked.task !== undefined && isSymmetricTask(checked.task);
        this.modelId = this.#source.modelId;
        this.maxEmbeddingsPerCall = target.embedder === undefined ? SERVE_MAX_INPUTS : Number.POSITIVE_INFINITY;
    }

    async doEmbed(options: EmbeddingModelV3CallOptions): Promise<EmbeddingModelV3Result> {
        const call = readEmbeddingProviderOptions(options.providerOptions?.[PROVIDER_OPTIONS_KEY]);
        const instructed = call.instruction !== undefined || call.task !== undefined;
        const role = call.inputType ?? (instructed ? "query" : this.#inputType);
        if (role === "document" && instructed && !(call.task !== undefined && isSymmetricTask(call.task) && this.#symmetric)) {
            throw new InvalidOptionError(
                `providerOptions.${PROVIDER_OPTIONS_KEY} gives ${call.instruction !== undefined ? "instruction" : "task"} with inputType "document"; documents are embedded as raw text (set the symmetric task "semantic-similarity" on the model), or send the values as queries`,
                { option: "inputType" },
            );
        }
        const result = role === "query"
            ? await this.#source.queries(options.values, instructed ? call : undefined, options.abortSignal)
            : await this.#source.documents(options.values, options.abortSignal);
        return { embeddings: result.embeddings, usage: { tokens: result.tokens }, warnings: [] };
    }
}

/** The AI SDK reranking model (specification v3) of createQwen3. */
export class Qwen3RerankingModel implements RerankingModelV3 {
    readonly specificationVersion = "v3";
    readonly provider = "qwen3-embedding";
    readonly modelId: string;
    readonly #source: RerankSource;

    /** @internal */
    constructor(target: Partial<ServeConnection> & { reranker?: Reranker }, settings: Qwen3RerankingSettings) {
        const checked = checkOptionsObject<Qwen3RerankingSettings>("rerankingModel settings", settings, ["model", "instruction"]);
        this.#source = new RerankSource("rerankingModel settings", { ...target, ...checked });
        this.modelId = this.#source.modelId;
    }

    async doRerank(options: RerankingModelV3CallOptions): Promise<{ ranking: { index: number; relevanceScore: number }[]; warnings: [] }> {
        const call = checkOptionsObject<{ instruction?: string }>(`providerOptions.${PROVIDER_OPTIONS_KEY}`, options.providerOptions?.[PROVIDER_OPTIONS_KEY], ["instruction"]);
        // Objects are scored as their JSON text, as the SDK's other rerankers (Cohere) send them.
        const documents = options.documents.type === "text" ? options.documents.values : options.documents.values.map((value: JSONObject) => JSON.stringify(value));
        const ranked = await this.#source.rerank(options.query, documents, {
            instruction: call.instruction,
            topN: options.topN,
            signal: options.abortSignal,
        });
        return { ranking: ranked.map(({ index, score }) => ({ index, relevanceScore: score })), warnings: [] };
    }
}

function readEmbeddingProviderOptions(value: unknown): Qwen3EmbeddingProviderOptions {
    if (value !== undefined && !isPlainObject(value)) {
        throw new InvalidOptionError(`Expected an options object for providerOptions.${PROVIDER_OPTIONS_KEY} but received ${describeValue(value)}`, { option: "providerOptions" });
    }
    const opts = checkOptionsObject<Qwen3EmbeddingProviderOptions>(`providerOptions.${PROVIDER_OPTIONS_KEY}`, value, ["inputType", "instruction", "task"]);
    const inputType = opts.inputType === undefined ? undefined : checkOneOf("inputType", opts.inputType, INPUT_TYPES);
    return { ...checkQueryInstruction(opts as { instruction?: string; task?: TaskName }, ""), ...(inputType === undefined ? {} : { inputType }) };
}
