import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EmbedOptions, EmbeddingResult } from "../../src/index.js";
import { loadBeirDataset } from "../../src/evaluation/beir-dataset.js";
import { evaluateRetrieval, topIndices } from "../../src/evaluation/retrieval-evaluation.js";
import { ndcgAtK, rankByScore, recallAtK, reciprocalRankAtK, topKOverlap } from "../../src/evaluation/retrieval-metrics.js";
import type { LocalEmbedder, LocalReranker } from "../../src/evaluation/verification.js";

const relevance = (entries: Record<string, number>) => new Map(Object.entries(entries));

describe("retrieval metrics on one ranking", () => {
    it("nDCG uses linear gains, log2(rank + 1) discounts and an ideal order over every judged relevant document", () => {
        // d2 (grade 0) at 1, d3 (1) at 2, d4 (unjudged) at 3, d1 (2) at 4; dX (1) is judged but never retrieved.
        // DCG = 1/log2(3) + 2/log2(5) = 0.6309298 + 0.8613531 = 1.4922829
        // IDCG = grades 2,1,1: 2/1 + 1/log2(3) + 1/log2(4) = 2 + 0.6309298 + 0.5 = 3.1309298 -> 0.4766261
        expect(ndcgAtK(["d2", "d3", "d4", "d1"], relevance({ d1: 2, d3: 1, dX: 1, d2: 0 }), 10)).toBeCloseTo(0.47662611018851303, 12);
        // A cutoff of 2 keeps d2, d3: DCG 0.6309298; ideal (2, 1): 2 + 0.6309298 -> 0.2398
        expect(ndcgAtK(["d2", "d3", "d4", "d1"], relevance({ d1: 2, d3: 1, dX: 1 }), 2)).toBeCloseTo(0.6309297535714575 / 2.6309297535714575, 12);
        // Tied grades: two grade-1 documents in either order give the same value.
        expect(ndcgAtK(["a", "b"], relevance({ a: 1, b: 1 }), 10)).toBe(1);
        expect(ndcgAtK(["b", "a"], relevance({ a: 1, b: 1 }), 10)).toBe(1);
        // Negative grades count as not relevant.
        expect(ndcgAtK(["a", "b"], relevance({ a: -1, b: 1 }), 10)).toBeCloseTo(1 / Math.log2(3), 12);
    });

    it("MRR@k and Recall@k", () => {
        const ranking = Array.from({ length: 12 }, (_, i) => `d${i + 1}`);
        expect(reciprocalRankAtK(ranking, relevance({ d3: 1, d7: 2 }), 10)).toBeCloseTo(1 / 3, 12);
        expect(reciprocalRankAtK(ranking, relevance({ d11: 1 }), 10)).toBe(0); // beyond the cutoff
        expect(ndcgAtK(ranking, relevance({ d11: 1 }), 10)).toBe(0);
        expect(recallAtK(ranking, relevance({ d11: 1 }), 100)).toBe(1);
        // 2 of the 4 relevant in the first 10 (d12 past the cutoff, dZ never retrieved); the grade-0 d1 is not relevant
        expect(recallAtK(ranking, relevance({ d2: 1, d9: 3, d12: 1, dZ: 1, d1: 0 }), 10)).toBe(0.5);
        // no relevant document at all: 0 everywhere
        expect(recallAtK(ranking, relevance({ d1: 0 }), 10)).toBe(0);
        expect(ndcgAtK(ranking, relevance({}), 10)).toBe(0);
    });

    it("top-k overlap and deterministic tie-breaking", () => {
        expect(topKOverlap([1, 2, 3, 4], [3, 1, 9, 8], 2)).toBe(0.5); // {1,2} and {3,1} share 1
        expect(topKOverlap([1, 2, 3], [3, 2, 1], 5)).toBe(1); // k beyond the list: min(k, lengths) = 3
        expect(topKOverlap([], [], 5)).toBe(1);
        expect(rankByScore([0.5, 0.9, 0.5, 0.1])).toEqual([1, 0, 2, 3]);
        const scores = Float32Array.from([0.5, 0.9, 0.5, 0.1, 0.5, 0.7]);
        expect(topIndices(scores, 4)).toEqual([1, 5, 0, 2]); // of the three 0.5s the first two by position
        expect(topIndices(scores, 10)).toEqual([1, 5, 0, 2, 4, 3]);
        expect(topIndices(scores, 0)).toEqual([]);
    });
});

/** A document vector per document: basis vector i, so a query vector's components are its scores. */
const DOCUMENTS = [
    ["d1", "Heat and temperature", "Temperature measures the average kinetic energy of particles."],
    ["d2", "", "The stock market closed higher on Friday."],
    ["d3", "Boiling point", "Water boils at 100 degrees Celsius at sea level."],
    ["d4", "", "A recipe for pancakes needs flour, milk and eggs."],
    ["d5", "Capital cities", "Paris is the capital of France."],
    ["d6", "", "Photosynthesis turns light into chemical energy."],
] as const;
const textOf = (id: string) => {
    const [, title, text] = DOCUMENTS.find(([documentId]) => documentId === id)!;
    return title === "" ? text : `${title} ${text}`;
};

