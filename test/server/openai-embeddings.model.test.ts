import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_INSTRUCTION, createEmbedder, type Embedder } from "../../src/index.js";
import { type RunningServer } from "../../src/exports/server.js";
import { referenceTokenize } from "../support/hf-tokenizer.js";
import { MODEL_OPTIONS, expectError, expectVectorsClose, fixturePaths, postJson, startFixtureServer } from "./server-fixture.js";

const texts = [
    "What is the capital of China?",
    "北京是中华人民共和国的首都。",
    "Gravity is a force that attracts two bodies towards each other. 🍎",
    "short",
];
const END_OF_TEXT = 151643;
/** The server's tokens-per-input limit in these tests (below the 4096-token context, to keep long inputs cheap). */
const MAX_TOKENS = 1024;

function decodeFloat32(base64: string): Float32Array {
    const bytes = Buffer.from(base64, "base64");
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return Float32Array.from({ length: bytes.length / 4 }, (_, i) => view.getFloat32(i * 4, true));
}

let server: RunningServer;
let library: Embedder;
let client: OpenAI;
/** What went over the wire for each OpenAI client call: the request body and the raw response body. */
const wire: { request: Record<string, unknown>; response: { data: { embedding: unknown }[] } }[] = [];

beforeAll(async () => {
    const paths = await fixturePaths();
    server = await startFixtureServer({ servedModelNames: ["embedding=text-embedding-3-small"], maxTokensPerInput: MAX_TOKENS });
    library = await createEmbedder({ model: paths.embedding, ...MODEL_OPTIONS });
    client = new OpenAI({
        baseURL: `${server.url}/v1`,
        apiKey: "not-checked-by-this-server",
        maxRetries: 0,
        fetch: async (url: string | URL | Request, init?: RequestInit) => {
            const response = await fetch(url, init);
            if (init?.method === "POST") wire.push({ request: JSON.parse(String(init.body)), response: await response.clone().json() as (typeof wire)[number]["response"] });
            return response;
        },
    });
});
afterAll(async () => {
    await server?.close();
    library?.dispose();
});

