// Jina's embeddings API as documented at https://jina.ai/embeddings (API reference, https://api.jina.ai/redoc):
// POST /v1/embeddings { model, input, task: retrieval.query | retrieval.passage | text-matching | classification |
// separation | code.query | code.passage, dimensions, embedding_type: float | base64 | binary | ubinary, normalized,
// late_chunking, truncate } answered in OpenAI's shape { model, object, usage, data: [{ object, index, embedding }] }.
// Model-name role aliases (`name:query`, `name:document`) and acceptAnyModelName are this server's own.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_INSTRUCTION, createEmbedder, type Embedder } from "../../src/index.js";
import { type RunningServer } from "../../src/exports/server.js";
import { MODEL_OPTIONS, cosine, expectError, expectVectorsClose, fixturePaths, postJson, startFixtureServer } from "./server-fixture.js";

const texts = ["What is the capital of China?", "Gravity is a force that attracts two bodies towards each other."];

function decodeFloat32(base64: string): Float32Array {
    const bytes = Buffer.from(base64, "base64");
    return Float32Array.from({ length: bytes.length / 4 }, (_, i) => bytes.readFloatLE(i * 4));
}

let server: RunningServer;
let library: Embedder;

beforeAll(async () => {
    server = await startFixtureServer();
    library = await createEmbedder({ model: (await fixturePaths()).embedding, ...MODEL_OPTIONS });
});
afterAll(async () => {
    await server?.close();
    library?.dispose();
});

