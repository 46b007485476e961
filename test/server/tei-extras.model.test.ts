// text-embeddings-inference's routes as its OpenAPI document describes them (huggingface/text-embeddings-inference
// docs/openapi.json: Info, TokenizeRequest / SimpleToken, DecodeRequest, SimilarityRequest, EmbedAllRequest,
// ErrorResponse { error, error_type }) and router/src/lib.rs (Info's field order).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_INSTRUCTION, createEmbedder, type Embedder } from "../../src/index.js";
import { type RunningServer } from "../../src/exports/server.js";
import { referenceTokenize } from "../support/hf-tokenizer.js";
import { MODEL_OPTIONS, fixturePaths, postJson, startFixtureServer } from "./server-fixture.js";

const texts = ["What is Deep Learning?", "北京是首都 🍎"];

let server: RunningServer;
let library: Embedder;

beforeAll(async () => {
    server = await startFixtureServer({ maxInputs: 4 });
    library = await createEmbedder({ model: (await fixturePaths()).embedding, ...MODEL_OPTIONS });
});
afterAll(async () => {
    await server?.close();
    library?.dispose();
});

function expectTeiError(response: { status: number; body: any }, status: number, errorType: string, message: RegExp): void {
    expect(response.status, JSON.stringify(response.body)).toBe(status);
    expect(Object.keys(response.body)).toEqual(["error", "error_type"]);
    expect(response.body.error_type).toBe(errorType);
    expect(response.body.error).toMatch(message);
}

describe("TEI GET /info", () => {
    it("answers TEI's Info fields, in its order, with this server's limits", async () => {
        const response = await fetch(`${server.url}/info`);
        const body = await response.json() as Record<string, unknown>;
        expect(Object.keys(body)).toEqual([
            "model_id", "model_sha", "model_dtype", "served_model_name", "model_type", "max_concurrent_requests", "max_input_length",
            "max_batch_tokens", "max_batch_requests", "max_client_batch_size", "auto_truncate", "tokenization_workers", "version", "sha", "docker_label",
        ]);
        expect(body["model_id"]).toBe("embedding-tiny-s1");
        expect(body["model_type"]).toEqual({ embedding: { pooling: "last-token" } });
        expect(body["max_client_batch_size"]).toBe(4);
        expect(body["max_input_length"]).toBe(4096);
        expect(body["auto_truncate"]).toBe(false);
        expect(body["version"]).toMatch(/^\d+\.\d+\.\d+/);
    });
});

describe("TEI POST /tokenize and /decode", () => {
    it("ids equal an independent Qwen3 tokenizer's; text and byte offsets cover the input; <|endoftext|> appended as special", async () => {
        const response = await postJson(`${server.url}/tokenize`, { inputs: texts });
        expect(response.status, JSON.stringify(response.body)).toBe(200);
        expect(response.body).toHaveLength(2);
        response.body.forEach((tokens: { id: number; text: string; special: boolean; start: number | null; stop: number | null }[], index: number) => {
            const text = texts[index]!;
            expect(Object.keys(tokens[0]!)).toEqual(["id", "text", "special", "start", "stop"]);
            expect(tokens.map((token) => token.id)).toEqual([...referenceTokenize(text), 151643]);
            const last = tokens.at(-1)!;
            expect(last).toEqual({ id: 151643, text: "<|endoftext|>", special: true, start: null, stop: null });
            const bytes = Buffer.from(text, "utf8");
            const ordinary = tokens.slice(0, -1);
            expect(ordinary[0]!.start).toBe(0);
            expect(ordinary.at(-1)!.stop).toBe(bytes.length);
            ordinary.forEach((token) => expect(token.text).toBe(bytes.subarray(token.start!, token.stop!).toString("utf8")));
            expect([...new Set(ordinary.map((token) => `${token.start}:${token.stop}`))].map((span) => {
                const [start, stop] = span.split(":").map(Number);
                return bytes.subarray(start, stop).toString("utf8");
            }).join("")).toBe(text);
        });
    });

    it("add_special_tokens false and prompt_name query (the instruction in front)", async () => {
        const plain = await postJson(`${server.url}/tokenize`, { inputs: texts[0], add_special_tokens: false, prompt_name: "query" });
        const formatted = `Instruct: ${DEFAULT_INSTRUCTION}\nQuery:${texts[0]}`;
        expect(plain.body[0].map((token: { id: number }) => token.id)).toEqual(referenceTokenize(formatted));
    });

    it("decode gives the text back; skip_special_tokens false renders <|endoftext|>", async () => {
        const ids = texts.map((text) => [...referenceTokenize(text), 151643]);
        const decoded = await postJson(`${server.url}/decode`, { ids });
        expect(decoded.body).toEqual(texts);
        const kept = await postJson(`${server.url}/decode`, { ids: ids[0], skip_special_tokens: false });
        expect(kept.body).toEqual([`${texts[0]}<|endoftext|>`]);
    });

    it("errors in TEI's shape: empty inputs (empty), an id outside the vocabulary (validation), more inputs than --max-inputs (413)", async () => {
        expectTeiError(await postJson(`${server.url}/tokenize`, { inputs: [] }), 400, "empty", /`inputs` cannot be empty/);
        expectTeiError(await postJson(`${server.url}/decode`, { ids: [1, 999999] }), 400, "validation", /^Expected a token id \(an integer from 0 to 151935\) for ids\[1\] but received number 999999$/);
        expectTeiError(await postJson(`${server.url}/tokenize`, { inputs: ["a", "b", "c", "d", "e"] }), 413, "validation", /at most 4/);
    });
});

describe("TEI POST /similarity and /embed_all", () => {
    it("similarity: the cosine of the source sentence with each sentence, as the library's vectors give it", async () => {
        const sentences = ["What is Machine Learning?", "Gravity is a force."];
        const response = await postJson(`${server.url}/similarity`, { inputs: { source_sentence: texts[0], sentences } });
        expect(response.status, JSON.stringify(response.body)).toBe(200);
        const vectors = (await library.embedDocuments([texts[0]!, ...sentences])).embeddings as Float32Array[];
        const expected = vectors.slice(1).map((vector) => library.similarity(vectors[0]!, vector));
        expect(response.body).toHaveLength(2);
        response.body.forEach((score: number, index: number) => expect(score).toBeCloseTo(expected[index]!, 5));
        const queries = await postJson(`${server.url}/similarity`, { inputs: { source_sentence: texts[0], sentences }, parameters: { prompt_name: "query" } });
        const asQueries = (await library.embed([texts[0]!, ...sentences], { role: "query" })).embeddings as Float32Array[];
        queries.body.forEach((score: number, index: number) => expect(score).toBeCloseTo(library.similarity(asQueries[0]!, asQueries[index + 1]!), 5));
        expectTeiError(await postJson(`${server.url}/similarity`, { inputs: { source_sentence: "a", sentences: [] } }), 400, "empty", /`inputs.sentences` cannot be empty/);
    });

    it("embed_all is a 400 in TEI's shape that says why", async () => {
        expectTeiError(await postJson(`${server.url}/embed_all`, { inputs: "x" }), 400, "validation",
            /\/embed_all is not supported: this server's engine reads one pooled output per input \(its last token\)/);
    });
});
