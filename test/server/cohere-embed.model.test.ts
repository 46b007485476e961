// Cohere's embed API as documented at https://docs.cohere.com/reference/embed (v1) and
// https://docs.cohere.com/v2/reference/embed (v2), driven through the official `cohere-ai` client (its
// EmbedRequest / V2EmbedRequest and EmbedFloatsResponse / EmbedByTypeResponse types): { texts, model, input_type,
// embedding_types, truncate, output_dimension, max_tokens } → { id, embeddings, texts, meta } (v1 also
// response_type). Errors in Cohere's body { id, message }.
import { CohereClient, CohereClientV2, CohereError } from "cohere-ai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEmbedder, type Embedder } from "../../src/index.js";
import { type RunningServer } from "../../src/exports/server.js";
import { MODEL_OPTIONS, cosine, expectVectorsClose, fixturePaths, postJson, startFixtureServer } from "./server-fixture.js";

const KEY = "cohere-test-key";
const texts = ["hello", "What is the capital of China?", "Gravity is a force."];
const MODEL = "embed-v4.0";

let server: RunningServer;
let library: Embedder;
let v1: CohereClient;
let v2: CohereClientV2;
/** The raw JSON bodies the server sent, in order. */
const wire: Record<string, unknown>[] = [];
const recordingFetch: typeof fetch = async (url, init) => {
    const response = await fetch(url, init);
    wire.push(await response.clone().json() as Record<string, unknown>);
    return response;
};

beforeAll(async () => {
    server = await startFixtureServer({ apiKeys: [KEY], servedModelNames: [`embedding=${MODEL}`] });
    library = await createEmbedder({ model: (await fixturePaths()).embedding, ...MODEL_OPTIONS });
    v1 = new CohereClient({ token: KEY, baseUrl: server.url, fetch: recordingFetch });
    v2 = new CohereClientV2({ token: KEY, baseUrl: server.url, fetch: recordingFetch });
});
afterAll(async () => {
    await server?.close();
    library?.dispose();
});

describe("Cohere POST /v2/embed through CohereClientV2", () => {
    it("search_query embeds queries as embedQuery (cosine >= 0.99999); the answer is { id, embeddings: { float }, texts, meta }", async () => {
        const response = await v2.embed({ model: MODEL, texts, inputType: "search_query", embeddingTypes: ["float"] });
        const raw = wire.at(-1)!;
        expect(Object.keys(raw)).toEqual(["id", "embeddings", "texts", "meta"]);
        expect(raw["meta"]).toEqual({ api_version: { version: "2" }, billed_units: { input_tokens: expect.any(Number) } });
        expect(response.texts).toEqual(texts);
        expect(typeof response.id).toBe("string");
        for (const [index, vector] of response.embeddings.float!.entries()) {
            expect(cosine(vector, (await library.embedQuery(texts[index]!)).embedding)).toBeGreaterThanOrEqual(0.99999);
        }
        const expected = await library.embed(texts, { role: "query" });
        expect(response.meta?.billedUnits?.inputTokens).toBe(expected.totalTokens);
    });

    it("int8, uint8, binary and ubinary equal the library's outputType; base64 is the float32 bytes; output_dimension is Matryoshka", async () => {
        const response = await v2.embed({
            model: MODEL, texts, inputType: "search_document", outputDimension: 48,
            embeddingTypes: ["float", "int8", "uint8", "binary", "ubinary", "base64"],
        });
        expect(Object.keys(wire.at(-1)!["embeddings"] as object)).toEqual(["float", "int8", "uint8", "binary", "ubinary", "base64"]);
        for (const type of ["int8", "uint8", "binary", "ubinary"] as const) {
            const expected = await library.embed(texts, { role: "document", outputType: type, dimensions: 48 });
            response.embeddings[type]!.forEach((vector, index) => expect(vector).toEqual(Array.from(expected.embeddings[index]!)));
        }
        const floats = await library.embed(texts, { role: "document", dimensions: 48 });
        response.embeddings.float!.forEach((vector, index) => expectVectorsClose(vector, floats.embeddings[index]!));
        response.embeddings.base64!.forEach((text, index) => {
            const bytes = Buffer.from(text, "base64");
            expectVectorsClose(Float32Array.from({ length: 48 }, (_, i) => bytes.readFloatLE(i * 4)), floats.embeddings[index]!);
        });
    });

    it("classification and clustering put the symmetric instruction on every text", async () => {
        const expected = await library.embed(texts, { task: "semantic-similarity" });
        for (const inputType of ["classification", "clustering"] as const) {
            const response = await v2.embed({ model: MODEL, texts, inputType, embeddingTypes: ["float"] });
            response.embeddings.float!.forEach((vector, index) => expectVectorsClose(vector, expected.embeddings[index]!));
        }
    });

    it("errors: a missing input_type, truncate START, an unknown model: { id, message } with the HTTP status", async () => {
        const missing = await postJson(`${server.url}/v2/embed`, { model: MODEL, texts }, { authorization: `Bearer ${KEY}` });
        expect(missing.status).toBe(400);
        expect(Object.keys(missing.body)).toEqual(["id", "message"]);
        expect(missing.body.message).toMatch(/for input_type \(required by v2\)/);
        const start = await v2.embed({ model: MODEL, texts, inputType: "search_document", truncate: "START" }).catch((error: unknown) => error);
        expect(start).toBeInstanceOf(CohereError);
        expect((start as CohereError).statusCode).toBe(422);
        expect((start as CohereError).body).toEqual({ id: expect.any(String), message: expect.stringMatching(/truncate "START" is not supported/) });
        const unknown = await v2.embed({ model: "embed-english-v3.0", texts, inputType: "search_document" }).catch((error: unknown) => error);
        expect((unknown as CohereError).statusCode).toBe(404);
        expect(((unknown as CohereError).body as { message: string }).message).toMatch(/Accepted names: "embed-v4\.0"/);
        const unauthorized = await postJson(`${server.url}/v2/embed`, { model: MODEL, texts, input_type: "search_query" });
        expect(unauthorized.status).toBe(401);
        expect(Object.keys(unauthorized.body)).toEqual(["id", "message"]);
    });
});

