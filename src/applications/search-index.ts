import type { Embedder } from "../facade/embedder.js";
import { InvalidOptionError } from "../internal/errors.js";
import { DEFAULT_INSTRUCTION } from "../format/task-instructions.js";
import type { Reranker } from "../facade/reranker.js";
import { checkItemId, checkNamespace, checkUserId, type Metadata } from "../store/item-validation.js";
import type { MetadataFilter } from "../store/metadata-filter.js";
import type { StoredItem } from "../store/store-types.js";
import type { VectorStore } from "../store/vector-store.js";
import { checkBoolean, checkInteger, checkOptionsObject, checkString, checkStringArray } from "../internal/validation.js";
import { checkOptionalReranker, checkStore } from "./application-options.js";
import { callLimits } from "./call-limits.js";
import { indexDocuments, type IndexDocument, type IndexOptions, type IndexResult } from "./document-indexer.js";
import { createEmbeddingCache, type EmbeddingCache, type EmbeddingCacheStats } from "./embedding-cache.js";
import { checkQueryText } from "./query-text.js";
import { retrieveThenRerank, type RetrievalSource } from "./retrieve-then-rerank.js";

export interface CreateSearchIndexOptions {
    embedder: Embedder;
    /** Reranks the retrieved candidates (retrieve, then rerank: the pipeline of the Qwen3 report). */
    reranker?: Reranker;
    store: VectorStore;
    /** Default "default". */
    namespace?: string;
    /** Matryoshka dimension, 32..embedder.dimensions. Default: the model's. Fixed per namespace. */
    dimensions?: number;
    /** Query instruction for retrieval and for the reranker. Default: the web-search one. */
    instruction?: string;
    /**
     * Create the namespace when it does not exist (default true). With false, a missing namespace is a
     * StoreError("namespace_not_found"): a reader does not create empty namespaces by mistake.
     */
    create?: boolean;
}

export interface SearchOptions {
    /** Results, 1..1000. Default 10. */
    topK?: number;
    /** Candidates retrieved for the reranker, >= topK, at most 1000. Default 100 (the Qwen3 report's top-100). */
    rerankTopK?: number;
    /** Rerank when a reranker is present. Default true. */
    rerank?: boolean;
    filter?: MetadataFilter;
    /** Only the documents of this user; "" for the documents that belong to no user. Default: every document. */
    userId?: string;
    signal?: AbortSignal;
    /** Milliseconds the model work may take; work that cannot finish in time is refused at once (QueueFullError). */
    timeoutMs?: number;
}

export interface SearchResult {
    id: string;
    text: string;
    metadata: Metadata;
    /** The reranker's p(yes) when reranked, else the cosine similarity. */
    score: number;
    /** Cosine similarity of the document to the query (the first stage). */
    similarity: number;
}

const CREATE_OPTIONS = ["embedder", "reranker", "store", "namespace", "dimensions", "instruction", "create"] as const;
const SEARCH_OPTIONS = ["topK", "rerankTopK", "rerank", "filter", "userId", "signal", "timeoutMs"] as const;

/** Semantic search over a namespace of documents: index, then retrieve (and rerank). Create with `createSearchIndex`. */
export class SearchIndex {
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

    /**
     * Adds or updates documents. Unchanged ones are skipped, texts embedded before come from the cache, each batch is
     * one transaction: an interrupted run resumes where it stopped.
     */
    async index(documents: readonly IndexDocument[], options: IndexOptions = {}): Promise<IndexResult> {
        return indexDocuments(this.#store, this.#cache, this.namespace, documents, options);
    }

    /**
     * Retrieves the nearest documents, then (with a reranker) reranks the best `rerankTopK` of them. Best first. An
     * empty or whitespace-only query, or one longer than the embedder's token limit with the instruction, is an
     * InvalidOptionError naming `query`: queries are never cut.
     */
    async search(query: string, options: SearchOptions = {}): Promise<SearchResult[]> {
        checkQueryText("query", query);
        const opts = checkOptionsObject<SearchOptions>("search options", options, SEARCH_OPTIONS);
        const topK = opts.topK === undefined ? 10 : checkInteger("topK", opts.topK, 1, 1000);
        const rerank = (opts.rerank === undefined ? true : checkBoolean("rerank", opts.rerank)) && this.#source.reranker !== undefined;
        if (opts.rerank === true && this.#source.reranker === undefined) throw new InvalidOptionError("rerank: true needs a reranker; pass one to createSearchIndex({ reranker })");
        const rerankTopK = opts.rerankTopK === undefined ? Math.max(topK, 100) : checkInteger("rerankTopK", opts.rerankTopK, topK, 1000);
        const userId = opts.userId === undefined ? undefined : checkUserId("userId", opts.userId, { allowEmpty: true });
        const ranked = await retrieveThenRerank(this.#source, query, { topK, rerank, rerankTopK, userId, filter: opts.filter, ...callLimits(opts) });
        return ranked.map(({ hit, score, similarity }) => toResult(hit, score, similarity));
    }

    /** Documents by id, in the order asked (unknown ids left out). */
    async get(ids: readonly string[]): Promise<StoredItem[]> {
        return this.#store.get(this.namespace, checkStringArray("ids", ids).map((id, index) => checkItemId(`ids[${index}]`, id)));
    }

    /** Deletes documents by id; returns the ids that existed. */
    async delete(ids: readonly string[]): Promise<string[]> {
        return this.#store.delete(this.namespace, ids);
    }

    /** Documents, newest first, `limit` (1..10000, default 100) from `offset`; with `userId`, only that user's ("" for none's). */
    async list(options: { limit?: number; offset?: number; userId?: string } = {}): Promise<StoredItem[]> {
        return this.#store.list(this.namespace, options);
    }

    async count(): Promise<number> {
        return this.#store.count(this.namespace);
    }

    /** Embedding cache hits and misses of this index object. */
    cacheStats(): EmbeddingCacheStats {
        return this.#cache.stats();
    }
}

function toResult(item: StoredItem, score: number, similarity: number): SearchResult {
    return { id: item.id, text: item.text, metadata: item.metadata, score, similarity };
}

/** Opens a search index on a namespace, bound to the embedder's model and dimension. */
export async function createSearchIndex(options: CreateSearchIndexOptions): Promise<SearchIndex> {
    const opts = checkOptionsObject<CreateSearchIndexOptions>("createSearchIndex options", options, CREATE_OPTIONS);
    const store = checkStore(opts.store);
    const reranker = checkOptionalReranker(opts.reranker);
    const namespace = opts.namespace === undefined ? "default" : checkNamespace("namespace", opts.namespace);
    const instruction = opts.instruction === undefined ? DEFAULT_INSTRUCTION : checkString("instruction", opts.instruction, { allowEmpty: false });
    const create = opts.create === undefined ? true : checkBoolean("create", opts.create);
    const cache = await createEmbeddingCache({ embedder: opts.embedder, store, ...(opts.dimensions === undefined ? {} : { dimensions: opts.dimensions }) });
    if (create) {
        await store.ensureNamespace(namespace, { model: cache.fingerprint, dimensions: cache.dimensions });
    } else {
        await store.requireNamespace(namespace, { model: cache.fingerprint, dimensions: cache.dimensions });
    }
    return new SearchIndex({ store, cache, reranker, namespace, instruction });
}
