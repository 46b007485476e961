import { InvalidOptionError } from "../internal/errors.js";
import { meanOfFinite, summarize, type Summary } from "./descriptive-statistics.js";
import { excerpt } from "./embedding-agreement.js";
import { kendallTau, pearson, spearman } from "./rank-correlation.js";
import { rankByScore, topKOverlap } from "./retrieval-metrics.js";

/** One query's documents scored on both sides, in document order. */
export interface RerankGroup {
    id: string;
    query: string;
    instruction?: string | undefined;
    documents: readonly string[];
    local: readonly number[];
    reference: readonly number[];
}

export interface QueryRankAgreement {
    id: string;
    query: string;
    documents: number;
    pearson: number;
    spearman: number;
    kendall: number;
    /** |local top-k ∩ reference top-k| / k, k = min(topK, documents) */
    topKOverlap: number;
    /** nDCG@10 of the local ranking, with the reference scores (minus the query's lowest) as graded gains */
    ndcgAt10: number;
}

export interface PairDifference {
    queryId: string;
    documentIndex: number;
    query: string;
    document: string;
    local: number;
    reference: number;
    difference: number;
}

export interface RerankAgreement {
    queries: number;
    pairs: number;
    topK: number;
    /** correlations over all pairs pooled */
    pearson: number;
    spearman: number;
    kendall: number;
    absoluteError: Summary;
    /** means over the queries where the statistic is defined */
    meanQuery: { pearson: number; spearman: number; kendall: number; topKOverlap: number; ndcgAt10: number };
    perQuery: QueryRankAgreement[];
    /** lowest nDCG@10 (then Spearman) first */
    worstQueries: QueryRankAgreement[];
    /** largest |local - reference| first */
    worstPairs: PairDifference[];
    /** every pair, for plots: [local, reference] in query order */
    points: [number, number][];
}

/**
 * nDCG@k of the local order measured against the reference scores: each document's gain is its reference score
 * minus the lowest reference score of the query (so the measure does not change when the reference shifts its
 * scale), the ideal order is the reference order. 1 when every reference score is equal (any order is ideal).
 */
export function referenceNdcg(local: readonly number[], reference: readonly number[], k = 10): number {
    const floor = Math.min(...reference);
    const gains = reference.map((score) => score - floor);
    const dcg = (order: number[]) => order.slice(0, k).reduce((sum, index, position) => sum + gains[index]! / Math.log2(position + 2), 0);
    const ideal = dcg(rankByScore(reference));
    return ideal === 0 ? 1 : dcg(rankByScore(local)) / ideal;
}

/** Score and rank agreement between local and reference reranker scores, per query and pooled. */
export function compareRerankScores(
    groups: readonly RerankGroup[],
    { topK = 3, worst = 5 }: { topK?: number; worst?: number } = {},
): RerankAgreement {
    const perQuery = groups.map((group): QueryRankAgreement => {
        if (group.local.length !== group.documents.length || group.reference.length !== group.documents.length) {
            throw new InvalidOptionError(
                `Query ${JSON.stringify(group.id)} has ${group.documents.length} documents but ${group.local.length} local and ${group.reference.length} reference scores`,
            );
        }
        return {
            id: group.id,
            query: excerpt(group.query),
            documents: group.documents.length,
            pearson: pearson(group.local, group.reference),
            spearman: spearman(group.local, group.reference),
            kendall: kendallTau(group.local, group.reference),
            topKOverlap: topKOverlap(rankByScore(group.local), rankByScore(group.reference), topK),
            ndcgAt10: referenceNdcg(group.local, group.reference, 10),
        };
    });
    const local = groups.flatMap((group) => group.local);
    const reference = groups.flatMap((group) => group.reference);
    const differences = groups.flatMap((group) =>
        group.documents.map((document, documentIndex): PairDifference => ({
            queryId: group.id,
            documentIndex,
            query: excerpt(group.query, 80),
            document: excerpt(document, 80),
            local: group.local[documentIndex]!,
            reference: group.reference[documentIndex]!,
            difference: group.local[documentIndex]! - group.reference[documentIndex]!,
        })),
    );
    const byQuality = (a: QueryRankAgreement, b: QueryRankAgreement) =>
        a.ndcgAt10 - b.ndcgAt10 || (Number.isNaN(a.spearman) ? 1 : Number.isNaN(b.spearman) ? -1 : a.spearman - b.spearman);
    return {
        queries: groups.length,
        pairs: local.length,
        topK,
        pearson: pearson(local, reference),
        spearman: spearman(local, reference),
        kendall: kendallTau(local, reference),
        absoluteError: summarize(differences.map((pair) => Math.abs(pair.difference))),
        meanQuery: {
            pearson: meanOfFinite(perQuery.map((query) => query.pearson)),
            spearman: meanOfFinite(perQuery.map((query) => query.spearman)),
            kendall: meanOfFinite(perQuery.map((query) => query.kendall)),
            topKOverlap: meanOfFinite(perQuery.map((query) => query.topKOverlap)),
            ndcgAt10: meanOfFinite(perQuery.map((query) => query.ndcgAt10)),
        },
        perQuery,
        worstQueries: [...perQuery].sort(byQuality).slice(0, worst),
        worstPairs: [...differences].sort((a, b) => Math.abs(b.difference) - Math.abs(a.difference)).slice(0, worst),
        points: local.map((score, index) => [score, reference[index]!]),
    };
}