describe("POST /v1/embeddings through the official openai client", () => {
    it("default call: the client asks for base64, decodes little-endian float32, and gets the library's vectors", async () => {
        const response = await client.embeddings.create({ model: "text-embedding-3-small", input: texts });
        const expected = await library.embed(texts);
        const sent = wire.at(-1)!;
        expect(sent.request["encoding_format"]).toBe("base64");
        expect(typeof sent.response.data[0]!.embedding).toBe("string");
        expect(response.object).toBe("list");
        expect(response.model).toBe("text-embedding-3-small");
        expect(response.data.map((item) => item.index)).toEqual([0, 1, 2, 3]);
        response.data.forEach((item, index) => {
            expect(item.object).toBe("embedding");
            expect(item.embedding).toHaveLength(64);
            expectVectorsClose(item.embedding, expected.embeddings[index]!);
        });
        expect(response.usage).toEqual({ prompt_tokens: expected.totalTokens, total_tokens: expected.totalTokens });
    });

    it("encoding_format float: JSON numbers, the same vectors", async () => {
        const response = await client.embeddings.create({ model: "text-embedding-3-small", input: texts, encoding_format: "float" });
        expect(Array.isArray(wire.at(-1)!.response.data[0]!.embedding)).toBe(true);
        const expected = await library.embed(texts);
        response.data.forEach((item, index) => expectVectorsClose(item.embedding, expected.embeddings[index]!));
    });

    it("dimensions: Matryoshka truncation, renormalized, equal to the library's (base64 and float)", async () => {
        const expected = await library.embed(texts, { dimensions: 32 });
        for (const encoding_format of ["base64", "float"] as const) {
            const response = await client.embeddings.create({ model: "text-embedding-3-small", input: texts, dimensions: 32, encoding_format });
            response.data.forEach((item, index) => {
                // An explicit "base64" is handed back undecoded: decode the little-endian float32 bytes here.
                const vector = typeof item.embedding === "string" ? Array.from(decodeFloat32(item.embedding)) : item.embedding;
                expect(vector).toHaveLength(32);
                expect(Math.hypot(...vector)).toBeCloseTo(1, 5);
                expectVectorsClose(vector, expected.embeddings[index]!);
            });
        }
    });

    it("a single string input and the user field", async () => {
        const response = await client.embeddings.create({ model: "text-embedding-3-small", input: texts[1]!, user: "user-42" });
        const expected = await library.embed([texts[1]!]);
        expect(response.data).toHaveLength(1);
        expectVectorsClose(response.data[0]!.embedding, expected.embeddings[0]!);
        expect(response.usage.prompt_tokens).toBe(expected.tokens[0]);
    });

    it("queries: input_type / text_type query gets the default instruction; instruction, instruct and task choose one", async () => {
        const asQueries = await library.embed(texts, { instruction: DEFAULT_INSTRUCTION });
        const memory = await library.embed(texts, { task: "memory-retrieval" });
        const custom = await library.embed(texts, { instruction: "Given a poem, find similar poems" });
        const cases: [Record<string, unknown>, typeof asQueries][] = [
            [{ input_type: "query" }, asQueries],
            [{ text_type: "query" }, asQueries],
            [{ input_type: "search_query" }, asQueries],
            [{ task: "memory-retrieval" }, memory],
            [{ instruction: "Given a poem, find similar poems" }, custom],
            [{ instruct: "Given a poem, find similar poems", text_type: "query" }, custom],
        ];
        for (const [fields, expected] of cases) {
            const response = await client.embeddings.create({ model: "text-embedding-3-small", input: texts, ...fields } as OpenAI.EmbeddingCreateParams);
            response.data.forEach((item, index) => expectVectorsClose(item.embedding, expected.embeddings[index]!));
            expect(response.usage.prompt_tokens, JSON.stringify(fields)).toBe(expected.totalTokens);
        }
        const documents = await client.embeddings.create({ model: "text-embedding-3-small", input: texts, input_type: "document" } as OpenAI.EmbeddingCreateParams);
        const expected = await library.embed(texts);
        documents.data.forEach((item, index) => expectVectorsClose(item.embedding, expected.embeddings[index]!));
    });

    it("token arrays: Qwen3 ids (from an independent tokenizer) embed like their text; one trailing <|endoftext|> is allowed", async () => {
        const ids = texts.map((text) => referenceTokenize(text));
        const expected = await library.embed(texts);
        const batch = await client.embeddings.create({ model: "text-embedding-3-small", input: ids });
        batch.data.forEach((item, index) => expectVectorsClose(item.embedding, expected.embeddings[index]!));
        expect(batch.usage.prompt_tokens).toBe(expected.totalTokens);
        expect(expected.tokens).toEqual(ids.map((sequence) => sequence.length + 1));

        const withEos = await client.embeddings.create({ model: "text-embedding-3-small", input: ids.map((sequence) => [...sequence, END_OF_TEXT]) });
        withEos.data.forEach((item, index) => expectVectorsClose(item.embedding, expected.embeddings[index]!));
        expect(withEos.usage.prompt_tokens).toBe(expected.totalTokens);

        const single = await client.embeddings.create({ model: "text-embedding-3-small", input: ids[0]!, input_type: "query" } as OpenAI.EmbeddingCreateParams);
        const query = await library.embed([texts[0]!], { instruction: DEFAULT_INSTRUCTION });
        expectVectorsClose(single.data[0]!.embedding, query.embeddings[0]!);
        expect(single.usage.prompt_tokens).toBe(query.totalTokens);
    });

    it("token arrays that are not the Qwen3 tokenization of their text are refused with 422, not embedded as something else", async () => {
        const spelled = [..."Hello"].map((letter) => referenceTokenize(letter)[0]!); // "H","e","l","l","o": Qwen3 encodes "Hello" as one token
        expect(referenceTokenize("Hello")).toHaveLength(1);
        const response = await postJson(`${server.url}/v1/embeddings`, { input: [referenceTokenize("fine"), spelled] });
        expectError(response, 422, "invalid_token_ids", /input\[1\] is not the Qwen3 tokenization of any text.*first at position 0/, "input");
        const special = await postJson(`${server.url}/v1/embeddings`, { input: [[9707, 151645, 1879]] });
        expectError(special, 422, "invalid_token_ids", /input\[0\] is not the Qwen3 tokenization/, "input");
        const outside = await postJson(`${server.url}/v1/embeddings`, { input: [[9707, 151936]] });
        expectError(outside, 422, "invalid_token_ids", "Expected token ids between 0 and 151935 but input[0][1] is 151936", "input");
        const negative = await postJson(`${server.url}/v1/embeddings`, { input: [-1] });
        expectError(negative, 422, "invalid_token_ids", "input[0][0] is -1", "input");
    });

    it("normalize false returns the raw hidden state, as the library does", async () => {
        const response = await postJson(`${server.url}/v1/embeddings`, { input: texts, normalize: false, encoding_format: "float" });
        const expected = await library.embed(texts, { normalize: false });
        expect(response.status).toBe(200);
        response.body.data.forEach((item: { embedding: number[] }, index: number) => {
            const scale = Math.max(...Array.from(expected.embeddings[index]!, Math.abs));
            const worst = Math.max(...item.embedding.map((value, i) => Math.abs(value - expected.embeddings[index]![i]!)));
            expect(worst / scale).toBeLessThanOrEqual(1e-5);
        });
    });

    it("inputs over the token limit: 400 naming the input unless the request (or the server) truncates", async () => {
        const long = "word ".repeat(1500);
        const count = (await library.countTokens([long]))[0]!;
        // The message speaks HTTP: the server's flag and the body field to send, not the library's options.
        const message = `Input 1 has ${count} tokens (including the appended <|endoftext|>) but this server takes at most ${MAX_TOKENS} tokens ` +
            'per input (--max-tokens-per-input); send "truncate": true to cut it to fit';
        const refused = await postJson(`${server.url}/v1/embeddings`, { input: ["fine", long] });
        expectError(refused, 400, "invalid_value", message, "input");
        expect(refused.body.error.message).toBe(message);
        const cut = await postJson(`${server.url}/v1/embeddings`, { input: ["fine", long], truncate: true, encoding_format: "float" });
        expect(cut.status).toBe(200);
        const expected = await library.embed(["fine", long], { maxTokens: MAX_TOKENS, truncate: "end" });
        expect(cut.body.usage.prompt_tokens).toBe(expected.totalTokens);
        expect(expected.tokens[1]).toBe(MAX_TOKENS);
        expectVectorsClose(cut.body.data[1].embedding, expected.embeddings[1]!);
    });
});

