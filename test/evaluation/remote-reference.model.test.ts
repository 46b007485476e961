// The remote reference client over real HTTP on 127.0.0.1: a fastify server in this file answers the OpenAI
// embeddings and Jina rerank shapes (QWEN3_SPEC.md, "Hosted API shapes") from the library's own outputs.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Fastify, { type FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEmbedder, createReranker, type Embedder, type Reranker } from "../../src/index.js";
import { ReferenceRequestError } from "../../src/evaluation/json-http-client.js";
import { builtInProbeSet } from "../../src/evaluation/probe-sets.js";
import { readReferenceFile } from "../../src/evaluation/reference-file.js";
import { collectRemoteReference, parseEmbeddingsResponse, parseRerankResponse, referenceEndpoints } from "../../src/evaluation/remote-reference.js";
import { verifyAgainstReference } from "../../src/evaluation/verification.js";
import { runCli } from "../support/run-cli.js";
import { ensureFixtureModel } from "../fixtures/qwen3-fixture.js";
import { expectInvalidOption } from "../format/expect-invalid-option.js";

const API_KEY = "test-key-123";
let server: FastifyInstance;
let base: string;
let embedder: Embedder;
let reranker: Reranker;
let embeddingPath: string;
let rerankerPath: string;
let dir: string;
const counts = new Map<string, number>();
const bodies: Record<string, unknown>[] = [];
let inFlight = 0;
let maxInFlight = 0;
let releaseWaiting: (() => void) | undefined;

function count(name: string): number {
    const n = (counts.get(name) ?? 0) + 1;
    counts.set(name, n);
    return n;
}

beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "qwen3-remote-"));
    embeddingPath = await ensureFixtureModel({ kind: "embedding", size: "tiny" });
    rerankerPath = await ensureFixtureModel({ kind: "reranker-rank", size: "tiny" });
    // f32 KV cache (flash attention off): results do not depend on how inputs are batched, so the server's batches
    // and the verification's give the same numbers.
    embedder = await createEmbedder({ model: embeddingPath, workers: 0, kvCacheType: "f32" });
    reranker = await createReranker({ model: rerankerPath, workers: 0, kvCacheType: "f32" });

    server = Fastify();
    server.addHook("onRequest", async (request, reply) => {
        if (request.headers.authorization !== `Bearer ${API_KEY}`) return reply.code(401).send({ error: { message: "invalid api key" } });
    });
    server.post("/v1/embeddings", async (request) => {
        const body = request.body as { model?: string; input: string[]; encoding_format?: string; dimensions?: number };
        bodies.push(body);
        const result = await embedder.embed(body.input, body.dimensions === undefined ? {} : { dimensions: body.dimensions });
        return {
            object: "list",
            model: body.model,
            // answered out of order, as nothing in the OpenAI shape forbids: the client must sort by index
            data: result.embeddings
                .map((embedding, index) => ({
                    object: "embedding",
                    index,
                    embedding: body.encoding_format === "base64" ? Buffer.from((embedding as Float32Array).buffer).toString("base64") : Array.from(embedding),
                }))
                .reverse(),
            usage: { prompt_tokens: result.totalTokens, total_tokens: result.totalTokens },
        };
    });
    server.post("/v1/rerank", async (request) => {
        const body = request.body as { model?: string; query: string; documents: string[]; top_n?: number; instruction?: string };
        bodies.push(body);
        const result = await reranker.rerank(body.query, body.documents, { ...(body.top_n === undefined ? {} : { topN: body.top_n }), ...(body.instruction === undefined ? {} : { instruction: body.instruction }) });
        return { model: body.model, usage: { total_tokens: result.totalTokens }, results: result.results.map((item) => ({ index: item.index, relevance_score: item.score })) };
    });
    // Failures a hosted API produces.
    server.post("/flaky/v1/embeddings", async (request, reply) => {
        if (count("flaky") <= 2) return reply.code(503).send({ error: "overloaded" });
        const body = request.body as { input: string[] };
        return { data: body.input.map((_, index) => ({ index, embedding: [index, 1] })) };
    });
    server.post("/limited/v1/rerank", async (request, reply) => {
        if (count("limited") === 1) return reply.code(429).header("retry-after", "0").send({ error: "slow down" });
        const body = request.body as { documents: string[] };
        return body.documents.map((_, index) => ({ index, score: index / 10 })); // TEI's bare array
    });
    server.post("/broken/v1/embeddings", async (_, reply) => {
        count("broken");
        return reply.code(500).send("internal error");
    });
    server.post("/bad-request/v1/embeddings", async (_, reply) => {
        count("bad-request");
        return reply.code(400).send({ error: { message: "dimensions is not supported" } });
    });
    server.post("/slow/v1/embeddings", async (request) => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        // Hold each request until a second one is in flight (or 2 s pass): two at a time shows whether the client
        // really overlaps its requests, without depending on timing.
        if (inFlight >= 2) {
            releaseWaiting?.();
        } else {
            await new Promise<void>((resolve) => {
                releaseWaiting = resolve;
                setTimeout(resolve, 2000);
            });
        }
        inFlight--;
        const body = request.body as { input: string[] };
        return { data: body.input.map((_, index) => ({ index, embedding: [1, 0] })) };
    });
    await server.listen({ host: "127.0.0.1", port: 0 });
    base = `http://127.0.0.1:${(server.server.address() as AddressInfo).port}`;
});
afterAll(async () => {
    await server?.close();
    await embedder?.[Symbol.asyncDispose]();
    await reranker?.[Symbol.asyncDispose]();
    await rm(dir, { recursive: true, force: true });
});

