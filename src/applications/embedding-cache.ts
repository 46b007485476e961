import type { Embedder } from "../facade/embedder.js";
import { InvalidOptionError } from "../internal/errors.js";
import type { VectorStore } from "../store/vector-store.js";
import { sha256Hex } from "../store/vector-text.js";
import { checkInteger, checkOptionsObject, checkString, checkStringArray, describeValue } from "../internal/validation.js";
import { checkStore } from "./application-options.js";
import { callLimits, type CallLimits } from "./call-limits.js";
import { modelFingerprint } from "./model-fingerprint.js";

export interface CreateEmbeddingCacheOptions {
    embedder: Embedder;
    /** Where cached vectors live. Without a store nothing is cached (every text goes to the model). */
    store?: VectorStore;
    /** Matryoshka dimension of every vector, 32..embedder.dimensions. Default: the model's full dimension. */
    dimensions?: number;
}

export interface CachedEmbedOptions {
    signal?: AbortSignal;
    /**
     * Milliseconds the model call may take: one that cannot finish in time is refused at once (QueueFullError), one
     * that runs over fails (DeadlineExceededError). Default: no limit.
     */
    timeoutMs?: number;
}

export interface CachedQueryOptions extends CachedEmbedOptions {
    /** The query instruction (required: queries without one are documents). */
    instruction: string;
}

export interface CachedEmbeddings {
    embeddings: Float32Array[];
    /** Texts answered from the cache. */
    cached: number;
    /** Distinct texts the model embedded. */
    embedded: number;
}

export interface EmbeddingCacheStats {
    hits: number;
    misses: number;
}

const CREATE_OPTIONS = ["embedder", "store", "dimensions"] as const;

/**
 * Embeddings through a cache in the store, keyed by the model file's fingerprint, the query instruction (none for
 * documents), the dimension and the SHA-256 of the text: re-indexing and repeated queries skip the model. Vectors
 * are L2-normalized float32, truncated to at most `maxTokens` = min(8192, context size) tokens (part of the key).
 * Memory, SearchIndex and Recommender refuse a longer query before it gets here (see checkQueryLengths): only
 * documents are cut.
 *
 * The key does not see the embedder's `normalizeInput` option: use one cache (store) per setting of it.
 */
export class EmbeddingCache {
    readonly embedder: Embedder;
    /** The model file's fingerprint (see `modelFingerprint`); namespaces are bound to it. */
    readonly fingerprint: string;
    /** The fingerprint plus the truncation length: the `model` part of every cache key. */
    readonly model: string;
    readonly dimensions: number;
    /** Tokens per text the model sees: min(8192, the embedder's context size), the appended <|endoftext|> included. */
    readonly maxTokens: number;
    readonly #store: VectorStore | undefined;
    #hits = 0;
    #misses = 0;

    /** @internal */
    constructor(embedder: Embedder, store: VectorStore | undefined, fingerprint: string, dimensions: number, maxTokens: number) {
        this.embedder = embedder;
        this.#store = store;
        this.fingerprint = fingerprint;
        this.model = `${fingerprint};tokens=${maxTokens}`;
        this.dimensions = dimensions;
        this.maxTokens = maxTokens;
    }

    /** Documents: raw text, no instruction. */
    async embedDocuments(texts: readonly string[], options: CachedEmbedOptions = {}): Promise<CachedEmbeddings> {
        checkStringArray("texts", texts);
        const opts = checkOptionsObject<CachedEmbedOptions>("embedDocuments options", options, ["signal", "timeoutMs"]);
        return this.#embed(texts, "", callLimits(opts));
    }

    /** Queries: `Instruct: {instruction}\nQuery:{text}`. */
    async embedQueries(texts: readonly string[], options: CachedQueryOptions): Promise<CachedEmbeddings> {
        checkStringArray("texts", texts);
        const opts = checkOptionsObject<CachedQueryOptions>("embedQueries options", options, ["instruction", "signal", "timeoutMs"]);
        const instruction = checkString("instruction", opts.instruction, { allowEmpty: false });
        return this.#embed(texts, instruction, callLimits(opts));
    }

    async embedQuery(text: string, options: CachedQueryOptions): Promise<Float32Array> {
        checkString("text", text);
        return (await this.embedQueries([text], options)).embeddings[0]!;
    }

    /** Hits and misses since this cache object was created. */
    stats(): EmbeddingCacheStats {
        return { hits: this.#hits, misses: this.#misses };
    }

    async #embed(texts: readonly string[], instruction: string, limits: CallLimits): Promise<CachedEmbeddings> {
        const hashes = texts.map((text) => sha256Hex(text));
        const key = { model: this.model, dimensions: this.dimensions, instruction };
        const found = this.#store === undefined || texts.length === 0 ? new Map<string, Float32Array>() : await this.#store.cacheLookup(key, hashes);
        const missing = new Map<string, string>(); // hash -> text, each distinct text once
        hashes.forEach((hash, index) => {
            if (!found.has(hash)) missing.set(hash, texts[index]!);
        });
        if (missing.size > 0) {
            const missingTexts = [...missing.values()];
            const common = { dimensions: this.dimensions, maxTokens: this.maxTokens, ...limits };
            const result = instruction === ""
                ? await this.embedder.embedDocuments(missingTexts, common)
                : await this.embedder.embed(missingTexts, { ...common, instruction });
            const entries = [...missing.keys()].map((hash, index) => ({ textHash: hash, embedding: result.embeddings[index]! }));
            for (const entry of entries) found.set(entry.textHash, entry.embedding);
            await this.#store?.cacheStore(key, entries);
        }
        const cached = texts.length - hashes.filter((hash) => missing.has(hash)).length;
        this.#hits += cached;
        this.#misses += missing.size;
        return { embeddings: hashes.map((hash) => found.get(hash)!), cached, embedded: missing.size };
    }
}

/** Fingerprints the embedder's model file (cheaply, see `modelFingerprint`) and returns a cache over the store. */
export async function createEmbeddingCache(options: CreateEmbeddingCacheOptions): Promise<EmbeddingCache> {
    const opts = checkOptionsObject<CreateEmbeddingCacheOptions>("createEmbeddingCache options", options, CREATE_OPTIONS);
    const embedder = checkEmbedder(opts.embedder);
    const dimensions = opts.dimensions === undefined ? embedder.dimensions : checkInteger("dimensions", opts.dimensions, Math.min(32, embedder.dimensions), embedder.dimensions);
    const maxTokens = Math.min(8192, embedder.contextSize);
    const store = opts.store === undefined ? undefined : checkStore(opts.store);
    return new EmbeddingCache(embedder, store, await modelFingerprint(embedder.modelPath), dimensions, maxTokens);
}

/** Accepts an Embedder (or anything shaped like one) and rejects anything else with a named error. */
export function checkEmbedder(value: unknown, name = "embedder"): Embedder {
    const candidate = value as Partial<Embedder> | undefined;
    if (candidate === null || typeof candidate !== "object" || typeof candidate.embed !== "function" || typeof candidate.embedDocuments !== "function"
        || typeof candidate.countTokens !== "function" || typeof candidate.modelPath !== "string" || typeof candidate.dimensions !== "number"
        || typeof candidate.contextSize !== "number") {
        throw new InvalidOptionError(`Expected an Embedder (from createEmbedder) for ${name} but received ${describeValue(value)}`);
    }
    return candidate as Embedder;
}

