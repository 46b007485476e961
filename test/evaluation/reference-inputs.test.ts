import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROBE_CATEGORIES, builtInProbeSet } from "../../src/evaluation/probe-sets.js";
import { readProbeFiles } from "../../src/evaluation/probe-input.js";
import { readReferenceFile } from "../../src/evaluation/reference-file.js";
import { DEFAULT_THRESHOLDS, resolveThresholds } from "../../src/evaluation/verification-thresholds.js";
import { MTEB_RETRIEVAL_INSTRUCTIONS, retrievalInstruction } from "../../src/evaluation/mteb-task-instructions.js";
import { expectInvalidOption } from "../format/expect-invalid-option.js";
import { verifyAgainstReference } from "../../src/evaluation/verification.js";
import { evaluateRetrieval } from "../../src/evaluation/retrieval-evaluation.js";

let dir: string;
beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "qwen3-inputs-"));
});
afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
});

describe("built-in probes", () => {
    it("cover Chinese, English, mixed, code, formulas and tables; queries embedded with an instruction and reranked", () => {
        expect(PROBE_CATEGORIES.map((category) => category.name)).toEqual(["chinese", "english", "mixed", "code", "formulas", "tables"]);
        const probes = builtInProbeSet();
        expect(probes.embeddings).toHaveLength(42);
        expect(probes.rerankings).toHaveLength(12);
        expect(probes.embeddings.find((probe) => probe.id === "code/query-1")!.instruction).toBe("Given a coding query, retrieve relevant code snippets");
        expect(probes.embeddings.find((probe) => probe.id === "tables/document-2")!.instruction).toBeUndefined();
        expect(new Set(probes.embeddings.map((probe) => probe.id)).size).toBe(42);
        expect(/[\u4e00-\u9fff]/.test(probes.embeddings.find((probe) => probe.id === "chinese/document-1")!.text)).toBe(true);
    });
});

describe("reference files", () => {
    it("reads both kinds of line, skips others, infers the kind when `type` is left out", async () => {
        const path = join(dir, "ref.jsonl");
        await writeFile(
            path,
            [
                JSON.stringify({ type: "meta", model: "Qwen/Qwen3-Embedding-8B" }),
                JSON.stringify({ text: "a document", embedding: [0.6, 0.8] }),
                "",
                JSON.stringify({ id: "q", text: "a query", instruction: "Given a question, find relevant documents", embedding: [1, 0] }),
                JSON.stringify({ query: "q", documents: ["x", "y"], scores: [0.9, 0.1] }),
            ].join("\n"),
        );
        const data = await readReferenceFile(path);
        expect(data.embeddings).toEqual([
            { id: "embedding-1", text: "a document", instruction: undefined, embedding: [0.6, 0.8] },
            { id: "q", text: "a query", instruction: "Given a question, find relevant documents", embedding: [1, 0] },
        ]);
        expect(data.rerankings).toEqual([{ id: "rerank-1", query: "q", instruction: undefined, documents: ["x", "y"], scores: [0.9, 0.1] }]);
    });

    it("names the file, the line and the problem", async () => {
        const path = join(dir, "bad.jsonl");
        const cases: [string, string][] = [
            ['{"text":"a","embedding":[1,"x"]}', `${path}:1: "embedding" must be an array of finite numbers`],
            ['{"query":"q","documents":["a","b"],"scores":[1]}', `${path}:1 has 2 documents but 1 scores`],
            ['{"embedding":[1]}', `${path}:1 has no string "text" field`],
            ['{"text":"a"}', `${path}:1 is neither an embedding line (with "embedding") nor a rerank line (with "scores")`],
            ['{"type":"meta"}\n[1,2]', `${path}:2 is not a JSON object`],
            ['{"type":"meta"}', `${path} holds no embedding or rerank lines`],
            ["{", `${path}:1 is not valid JSON`],
        ];
        for (const [content, message] of cases) {
            await writeFile(path, content);
            await expect(readReferenceFile(path), content).rejects.toThrow(message);
        }
    });
});