/** Query text -> its score for d1..d6. q1 ties d3 and d4 at 0.5: the corpus order puts d3 first. */
const QUERY_SCORES: Record<string, number[]> = {
    "at what temperature does water boil": [0.2, 0.9, 0.5, 0.5, 0.1, 0.0],
    "capital of France": [0.3, 0.3, 0.1, 0.0, 0.8, 0.2],
    "how do plants make energy": [0.6, 0.5, 0.4, 0.3, 0.2, 0.1],
    "an unjudged query": [1, 0, 0, 0, 0, 0],
    "a query without relevant documents": [0, 1, 0, 0, 0, 0],
};

/** Embeds from fixed tables, so every score (and every tie) is known; checks the instruction is on the query side only. */
const tableEmbedder: LocalEmbedder = {
    dimensions: 6,
    async embed(texts: readonly string[], options: EmbedOptions = {}): Promise<EmbeddingResult> {
        const embeddings = texts.map((text) => {
            if (options.instruction !== undefined) {
                expect(options.instruction).toBe("Given a scientific claim, retrieve documents that support or refute the claim");
                return Float32Array.from(QUERY_SCORES[text]!);
            }
            const index = DOCUMENTS.findIndex(([id]) => textOf(id) === text);
            expect(index).toBeGreaterThanOrEqual(0);
            return Float32Array.from({ length: 6 }, (_, i) => (i === index ? 1 : 0));
        });
        return { embeddings, tokens: texts.map(() => 1), totalTokens: texts.length, truncated: texts.map(() => false), dimensions: 6 };
    },
};

/** Reranker scores by (query, document id); d5 and d1 tie for q2, which keeps the first stage's order. */
const RERANK_SCORES: Record<string, Record<string, number>> = {
    "at what temperature does water boil": { d2: 0.1, d3: 0.9, d4: 0.5 },
    "capital of France": { d5: 0.2, d1: 0.2, d2: 0.1 },
    "how do plants make energy": { d1: 0.1, d2: 0.2, d3: 0.3 },
};
const tableReranker: LocalReranker = {
    async score(pairs, options = {}) {
        expect(options.instruction).toBe("Given a scientific claim, retrieve documents that support or refute the claim");
        return pairs.map((pair) => {
            const [query, document] = pair as readonly [string, string];
            const id = DOCUMENTS.find(([documentId]) => textOf(documentId) === document)![0];
            return RERANK_SCORES[query]![id]!;
        });
    },
};

let dir: string;
beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "qwen3-beir-"));
    await mkdir(join(dir, "qrels"));
    await writeFile(join(dir, "corpus.jsonl"), DOCUMENTS.map(([id, title, text]) => JSON.stringify({ _id: id, title, text })).join("\n") + "\n");
    await writeFile(join(dir, "queries.jsonl"), Object.keys(QUERY_SCORES).map((text, i) => JSON.stringify({ _id: `q${i + 1}`, text })).join("\n") + "\n");
    await writeFile(
        join(dir, "qrels", "test.tsv"),
        [
            "query-id\tcorpus-id\tscore",
            "q1\td1\t2", "q1\td3\t1", "q1\tdX\t1", "q1\td2\t0", // dX: judged relevant, missing from the corpus
            "q2\td5\t1",
            "q3\td6\t1",
            "q5\td1\t0", // judged, but nothing relevant: left out of the means
            "q9\td2\t1", // a query id that queries.jsonl does not have
        ].join("\n") + "\n",
    );
});
afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
});

