// The query role survives every client (issue 19): LangChain, the Vercel AI SDK and LlamaIndex, each through its own
// real package, in process and against a real `serve` on 127.0.0.1, embed queries as the library's embedQuery does
// (with the instruction) and documents as its embedDocuments does (bare); the rerankers order and score as the library's.
import { Document } from "@langchain/core/documents";
import { embed, embedMany, rerank } from "ai";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEmbedder, createReranker, type Embedder, type Reranker } from "../../src/index.js";
import { type RunningServer } from "../../src/exports/server.js";
import { Qwen3Embeddings, Qwen3Rerank } from "../../src/exports/langchain.js";
import { createQwen3 } from "../../src/exports/ai-sdk.js";
import { Qwen3Embedding } from "../../src/exports/llamaindex.js";
import { cosine as cosineOf, FLOAT_TOLERANCE, MODEL_OPTIONS, fixturePaths, startFixtureServer } from "../server/server-fixture.js";

const QUERY = "What is the capital of China?";
const DOCUMENTS = [
    "The capital of China is Beijing.",
    "Gravity is a force that attracts two bodies towards each other.",
    "北京是中华人民共和国的首都。",
];
const CUSTOM = "Given a question, retrieve passages that answer it";
/** The bar for "the same vector": two evaluations of one input agree to float32 rounding. */
const SAME = 0.99999;

function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
    expect(a.length).toBe(b.length);
    return cosineOf(a, b);
}

let server: RunningServer;
let embedder: Embedder;
let reranker: Reranker;
/** The library's answers, the reference for every client. */
let query: Float32Array;
let customQuery: Float32Array;
let queryAsDocument: Float32Array;
let documents: Float32Array[];
let ranking: { index: number; score: number }[];

beforeAll(async () => {
    const paths = await fixturePaths();
    [server, embedder, reranker] = await Promise.all([
        startFixtureServer({ servedModelNames: ["embedding=qwen3-embedding", "reranker=qwen3-reranker"] }),
        createEmbedder({ model: paths.embedding, ...MODEL_OPTIONS }),
        createReranker({ model: paths.reranker, ...MODEL_OPTIONS }),
    ]);
    query = (await embedder.embedQuery(QUERY)).embedding;
    customQuery = (await embedder.embedQuery(QUERY, { instruction: CUSTOM })).embedding;
    queryAsDocument = (await embedder.embedDocuments([QUERY])).embeddings[0]!;
    documents = (await embedder.embedDocuments(DOCUMENTS)).embeddings;
    ranking = (await reranker.rerank(QUERY, DOCUMENTS)).results;
});
afterAll(async () => {
    await server?.close();
    embedder?.dispose();
    reranker?.dispose();
});

it("the references tell the roles apart: a query with its instruction is not the same text as a document, nor with another instruction", () => {
    expect(cosine(query, queryAsDocument)).toBeLessThan(SAME);
    expect(cosine(query, customQuery)).toBeLessThan(SAME);
    expect(new Set(ranking.map((item) => item.index)).size).toBe(DOCUMENTS.length);
});

function expectQuery(actual: ArrayLike<number> | null, expected: ArrayLike<number> = query): void {
    expect(actual).not.toBeNull();
    expect(cosine(actual!, expected)).toBeGreaterThanOrEqual(SAME);
}

function expectDocuments(actual: readonly ArrayLike<number>[]): void {
    expect(actual).toHaveLength(DOCUMENTS.length);
    actual.forEach((vector, index) => expect(cosine(vector, documents[index]!)).toBeGreaterThanOrEqual(SAME));
}

function expectRanking(actual: readonly { index: number; score: number }[], topN = DOCUMENTS.length): void {
    expect(actual.map((item) => item.index)).toEqual(ranking.slice(0, topN).map((item) => item.index));
    actual.forEach((item, at) => expect(Math.abs(item.score - ranking[at]!.score)).toBeLessThanOrEqual(FLOAT_TOLERANCE));
}

const MODES = ["in process", "against serve"] as const;
const embeddingTarget = (mode: (typeof MODES)[number]) => (mode === "in process" ? { embedder } : { baseUrl: server.url });
const rerankTarget = (mode: (typeof MODES)[number]) => (mode === "in process" ? { reranker } : { baseUrl: `${server.url}/v1` });
/** With a served model's name: the OpenAI / rerank routes answer 404 for a name they do not serve. */
const named = (mode: (typeof MODES)[number], model: string) => (mode === "in process" ? {} : { model });

