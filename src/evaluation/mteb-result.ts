import type { RetrievalEvaluation, RetrievalScores } from "./retrieval-evaluation.js";

function mtebScores(scores: RetrievalScores): Record<string, number> {
    return { main_score: scores.ndcgAt10, ndcg_at_10: scores.ndcgAt10, mrr_at_10: scores.mrrAt10, recall_at_100: scores.recallAt100 };
}

/**
 * A results object in the spirit of an MTEB result file: `task_name`, `evaluation_time` and
 * `scores[split] = [{hf_subset, languages, main_score (nDCG@10), ndcg_at_10, mrr_at_10, recall_at_100}]` for the
 * embedding model (first stage); the reranked stage in `reranked_scores` with the same shape; what was run in
 * `qwen3_embedding` (models, `mode` such as "exact (f32 KV cache)", instruction, counts, per-query figures).
 */
export function toMtebResult(
    evaluation: RetrievalEvaluation,
    details: { task: string; embeddingModel: string; rerankerModel?: string | undefined; mode?: string | undefined; version?: string | undefined },
): Record<string, unknown> {
    const entry = (scores: RetrievalScores) => [{ hf_subset: "default", languages: [], ...mtebScores(scores) }];
    return {
        task_name: details.task,
        evaluation_time: evaluation.seconds.total,
        kg_co2_emissions: null,
        scores: { [evaluation.split]: entry(evaluation.firstStage) },
        ...(evaluation.reranked === undefined ? {} : { reranked_scores: { [evaluation.split]: entry(evaluation.reranked) } }),
        qwen3_embedding: {
            version: details.version,
            date: new Date().toISOString(),
            dataset: evaluation.dataset,
            split: evaluation.split,
            embedding_model: details.embeddingModel,
            reranker_model: details.rerankerModel,
            mode: details.mode,
            rerank_top_k: evaluation.reranked?.topK,
            query_instruction: evaluation.instruction,
            counts: evaluation.counts,
            seconds: evaluation.seconds,
            per_query: evaluation.perQuery,
        },
    };
}