const fast = { apiKey: API_KEY, retryDelayMs: 1, progress: false } as const;

describe("a remote reference over HTTP", () => {
    it("the same engine behind the API: cosine >= 0.99999 and Spearman >= 0.9999", async () => {
        bodies.length = 0;
        const probes = builtInProbeSet();
        const data = await collectRemoteReference(probes, { embeddings: true, rerankings: true }, { ...fast, url: `${base}/v1`, embeddingModel: "qwen3-embedding-tiny", rerankerModel: "qwen3-reranker-tiny", batchSize: 16 });
        // 42 texts in batches of 16 -> 3 embedding requests; 12 rerank requests
        expect(bodies.filter((body) => "input" in body)).toHaveLength(3);
        expect(bodies.filter((body) => "query" in body)).toHaveLength(12);
        const queryBody = bodies.find((body) => "input" in body) as { model: string; input: string[]; encoding_format: string };
        expect(queryBody.model).toBe("qwen3-embedding-tiny");
        expect(queryBody.encoding_format).toBe("float");
        expect(queryBody.input[0]).toBe(`Instruct: Given a web search query, retrieve relevant passages that answer the query\nQuery:${probes.embeddings[0]!.text}`);
        expect(bodies.find((body) => "query" in body)).toMatchObject({ model: "qwen3-reranker-tiny", top_n: 5, return_documents: false });

        const report = await verifyAgainstReference({ embedder, reranker, reference: data, thresholds: { minCosine: 0.99999, minSpearman: 0.9999 } });
        expect(report.passed).toBe(true);
        expect(report.embeddings!.cosine.min).toBeGreaterThanOrEqual(0.99999);
        expect(report.reranker!.spearman).toBeGreaterThanOrEqual(0.9999);
        expect(report.reference).toBe(`${base}/v1`);
    });

    it("sends dimensions and instructions, decodes base64, and reads TEI's bare array", async () => {
        bodies.length = 0;
        const probes = { embeddings: [{ id: "a", text: "Matryoshka" }], rerankings: [{ id: "q", query: "q", instruction: "Given a claim, find documents that refute the claim", documents: ["x", "y"] }] };
        const data = await collectRemoteReference(probes, { embeddings: true, rerankings: true }, { ...fast, url: base, dimensions: 32 });
        expect(bodies[0]).toEqual({ input: ["Matryoshka"], encoding_format: "float", dimensions: 32 });
        expect(bodies[1]).toMatchObject({ instruction: "Given a claim, find documents that refute the claim" });
        expect(data.embeddings[0]!.embedding).toHaveLength(32);

        const vector = Float32Array.from([0.5, -1.25, 3]);
        expect(Array.from(parseEmbeddingsResponse({ data: [{ index: 0, embedding: Buffer.from(vector.buffer).toString("base64") }] }, 1, "u")[0]!)).toEqual([0.5, -1.25, 3]);
        expect(parseRerankResponse([{ index: 1, score: 0.2 }, { index: 0, score: 0.9 }], 2, "u")).toEqual([0.9, 0.2]);
        expect(parseRerankResponse({ results: [{ index: 1, relevance_score: 0.2 }, { index: 0, relevance_score: 0.9 }] }, 2, "u")).toEqual([0.9, 0.2]);
        expect(() => parseRerankResponse({ results: [{ index: 0, relevance_score: 0.2 }, { index: 0, relevance_score: 0.9 }] }, 2, "u")).toThrow("u answered with a bad or repeated index 0");
        expect(() => parseEmbeddingsResponse({ data: [] }, 1, "u")).toThrow('u answered without a "data" array of 1 embeddings: {"data":[]}');
    });

    it("retries 503 and 429 (honouring Retry-After), and gives up with the reason", async () => {
        const retries: string[] = [];
        const stream = { isTTY: false, write: (text: string) => retries.push(text) };
        const flaky = await collectRemoteReference({ embeddings: [{ id: "a", text: "x" }, { id: "b", text: "y" }], rerankings: [] }, { embeddings: true, rerankings: false }, { ...fast, url: `${base}/flaky/v1`, progress: true, progressStream: stream });
        expect(counts.get("flaky")).toBe(3); // two 503s, then the answer
        expect(flaky.embeddings.map((item) => Array.from(item.embedding))).toEqual([[0, 1], [1, 1]]);
        expect(retries.filter((line) => line.includes("retry"))).toEqual([
            expect.stringMatching(new RegExp(`^\\nretry 1 of ${base}/flaky/v1/embeddings in \\d+ ms: HTTP 503\\n$`)),
            expect.stringMatching(/^\nretry 2 of .* HTTP 503\n$/),
        ]);
        const limited = await collectRemoteReference({ embeddings: [], rerankings: [{ id: "q", query: "q", documents: ["a", "b", "c"] }] }, { embeddings: false, rerankings: true }, { ...fast, url: `${base}/limited/v1` });
        expect(counts.get("limited")).toBe(2);
        expect(limited.rerankings[0]!.scores).toEqual([0, 0.1, 0.2]);

        const one = { embeddings: [{ id: "a", text: "x" }], rerankings: [] };
        await expect(collectRemoteReference(one, { embeddings: true, rerankings: false }, { ...fast, url: `${base}/broken/v1`, retries: 2 })).rejects.toThrow(
            new ReferenceRequestError(`POST ${base}/broken/v1/embeddings answered 500 after 3 attempts: internal error`, `${base}/broken/v1/embeddings`, 500),
        );
        expect(counts.get("broken")).toBe(3);
        // A 400 or 401 will not change on a second try.
        await expect(collectRemoteReference(one, { embeddings: true, rerankings: false }, { ...fast, url: `${base}/bad-request/v1` })).rejects.toThrow(
            `POST ${base}/bad-request/v1/embeddings answered 400: {"error":{"message":"dimensions is not supported"}}`,
        );
        expect(counts.get("bad-request")).toBe(1);
        await expect(collectRemoteReference(one, { embeddings: true, rerankings: false }, { ...fast, apiKey: "wrong", url: `${base}/v1` })).rejects.toThrow(
            `POST ${base}/v1/embeddings answered 401 (check the API key): {"error":{"message":"invalid api key"}}`,
        );
        // Nothing listening: the network error after the retries.
        const closed = Fastify();
        await closed.listen({ host: "127.0.0.1", port: 0 });
        const port = (closed.server.address() as AddressInfo).port;
        await closed.close();
        await expect(collectRemoteReference(one, { embeddings: true, rerankings: false }, { ...fast, url: `http://127.0.0.1:${port}`, retries: 1 })).rejects.toThrow(
            `POST http://127.0.0.1:${port}/v1/embeddings failed after 2 attempts: ECONNREFUSED`,
        );
    });

    it("keeps `concurrency` requests in flight, no more", async () => {
        const embeddings = Array.from({ length: 6 }, (_, i) => ({ id: String(i), text: `text ${i}` }));
        const data = await collectRemoteReference({ embeddings, rerankings: [] }, { embeddings: true, rerankings: false }, { ...fast, url: `${base}/slow/v1`, batchSize: 1, concurrency: 2 });
        expect(data.embeddings).toHaveLength(6);
        expect(maxInFlight).toBe(2);
    });

    it("validates its options and the URL", () => {
        expect(referenceEndpoints("https://api.example.test/v1/")).toEqual({ embeddings: "https://api.example.test/v1/embeddings", rerank: "https://api.example.test/v1/rerank" });
        expect(referenceEndpoints("http://127.0.0.1:8080")).toEqual({ embeddings: "http://127.0.0.1:8080/v1/embeddings", rerank: "http://127.0.0.1:8080/v1/rerank" });
        expectInvalidOption(() => referenceEndpoints("ftp://host"), 'Expected an http(s) URL for the reference but received the string "ftp://host"');
        const probes = { embeddings: [], rerankings: [] };
        const what = { embeddings: true, rerankings: false };
        return Promise.all([
            expect(collectRemoteReference(probes, what, { url: base, concurrency: 0 })).rejects.toThrow("Expected an integer between 1 and 256 for concurrency but received number 0"),
            expect(collectRemoteReference(probes, what, { url: base, retries: -1 })).rejects.toThrow("Expected an integer between 0 and 20 for retries but received number -1"),
            expect(collectRemoteReference(probes, what, { url: base, batch: 3 } as never)).rejects.toThrow(/^Unknown option "batch" in remote reference options; the known options are url, apiKey/),
        ]);
    });
});

