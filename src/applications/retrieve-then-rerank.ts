import type { Reranker } from "../facade/reranker.js";
import type { MetadataFilter } from "../store/metadata-filter.js";
import type { SearchHit } from "../store/store-types.js";
import type { VectorStore } from "../store/vector-store.js";
import type { CallLimits } from "./call-limits.js";
import type { EmbeddingCache } from "./embedding-cache.js";
import { checkQueryLengths } from "./query-text.js";

/** What one namespace of an application searches with. */
export interface RetrievalSource {
    store: VectorStore;
    cache: EmbeddingCache;
    reranker: Reranker | undefined;
    namespace: string;
    /** Query-side instruction, for the embedding and the reranker alike. */
    instruction: string;
}

/** Options already validated by the caller; `rerank` true only with a reranker. */
export interface RetrievalOptions {
    topK: number;
    rerank: boolean;
    rerankTopK: number;
    userId?: string | undefined;
    filter?: MetadataFilter | undefined;
    signal?: AbortSignal | undefined;
    /** For the embedding and the reranking together; each call gets what is left of it. */
    timeoutMs?: number | undefined;
}

/** A stored hit with its final score (the reranker's, or the similarity) and its vector similarity. */
export interface RankedHit {
    hit: SearchHit;
    score: number;
    similarity: number;
}

/**
 * Nearest `topK` by vector, or the nearest `rerankTopK` reranked down to `topK`. Best first. A query over the
 * embedder's token limit is refused (InvalidOptionError naming `query`), never cut.
 */
export async function retrieveThenRerank(source: RetrievalSource, query: string, options: RetrievalOptions): Promise<RankedHit[]> {
    const { topK, rerank, rerankTopK, userId, filter, signal, timeoutMs } = options;
    const started = performance.now();
    const limits = (): CallLimits => ({
        ...(signal === undefined ? {} : { signal }),
        ...(timeoutMs === undefined ? {} : { timeoutMs: Math.max(1, Math.floor(timeoutMs - (performance.now() - started))) }),
    });
    await checkQueryLengths(source.cache, [{ name: "query", text: query }], source.instruction);
    const vector = await source.cache.embedQuery(query, { instruction: source.instruction, ...limits() });
    const hits = await source.store.search(source.namespace, vector, {
        topK: rerank ? rerankTopK : topK,
        ...(userId === undefined ? {} : { userId }),
        ...(filter === undefined ? {} : { filter }),
    });
    if (!rerank || hits.length === 0) return hits.map((hit) => ({ hit, score: hit.score, similarity: hit.score }));
    const { results } = await source.reranker!.rerank(query, hits.map((hit) => hit.text), { instruction: source.instruction, topN: topK, ...limits() });
    return results.map((result) => ({ hit: hits[result.index]!, score: result.score, similarity: hits[result.index]!.score }));
}
