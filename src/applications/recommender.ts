import type { Embedder } from "../facade/embedder.js";
import { dotProduct, meanDirection } from "../format/vector-math.js";
import { InvalidOptionError } from "../internal/errors.js";
import { checkItemId, checkItemText, checkMetadata, checkNamespace, type Metadata } from "../store/item-validation.js";
import type { MetadataFilter } from "../store/metadata-filter.js";
import type { VectorStore } from "../store/vector-store.js";
import { checkAbortSignal, checkInteger, checkOneOf, checkOptionsObject, checkString, describeValue, isPlainObject } from "../internal/validation.js";
import { checkStore, checkUnitInterval } from "./application-options.js";
import { indexDocuments, type IndexDocument, type IndexOptions, type IndexResult } from "./document-indexer.js";
import { createEmbeddingCache, type EmbeddingCache, type EmbeddingCacheStats } from "./embedding-cache.js";
import { selectByMmr } from "./mmr-selection.js";
import { checkQueryLengths, checkQueryText } from "./query-text.js";

export interface CreateRecommenderOptions {
    embedder: Embedder;
    /** Where items live (and the embedding cache). Needed to name items by id, or to recommend from the whole catalogue. */
    store?: VectorStore;
    /** The catalogue's namespace in the store. Default "items". */
    namespace?: string;
    /** Matryoshka dimension, 32..embedder.dimensions. Default: the model's. */
    dimensions?: number;
    /** Instruction for preferences given as text (they are embedded as queries). Default: {@link PREFERENCE_INSTRUCTION}. */
    instruction?: string;
}

/**
 * An item: ad-hoc text (a string, or `{ text, id?, metadata? }`), or an item stored in the catalogue namespace,
 * named by id (`{ id }`).
 */
export type RecommendItem = string | { id: string } | { text: string; id?: string; metadata?: Metadata };

export interface Recommendation {
    /** Position in the `items` / `candidates` array given; absent for items found in the catalogue. */
    index?: number;
    id?: string;
    text: string;
    metadata?: Metadata;
    /** Cosine similarity to the query (findSimilar) or relevance to the preferences (recommend), in [-1, 1]. */
    score: number;
}

export interface FindSimilarOptions {
    /** 1..1000, default 10. */
    topK?: number;
    /** Metadata filter, when searching the catalogue. */
    filter?: MetadataFilter;
    signal?: AbortSignal;
}

export interface RecommendOptions extends FindSimilarOptions {
    /**
     * How several preferences combine: "mean" scores against their normalized mean (one taste), "max" against the
     * closest one (several distinct tastes). Default "mean".
     */
    strategy?: "mean" | "max";
    /**
     * 0 (default) ranks by relevance alone; above 0, maximal marginal relevance trades relevance for variety:
     * each next pick maximizes (1 - diversity) * relevance - diversity * (similarity to the closest item already picked).
     */
    diversity?: number;
}

/** Preferences written as text are queries for items the user would like. */
export const PREFERENCE_INSTRUCTION = "Given a user's stated preferences, retrieve items the user would like";

const CREATE_OPTIONS = ["embedder", "store", "namespace", "dimensions", "instruction"] as const;
const FIND_OPTIONS = ["topK", "filter", "signal"] as const;
const RECOMMEND_OPTIONS = ["topK", "filter", "signal", "strategy", "diversity"] as const;
const STRATEGIES = ["mean", "max"] as const;

interface ResolvedItem {
    index?: number;
    id?: string;
    text: string;
    metadata?: Metadata;
    /** Stored in the catalogue (named by id, or found there). */
    stored: boolean;
    vector: Float32Array;
}

/**
 * Similar items and recommendations from embeddings. Items are compared as documents (raw text), so ad-hoc strings
 * and catalogue items mix; preferences written as text are embedded as queries. Create with `createRecommender`.
 */
