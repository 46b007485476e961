import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEmbedder, createReranker } from "../../src/index.js";
import { ensureFixtureModel } from "../fixtures/qwen3-fixture.js";
import { runCli } from "../support/run-cli.js";

const cli = (args: string[], input?: string) => runCli(args, input === undefined ? {} : { input });

const lines = (stdout: string) => stdout.trim().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>);

let dir: string;
let embeddingPath: string;
let rankPath: string;
const texts = ["What is the capital of China?", "北京是中华人民共和国的首都。", "Gravity pulls two bodies together."];

beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "qwen3-cli-"));
    embeddingPath = await ensureFixtureModel({ kind: "embedding", size: "tiny" });
    rankPath = await ensureFixtureModel({ kind: "reranker-rank", size: "tiny" });
    await writeFile(join(dir, "texts.txt"), texts.join("\n") + "\n");
    await writeFile(join(dir, "texts.jsonl"), texts.map((text) => JSON.stringify({ text, id: text.length })).join("\n") + "\n");
});
afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
});

describe("embed", () => {
    it("writes {index, embedding, tokens} per input, equal to the library (documents, then queries)", async () => {
        const embedder = await createEmbedder({ model: embeddingPath });
        const documents = await embedder.embed(texts);
        const queries = await embedder.embed(texts, { instruction: "Given a web search query, retrieve relevant passages that answer the query" });
        const memory = await embedder.embed(texts, { task: "memory-retrieval", dimensions: 32 });
        embedder.dispose();

        const plain = lines((await cli(["embed", "--model", embeddingPath, "--input", join(dir, "texts.txt")])).stdout);
        expect(plain.map((line) => line["index"])).toEqual([0, 1, 2]);
        plain.forEach((line, index) => {
            expect(line["embedding"]).toEqual(Array.from(documents.embeddings[index]!));
            expect(line["tokens"]).toBe(documents.tokens[index]);
        });
        const jsonl = lines((await cli(["embed", "--model", embeddingPath, "--input", join(dir, "texts.jsonl")])).stdout);
        expect(jsonl.map((line) => line["embedding"])).toEqual(plain.map((line) => line["embedding"]));

        const query = lines((await cli(["embed", "--model", embeddingPath, "--query"], texts.join("\n"))).stdout);
        query.forEach((line, index) => expect(line["embedding"]).toEqual(Array.from(queries.embeddings[index]!)));

        const task = lines((await cli(["embed", "--model", embeddingPath, "--task", "memory-retrieval", "--dimensions", "32", "--input", join(dir, "texts.txt")])).stdout);
        task.forEach((line, index) => expect(line["embedding"]).toEqual(Array.from(memory.embeddings[index]!)));

        const binary = lines((await cli(["embed", "--model", embeddingPath, "--output-type", "ubinary", "--input", join(dir, "texts.txt")])).stdout);
        expect((binary[0]!["embedding"] as number[]).length).toBe(8);
    });
});

describe("rerank", () => {
    it("writes {index, score} best first, equal to the library", async () => {
        const reranker = await createReranker({ model: rankPath });
        const expected = await reranker.rerank("capital of China", texts);
        reranker.dispose();
        const result = await cli(["rerank", "--model", rankPath, "--query", "capital of China", "--documents", join(dir, "texts.txt")]);
        expect(result.code).toBe(0);
        expect(lines(result.stdout)).toEqual(expected.results.map((item) => ({ index: item.index, score: item.score })));
        const top = lines((await cli(["rerank", "--model", rankPath, "--query", "capital of China", "--top-n", "1"], texts.join("\n"))).stdout);
        expect(top).toEqual([{ index: expected.results[0]!.index, score: expected.results[0]!.score }]);
    });
});

describe("tokenize and inspect", () => {
    it("tokenize writes raw ids with nothing added", async () => {
        const result = lines((await cli(["tokenize", "--model", embeddingPath], "hello world\n<|im_end|>\n")).stdout);
        expect(result[0]).toEqual({ index: 0, ids: [14990, 1879] });
        expect(result[1]!["ids"]).not.toContain(151645);
    });

    it("inspect tells kind, flavour, dimension, context, pooling and eos handling", async () => {
        const embedding = lines((await cli(["inspect", "--model", embeddingPath])).stdout)[0]!;
        expect(embedding).toMatchObject({ kind: "embedding", flavour: "last-token", dimension: 64, context: 32768, pooling: "last" });
        expect(embedding["eos"]).toMatchObject({ token: 151643, ggufAppendsEos: false });
        const rank = lines((await cli(["inspect", "--model", rankPath])).stdout)[0]!;
        expect(rank).toMatchObject({ kind: "reranker", flavour: "rank-classifier", pooling: "rank", classifier: { rows: 2, labels: ["yes", "no"] } });
        const causal = lines((await cli(["inspect", "--model", await ensureFixtureModel({ kind: "reranker-causal", size: "tiny" })])).stdout)[0]!;
        expect(causal).toMatchObject({ kind: "reranker", flavour: "causal-lm", pooling: "unspecified", hasOutputHead: true });
    });
});

describe("errors and help", () => {
    it("prints help for the tool and every command", async () => {
        const top = await cli(["--help"]);
        expect(top.code).toBe(0);
        for (const command of ["embed", "rerank", "tokenize", "inspect", "pull", "models"]) {
            expect(top.stdout).toContain(`  ${command}`);
            const help = await cli([command, "--help"]);
            expect(help.code).toBe(0);
            expect(help.stdout).toContain(`Usage: qwen3-embedding ${command}`);
        }
    });

    it("exits non-zero with one clear line on stderr", async () => {
        const cases: [string[], number, string][] = [
            [["embed"], 2, "qwen3-embedding: --model is required\n"],
            [["embed", "--model", embeddingPath, "--dimensions", "abc"], 2, 'qwen3-embedding: Expected an integer for --dimensions but received "abc"\n'],
            [["embed", "--model", embeddingPath, "--modle", "x"], 2, "qwen3-embedding: Unknown option '--modle'; run `qwen3-embedding embed --help` for the options\n"],
            [["embed", "--model", embeddingPath, "--task", "web-search", "--instruction", "x"], 2, "qwen3-embedding: pass either --task or --instruction, not both\n"],
            [["frobnicate"], 2, 'qwen3-embedding: unknown command "frobnicate"; run `qwen3-embedding --help` to list the commands\n'],
            [["embed", "--model", join(dir, "missing.gguf")], 1, `qwen3-embedding: Model file not found: ${join(dir, "missing.gguf")}.`],
            [["rerank", "--model", embeddingPath, "--query", "q"], 1, `qwen3-embedding: ${embeddingPath} is an embedding model, not a reranker`],
            [["embed", "--model", embeddingPath, "--dimensions", "8"], 1, "qwen3-embedding: Expected an integer between 32 and 64 for dimensions but received number 8\n"],
        ];
        for (const [args, code, start] of cases) {
            const result = await cli(args, "hello\n");
            expect(result.code, args.join(" ")).toBe(code);
            expect(result.stderr.startsWith(start), `${args.join(" ")}: ${result.stderr}`).toBe(true);
            expect(result.stderr.trim().split("\n")).toHaveLength(1);
            expect(result.stdout).toBe("");
        }
    });
});
