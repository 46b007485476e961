// `--exact` on the command line: the f32 KV cache for every model a command loads, held to the independent float64
// oracle (test/reference/) through the CLI itself, and the mode named in what the commands report.
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cosineSimilarity, DEFAULT_INSTRUCTION } from "../../src/index.js";
import { builtInProbeSet } from "../../src/evaluation/probe-sets.js";
import type { ReferenceData } from "../../src/evaluation/reference-data.js";
import { writeReferenceFile } from "../../src/evaluation/reference-file.js";
import { ensureFixtureModel } from "../fixtures/qwen3-fixture.js";
import { oracleReference } from "../evaluation/oracle-reference.js";
import { runCli } from "../support/run-cli.js";

const lines = (stdout: string) => stdout.trim().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>);

/** What rerank and embed --exact are held to: |score - oracle|, cosine(embedding, oracle) as verify's own tests hold it. */
const MAX_RERANK_DIFFERENCE = 1e-4;
const MIN_COSINE = 0.99999;
/**
 * Euclidean distance of the unit vectors, which tells the modes apart where the cosine cannot: on the built-in
 * probes exact mode stayed at or below 1.2e-6 and the f16 cache at or above 4e-4 (both at cosine >= 0.99999).
 */
const MAX_EXACT_DISTANCE = 1e-5;

const CONFLICT = "qwen3-embedding: --exact asks for the f32 KV cache (exact mode) but --kv-cache-type asks for f16; pass one of them\n";

let dir: string;
let embeddingPath: string;
let rerankerPath: string;
let reference: string;

beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "qwen3-exact-"));
    embeddingPath = await ensureFixtureModel({ kind: "embedding", size: "tiny" });
    rerankerPath = await ensureFixtureModel({ kind: "reranker-rank", size: "tiny" });
    reference = join(dir, "oracle.jsonl");
    await writeReferenceFile(reference, await oracleReference(builtInProbeSet(), { embedding: embeddingPath, reranker: rerankerPath }));
});
afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
});

describe("verify --exact", () => {
    it("passes against the float64 oracle with every rerank score within 1e-4; the JSON, HTML and text reports say exact mode", async () => {
        const result = await runCli(["verify", "--exact", "--embedding-model", embeddingPath, "--reranker-model", rerankerPath, "--reference", reference, "--report", join(dir, "exact")]);
        expect(result.code, result.stderr).toBe(0);
        expect(result.stdout).toMatch(/^qwen3-embedding verify: PASS \(all 7 checks passed\)\nreference: .*\nmode: exact \(f32 KV cache\)\n/);
        const report = JSON.parse(await readFile(join(dir, "exact", "report.json"), "utf8"));
        expect(report.mode).toBe("exact (f32 KV cache)");
        expect(report.kvCacheTypes).toEqual({ embedding: "f32", reranker: "f32" });
        expect(report.reranker.pairs).toBe(60);
        expect(report.reranker.absoluteError.max).toBeLessThanOrEqual(MAX_RERANK_DIFFERENCE);
        expect(report.embeddings.cosine.min).toBeGreaterThanOrEqual(MIN_COSINE);
        expect(await readFile(join(dir, "exact", "report.html"), "utf8")).toContain('<p data-field="mode">Mode: <strong>exact (f32 KV cache)</strong></p>');
    });

    it("without --exact the report says fast mode (the default f16 KV cache)", async () => {
        const result = await runCli(["verify", "--reranker-model", rerankerPath, "--reference", reference, "--json"]);
        expect(result.code, result.stderr).toBe(0);
        const report = JSON.parse(result.stdout);
        expect(report.mode).toBe("fast (f16 KV cache)");
        expect(report.kvCacheTypes).toEqual({ reranker: "f16" });
        expect(report.reranker.absoluteError.max).toBeLessThan(5e-3);
    });

    it("--kv-cache-type f32 is the same run as --exact, and the two together agree", async () => {
        for (const flags of [["--kv-cache-type", "f32"], ["--exact", "--kv-cache-type", "f32"]]) {
            const result = await runCli(["verify", ...flags, "--reranker-model", rerankerPath, "--reference", reference, "--json"]);
            expect(result.code, result.stderr).toBe(0);
            const report = JSON.parse(result.stdout);
            expect(report.mode).toBe("exact (f32 KV cache)");
            expect(report.reranker.absoluteError.max).toBeLessThanOrEqual(MAX_RERANK_DIFFERENCE);
        }
    });
});