describe("Cohere POST /v1/embed through CohereClient", () => {
    it("without embedding_types: { response_type: embeddings_floats, id, embeddings: [[...]], texts, meta }", async () => {
        const response = await v1.embed({ model: MODEL, texts, inputType: "search_document" });
        const raw = wire.at(-1)!;
        expect(Object.keys(raw)).toEqual(["response_type", "id", "embeddings", "texts", "meta"]);
        expect(raw["response_type"]).toBe("embeddings_floats");
        expect(raw["meta"]).toEqual({ api_version: { version: "1" }, billed_units: { input_tokens: expect.any(Number) } });
        expect(response.responseType).toBe("embeddings_floats");
        const expected = await library.embedDocuments(texts);
        (response.embeddings as number[][]).forEach((vector, index) => expectVectorsClose(vector, expected.embeddings[index]!));
    });

    it("with embedding_types: embeddings_by_type; truncate NONE refuses an over-long text, END (the default) cuts it", async () => {
        const response = await v1.embed({ model: MODEL, texts, inputType: "search_query", embeddingTypes: ["int8", "binary"] });
        expect(response.responseType).toBe("embeddings_by_type");
        const embeddings = response.embeddings as { int8: number[][]; binary: number[][] };
        const int8 = await library.embed(texts, { role: "query", outputType: "int8" });
        const binary = await library.embed(texts, { role: "query", outputType: "binary" });
        embeddings.int8.forEach((vector, index) => expect(vector).toEqual(Array.from(int8.embeddings[index]!)));
        embeddings.binary.forEach((vector, index) => expect(vector).toEqual(Array.from(binary.embeddings[index]!)));
        const long = "word ".repeat(9000);
        const refused = await v1.embed({ model: MODEL, texts: [long], inputType: "search_document", truncate: "NONE" }).catch((error: unknown) => error);
        expect((refused as CohereError).statusCode).toBe(400);
        expect(JSON.stringify((refused as CohereError).body)).toContain('send \\"truncate\\": \\"END\\" to cut it to fit');
        const cut = await v1.embed({ model: MODEL, texts: [long], inputType: "search_document" });
        expect((cut.embeddings as number[][])[0]).toHaveLength(64);
    });
});
