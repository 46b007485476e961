import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEmbedder, createReranker } from "../../src/index.js";
import { loadBeirDataset } from "../../src/evaluation/beir-dataset.js";
import { MTEB_RETRIEVAL_INSTRUCTIONS } from "../../src/evaluation/mteb-task-instructions.js";
import { evaluateRetrieval } from "../../src/evaluation/retrieval-evaluation.js";
import { ensureFixtureModel } from "../fixtures/qwen3-fixture.js";
import { runCli } from "../support/run-cli.js";

const cli = (args: string[]) => runCli(args);

const CORPUS = [
    ["c1", "Beijing", "Beijing is the capital of the People's Republic of China."],
    ["c2", "", "Vaccines train the immune system to recognise a pathogen."],
    ["c3", "Boiling", "Water boils at 100 degrees Celsius at sea level."],
    ["c4", "", "The Great Wall stretches across northern China."],
    ["c5", "Python", "sorted(xs) returns a new sorted list; xs.sort() sorts in place."],
    ["c6", "", "Photosynthesis converts light into chemical energy in plants."],
    ["c7", "上海", "上海是中国最大的经济中心。"],
    ["c8", "", "Mount Everest is the highest mountain above sea level."],
];
const QUERIES = [
    ["q1", "What is the capital of China?"],
    ["q2", "How do vaccines work?"],
    ["q3", "sort a list in Python"],
    ["q4", "中国的经济中心"],
];

let dir: string;
let embeddingPath: string;
let rerankerPath: string;

beforeAll(async () => {
    dir = join(await mkdtemp(join(tmpdir(), "qwen3-eval-")), "scifact"); // named like the BEIR SciFact directory
    await mkdir(join(dir, "qrels"), { recursive: true });
    await writeFile(join(dir, "corpus.jsonl"), CORPUS.map(([id, title, text]) => JSON.stringify({ _id: id, title, text })).join("\n") + "\n");
    await writeFile(join(dir, "queries.jsonl"), QUERIES.map(([id, text]) => JSON.stringify({ _id: id, text })).join("\n") + "\n");
    await writeFile(join(dir, "qrels", "test.tsv"), "query-id\tcorpus-id\tscore\nq1\tc1\t1\nq1\tc4\t1\nq2\tc2\t1\nq3\tc5\t2\nq4\tc7\t1\n");
    embeddingPath = await ensureFixtureModel({ kind: "embedding", size: "tiny" });
    rerankerPath = await ensureFixtureModel({ kind: "reranker-rank", size: "tiny" });
});
afterAll(async () => {
    await rm(join(dir, ".."), { recursive: true, force: true });
});

describe("the eval command", () => {
    it("writes MTEB-style results equal to the library's evaluation, first stage and reranked", async () => {
        const output = join(dir, "..", "results.json");
        const result = await cli(["eval", "--embedding-model", embeddingPath, "--reranker-model", rerankerPath, "--dataset", dir, "--rerank-top-k", "4", "--output", output]);
        expect(result.code, result.stderr).toBe(0);
        expect(result.stderr).toBe(""); // progress bars only on a terminal
        const file = JSON.parse(await readFile(output, "utf8"));
        // the task and its instruction come from the directory's name
        expect(file.task_name).toBe("SciFact");
        expect(file.qwen3_embedding.query_instruction).toBe(MTEB_RETRIEVAL_INSTRUCTIONS["SciFact"]);
        expect(file.qwen3_embedding.rerank_top_k).toBe(4);
        expect(file.qwen3_embedding.mode).toBe("fast (f16 KV cache)");
        expect(file.qwen3_embedding.counts).toEqual({ documents: 8, queries: 4, evaluatedQueries: 4, queriesWithoutRelevant: 0, judgedQueriesMissing: 0, relevantDocumentsMissing: 0 });
        const [first] = file.scores.test;
        const [reranked] = file.reranked_scores.test;
        expect(Object.keys(first).sort()).toEqual(["hf_subset", "languages", "main_score", "mrr_at_10", "ndcg_at_10", "recall_at_100"]);
        expect(first.main_score).toBe(first.ndcg_at_10);
        // With 8 documents every relevant one is within the first 100.
        expect(first.recall_at_100).toBe(1);

        const embedder = await createEmbedder({ model: embeddingPath, workers: 0 });
        const reranker = await createReranker({ model: rerankerPath, workers: 0 });
        try {
            const library = await evaluateRetrieval({ embedder, reranker, dataset: await loadBeirDataset(dir), instruction: MTEB_RETRIEVAL_INSTRUCTIONS["SciFact"]!, rerankTopK: 4 });
            expect(first.ndcg_at_10).toBeCloseTo(library.firstStage.ndcgAt10, 6);
            expect(first.mrr_at_10).toBeCloseTo(library.firstStage.mrrAt10, 6);
            expect(reranked.ndcg_at_10).toBeCloseTo(library.reranked!.ndcgAt10, 6);
            expect(reranked.mrr_at_10).toBeCloseTo(library.reranked!.mrrAt10, 6);
            expect(file.qwen3_embedding.per_query.map((query: { id: string }) => query.id)).toEqual(["q1", "q2", "q3", "q4"]);
        } finally {
            await embedder[Symbol.asyncDispose]();
            await reranker[Symbol.asyncDispose]();
        }
        // the stdout line summarizes
        const summary = JSON.parse(result.stdout);
        expect(summary).toMatchObject({ task: "SciFact", output, counts: { evaluatedQueries: 4 } });
        expect(summary.first_stage.ndcgAt10).toBe(first.ndcg_at_10);
    });

    it("--exact runs both models with the f32 KV cache and says so in the result", async () => {
        const result = await cli(["eval", "--exact", "--embedding-model", embeddingPath, "--reranker-model", rerankerPath, "--dataset", dir, "--rerank-top-k", "4"]);
        expect(result.code, result.stderr).toBe(0);
        const file = JSON.parse(result.stdout);
        expect(file.qwen3_embedding.mode).toBe("exact (f32 KV cache)");
        expect(file.scores.test[0].recall_at_100).toBe(1);
    });

    it("refuses bad command lines with exit code 2", async () => {
        const cases: [string[], string][] = [
            [["eval", "--dataset", dir], "qwen3-embedding: --embedding-model is required\n"],
            [["eval", "--embedding-model", embeddingPath, "--dataset", dir, "--rerank-top-k", "5"], "qwen3-embedding: --rerank-top-k needs --reranker-model\n"],
            [["eval", "--embedding-model", embeddingPath, "--dataset", dir, "--task", "web-search", "--instruction", "x"], "qwen3-embedding: pass either --task or --instruction, not both\n"],
        ];
        for (const [args, message] of cases) {
            const result = await cli(args);
            expect(result.code, args.join(" ")).toBe(2);
            expect(result.stderr).toBe(message);
        }
        const unknown = await cli(["eval", "--embedding-model", embeddingPath, "--dataset", dir, "--task", "nope"]);
        expect(unknown.code).toBe(2);
        expect(unknown.stderr).toMatch(/^qwen3-embedding: unknown --task "nope"; use one of web-search, memory-retrieval, .*, or --instruction\n$/);
        const missing = await cli(["eval", "--embedding-model", embeddingPath, "--dataset", join(dir, "none")]);
        expect(missing.code).toBe(1);
        expect(missing.stderr).toBe(`qwen3-embedding: ${join(dir, "none", "corpus.jsonl")} is missing: a BEIR dataset directory holds corpus.jsonl, queries.jsonl and qrels/<split>.tsv\n`);
    });
});