describe("retrieval evaluation on a constructed BEIR dataset", () => {
    it("loads corpus (title + text), queries and qrels (header skipped)", async () => {
        const dataset = await loadBeirDataset(dir);
        expect(dataset.corpus[0]).toEqual({ id: "d1", text: "Heat and temperature Temperature measures the average kinetic energy of particles." });
        expect(dataset.corpus[1]).toEqual({ id: "d2", text: "The stock market closed higher on Friday." });
        expect(dataset.queries.size).toBe(5);
        expect([...dataset.qrels.get("q1")!]).toEqual([["d1", 2], ["d3", 1], ["dX", 1], ["d2", 0]]);
    });

    it("first stage and reranked: nDCG@10, MRR@10, Recall@100 equal to the hand-computed values", async () => {
        const dataset = await loadBeirDataset(dir);
        const result = await evaluateRetrieval({
            embedder: tableEmbedder,
            reranker: tableReranker,
            dataset,
            instruction: "Given a scientific claim, retrieve documents that support or refute the claim",
            rerankTopK: 3,
        });
        expect(result.counts).toEqual({ documents: 6, queries: 5, evaluatedQueries: 3, queriesWithoutRelevant: 1, judgedQueriesMissing: 1, relevantDocumentsMissing: 1 });
        const byId = Object.fromEntries(result.perQuery.map((query) => [query.id, query]));
        expect(Object.keys(byId)).toEqual(["q1", "q2", "q3"]);

        // q1 first stage: d2 .9, d3 .5, d4 .5 (tie: corpus order), d1 .2, d5 .1, d6 0
        //   DCG = 1/log2(3) + 2/log2(5) = 1.4922829, IDCG (2,1,1) = 3.1309298 -> nDCG 0.4766261; first relevant at 2 -> MRR 1/2;
        //   recall: d1, d3 of {d1, d3, dX} -> 2/3
        expect(byId["q1"]!.firstStage.ndcgAt10).toBeCloseTo(0.47662611018851303, 10);
        expect(byId["q1"]!.firstStage.mrrAt10).toBe(0.5);
        expect(byId["q1"]!.firstStage.recallAt100).toBeCloseTo(2 / 3, 12);
        // q2: d5 first -> 1, 1, 1.   q3: d6 last (rank 6) -> nDCG 1/log2(7) = 0.3562072, MRR 1/6, recall 1
        expect(byId["q2"]!.firstStage).toEqual({ ndcgAt10: 1, mrrAt10: 1, recallAt100: 1 });
        expect(byId["q3"]!.firstStage.ndcgAt10).toBeCloseTo(0.3562071871080222, 10);
        expect(byId["q3"]!.firstStage.mrrAt10).toBeCloseTo(1 / 6, 12);
        expect(byId["q3"]!.firstStage.recallAt100).toBe(1);
        // means over q1, q2, q3: nDCG (0.4766261 + 1 + 0.3562072) / 3 = 0.6109444; MRR (1/2 + 1 + 1/6) / 3 = 0.5555556;
        // recall (2/3 + 1 + 1) / 3 = 0.8888889
        expect(result.firstStage.ndcgAt10).toBeCloseTo(0.6109444324321783, 10);
        expect(result.firstStage.mrrAt10).toBeCloseTo(0.5555555555555556, 10);
        expect(result.firstStage.recallAt100).toBeCloseTo(0.8888888888888888, 10);

        // Reranking the top 3. q1: d2 .1, d3 .9, d4 .5 -> d3, d4, d2, then d1, d5, d6:
        //   DCG = 1/1 + 2/log2(5) = 1.8613531 / 3.1309298 -> 0.5945049; MRR 1; recall still 2/3
        expect(byId["q1"]!.reranked!.ndcgAt10).toBeCloseTo(0.5945049115278096, 10);
        expect(byId["q1"]!.reranked!.mrrAt10).toBe(1);
        // q2: d5 and d1 tie at .2 and keep the first stage's order -> unchanged. q3: d6 is not in the top 3 -> unchanged.
        expect(byId["q2"]!.reranked).toEqual({ ndcgAt10: 1, mrrAt10: 1, recallAt100: 1 });
        expect(byId["q3"]!.reranked!.ndcgAt10).toBeCloseTo(0.3562071871080222, 10);
        // means: nDCG (0.5945049 + 1 + 0.3562072) / 3 = 0.6502374; MRR (1 + 1 + 1/6) / 3 = 0.7222222
        expect(result.reranked!.ndcgAt10).toBeCloseTo(0.650237366211944, 10);
        expect(result.reranked!.mrrAt10).toBeCloseTo(0.7222222222222222, 10);
        expect(result.reranked!.recallAt100).toBeCloseTo(0.8888888888888888, 10);
        expect(result.reranked!.topK).toBe(3);
    });

    it("names the file and line of a broken dataset", async () => {
        const broken = await mkdtemp(join(tmpdir(), "qwen3-beir-broken-"));
        try {
            await expect(loadBeirDataset(broken)).rejects.toThrow(`${join(broken, "corpus.jsonl")} is missing: a BEIR dataset directory holds corpus.jsonl, queries.jsonl and qrels/<split>.tsv`);
            await writeFile(join(broken, "corpus.jsonl"), '{"_id":"a","text":"x"}\n{"_id":"b",\n');
            await expect(loadBeirDataset(broken)).rejects.toThrow(`${join(broken, "corpus.jsonl")}:2 is not valid JSON`);
            await writeFile(join(broken, "corpus.jsonl"), '{"_id":"a","text":"x"}\n{"_id":"a","text":"y"}\n');
            await expect(loadBeirDataset(broken)).rejects.toThrow(`${join(broken, "corpus.jsonl")}:2 repeats the document id "a"`);
            await writeFile(join(broken, "corpus.jsonl"), '{"_id":"a","text":"x"}\n');
            await writeFile(join(broken, "queries.jsonl"), '{"_id":"q","text":"x"}\n');
            await mkdir(join(broken, "qrels"));
            await writeFile(join(broken, "qrels", "dev.tsv"), "q\ta\t1\nq\ta\thigh\n");
            await expect(loadBeirDataset(broken, { split: "dev" })).rejects.toThrow(`${join(broken, "qrels", "dev.tsv")}:2 has a score that is not a number: "high"`);
            await writeFile(join(broken, "qrels", "dev.tsv"), "q\ta\t0\n");
            const dataset = await loadBeirDataset(broken, { split: "dev" });
            await expect(evaluateRetrieval({ embedder: tableEmbedder, dataset, instruction: "x" })).rejects.toThrow(
                `No query of ${broken} has a relevant document in qrels/dev.tsv`,
            );
        } finally {
            await rm(broken, { recursive: true, force: true });
        }
    });
});
