import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEmbedder, createReranker, type Embedder, type Reranker } from "../../src/index.js";
import { builtInProbeSet } from "../../src/evaluation/probe-sets.js";
import type { ReferenceData } from "../../src/evaluation/reference-data.js";
import { readReferenceFile, writeReferenceFile } from "../../src/evaluation/reference-file.js";
import { loadCalibration } from "../../src/evaluation/score-calibration.js";
import { verifyAgainstReference } from "../../src/evaluation/verification.js";
import { ensureFixtureModel } from "../fixtures/qwen3-fixture.js";
import { oracleReference } from "./oracle-reference.js";
import { runCli } from "../support/run-cli.js";

const cli = (args: string[]) => runCli(args);

let dir: string;
let embeddingPath: string;
let rerankerPath: string;
let good: ReferenceData;
let wrongModel: ReferenceData;
let shuffled: ReferenceData;
let embedder: Embedder;
let reranker: Reranker;

/** Scores moved one document along within each query: same values, wrong documents. */
function shuffleScores(data: ReferenceData): ReferenceData {
    return { ...data, source: "shuffled", rerankings: data.rerankings.map((item) => ({ ...item, scores: item.scores.map((_, i) => item.scores[(i + 1) % item.scores.length]!) })) };
}

beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "qwen3-verify-"));
    embeddingPath = await ensureFixtureModel({ kind: "embedding", size: "tiny" });
    rerankerPath = await ensureFixtureModel({ kind: "reranker-rank", size: "tiny" });
    const probes = builtInProbeSet();
    good = await oracleReference(probes, { embedding: embeddingPath, reranker: rerankerPath });
    // Another seed: the same architecture and tokenizer with different weights, as a wrong deployment would be.
    // Two categories (14 texts, 4 queries) are plenty to fail on.
    const some = (id: string) => id.startsWith("english/") || id.startsWith("chinese/");
    wrongModel = await oracleReference(
        { embeddings: probes.embeddings.filter((probe) => some(probe.id)), rerankings: probes.rerankings.filter((probe) => some(probe.id)) },
        { embedding: await ensureFixtureModel({ kind: "embedding", size: "tiny", seed: 2 }), reranker: await ensureFixtureModel({ kind: "reranker-rank", size: "tiny", seed: 2 }) },
        "seed 2 oracle",
    );
    shuffled = shuffleScores(good);
    await writeReferenceFile(join(dir, "good.jsonl"), good);
    await writeReferenceFile(join(dir, "wrong.jsonl"), wrongModel);
    // workers: 0 runs the engine on this thread: the fastest way for a test that only awaits.
    embedder = await createEmbedder({ model: embeddingPath, workers: 0 });
    reranker = await createReranker({ model: rerankerPath, workers: 0 });
});
afterAll(async () => {
    await embedder?.[Symbol.asyncDispose]();
    await reranker?.[Symbol.asyncDispose]();
    await rm(dir, { recursive: true, force: true });
});

