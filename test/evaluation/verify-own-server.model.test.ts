// The project's own server as the reference: `startServer` on 127.0.0.1, port 0, serving the fixture models; the
// remote reference client talks real HTTP to its OpenAI embeddings and Jina/Cohere rerank routes.
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEmbedder, createReranker, type Embedder, type Reranker } from "../../src/index.js";
import { startServer, type RunningServer } from "../../src/exports/server.js";
import { builtInProbeSet } from "../../src/evaluation/probe-sets.js";
import { collectRemoteReference } from "../../src/evaluation/remote-reference.js";
import { verifyAgainstReference } from "../../src/evaluation/verification.js";
import { REPO_ROOT, ensureFixtureModel } from "../fixtures/qwen3-fixture.js";

const API_KEY = "own-server-key";
let server: RunningServer;
let embedder: Embedder;
let reranker: Reranker;
let embeddingPath: string;
let rerankerPath: string;

beforeAll(async () => {
    embeddingPath = await ensureFixtureModel({ kind: "embedding", size: "tiny" });
    rerankerPath = await ensureFixtureModel({ kind: "reranker-rank", size: "tiny" });
    // Default model options on both sides: the deployment as a user runs it.
    server = await startServer({ embeddingModel: embeddingPath, rerankerModel: rerankerPath, host: "127.0.0.1", port: 0, apiKeys: [API_KEY], logLevel: "silent" });
    await server.ready;
    embedder = await createEmbedder({ model: embeddingPath, workers: 0 });
    reranker = await createReranker({ model: rerankerPath, workers: 0 });
});
afterAll(async () => {
    await server?.close();
    await embedder?.[Symbol.asyncDispose]();
    await reranker?.[Symbol.asyncDispose]();
});

describe("this project's server as the reference", () => {
    it("agrees with the library at cosine >= 0.99999 and Spearman >= 0.9999 on every probe category", async () => {
        const data = await collectRemoteReference(builtInProbeSet(), { embeddings: true, rerankings: true }, {
            url: server.url,
            apiKey: API_KEY,
            embeddingModel: "embedding-tiny-s1",
            rerankerModel: "reranker-rank-tiny-s1",
            progress: false,
        });
        const report = await verifyAgainstReference({ embedder, reranker, reference: data, thresholds: { minCosine: 0.99999, minSpearman: 0.9999 } });
        expect(report.checks.filter((check) => !check.passed)).toEqual([]);
        expect(report.embeddings!.count).toBe(42);
        expect(report.embeddings!.cosine.min).toBeGreaterThanOrEqual(0.99999);
        expect(report.reranker!.pairs).toBe(60);
        expect(report.reranker!.spearman).toBeGreaterThanOrEqual(0.9999);
    });

    it("verify --reference <server url> exits 0 with the same thresholds", async () => {
        const run = promisify(execFile);
        const { stdout, stderr } = await run(
            process.execPath,
            [
                "--import", "tsx", join(REPO_ROOT, "src", "cli", "main.ts"), "verify", "--embedding-model", embeddingPath, "--reranker-model", rerankerPath,
                "--reference", server.url, "--min-cosine", "0.99999", "--min-spearman", "0.9999",
            ],
            { cwd: REPO_ROOT, env: { ...process.env, QWEN3_EMBEDDING_REFERENCE_API_KEY: API_KEY } },
        );
        expect(stderr).toBe("");
        expect(stdout).toMatch(/^qwen3-embedding verify: PASS \(all 7 checks passed\)\n/);
        expect(stdout).toContain(`reference: ${server.url}`);
    });
});