describe("rerank and embed --exact against the float64 oracle", () => {
    it("rerank --exact: every score within 1e-4 of the oracle's", async () => {
        const probes = [
            { id: "capital", query: "What is the capital of China?", documents: ["The capital of China is Beijing.", "Gravity is a force.", "北京是中华人民共和国的首都。"] },
            { id: "sort", query: "sort a list in Python", instruction: "Given a code question, retrieve code that answers it", documents: ["sorted(xs) returns a new list", "xs.sort() sorts in place", "Paris is in France."] },
        ];
        const expected = (await oracleReference({ embeddings: [], rerankings: probes }, { reranker: rerankerPath })).rerankings;
        for (const [at, probe] of probes.entries()) {
            const documents = join(dir, `${probe.id}.txt`);
            await writeFile(documents, probe.documents.join("\n") + "\n");
            const result = await runCli(["rerank", "--exact", "--model", rerankerPath, "--query", probe.query, "--documents", documents, ...(probe.instruction === undefined ? [] : ["--instruction", probe.instruction])]);
            expect(result.code, result.stderr).toBe(0);
            const scored = lines(result.stdout);
            expect(scored).toHaveLength(probe.documents.length);
            for (const { index, score } of scored as { index: number; score: number }[]) {
                expect(Math.abs(score - expected[at]!.scores[index]!), `${probe.id} document ${index}`).toBeLessThanOrEqual(MAX_RERANK_DIFFERENCE);
            }
        }
    });

    it("embed --exact: documents and queries at cosine >= 0.99999 with the oracle's, and within 1e-5 in distance", async () => {
        const texts = ["What is the capital of China?", "北京是中华人民共和国的首都。", "| Quarter | Revenue |\n|---|---|"];
        const oracle: ReferenceData = await oracleReference(
            { embeddings: [...texts.map((text, i) => ({ id: `d${i}`, text })), ...texts.map((text, i) => ({ id: `q${i}`, text, instruction: DEFAULT_INSTRUCTION }))], rerankings: [] },
            { embedding: embeddingPath },
        );
        // JSONL input: the table's newline stays inside its text.
        const input = join(dir, "texts.jsonl");
        await writeFile(input, texts.map((text) => JSON.stringify({ text })).join("\n") + "\n");
        for (const [role, flags] of [["d", []], ["q", ["--query"]]] as const) {
            const result = await runCli(["embed", "--exact", "--model", embeddingPath, "--input", input, ...flags]);
            expect(result.code, result.stderr).toBe(0);
            lines(result.stdout).forEach((line, index) => {
                const expected = Array.from(oracle.embeddings.find((item) => item.id === `${role}${index}`)!.embedding);
                const local = line["embedding"] as number[];
                expect(cosineSimilarity(Float32Array.from(local), Float32Array.from(expected)), `${role}${index}`).toBeGreaterThanOrEqual(MIN_COSINE);
                expect(Math.hypot(...local.map((value, i) => value - expected[i]!)), `${role}${index}`).toBeLessThanOrEqual(MAX_EXACT_DISTANCE);
            });
        }
    });
});

describe("--exact on every command that loads models", () => {
    it("with a conflicting --kv-cache-type: exit code 2 and one line naming both, before anything loads", async () => {
        const commands: string[][] = [
            ["embed", "--model", embeddingPath],
            ["rerank", "--model", rerankerPath, "--query", "q"],
            ["verify", "--embedding-model", embeddingPath, "--reference", reference],
            ["eval", "--embedding-model", embeddingPath, "--dataset", join(dir, "no-dataset")],
            ["serve", "--embedding-model", embeddingPath, "--port", "0"],
        ];
        for (const command of commands) {
            const result = await runCli([...command, "--exact", "--kv-cache-type", "f16"], { input: "hello\n" });
            expect(result.code, command[0]).toBe(2);
            expect(result.stderr, command[0]).toBe(CONFLICT);
            expect(result.stdout).toBe("");
        }
        const invalid = await runCli(["embed", "--model", embeddingPath, "--kv-cache-type", "q8_0"], { input: "hello\n" });
        expect(invalid.code).toBe(2);
        expect(invalid.stderr).toBe('qwen3-embedding: Expected f16 or f32 for --kv-cache-type but received "q8_0"\n');
        // serve reads both from the environment too, and names the variable it read
        const fromEnvironment = await runCli(["serve", "--embedding-model", embeddingPath, "--port", "0", "--exact"], { env: { QWEN3_EMBEDDING_KV_CACHE_TYPE: "f16" } });
        expect(fromEnvironment.code).toBe(2);
        expect(fromEnvironment.stderr).toBe("qwen3-embedding: --exact asks for the f32 KV cache (exact mode) but QWEN3_EMBEDDING_KV_CACHE_TYPE asks for f16; pass one of them\n");
    });

    it("--help of each documents --exact: what it does and what it costs", async () => {
        for (const command of ["embed", "rerank", "verify", "eval", "serve"]) {
            const help = await runCli([command, "--help"]);
            expect(help.code).toBe(0);
            expect(help.stdout, command).toContain("--exact");
            expect(help.stdout, command).toContain("--kv-cache-type");
            expect(help.stdout, command).toMatch(/f32 KV cache|float32 KV cache/);
            expect(help.stdout, command).toMatch(/(twice the|2x) KV( cache)? memory/);
            expect(help.stdout, command).toMatch(/flash attention/);
            expect(help.stdout, command).toContain("slower");
        }
    });
});