describe("verify against a reference file of the float64 oracle", () => {
    it("a reference file round-trips through JSONL", async () => {
        const read = await readReferenceFile(join(dir, "good.jsonl"));
        expect(read.embeddings.map((item) => [item.id, item.text, item.instruction])).toEqual(good.embeddings.map((item) => [item.id, item.text, item.instruction]));
        expect(read.embeddings[3]!.embedding).toEqual(Array.from(good.embeddings[3]!.embedding));
        expect(read.rerankings).toEqual(good.rerankings);
    });

    it("passes: every probe category, embeddings at cosine >= 0.99999 and reranker rankings equal", async () => {
        const report = await verifyAgainstReference({ embedder, reranker, reference: good });
        expect(report.passed).toBe(true);
        expect(report.checks).toHaveLength(7);
        expect(report.embeddings!.count).toBe(42);
        expect(new Set(report.embeddings!.items.map((item) => item.id.split("/")[0]))).toEqual(new Set(["chinese", "english", "mixed", "code", "formulas", "tables"]));
        expect(report.embeddings!.items.filter((item) => item.role === "query")).toHaveLength(12);
        expect(report.embeddings!.cosine.min).toBeGreaterThanOrEqual(0.99999);
        expect(report.embeddings!.distance.max).toBeLessThan(0.005);
        expect(report.reranker!.pairs).toBe(60);
        expect(report.reranker!.spearman).toBeGreaterThanOrEqual(0.999);
        expect(report.reranker!.absoluteError.max).toBeLessThan(5e-3);
        expect(report.reranker!.meanQuery.ndcgAt10).toBeGreaterThanOrEqual(0.999);
    });

    it("fails on another seed's model, naming the worst items", async () => {
        const report = await verifyAgainstReference({ embedder, reranker, reference: wrongModel });
        expect(report.passed).toBe(false);
        const failed = report.checks.filter((check) => !check.passed).map((check) => check.name);
        expect(failed).toEqual(expect.arrayContaining(["minCosine", "minMeanCosine", "minPearson", "minSpearman"]));
        const worst = report.embeddings!.worst;
        expect(worst).toHaveLength(5);
        expect(worst[0]!.cosine).toBe(report.embeddings!.cosine.min);
        expect(worst.map((item) => item.cosine)).toEqual([...worst.map((item) => item.cosine)].sort((a, b) => a - b));
        expect(report.reranker!.worstQueries[0]!.ndcgAt10).toBe(Math.min(...report.reranker!.perQuery.map((query) => query.ndcgAt10)));
    });

    it("fails on shuffled scores (the reranker checks only; the embeddings still pass)", async () => {
        const report = await verifyAgainstReference({ embedder, reranker, reference: shuffled });
        expect(report.passed).toBe(false);
        const byName = Object.fromEntries(report.checks.map((check) => [check.name, check.passed]));
        expect(byName).toMatchObject({ minCosine: true, minMeanCosine: true, minPearson: false, minSpearman: false, minNdcg: false });
        expect(report.reranker!.worstPairs[0]!.difference).not.toBe(0);
    });

    it("checks only what it was given a model for", async () => {
        const embeddingsOnly = await verifyAgainstReference({ embedder, reference: shuffled });
        expect(embeddingsOnly.passed).toBe(true);
        expect(embeddingsOnly.checks.map((check) => check.name)).toEqual(["minCosine", "minMeanCosine"]);
        expect(embeddingsOnly.reranker).toBeUndefined();
    });

    it("names the mismatch when the reference was made at other dimensions", async () => {
        const cut = { ...good, embeddings: good.embeddings.map((item) => ({ ...item, embedding: Array.from(item.embedding).slice(0, 32) })) };
        await expect(verifyAgainstReference({ embedder, reference: cut })).rejects.toThrow(
            `The reference embedding of "chinese/query-1" has 32 dimensions but the local ones have 64; pass --dimensions 32 (dimensions) to compare Matryoshka-truncated vectors`,
        );
        // Matryoshka on both sides: the oracle's first 32 components normalized again equal local dimensions: 32.
        const renormalized = { ...cut, embeddings: cut.embeddings.map((item) => { const v = item.embedding as number[]; const n = Math.hypot(...v); return { ...item, embedding: v.map((x) => x / n) }; }) };
        const report = await verifyAgainstReference({ embedder, reference: renormalized, dimensions: 32 });
        expect(report.passed).toBe(true);
        expect(report.embeddings!.dimensions).toBe(32);
    });
});

