import { InvalidOptionError } from "../internal/errors.js";
import { checkBoolean, checkInteger, checkOptionsObject, checkString, describeValue } from "../internal/validation.js";
import type { BeirDataset } from "./beir-dataset.js";
import { meanOfFinite } from "./descriptive-statistics.js";
import { ProgressBar, type ProgressStream } from "./progress-bar.js";
import { ndcgAtK, recallAtK, reciprocalRankAtK, type QueryRelevance } from "./retrieval-metrics.js";
import { checkLocalModel, type LocalEmbedder, type LocalReranker } from "./verification.js";

export interface RetrievalScores {
    ndcgAt10: number;
    mrrAt10: number;
    recallAt100: number;
}

export interface QueryRetrievalScores {
    id: string;
    firstStage: RetrievalScores;
    reranked?: RetrievalScores;
}

export interface RetrievalEvaluation {
    dataset: string;
    split: string;
    instruction: string;
    counts: {
        documents: number;
        queries: number;
        /** queries with at least one relevant document in the split's qrels: the ones the means are over */
        evaluatedQueries: number;
        /** queries judged in the qrels without any relevant document: left out, as trec_eval (BEIR, MTEB) does */
        queriesWithoutRelevant: number;
        /** qrels query ids missing from queries.jsonl */
        judgedQueriesMissing: number;
        /** relevant qrels entries naming documents missing from corpus.jsonl (they still count as relevant) */
        relevantDocumentsMissing: number;
    };
    firstStage: RetrievalScores;
    /** when a reranker was given: its order of the first stage's top `topK`, the rest after them */
    reranked?: RetrievalScores & { topK: number };
    perQuery: QueryRetrievalScores[];
    seconds: { embedding: number; reranking: number; total: number };
}

export interface EvaluateRetrievalOptions {
    embedder: LocalEmbedder;
    reranker?: LocalReranker | undefined;
    dataset: BeirDataset;
    /** query-side instruction (documents get none) */
    instruction: string;
    /** first-stage candidates the reranker reorders per query. Default 100. */
    rerankTopK?: number | undefined;
    /** documents per embedding call. Default 32. */
    batchSize?: number | undefined;
    /** Matryoshka dimensions for both sides. Default: the model's. */
    dimensions?: number | undefined;
    progress?: boolean | undefined;
    progressStream?: ProgressStream | undefined;
}

const OPTION_NAMES = ["embedder", "reranker", "dataset", "instruction", "rerankTopK", "batchSize", "dimensions", "progress", "progressStream"] as const;

/** Indices of the `k` highest scores, best first; equal scores in index order. */
export function topIndices(scores: Float32Array | readonly number[], k: number): number[] {
    // A min-heap of the best k seen so far, "smaller" meaning a lower score or, at equal score, a later index.
    const heap: number[] = [];
    const worse = (a: number, b: number) => scores[a]! < scores[b]! || (scores[a] === scores[b] && a > b);
    const swap = (i: number, j: number) => ([heap[i], heap[j]] = [heap[j]!, heap[i]!]);
    for (let index = 0; index < scores.length; index++) {
        if (heap.length < k) {
            heap.push(index);
            for (let i = heap.length - 1; i > 0; ) {
                const parent = (i - 1) >> 1;
                if (!worse(heap[i]!, heap[parent]!)) break;
                swap(i, parent);
                i = parent;
            }
        } else if (k > 0 && worse(heap[0]!, index)) {
            heap[0] = index;
            for (let i = 0; ; ) {
                const left = 2 * i + 1;
                const right = left + 1;
                let smallest = i;
                if (left < heap.length && worse(heap[left]!, heap[smallest]!)) smallest = left;
                if (right < heap.length && worse(heap[right]!, heap[smallest]!)) smallest = right;
                if (smallest === i) break;
                swap(i, smallest);
                i = smallest;
            }
        }
    }
    return heap.sort((a, b) => scores[b]! - scores[a]! || a - b);
}

function scoresOf(ranking: readonly string[], relevance: QueryRelevance): RetrievalScores {
    return { ndcgAt10: ndcgAtK(ranking, relevance, 10), mrrAt10: reciprocalRankAtK(ranking, relevance, 10), recallAt100: recallAtK(ranking, relevance, 100) };
}

function meanScores(list: readonly RetrievalScores[]): RetrievalScores {
    return {
        ndcgAt10: meanOfFinite(list.map((s) => s.ndcgAt10)),
        mrrAt10: meanOfFinite(list.map((s) => s.mrrAt10)),
        recallAt100: meanOfFinite(list.map((s) => s.recallAt100)),
    };
}

/**
 * Dense retrieval over a BEIR dataset (cosine of normalized embeddings, exhaustive), then optionally reranking of
 * each query's top candidates; nDCG@10, MRR@10 and Recall@100 of both stages, averaged over the queries that have a
 * relevant document.
 */
