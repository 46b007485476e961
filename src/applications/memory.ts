import type { Embedder } from "../facade/embedder.js";
import { InvalidOptionError } from "../internal/errors.js";
import { TASK_INSTRUCTIONS } from "../format/task-instructions.js";
import type { Reranker } from "../facade/reranker.js";
import { checkItemId, checkItemText, checkMetadata, checkNamespace, checkUserId, type Metadata } from "../store/item-validation.js";
import type { MetadataFilter } from "../store/metadata-filter.js";
import type { StoredItem } from "../store/store-types.js";
import { sha256Hex } from "../store/vector-text.js";
import type { VectorStore } from "../store/vector-store.js";
import { checkBoolean, checkInteger, checkOptionsObject, checkString, describeValue } from "../internal/validation.js";
import { checkOptionalReranker, checkStore } from "./application-options.js";
import { callLimits } from "./call-limits.js";
import { createEmbeddingCache, type EmbeddingCache, type EmbeddingCacheStats } from "./embedding-cache.js";
import { checkQueryText } from "./query-text.js";
import { retrieveThenRerank, type RetrievalSource } from "./retrieve-then-rerank.js";

export interface CreateMemoryOptions {
    embedder: Embedder;
    /** Enables `search(..., { rerank: true })`. */
    reranker?: Reranker;
    store: VectorStore;
    /** Namespace of the memories. Default "memories". */
    namespace?: string;
    /** Matryoshka dimension, 32..embedder.dimensions. Default: the model's. Fixed per namespace. */
    dimensions?: number;
    /** Query-side instruction for search (memories themselves are embedded as raw text). Default: the memory-retrieval task's. */
    instruction?: string;
}

export interface AddMemoryOptions {
    userId: string;
    metadata?: Metadata;
    /** Stable id. Default: derived from the user and the text, so adding the same memory twice keeps one. */
    id?: string;
    signal?: AbortSignal;
    /** Milliseconds the model work may take; work that cannot finish in time is refused at once (QueueFullError). */
    timeoutMs?: number;
}

export interface MemoryEntry {
    text: string;
    metadata?: Metadata;
    id?: string;
}

/** A stored memory: the store's item without its vector. */
export type MemoryItem = Omit<StoredItem, "embedding">;

export interface MemorySearchOptions {
    userId: string;
    /** 1..1000, default 10. */
    topK?: number;
    filter?: MetadataFilter;
    /** Rerank the retrieved candidates with the reranker (needs one). Default false. */
    rerank?: boolean;
    /** Candidates retrieved for reranking, >= topK. Default max(topK, 20). */
    rerankTopK?: number;
    signal?: AbortSignal;
    /** Milliseconds the model work may take; work that cannot finish in time is refused at once (QueueFullError). */
    timeoutMs?: number;
}

export interface MemorySearchResult extends MemoryItem {
    /** The reranker's p(yes) when reranked, else the cosine similarity. */
    score: number;
    /** Cosine similarity of the memory to the query. */
    similarity: number;
}

export interface ListMemoriesOptions {
    userId: string;
    filter?: MetadataFilter;
    /** 1..10000, default 100. */
    limit?: number;
    offset?: number;
}

const CREATE_OPTIONS = ["embedder", "reranker", "store", "namespace", "dimensions", "instruction"] as const;
const ADD_OPTIONS = ["userId", "metadata", "id", "signal", "timeoutMs"] as const;
const SEARCH_OPTIONS = ["userId", "topK", "filter", "rerank", "rerankTopK", "signal", "timeoutMs"] as const;
const LIST_OPTIONS = ["userId", "filter", "limit", "offset"] as const;

/**
 * Long-term memory per user: memories are stored as raw text (documents) and searched with the memory
 * instruction on the query side only ("Given a user query, retrieve relevant memories"). A user only ever reads,
 * searches and deletes their own memories. Create with `createMemory`.
 */
export class Memory {
    readonly namespace: string;
    readonly #source: RetrievalSource;
    readonly #store: VectorStore;
    readonly #cache: EmbeddingCache;

    /** @internal */
    constructor(source: RetrievalSource) {
        this.#source = source;
        this.#store = source.store;
        this.#cache = source.cache;
        this.namespace = source.namespace;
    }

    /** Stores one memory for a user (or updates it: same id). */
    async add(text: string, options: AddMemoryOptions): Promise<MemoryItem> {
        const opts = checkOptionsObject<AddMemoryOptions>("add options", options, ADD_OPTIONS);
        const entry: MemoryEntry = { text, ...(opts.metadata === undefined ? {} : { metadata: opts.metadata }), ...(opts.id === undefined ? {} : { id: opts.id }) };
        const [item] = await this.addMany([entry], {
            userId: opts.userId,
            ...(opts.signal === undefined ? {} : { signal: opts.signal }),
            ...(opts.timeoutMs === undefined ? {} : { timeoutMs: opts.timeoutMs }),
        });
        return item!;
    }