describe("model names", () => {
    it("accepts the served name, the file name with and without .gguf, in any case, or no model at all", async () => {
        for (const model of ["text-embedding-3-small", "embedding-tiny-s1", "Embedding-Tiny-S1.gguf", undefined]) {
            const response = await postJson(`${server.url}/v1/embeddings`, { ...(model === undefined ? {} : { model }), input: "hi" });
            expect(response.status, String(model)).toBe(200);
            expect(response.body.model).toBe(model ?? "text-embedding-3-small");
        }
    });

    it("404 for another name, listing the accepted ones; naming the reranker says it does not embed", async () => {
        const unknown = await postJson(`${server.url}/v1/embeddings`, { model: "text-embedding-ada-002", input: "hi" });
        expectError(unknown, 404, "model_not_found", 'Accepted names: "text-embedding-3-small", "embedding-tiny-s1", "embedding-tiny-s1.gguf"', "model");
        const reranker = await postJson(`${server.url}/v1/embeddings`, { model: "reranker-rank-tiny-s1", input: "hi" });
        expectError(reranker, 404, "model_not_found", /is this server's reranker model, which does not do embeddings/);
    });

    it("GET /v1/models lists both models with their names, dimensions, token limits and precision", async () => {
        const response = await fetch(`${server.url}/v1/models`);
        const body = await response.json() as { object: string; data: Record<string, unknown>[] };
        expect(body.object).toBe("list");
        expect(body.data.map((model) => [model["id"], model["kind"], model["object"], model["max_input_tokens"]])).toEqual([
            ["text-embedding-3-small", "embedding", "model", MAX_TOKENS],
            ["reranker-rank-tiny-s1", "reranker", "model", MAX_TOKENS],
        ]);
        expect(body.data[0]!["dimensions"]).toBe(64);
        expect(body.data[0]!["aliases"]).toEqual(["text-embedding-3-small", "embedding-tiny-s1", "embedding-tiny-s1.gguf"]);
        expect(body.data[1]!["aliases"]).toEqual(["reranker-rank-tiny-s1", "reranker-rank-tiny-s1.gguf"]);
        // the default KV cache: the fast mode (`serve --exact` gives "f32" and "exact")
        expect(body.data.map((model) => [model["kv_cache_type"], model["mode"]])).toEqual([["f16", "fast"], ["f16", "fast"]]);
        const models = await client.models.list();
        expect(models.data.map((model) => model.id)).toEqual(["text-embedding-3-small", "reranker-rank-tiny-s1"]);
    });
});

describe("TEI POST /embed", () => {
    it("inputs (string or array) answered as a bare array of vectors; normalize, dimensions, prompt_name, truncate", async () => {
        const documents = await library.embed(texts);
        const plain = await postJson(`${server.url}/embed`, { inputs: texts });
        expect(plain.status).toBe(200);
        expect(plain.body).toHaveLength(texts.length);
        plain.body.forEach((vector: number[], index: number) => expectVectorsClose(vector, documents.embeddings[index]!));

        const single = await postJson(`${server.url}/embed`, { inputs: texts[0] });
        expectVectorsClose(single.body[0], documents.embeddings[0]!);

        const queries = await library.embed(texts, { instruction: DEFAULT_INSTRUCTION, dimensions: 48 });
        const shaped = await postJson(`${server.url}/embed`, { inputs: texts, prompt_name: "query", dimensions: 48, truncation_direction: "Right" });
        shaped.body.forEach((vector: number[], index: number) => expectVectorsClose(vector, queries.embeddings[index]!));

        const raw = await postJson(`${server.url}/embed`, { inputs: texts, normalize: false });
        const unnormalized = await library.embed(texts, { normalize: false });
        expect(Math.hypot(...raw.body[0])).toBeCloseTo(Math.hypot(...unnormalized.embeddings[0]!), 3);

        const long = "word ".repeat(1500);
        expectError(await postJson(`${server.url}/embed`, { inputs: [long] }), 400, "invalid_value",
            /^Input 0 has \d{4} tokens \(including the appended <\|endoftext\|>\) but this server takes at most 1024 tokens per input \(--max-tokens-per-input\); send "truncate": true to cut it to fit$/,
            "inputs");
        expect((await postJson(`${server.url}/embed`, { inputs: [long], truncate: true })).status).toBe(200);
        expectError(await postJson(`${server.url}/embed`, { inputs: [long], truncate: true, truncation_direction: "Left" }), 422, "unsupported_value",
            'Expected "right" for truncation_direction', "truncation_direction");
    });
});