describe("the verify command", () => {
    it("exits 0 on the oracle's reference and writes the report, the calibration and the JSON", async () => {
        const result = await cli([
            "verify", "--embedding-model", embeddingPath, "--reranker-model", rerankerPath, "--reference", join(dir, "good.jsonl"),
            "--report", join(dir, "report"), "--fit-calibration", join(dir, "map.json"),
        ]);
        expect(result.code, result.stderr).toBe(0);
        expect(result.stdout).toMatch(/^qwen3-embedding verify: PASS \(all 7 checks passed\)\n/);
        expect(result.stdout).toContain("embeddings: 42 items, 64 dimensions");
        expect(result.stdout).toContain("reranker: 12 queries, 60 pairs");
        expect(result.stdout).toMatch(/calibration: isotonic map with \d+ knots, fitted on 42 pairs, measured on 18 held-out pairs/);
        const report = JSON.parse(await readFile(join(dir, "report", "report.json"), "utf8"));
        expect(report.passed).toBe(true);
        expect(report.calibrationFit.heldOut.filter(Boolean)).toHaveLength(18);
        expect(await readFile(join(dir, "report", "report.html"), "utf8")).toContain('data-plot="score-scatter"');
        const calibration = await loadCalibration(join(dir, "map.json"));
        expect(calibration.fitted!.heldOutPairs).toBe(18);
        expect(calibration.x.length).toBe(calibration.y.length);
    });

    it("exits 1 on another seed's reference, naming the worst items and the failed checks", async () => {
        // --min-cosine -1: that one check passes whatever the cosines, the others still fail.
        const result = await cli(["verify", "--embedding-model", embeddingPath, "--reranker-model", rerankerPath, "--reference", join(dir, "wrong.jsonl"), "--worst", "3", "--min-cosine=-1"]);
        expect(result.code).toBe(1);
        expect(result.stdout).toMatch(/^qwen3-embedding verify: FAIL \(\d of 7 checks failed\)/);
        const library = await verifyAgainstReference({ embedder, reranker, reference: wrongModel, worst: 3 });
        for (const item of library.embeddings!.worst) expect(result.stdout).toMatch(new RegExp(`^    ${item.id} \\(${item.role}\\)  cosine`, "m"));
        for (const query of library.reranker!.worstQueries) expect(result.stdout).toContain(`    ${query.id}  nDCG@10`);
        expect(result.stdout).toMatch(/^  PASS  lowest embedding cosine -?\d\.\d+ >= -1  \(minCosine\)$/m);
        expect(result.stdout).toMatch(/^  FAIL  mean embedding cosine -?\d\.\d+ < 0\.9999  \(minMeanCosine\)$/m);
        const lines = result.stderr.trim().split("\n");
        expect(lines).toHaveLength(1);
        expect(lines[0]).toMatch(/^qwen3-embedding: verification failed: minMeanCosine -?\d\.\d+ < 0\.9999, minPearson /);
    });

    it("refuses bad command lines with exit code 2 and one line", async () => {
        const cases: [string[], string][] = [
            [["verify", "--embedding-model", embeddingPath], "qwen3-embedding: --reference is required\n"],
            [["verify", "--reference", "x.jsonl"], "qwen3-embedding: --embedding-model is required (and/or --reranker-model)\n"],
            [["verify", "--embedding-model", embeddingPath, "--reference", "x.jsonl", "--texts", "t.txt"], "qwen3-embedding: --texts applies to a remote reference only; a reference file holds its own inputs\n"],
            [["verify", "--embedding-model", embeddingPath, "--reference", "x.jsonl", "--min-cosine", "high"], 'qwen3-embedding: Expected a number for --min-cosine but received "high"\n'],
            [["verify", "--embedding-model", embeddingPath, "--reference", "x.jsonl", "--fit-calibration", "m.json"], "qwen3-embedding: --fit-calibration and --calibration need --reranker-model\n"],
            [["verify", "--reranker-model", rerankerPath, "--reference", "x.jsonl", "--fit-calibration", "m.json", "--calibration", "c.json"], "qwen3-embedding: pass either --fit-calibration or --calibration, not both\n"],
            [["verify", "--embedding-model", embeddingPath, "--reference", "http://127.0.0.1:9", "--api-key-env", "QWEN3_TEST_UNSET_KEY"], "qwen3-embedding: --api-key-env names QWEN3_TEST_UNSET_KEY but that environment variable is not set\n"],
        ];
        for (const [args, message] of cases) {
            const result = await cli(args);
            expect(result.code, args.join(" ")).toBe(2);
            expect(result.stderr).toBe(message);
            expect(result.stdout).toBe("");
        }
        const help = await cli(["verify", "--help"]);
        expect(help.code).toBe(0);
        expect(help.stdout).toContain("Usage: qwen3-embedding verify --embedding-model");
        expect(help.stdout).toContain("Exit code: 0 every check passed, 1 a check failed");
    });

    it("exits 1 with one line when the reference file is wrong", async () => {
        const result = await cli(["verify", "--embedding-model", embeddingPath, "--reference", join(dir, "missing.jsonl")]);
        expect(result.code).toBe(1);
        expect(result.stderr).toBe(`qwen3-embedding: Cannot read ${join(dir, "missing.jsonl")} (--reference): ENOENT\n`);
    });
});