export async function evaluateRetrieval(options: EvaluateRetrievalOptions): Promise<RetrievalEvaluation> {
    const opts = checkOptionsObject<EvaluateRetrievalOptions>("evaluateRetrieval options", options, OPTION_NAMES);
    const { embedder, reranker, dataset } = opts;
    if (checkLocalModel("embedder", embedder, "embed") === undefined) throw new InvalidOptionError("Expected an embedder for embedder but received undefined");
    checkLocalModel("reranker", reranker, "score");
    if (dataset === null || typeof dataset !== "object" || !Array.isArray(dataset.corpus) || !(dataset.qrels instanceof Map)) {
        throw new InvalidOptionError(`Expected a dataset from loadBeirDataset() for dataset but received ${describeValue(dataset)}`);
    }
    if (opts.progress !== undefined) checkBoolean("progress", opts.progress);
    const instruction = checkString("instruction", opts.instruction, { allowEmpty: false });
    const rerankTopK = opts.rerankTopK === undefined ? 100 : checkInteger("rerankTopK", opts.rerankTopK, 1, 100_000);
    const batchSize = opts.batchSize === undefined ? 32 : checkInteger("batchSize", opts.batchSize, 1, 4096);
    const dimensions = opts.dimensions === undefined ? embedder.dimensions : checkInteger("dimensions", opts.dimensions, 1, embedder.dimensions);
    const barOptions = { ...(opts.progressStream === undefined ? {} : { stream: opts.progressStream }), ...(opts.progress === undefined ? {} : { enabled: opts.progress }) };
    if (dataset.corpus.length === 0) throw new InvalidOptionError(`The corpus of ${dataset.dir} is empty`);
    const started = Date.now();

    const corpusIds = new Set(dataset.corpus.map((document) => document.id));
    let queriesWithoutRelevant = 0;
    let judgedQueriesMissing = 0;
    let relevantDocumentsMissing = 0;
    const evaluated: { id: string; text: string; relevance: QueryRelevance }[] = [];
    for (const [id, relevance] of dataset.qrels) {
        const text = dataset.queries.get(id);
        if (text === undefined) {
            judgedQueriesMissing++;
            continue;
        }
        const relevant = [...relevance].filter(([, grade]) => grade > 0);
        if (relevant.length === 0) {
            queriesWithoutRelevant++;
            continue;
        }
        relevantDocumentsMissing += relevant.filter(([document]) => !corpusIds.has(document)).length;
        evaluated.push({ id, text, relevance });
    }
    if (evaluated.length === 0) throw new InvalidOptionError(`No query of ${dataset.dir} has a relevant document in qrels/${dataset.split}.tsv`);

    const documentVectors: Float32Array[] = [];
    const corpusBar = new ProgressBar("embedding corpus", dataset.corpus.length, barOptions);
    for (let start = 0; start < dataset.corpus.length; start += batchSize) {
        const batch = dataset.corpus.slice(start, start + batchSize);
        const result = await embedder.embed(batch.map((document) => document.text), { role: "document", dimensions });
        documentVectors.push(...(result.embeddings as Float32Array[]));
        corpusBar.advance(batch.length);
    }
    corpusBar.finish();
    const queryVectors: Float32Array[] = [];
    const queryBar = new ProgressBar("embedding queries", evaluated.length, barOptions);
    for (let start = 0; start < evaluated.length; start += batchSize) {
        const batch = evaluated.slice(start, start + batchSize);
        const result = await embedder.embed(batch.map((query) => query.text), { role: "query", instruction, dimensions });
        queryVectors.push(...(result.embeddings as Float32Array[]));
        queryBar.advance(batch.length);
    }
    queryBar.finish();
    const embedded = Date.now();

    const depth = Math.max(100, reranker === undefined ? 0 : rerankTopK);
    const firstRankings = queryVectors.map((query) => {
        const scores = new Float32Array(documentVectors.length);
        documentVectors.forEach((document, index) => {
            let dot = 0;
            for (let i = 0; i < query.length; i++) dot += query[i]! * document[i]!;
            scores[index] = dot;
        });
        return topIndices(scores, depth);
    });

    const perQuery: QueryRetrievalScores[] = evaluated.map((query, q) => ({
        id: query.id,
        firstStage: scoresOf(firstRankings[q]!.map((index) => dataset.corpus[index]!.id), query.relevance),
    }));

    let rerankSeconds = 0;
    if (reranker !== undefined) {
        const rerankStarted = Date.now();
        const bar = new ProgressBar("reranking", evaluated.length, barOptions);
        for (let q = 0; q < evaluated.length; q++) {
            const candidates = firstRankings[q]!.slice(0, rerankTopK);
            const scores = await reranker.score(candidates.map((index) => [evaluated[q]!.text, dataset.corpus[index]!.text] as const), { instruction });
            const order = candidates.map((index, position) => ({ index, position })).sort((a, b) => scores[b.position]! - scores[a.position]! || a.position - b.position);
            const ranking = [...order.map(({ index }) => index), ...firstRankings[q]!.slice(rerankTopK)].map((index) => dataset.corpus[index]!.id);
            perQuery[q]!.reranked = scoresOf(ranking, evaluated[q]!.relevance);
            bar.advance();
        }
        bar.finish();
        rerankSeconds = (Date.now() - rerankStarted) / 1000;
    }

    return {
        dataset: dataset.dir,
        split: dataset.split,
        instruction,
        counts: {
            documents: dataset.corpus.length,
            queries: dataset.queries.size,
            evaluatedQueries: evaluated.length,
            queriesWithoutRelevant,
            judgedQueriesMissing,
            relevantDocumentsMissing,
        },
        firstStage: meanScores(perQuery.map((query) => query.firstStage)),
        ...(reranker === undefined ? {} : { reranked: { ...meanScores(perQuery.map((query) => query.reranked!)), topK: rerankTopK } }),
        perQuery,
        seconds: { embedding: (embedded - started) / 1000, reranking: rerankSeconds, total: (Date.now() - started) / 1000 },
    };
}
