// llama-server's own routes as documented in ggml-org/llama.cpp tools/server/README.md ("POST /embedding",
// "POST /embeddings", "POST /reranking" and its aliases) and written by tools/server/server-common.cpp
// (format_response_rerank: { model, object: "list", usage: { prompt_tokens, total_tokens }, results: [{ index,
// relevance_score }] }, keys sorted by nlohmann::json; non-OpenAI embeddings: [{ index, embedding: [[...]] }]).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEmbedder, createReranker, type Embedder, type Reranker } from "../../src/index.js";
import { type RunningServer } from "../../src/exports/server.js";
import { MODEL_OPTIONS, expectError, expectVectorsClose, fixturePaths, postJson, startFixtureServer } from "./server-fixture.js";

const texts = ["it is a bear", "The giant panda is a bear species endemic to China."];

let server: RunningServer;
let embedder: Embedder;
let reranker: Reranker;

beforeAll(async () => {
    const paths = await fixturePaths();
    server = await startFixtureServer();
    embedder = await createEmbedder({ model: paths.embedding, ...MODEL_OPTIONS });
    reranker = await createReranker({ model: paths.reranker, ...MODEL_OPTIONS });
});
afterAll(async () => {
    await server?.close();
    embedder?.dispose();
    reranker?.dispose();
});

describe("llama-server POST /embedding and /embeddings", () => {
    it("content (a string or strings) → [{ embedding: [[...]], index }], L2-normalized documents by default", async () => {
        const expected = await embedder.embedDocuments(texts);
        for (const path of ["/embedding", "/embeddings"]) {
            const one = await postJson(`${server.url}${path}`, { content: texts[0] });
            expect(one.status, JSON.stringify(one.body)).toBe(200);
            expect(one.body).toHaveLength(1);
            expect(Object.keys(one.body[0])).toEqual(["embedding", "index"]);
            expect(one.body[0].embedding).toHaveLength(1);
            expectVectorsClose(one.body[0].embedding[0], expected.embeddings[0]!);
            const both = await postJson(`${server.url}${path}`, { input: texts });
            expect(both.body.map((item: { index: number }) => item.index)).toEqual([0, 1]);
            both.body.forEach((item: { embedding: number[][] }, index: number) => expectVectorsClose(item.embedding[0]!, expected.embeddings[index]!));
        }
    });

    it("embd_normalize -1 (none), 0 (max absolute, to 32760), 1 (taxicab) as llama.cpp's common_embd_normalize", async () => {
        const raw = (await embedder.embed([texts[1]!], { role: "document", normalize: false })).embeddings[0]!;
        const none = await postJson(`${server.url}/embedding`, { content: texts[1], embd_normalize: -1 });
        expectVectorsClose(none.body[0].embedding[0], raw);
        const maxAbs = Math.max(...Array.from(raw, Math.abs));
        const scaled = await postJson(`${server.url}/embedding`, { content: texts[1], embd_normalize: 0 });
        expect(Math.max(...scaled.body[0].embedding[0].map(Math.abs))).toBeCloseTo(32760, 1);
        scaled.body[0].embedding[0].forEach((x: number, i: number) => expect(x).toBeCloseTo(raw[i]! * 32760 / maxAbs, 2));
        const taxicab = await postJson(`${server.url}/embedding`, { content: texts[1], embd_normalize: 1 });
        expect(taxicab.body[0].embedding[0].reduce((sum: number, x: number) => sum + Math.abs(x), 0)).toBeCloseTo(1, 5);
    });

    it("the :query alias makes the content queries; content and input together are a 400", async () => {
        const response = await postJson(`${server.url}/embedding`, { content: texts[0], model: "embedding-tiny-s1:query" });
        expectVectorsClose(response.body[0].embedding[0], (await embedder.embedQuery(texts[0]!)).embedding);
        expectError(await postJson(`${server.url}/embedding`, { content: "a", input: "b" }), 400, "invalid_value", "Pass either content or input, not both", "input");
    });
});

describe("llama-server POST /reranking and /v1/reranking", () => {
    it("{ query, documents, top_n } → { model, object, results: [{ index, relevance_score }], usage }, best first", async () => {
        const query = "What is panda?";
        const documents = ["hi", ...texts];
        const expected = await reranker.rerank(query, documents);
        for (const path of ["/reranking", "/v1/reranking"]) {
            const response = await postJson(`${server.url}${path}`, { query, top_n: 2, documents });
            expect(response.status, JSON.stringify(response.body)).toBe(200);
            expect(Object.keys(response.body)).toEqual(["model", "object", "results", "usage"]);
            expect(response.body.object).toBe("list");
            expect(response.body.model).toBe("reranker-rank-tiny-s1");
            expect(response.body.usage).toEqual({ prompt_tokens: expected.totalTokens, total_tokens: expected.totalTokens });
            expect(response.body.results.map((item: { index: number }) => item.index)).toEqual(expected.results.slice(0, 2).map((item) => item.index));
            response.body.results.forEach((item: { index: number; relevance_score: number }, rank: number) => {
                expect(Object.keys(item)).toEqual(["index", "relevance_score"]);
                expect(item.relevance_score).toBeCloseTo(expected.results[rank]!.score, 5);
            });
        }
    });
});
