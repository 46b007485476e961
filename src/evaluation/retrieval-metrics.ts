/**
 * Ranked-retrieval metrics with trec_eval / pytrec_eval conventions (what BEIR and MTEB report):
 * - relevance grades come from qrels; a document without a qrels entry is not relevant (grade 0), and grades
 *   of 0 or less count as not relevant;
 * - nDCG uses linear gains (the grade itself) and the discount log2(rank + 1), rank counted from 1; the ideal
 *   ranking is built from every relevant qrels entry of the query, also those naming documents the ranking
 *   never returned (or that are missing from the corpus);
 * - a query without any relevant document scores 0 on every metric.
 * Rankings are lists of document ids, best first: ties in the underlying scores are broken before these functions
 * see them (see {@link rankByScore}).
 */

/** The relevance grades of one query's judged documents: document id -> grade. */
export type QueryRelevance = ReadonlyMap<string, number>;

function gain(relevance: QueryRelevance, id: string): number {
    const grade = relevance.get(id) ?? 0;
    return grade > 0 ? grade : 0;
}

function relevantCount(relevance: QueryRelevance): number {
    let count = 0;
    for (const grade of relevance.values()) if (grade > 0) count++;
    return count;
}

/** Normalized discounted cumulative gain of the first `k` documents. */
export function ndcgAtK(ranking: readonly string[], relevance: QueryRelevance, k: number): number {
    let dcg = 0;
    ranking.slice(0, k).forEach((id, position) => {
        dcg += gain(relevance, id) / Math.log2(position + 2);
    });
    const ideal = [...relevance.values()].filter((grade) => grade > 0).sort((a, b) => b - a).slice(0, k);
    let idcg = 0;
    ideal.forEach((grade, position) => {
        idcg += grade / Math.log2(position + 2);
    });
    return idcg === 0 ? 0 : dcg / idcg;
}

/** Reciprocal rank of the first relevant document within the first `k`, 0 when there is none. */
export function reciprocalRankAtK(ranking: readonly string[], relevance: QueryRelevance, k: number): number {
    const position = ranking.slice(0, k).findIndex((id) => gain(relevance, id) > 0);
    return position < 0 ? 0 : 1 / (position + 1);
}

/** Share of the query's relevant documents found within the first `k`; 0 when the query has none. */
export function recallAtK(ranking: readonly string[], relevance: QueryRelevance, k: number): number {
    const total = relevantCount(relevance);
    if (total === 0) return 0;
    const found = new Set(ranking.slice(0, k).filter((id) => gain(relevance, id) > 0)).size;
    return found / total;
}

/**
 * Share of the first `k` items two rankings have in common: |top_k(a) ∩ top_k(b)| / min(k, |a|, |b|).
 * 1 when both lists are empty.
 */
export function topKOverlap<T>(a: readonly T[], b: readonly T[], k: number): number {
    const size = Math.min(k, a.length, b.length);
    if (size === 0) return 1;
    const top = new Set(a.slice(0, size));
    return b.slice(0, size).filter((item) => top.has(item)).length / size;
}

/**
 * Item positions sorted by score, best first. Equal scores keep their input order, so a ranking never depends on
 * the sort implementation.
 */
export function rankByScore(scores: ArrayLike<number>): number[] {
    return Array.from({ length: scores.length }, (_, index) => index).sort((a, b) => scores[b]! - scores[a]! || a - b);
}