describe.each(MODES)("LangChain (@langchain/core), %s", (mode) => {
    it("embedQuery is the library's embedQuery; embedDocuments its embedDocuments", async () => {
        const embeddings = new Qwen3Embeddings({ ...embeddingTarget(mode), ...named(mode, "qwen3-embedding") });
        expectQuery(await embeddings.embedQuery(QUERY));
        expectDocuments(await embeddings.embedDocuments(DOCUMENTS));
    });

    it("a configured instruction reaches the query, not the documents", async () => {
        const embeddings = new Qwen3Embeddings({ ...embeddingTarget(mode), instruction: CUSTOM });
        expect(embeddings.instruction).toBe(CUSTOM);
        expectQuery(await embeddings.embedQuery(QUERY), customQuery);
        expectDocuments(await embeddings.embedDocuments(DOCUMENTS));
    });

    it("the Qwen3Rerank compressor orders documents as the library's reranker, with its scores, topN kept", async () => {
        const compressor = new Qwen3Rerank({ ...rerankTarget(mode), ...named(mode, "qwen3-reranker"), topN: 2 });
        const input = DOCUMENTS.map((pageContent, index) => new Document({ pageContent, metadata: { source: index } }));
        const compressed = await compressor.compressDocuments(input, QUERY);
        expect(compressed.every((document) => document instanceof Document)).toBe(true);
        expect(compressed.map((document) => document.pageContent)).toEqual(ranking.slice(0, 2).map((item) => DOCUMENTS[item.index]));
        expectRanking(compressed.map((document) => ({ index: document.metadata["source"] as number, score: document.metadata["relevanceScore"] as number })), 2);
        expectRanking(await compressor.rerank(DOCUMENTS, QUERY, { topN: 3 }));
    });
});

describe.each(MODES)("Vercel AI SDK (ai), %s", (mode) => {
    it('embed with providerOptions.qwen3.inputType "query" is the library\'s embedQuery; embed and embedMany default to documents', async () => {
        const qwen3 = createQwen3(embeddingTarget(mode));
        const model = qwen3.embeddingModel();
        expectQuery((await embed({ model, value: QUERY, providerOptions: { qwen3: { inputType: "query" } } })).embedding);
        expectQuery((await embed({ model, value: QUERY })).embedding, queryAsDocument);
        const many = await embedMany({ model, values: DOCUMENTS });
        expectDocuments(many.embeddings);
        expect(many.usage.tokens).toBeGreaterThan(0);
    });

    it("an instruction in providerOptions makes the value a query with that instruction; a model can default to queries", async () => {
        const qwen3 = createQwen3(embeddingTarget(mode));
        expectQuery((await embed({ model: qwen3.embeddingModel(), value: QUERY, providerOptions: { qwen3: { instruction: CUSTOM } } })).embedding, customQuery);
        const queries = qwen3.embeddingModel({ inputType: "query", instruction: CUSTOM });
        expectQuery((await embed({ model: queries, value: QUERY })).embedding, customQuery);
        expectQuery((await embed({ model: queries, value: DOCUMENTS[0]!, providerOptions: { qwen3: { inputType: "document" } } })).embedding, documents[0]!);
    });

    it("rerank orders documents as the library's reranker, with its scores", async () => {
        const qwen3 = createQwen3(rerankTarget(mode));
        const result = await rerank({ model: qwen3.rerankingModel(named(mode, "qwen3-reranker")), query: QUERY, documents: DOCUMENTS, topN: 2 });
        expectRanking(result.ranking.map((item) => ({ index: item.originalIndex, score: item.score })), 2);
        expect(result.rerankedDocuments).toEqual(ranking.slice(0, 2).map((item) => DOCUMENTS[item.index]));
    });
});

describe.each(MODES)("LlamaIndex (@llamaindex/core), %s", (mode) => {
    it("getQueryEmbedding is the library's embedQuery; getTextEmbedding(s) its embedDocuments", async () => {
        const embedding = new Qwen3Embedding({ ...embeddingTarget(mode), embedBatchSize: 2 });
        expectQuery(await embedding.getQueryEmbedding({ type: "text", text: QUERY }));
        expectQuery(await embedding.getQueryEmbedding(QUERY));
        expect(await embedding.getQueryEmbedding({ type: "image_url", image_url: { url: "https://example.invalid/a.png" } })).toBeNull();
        expectDocuments(await embedding.getTextEmbeddings(DOCUMENTS));
        expectDocuments(await embedding.getTextEmbeddingsBatch(DOCUMENTS));
        expectDocuments(await Promise.all(DOCUMENTS.map((text) => embedding.getTextEmbedding(text))));
    });

    it("a configured instruction reaches the query", async () => {
        const embedding = new Qwen3Embedding({ ...embeddingTarget(mode), ...named(mode, "qwen3-embedding"), instruction: CUSTOM });
        expectQuery(await embedding.getQueryEmbedding({ type: "text", text: QUERY }), customQuery);
    });
});

describe("the OpenAI route, unchanged", () => {
    it("bare input from the official openai client is still embedded as a document (no instruction)", async () => {
        const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "not-checked", maxRetries: 0 });
        const response = await client.embeddings.create({ model: "qwen3-embedding", input: QUERY, encoding_format: "float" });
        expectQuery(response.data[0]!.embedding, queryAsDocument);
        expect(cosine(response.data[0]!.embedding, query)).toBeLessThan(SAME);
    });
});