export class Recommender {
    readonly namespace: string;
    readonly #store: VectorStore | undefined;
    readonly #cache: EmbeddingCache;
    readonly #instruction: string;

    /** @internal */
    constructor(store: VectorStore | undefined, cache: EmbeddingCache, namespace: string, instruction: string) {
        this.#store = store;
        this.#cache = cache;
        this.namespace = namespace;
        this.#instruction = instruction;
    }

    /**
     * Adds or updates catalogue items (as documents: raw text), so that `{ id }` names them and recommendations
     * can come from the whole catalogue. Same behaviour as SearchIndex.index: unchanged items skipped, batches in
     * transactions, resumable.
     */
    async index(items: readonly IndexDocument[], options: IndexOptions = {}): Promise<IndexResult> {
        if (this.#store === undefined) throw new InvalidOptionError("Indexing a catalogue needs a store; pass one to createRecommender({ store })");
        return indexDocuments(this.#store, this.#cache, this.namespace, items, options);
    }

    /**
     * Items most similar to `query`, best first: among `items` when given, else in the catalogue (the query itself
     * left out).
     */
    async findSimilar(query: RecommendItem, items?: readonly RecommendItem[], options: FindSimilarOptions = {}): Promise<Recommendation[]> {
        const opts = checkOptionsObject<FindSimilarOptions>("findSimilar options", options, FIND_OPTIONS);
        const topK = opts.topK === undefined ? 10 : checkInteger("topK", opts.topK, 1, 1000);
        const signal = checkAbortSignal("signal", opts.signal);
        const [target] = await this.#resolve([checkItem("query", query)], "query", "document", signal);
        if (items === undefined) {
            const pool = await this.#searchCatalogue([target!.vector], topK + 1, opts.filter, target!.stored && target!.id !== undefined ? [target!.id] : []);
            return pool.slice(0, topK).map((item) => toRecommendation(item, dotProduct(item.vector, target!.vector)));
        }
        if (opts.filter !== undefined) throw new InvalidOptionError("filter applies to the catalogue; it cannot be combined with items");
        const candidates = await this.#resolve(checkItems("items", items), "items", "document", signal);
        return candidates
            .map((item) => ({ item, score: dotProduct(item.vector, target!.vector) }))
            .sort((a, b) => b.score - a.score || (a.item.index ?? 0) - (b.item.index ?? 0))
            .slice(0, topK)
            .map(({ item, score }) => toRecommendation(item, score));
    }

    /**
     * Items for someone with these preferences (texts they wrote, or catalogue items they liked), best first: among
     * `candidates` when given, else in the catalogue (liked items left out). Preferences written as text are queries:
     * an empty or whitespace-only one, or one longer than the embedder's token limit with the instruction, is an
     * InvalidOptionError naming it (`preferences[0]`, `preferences[1].text`); they are never cut.
     */
    async recommend(preferences: readonly RecommendItem[], candidates?: readonly RecommendItem[], options: RecommendOptions = {}): Promise<Recommendation[]> {
        const opts = checkOptionsObject<RecommendOptions>("recommend options", options, RECOMMEND_OPTIONS);
        const topK = opts.topK === undefined ? 10 : checkInteger("topK", opts.topK, 1, 1000);
        const strategy = opts.strategy === undefined ? "mean" : checkOneOf("strategy", opts.strategy, STRATEGIES);
        const diversity = opts.diversity === undefined ? 0 : checkUnitInterval("diversity", opts.diversity);
        const signal = checkAbortSignal("signal", opts.signal);
        const preferenceItems = checkItems("preferences", preferences);
        if (preferenceItems.length === 0) throw new InvalidOptionError("Expected at least one preference for preferences but received an empty array");
        const liked = await this.#resolve(preferenceItems, "preferences", "query", signal);
        const vectors = liked.map((item) => item.vector);
        const taste = strategy === "mean" ? [meanTaste(vectors)] : vectors;

        let pool: ResolvedItem[];
        if (candidates === undefined) {
            // Enough of the catalogue to choose a diverse top-k from.
            const wanted = diversity > 0 ? Math.min(1000, topK * 5) : topK;
            const excluded = liked.filter((item) => item.stored && item.id !== undefined).map((item) => item.id!);
            pool = await this.#searchCatalogue(taste, wanted + excluded.length, opts.filter, excluded);
        } else {
            if (opts.filter !== undefined) throw new InvalidOptionError("filter applies to the catalogue; it cannot be combined with candidates");
            pool = await this.#resolve(checkItems("candidates", candidates), "candidates", "document", signal);
        }
        const relevance = pool.map((item) => Math.max(...taste.map((vector) => dotProduct(item.vector, vector))));
        return selectByMmr(pool, relevance, topK, diversity).map((index) => toRecommendation(pool[index]!, relevance[index]!));
    }

    /** Embedding cache hits and misses of this recommender. */
    cacheStats(): EmbeddingCacheStats {
        return this.#cache.stats();
    }

    /** Vectors for items: stored ones from the catalogue, texts through the cache (as documents or as queries). */
    async #resolve(items: readonly CheckedItem[], name: string, role: "document" | "query", signal: AbortSignal | undefined): Promise<ResolvedItem[]> {
        if (role === "query") {
            const queries = items.flatMap((item) => (item.kind === "text" ? [{ name: item.name, text: checkQueryText(item.name, item.text) }] : []));
            await checkQueryLengths(this.#cache, queries, this.#instruction);
        }
        const storedIds = items.flatMap((item) => (item.kind === "stored" ? [item.id] : []));
        const found = new Map<string, ResolvedItem>();
        if (storedIds.length > 0) {
            if (this.#store === undefined) throw new InvalidOptionError(`${name} names stored items by id, which needs a store; pass one to createRecommender({ store })`);
            const stored = await this.#store.get(this.namespace, storedIds, { withEmbeddings: true });
            for (const item of stored) {
                found.set(item.id, { id: item.id, text: item.text, metadata: item.metadata, stored: true, vector: item.embedding! });
            }
            const missing = storedIds.filter((id) => !found.has(id));
            if (missing.length > 0) {
                throw new InvalidOptionError(`${name} names ${missing.length} id(s) not in namespace ${JSON.stringify(this.namespace)}: ${missing.slice(0, 5).map((id) => JSON.stringify(id)).join(", ")}`);
            }
        }
        const texts = items.flatMap((item) => (item.kind === "text" ? [item.text] : []));
        const embedded = texts.length === 0
            ? []
            : role === "document"
                ? (await this.#cache.embedDocuments(texts, signal === undefined ? {} : { signal })).embeddings
                : (await this.#cache.embedQueries(texts, { instruction: this.#instruction, ...(signal === undefined ? {} : { signal }) })).embeddings;
        let next = 0;
        return items.map((item, index): ResolvedItem => {
            if (item.kind === "stored") return { ...found.get(item.id)!, index };
            return {
                index,
                text: item.text,
                stored: false,
                vector: embedded[next++]!,
                ...(item.id === undefined ? {} : { id: item.id }),
                ...(item.metadata === undefined ? {} : { metadata: item.metadata }),
            };
        });
    }

    /** Nearest catalogue items to any of the vectors, each once, without the excluded ids. */
    async #searchCatalogue(vectors: readonly Float32Array[], topK: number, filter: MetadataFilter | undefined, excluded: readonly string[]): Promise<ResolvedItem[]> {
        if (this.#store === undefined) throw new InvalidOptionError("Searching the catalogue needs a store; pass items/candidates, or a store to createRecommender({ store })");
        const skip = new Set(excluded);
        const byId = new Map<string, ResolvedItem>();
        for (const vector of vectors) {
            const hits = await this.#store.search(this.namespace, vector, {
                topK: Math.min(1000, topK),
                withEmbeddings: true,
                ...(filter === undefined ? {} : { filter }),
            });
            for (const hit of hits) {
                if (skip.has(hit.id) || byId.has(hit.id)) continue;
                byId.set(hit.id, { id: hit.id, text: hit.text, metadata: hit.metadata, stored: true, vector: hit.embedding! });
            }
        }
        return [...byId.values()];
    }
}

/** A text item keeps the name its text is known by in messages (`preferences[0]`, `items[2].text`). */
type CheckedItem = { kind: "stored"; id: string } | { kind: "text"; name: string; text: string; id?: string; metadata?: Metadata };

function checkItems(name: string, items: unknown): CheckedItem[] {
    if (!Array.isArray(items)) throw new InvalidOptionError(`Expected an array of items for ${name} but received ${describeValue(items)}`);
    if (items.length > 10_000) throw new InvalidOptionError(`Expected at most 10000 items for ${name} but received ${items.length}`);
    return items.map((item, index) => checkItem(`${name}[${index}]`, item));
}

function checkItem(name: string, item: unknown): CheckedItem {
    if (typeof item === "string") return { kind: "text", name, text: checkItemText(name, item) };
    if (!isPlainObject(item)) throw new InvalidOptionError(`Expected a string, { id } or { text } for ${name} but received ${describeValue(item)}`);
    const value = checkOptionsObject<{ id?: string; text?: string; metadata?: Metadata }>(name, item, ["id", "text", "metadata"]);
    if (value.text === undefined) {
        if (value.id === undefined) throw new InvalidOptionError(`Expected a string, { id } or { text } for ${name} but received an object with neither`);
        if (value.metadata !== undefined) throw new InvalidOptionError(`${name} names a stored item by id; its metadata comes from the store`);
        return { kind: "stored", id: checkItemId(`${name}.id`, value.id) };
    }
    return {
        kind: "text",
        name: `${name}.text`,
        text: checkItemText(`${name}.text`, value.text),
        ...(value.id === undefined ? {} : { id: checkItemId(`${name}.id`, value.id) }),
        ...(value.metadata === undefined ? {} : { metadata: JSON.parse(checkMetadata(`${name}.metadata`, value.metadata)) as Metadata }),
    };
}

function toRecommendation(item: ResolvedItem, score: number): Recommendation {
    return {
        ...(item.index === undefined ? {} : { index: item.index }),
        ...(item.id === undefined ? {} : { id: item.id }),
        text: item.text,
        ...(item.metadata === undefined ? {} : { metadata: item.metadata }),
        score,
    };
}

/** The preferences' mean taste: the unit vector along their mean. */
function meanTaste(vectors: readonly Float32Array[]): Float32Array {
    const direction = meanDirection(vectors);
    if (direction.every((value) => value === 0)) throw new InvalidOptionError("The preferences cancel out (their mean vector is zero); use strategy \"max\"");
    return direction;
}

/** Binds the catalogue namespace (when a store is given) to the embedder's model and dimension. */
export async function createRecommender(options: CreateRecommenderOptions): Promise<Recommender> {
    const opts = checkOptionsObject<CreateRecommenderOptions>("createRecommender options", options, CREATE_OPTIONS);
    const store = opts.store === undefined ? undefined : checkStore(opts.store);
    const namespace = opts.namespace === undefined ? "items" : checkNamespace("namespace", opts.namespace);
    const instruction = opts.instruction === undefined ? PREFERENCE_INSTRUCTION : checkString("instruction", opts.instruction, { allowEmpty: false });
    const cache = await createEmbeddingCache({ embedder: opts.embedder, ...(store === undefined ? {} : { store }), ...(opts.dimensions === undefined ? {} : { dimensions: opts.dimensions }) });
    if (store !== undefined) await store.ensureNamespace(namespace, { model: cache.fingerprint, dimensions: cache.dimensions });
    return new Recommender(store, cache, namespace, instruction);
}