    /** Stores several memories of one user in one transaction. */
    async addMany(entries: readonly MemoryEntry[], options: { userId: string; signal?: AbortSignal; timeoutMs?: number }): Promise<MemoryItem[]> {
        const opts = checkOptionsObject<{ userId: string; signal?: AbortSignal; timeoutMs?: number }>("addMany options", options, ["userId", "signal", "timeoutMs"]);
        const userId = checkUserId("userId", opts.userId);
        const limits = callLimits(opts);
        if (!Array.isArray(entries)) throw new InvalidOptionError(`Expected an array of memories for entries but received ${describeValue(entries)}`);
        const checked = entries.map((entry: unknown, index) => {
            // One memory (add): errors name the option; several (addMany): the entry.
            const field = (name: string) => (entries.length === 1 ? name : `entries[${index}].${name}`);
            const value = checkOptionsObject<MemoryEntry>(entries.length === 1 ? "memory" : `entries[${index}]`, entry, ["text", "metadata", "id"]);
            const text = checkItemText(field("text"), value.text);
            if (text.trim() === "") throw new InvalidOptionError(`Expected a non-empty memory for ${field("text")} but received an empty string`);
            checkMetadata(field("metadata"), value.metadata);
            const id = value.id === undefined ? memoryId(userId, text) : checkItemId(field("id"), value.id);
            return { id, text, metadata: value.metadata ?? {} };
        });
        if (checked.length === 0) return [];
        const { embeddings } = await this.#cache.embedDocuments(checked.map((entry) => entry.text), limits);
        await this.#store.upsert(this.namespace, checked.map((entry, index) => ({ ...entry, userId, embedding: embeddings[index]! })));
        return (await this.#store.get(this.namespace, checked.map((entry) => entry.id), { userId })).map(toMemory);
    }

    /**
     * The user's memories most relevant to the query, best first. An empty or whitespace-only query, or one longer
     * than the embedder's token limit with the instruction, is an InvalidOptionError naming `query`: queries are never cut.
     */
    async search(query: string, options: MemorySearchOptions): Promise<MemorySearchResult[]> {
        checkQueryText("query", query);
        const opts = checkOptionsObject<MemorySearchOptions>("search options", options, SEARCH_OPTIONS);
        const userId = checkUserId("userId", opts.userId);
        const topK = opts.topK === undefined ? 10 : checkInteger("topK", opts.topK, 1, 1000);
        const rerank = opts.rerank === undefined ? false : checkBoolean("rerank", opts.rerank);
        const rerankTopK = opts.rerankTopK === undefined ? Math.max(topK, 20) : checkInteger("rerankTopK", opts.rerankTopK, topK, 1000);
        const limits = callLimits(opts);
        if (rerank && this.#source.reranker === undefined) throw new InvalidOptionError("rerank: true needs a reranker; pass one to createMemory({ reranker })");
        const ranked = await retrieveThenRerank(this.#source, query, { topK, rerank, rerankTopK, userId, filter: opts.filter, ...limits });
        return ranked.map(({ hit, score, similarity }) => ({ ...toMemory(hit), score, similarity }));
    }

    async get(id: string, options: { userId: string }): Promise<MemoryItem | undefined> {
        const opts = checkOptionsObject<{ userId: string }>("get options", options, ["userId"]);
        const [item] = await this.#store.get(this.namespace, [checkItemId("id", id)], { userId: checkUserId("userId", opts.userId) });
        return item === undefined ? undefined : toMemory(item);
    }

    /** Deletes the user's memories with these ids; returns the ids that existed. */
    async delete(ids: string | readonly string[], options: { userId: string }): Promise<string[]> {
        const opts = checkOptionsObject<{ userId: string }>("delete options", options, ["userId"]);
        const list = typeof ids === "string" ? [checkItemId("id", ids)] : ids;
        return this.#store.delete(this.namespace, list, { userId: checkUserId("userId", opts.userId) });
    }

    /** The user's memories, newest first. */
    async list(options: ListMemoriesOptions): Promise<MemoryItem[]> {
        const opts = checkOptionsObject<ListMemoriesOptions>("list options", options, LIST_OPTIONS);
        const items = await this.#store.list(this.namespace, {
            userId: checkUserId("userId", opts.userId),
            ...(opts.filter === undefined ? {} : { filter: opts.filter }),
            ...(opts.limit === undefined ? {} : { limit: opts.limit }),
            ...(opts.offset === undefined ? {} : { offset: opts.offset }),
        });
        return items.map(toMemory);
    }

    async count(options: { userId: string }): Promise<number> {
        const opts = checkOptionsObject<{ userId: string }>("count options", options, ["userId"]);
        return this.#store.count(this.namespace, { userId: checkUserId("userId", opts.userId) });
    }

    /** Embedding cache hits and misses of this memory object. */
    cacheStats(): EmbeddingCacheStats {
        return this.#cache.stats();
    }
}

/** The default id of a memory: stable for one user and one text. */
export function memoryId(userId: string, text: string): string {
    return `mem_${sha256Hex(`${userId}\u0000${text}`).slice(0, 32)}`;
}

function toMemory(item: StoredItem): MemoryItem {
    return { id: item.id, userId: item.userId, text: item.text, metadata: item.metadata, createdAt: item.createdAt, updatedAt: item.updatedAt };
}

/** Creates (when needed) the memory namespace, bound to the embedder's model and dimension. */
export async function createMemory(options: CreateMemoryOptions): Promise<Memory> {
    const opts = checkOptionsObject<CreateMemoryOptions>("createMemory options", options, CREATE_OPTIONS);
    const store = checkStore(opts.store);
    const reranker = checkOptionalReranker(opts.reranker);
    const namespace = opts.namespace === undefined ? "memories" : checkNamespace("namespace", opts.namespace);
    const instruction = opts.instruction === undefined ? TASK_INSTRUCTIONS["memory-retrieval"] : checkString("instruction", opts.instruction, { allowEmpty: false });
    const cache = await createEmbeddingCache({ embedder: opts.embedder, store, ...(opts.dimensions === undefined ? {} : { dimensions: opts.dimensions }) });
    await store.ensureNamespace(namespace, { model: cache.fingerprint, dimensions: cache.dimensions });
    return new Memory({ store, cache, reranker, namespace, instruction });
}