describe("Jina POST /v1/embeddings", () => {
    it("task retrieval.query embeds queries as embedQuery does (cosine >= 0.99999); retrieval.passage as documents", async () => {
        const response = await postJson(`${server.url}/v1/embeddings`, { model: "embedding-tiny-s1", input: texts, task: "retrieval.query" });
        expect(response.status, JSON.stringify(response.body)).toBe(200);
        expect(Object.keys(response.body)).toEqual(["object", "data", "model", "usage"]);
        for (const [index, item] of (response.body.data as { index: number; embedding: number[] }[]).entries()) {
            expect(Object.keys(item)).toEqual(["object", "index", "embedding"]);
            const query = await library.embedQuery(texts[index]!);
            expect(cosine(item.embedding, query.embedding)).toBeGreaterThanOrEqual(0.99999);
        }
        const passages = await postJson(`${server.url}/v1/embeddings`, { input: texts, task: "retrieval.passage" });
        const documents = await library.embedDocuments(texts);
        passages.body.data.forEach((item: { embedding: number[] }, index: number) => expectVectorsClose(item.embedding, documents.embeddings[index]!));
    });

    it("text-matching, classification and separation put the symmetric instruction on every text; code.query the code-search one", async () => {
        const symmetric = await library.embed(texts, { task: "semantic-similarity" });
        for (const task of ["text-matching", "classification", "separation"]) {
            const response = await postJson(`${server.url}/v1/embeddings`, { input: texts, task });
            response.body.data.forEach((item: { embedding: number[] }, index: number) => expectVectorsClose(item.embedding, symmetric.embeddings[index]!));
        }
        const code = await library.embed(texts, { task: "code-search" });
        const response = await postJson(`${server.url}/v1/embeddings`, { input: texts, task: "code.query" });
        response.body.data.forEach((item: { embedding: number[] }, index: number) => expectVectorsClose(item.embedding, code.embeddings[index]!));
    });

    it("embedding_type int8, uint8, binary, ubinary equal the library's outputType; base64 decodes to the float vector", async () => {
        for (const type of ["int8", "uint8", "binary", "ubinary"] as const) {
            const expected = await library.embed(texts, { role: "query", outputType: type, dimensions: 48 });
            const response = await postJson(`${server.url}/v1/embeddings`, { input: texts, task: "retrieval.query", embedding_type: type, dimensions: 48 });
            expect(response.status).toBe(200);
            response.body.data.forEach((item: { embedding: number[] }, index: number) => expect(item.embedding).toEqual(Array.from(expected.embeddings[index]!)));
        }
        const floats = await library.embed(texts, { role: "document" });
        const base64 = await postJson(`${server.url}/v1/embeddings`, { input: texts, embedding_type: "base64" });
        base64.body.data.forEach((item: { embedding: string }, index: number) => expectVectorsClose(decodeFloat32(item.embedding), floats.embeddings[index]!));
    });

    it("normalized false returns the raw vector; normalized and normalize must agree", async () => {
        const raw = await library.embed(texts, { role: "document", normalize: false });
        const response = await postJson(`${server.url}/v1/embeddings`, { input: texts, normalized: false });
        response.body.data.forEach((item: { embedding: number[] }, index: number) => expectVectorsClose(item.embedding, raw.embeddings[index]!));
        expectError(await postJson(`${server.url}/v1/embeddings`, { input: texts, normalized: false, normalize: true }), 400, "invalid_value",
            "normalize and normalized (its Jina name) disagree; give one", "normalized");
    });

    it("late_chunking true is a 400 that says why; an unknown task lists Jina's names too", async () => {
        expectError(await postJson(`${server.url}/v1/embeddings`, { input: texts, late_chunking: true }), 400, "unsupported_value",
            /late_chunking is not supported: this server's engine reads one pooled output per input/, "late_chunking");
        const ok = await postJson(`${server.url}/v1/embeddings`, { input: texts, late_chunking: false });
        expect(ok.status).toBe(200);
        expectError(await postJson(`${server.url}/v1/embeddings`, { input: texts, task: "retrieval.queries" }), 400, "invalid_value",
            /"retrieval\.query", "retrieval\.passage", "text-matching", "classification", "separation", "code\.query", "code\.passage"/, "task");
        expectError(await postJson(`${server.url}/v1/embeddings`, { input: texts, task: "retrieval.passage", input_type: "query" }), 400, "invalid_value",
            "input_type says query but task says document; give one", "task");
    });
});

describe("model aliases that fix the role", () => {
    it("<name>:query embeds queries with the default instruction (as embedQuery), <name>:document documents", async () => {
        const response = await postJson(`${server.url}/v1/embeddings`, { model: "embedding-tiny-s1:query", input: texts });
        expect(response.body.model).toBe("embedding-tiny-s1:query");
        for (const [index, item] of (response.body.data as { embedding: number[] }[]).entries()) {
            expect(cosine(item.embedding, (await library.embedQuery(texts[index]!)).embedding)).toBeGreaterThanOrEqual(0.99999);
        }
        const documents = await library.embedDocuments(texts);
        const asDocuments = await postJson(`${server.url}/embed`, { model: "embedding-tiny-s1.gguf:document", inputs: texts });
        asDocuments.body.forEach((vector: number[], index: number) => expectVectorsClose(vector, documents.embeddings[index]!));
        const custom = await postJson(`${server.url}/v1/embeddings`, { model: "embedding-tiny-s1:query", input: texts, instruction: "Given a poem, find similar poems" });
        const expected = await library.embed(texts, { instruction: "Given a poem, find similar poems" });
        custom.body.data.forEach((item: { embedding: number[] }, index: number) => expectVectorsClose(item.embedding, expected.embeddings[index]!));
        expect(DEFAULT_INSTRUCTION).toMatch(/web search/);
    });

    it("an alias whose role the body contradicts is a 400; the 404 lists the role aliases", async () => {
        expectError(await postJson(`${server.url}/v1/embeddings`, { model: "embedding-tiny-s1:document", input: texts, input_type: "query" }), 400, "invalid_value",
            'The model "embedding-tiny-s1:document" embeds documents but the request body makes the inputs queries; drop one of the two', "model");
        expectError(await postJson(`${server.url}/v1/embeddings`, { model: "other:query", input: texts }), 404, "model_not_found",
            '"embedding-tiny-s1:query", "embedding-tiny-s1:document"', "model");
        const models = await (await fetch(`${server.url}/v1/models`)).json() as { data: Record<string, unknown>[] };
        expect(models.data.map((model) => model["role_aliases"])).toEqual([["embedding-tiny-s1:query", "embedding-tiny-s1:document"], undefined]);
    });
});

describe("acceptAnyModelName", () => {
    it("with the embedding model alone, any name (text-embedding-3-small) is the embedding model; :query still applies", async () => {
        const paths = await fixturePaths();
        const only = await startFixtureServer({
            embeddingModel: paths.embedding, embedderOptions: MODEL_OPTIONS, rerankerModel: undefined, rerankerOptions: undefined, acceptAnyModelName: true,
        });
        try {
            const response = await postJson(`${only.url}/v1/embeddings`, { model: "text-embedding-3-small", input: texts });
            expect(response.body.model).toBe("text-embedding-3-small");
            const documents = await library.embedDocuments(texts);
            response.body.data.forEach((item: { embedding: number[] }, index: number) => expectVectorsClose(item.embedding, documents.embeddings[index]!));
            const queries = await postJson(`${only.url}/v1/embeddings`, { model: "text-embedding-3-small:query", input: texts[0] });
            expect(cosine(queries.body.data[0].embedding, (await library.embedQuery(texts[0]!)).embedding)).toBeGreaterThanOrEqual(0.99999);
        } finally {
            await only.close();
        }
    });

    it("with a reranker served too, an unknown name stays a 404 listing the names", async () => {
        const both = await startFixtureServer({ acceptAnyModelName: true });
        try {
            expectError(await postJson(`${both.url}/v1/embeddings`, { model: "text-embedding-3-small", input: texts }), 404, "model_not_found",
                /Accepted names: "embedding-tiny-s1", .*\(acceptAnyModelName applies only while the server serves one model\)/, "model");
        } finally {
            await both.close();
        }
    });

    it("is validated as a boolean", async () => {
        await expect(startFixtureServer({ acceptAnyModelName: "yes" as unknown as boolean })).rejects.toThrow(/acceptAnyModelName/);
    });
});