describe("verify --reference <url>", () => {
    const cli = (args: string[], env: Record<string, string>) => runCli(args, { env });

    it("reads the API key from the environment, verifies the user's texts and queries, saves the reference", async () => {
        await writeFile(join(dir, "texts.txt"), "The capital of China is Beijing.\nGravity pulls two bodies together.\n上海是中国的经济中心。\n");
        await writeFile(
            join(dir, "queries.jsonl"),
            [
                JSON.stringify({ id: "capital", query: "What is the capital of China?" }),
                JSON.stringify({ id: "own-docs", query: "sorting in Python", instruction: "Given a coding query, retrieve relevant code snippets", documents: ["sorted(xs)", "xs.sort(reverse=True)", "print('hi')"] }),
            ].join("\n") + "\n",
        );
        const args = [
            "verify", "--embedding-model", embeddingPath, "--reranker-model", rerankerPath, "--reference", `${base}/v1`,
            "--texts", join(dir, "texts.txt"), "--queries", join(dir, "queries.jsonl"), "--save-reference", join(dir, "saved.jsonl"),
        ];
        const result = await cli(args, { QWEN3_EMBEDDING_REFERENCE_API_KEY: API_KEY });
        expect(result.code, result.stderr).toBe(0);
        expect(result.stderr).toBe(""); // no progress bars when stderr is not a terminal
        expect(result.stdout).toContain("embeddings: 5 items, 64 dimensions");
        expect(result.stdout).toContain("reranker: 2 queries, 6 pairs");
        const saved = await readReferenceFile(join(dir, "saved.jsonl"));
        expect(saved.embeddings.map((item) => [item.id, item.instruction])).toEqual([
            ["capital", "Given a web search query, retrieve relevant passages that answer the query"],
            ["own-docs", "Given a coding query, retrieve relevant code snippets"],
            ["text-1", undefined], ["text-2", undefined], ["text-3", undefined],
        ]);
        expect(saved.rerankings.map((item) => [item.id, item.documents.length, item.instruction])).toEqual([
            ["capital", 3, undefined],
            ["own-docs", 3, "Given a coding query, retrieve relevant code snippets"],
        ]);

        const denied = await cli(["verify", "--embedding-model", embeddingPath, "--reference", `${base}/v1`], { QWEN3_EMBEDDING_REFERENCE_API_KEY: "" });
        expect(denied.code).toBe(1);
        expect(denied.stdout).toBe("");
        expect(denied.stderr).toBe(`qwen3-embedding: POST ${base}/v1/embeddings answered 401 (check the API key): {"error":{"message":"invalid api key"}}\n`);
    });
});