describe("user probe files", () => {
    it("texts are documents; queries are embedded with an instruction and reranked against the texts or their own documents", async () => {
        await writeFile(join(dir, "texts.txt"), "first text\nsecond text\n");
        await writeFile(join(dir, "queries.txt"), "plain query\n");
        const plain = await readProbeFiles({ texts: join(dir, "texts.txt"), queries: join(dir, "queries.txt") });
        expect(plain.embeddings).toEqual([
            { id: "query-1", text: "plain query", instruction: "Given a web search query, retrieve relevant passages that answer the query" },
            { id: "text-1", text: "first text" },
            { id: "text-2", text: "second text" },
        ]);
        expect(plain.rerankings).toEqual([{ id: "query-1", query: "plain query", documents: ["first text", "second text"] }]);

        await writeFile(join(dir, "queries.jsonl"), [JSON.stringify({ id: "a", text: "own", documents: ["d"] }), JSON.stringify({ query: "other", instruction: "Find it" })].join("\n"));
        const jsonl = await readProbeFiles({ queries: join(dir, "queries.jsonl"), instruction: "Given a question, find relevant documents" });
        expect(jsonl.embeddings.map((probe) => probe.instruction)).toEqual(["Given a question, find relevant documents", "Find it"]);
        // the second query has no documents and there are no texts: nothing to rerank it against
        expect(jsonl.rerankings).toEqual([{ id: "a", query: "own", instruction: "Given a question, find relevant documents", documents: ["d"] }]);

        await writeFile(join(dir, "broken.jsonl"), '{"query":"q","documents":"d"}\n');
        await expect(readProbeFiles({ queries: join(dir, "broken.jsonl") })).rejects.toThrow(`${join(dir, "broken.jsonl")}:1 has a "documents" field that is not an array of strings`);
        await expect(readProbeFiles({ texts: join(dir, "none.txt") })).rejects.toThrow(`Cannot read ${join(dir, "none.txt")} (--texts): ENOENT`);
    });
});

describe("thresholds and task instructions", () => {
    it("override defaults one by one, within [-1, 1], with known names only", () => {
        expect(resolveThresholds({ minCosine: 0.99999 })).toEqual({ ...DEFAULT_THRESHOLDS, minCosine: 0.99999 });
        expectInvalidOption(() => resolveThresholds({ minSpearman: 2 }), "Expected a number between -1 and 1 for minSpearman but received number 2");
        expectInvalidOption(() => resolveThresholds({ minCosin: 0.9 } as never), 'Unknown threshold "minCosin"; the known thresholds are minCosine, minMeanCosine, minPearson, minSpearman, minKendall, minNdcg, minTopKOverlap');
    });

    it("resolve library task names, MTEB task names and BEIR directory names", () => {
        expect(retrievalInstruction("code-search")).toEqual({ task: "code-search", instruction: "Given a coding query, retrieve relevant code snippets" });
        expect(retrievalInstruction("scifact")).toEqual({ task: "SciFact", instruction: MTEB_RETRIEVAL_INSTRUCTIONS["SciFact"] });
        expect(retrievalInstruction("trec-covid")!.task).toBe("TRECCOVID");
        expect(retrievalInstruction("FiQA2018")!.instruction).toBe("Given a financial question, retrieve user replies that best answer the question");
        expect(retrievalInstruction("my-dataset")).toBeUndefined();
    });
});

describe("option checks of verifyAgainstReference and evaluateRetrieval", () => {
    const reference = { source: "s", embeddings: [{ id: "a", text: "a", embedding: [1, 0] }], rerankings: [] };
    const embedder = { dimensions: 2, embed: async () => ({ embeddings: [Float32Array.from([1, 0])], tokens: [1], totalTokens: 1, truncated: [false], dimensions: 2 }) };

    it("name the option, what was expected and what came", async () => {
        const cases: [Record<string, unknown>, string][] = [
            [{ embedder: {}, reference }, "Expected an object with an embed() method (the facade's Embedder) for embedder but received an object"],
            [{ reranker: "r", reference }, 'Expected an object with a score() method (the facade\'s Reranker) for reranker but received the string "r"'],
            [{ embedder, reference, fitCalibration: "yes" }, 'Expected a boolean or the held-out share (a number between 0 and 1) for fitCalibration but received the string "yes"'],
            [{ embedder, reference, topK: 0 }, "Expected an integer between 1 and 1000 for topK but received number 0"],
            [{ embedder, reference, progress: 1 }, "Expected a boolean for progress but received number 1"],
            [{ embedder, reference, thresholds: { minCosine: "high" } }, 'Expected a number between -1 and 1 for minCosine but received the string "high"'],
            [{ embedder, reference: { source: "s", embeddings: [], rerankings: [] } }, "The reference s has no embeddings to compare with"],
            [{ reference }, "Pass an embedder, a reranker, or both, to compare with the reference"],
            [{ embedder, reference, threshold: {} }, 'Unknown option "threshold" in verify options; the known options are embedder, reranker, reference, dimensions, thresholds, topK, worst, calibration, fitCalibration, models, progress, progressStream'],
        ];
        for (const [options, message] of cases) {
            await expect(verifyAgainstReference(options as never), message).rejects.toThrow(message);
        }
        // a passing comparison of the one vector, for contrast
        expect((await verifyAgainstReference({ embedder, reference })).passed).toBe(true);

        await expect(evaluateRetrieval({ embedder, dataset: {} as never, instruction: "x" })).rejects.toThrow("Expected a dataset from loadBeirDataset() for dataset but received an object");
        await expect(evaluateRetrieval({ embedder: undefined as never, dataset: {} as never, instruction: "x" })).rejects.toThrow("Expected an embedder for embedder but received undefined");
        await expect(evaluateRetrieval({ embedder, dataset: { corpus: [], qrels: new Map() } as never, instruction: "" })).rejects.toThrow('Expected a non-empty string for instruction but received the string ""');
    });
});
