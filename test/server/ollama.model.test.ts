// Ollama's embedding API as documented in ollama/ollama docs/api.md ("Generate Embeddings": POST /api/embed
// { model, input, truncate, dimensions, keep_alive, options } → { model, embeddings, total_duration, load_duration,
// prompt_eval_count }; "Generate Embedding": POST /api/embeddings { model, prompt } → { embedding }), driven through
// the official `ollama` npm client; errors as ollama server/routes.go writes them: { "error": "message" }.
import { Ollama } from "ollama";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEmbedder, type Embedder } from "../../src/index.js";
import { type RunningServer } from "../../src/exports/server.js";
import { MODEL_OPTIONS, cosine, expectVectorsClose, fixturePaths, postJson, startFixtureServer } from "./server-fixture.js";

const KEY = "ollama-test-key";
const texts = ["Why is the sky blue?", "Why is the grass green?"];

let server: RunningServer;
let library: Embedder;
let ollama: Ollama;

beforeAll(async () => {
    server = await startFixtureServer({ apiKeys: [KEY], servedModelNames: ["embedding=qwen3-embedding:0.6b"], maxTokensPerInput: 64 });
    library = await createEmbedder({ model: (await fixturePaths()).embedding, ...MODEL_OPTIONS });
    ollama = new Ollama({ host: server.url, headers: { Authorization: `Bearer ${KEY}` } });
});
afterAll(async () => {
    await server?.close();
    library?.dispose();
});

describe("Ollama POST /api/embed through the ollama client", () => {
    it("answers { model, embeddings, total_duration, load_duration, prompt_eval_count } with the library's document vectors", async () => {
        const response = await ollama.embed({ model: "qwen3-embedding:0.6b", input: texts });
        const expected = await library.embedDocuments(texts);
        expect(Object.keys(response)).toEqual(["model", "embeddings", "total_duration", "load_duration", "prompt_eval_count"]);
        expect(response.model).toBe("qwen3-embedding:0.6b");
        expect(response.embeddings).toHaveLength(2);
        response.embeddings.forEach((vector, index) => expectVectorsClose(vector, expected.embeddings[index]!));
        expect(Number.isInteger(response.total_duration) && response.total_duration > 0).toBe(true);
        expect(response.load_duration).toBe(0);
        expect(response.prompt_eval_count).toBe(expected.totalTokens);
    });

    it("a single string, dimensions, and the :query alias (as embedQuery, cosine >= 0.99999)", async () => {
        const single = await ollama.embed({ model: "qwen3-embedding:0.6b", input: texts[0]!, dimensions: 32, keep_alive: "5m", options: { temperature: 0 } });
        expectVectorsClose(single.embeddings[0]!, (await library.embedDocuments([texts[0]!], { dimensions: 32 })).embeddings[0]!);
        const query = await ollama.embed({ model: "qwen3-embedding:0.6b:query", input: texts[0]! });
        expect(cosine(query.embeddings[0]!, (await library.embedQuery(texts[0]!)).embedding)).toBeGreaterThanOrEqual(0.99999);
    });

    it("truncate defaults to true (Ollama's default): a long input is cut; truncate false refuses it in Ollama's error shape", async () => {
        const long = "word ".repeat(100);
        const cut = await ollama.embed({ model: "qwen3-embedding:0.6b", input: long });
        expectVectorsClose(cut.embeddings[0]!, (await library.embedDocuments([long], { maxTokens: 64 })).embeddings[0]!);
        expect(cut.prompt_eval_count).toBe(64);
        const refused = await ollama.embed({ model: "qwen3-embedding:0.6b", input: long, truncate: false }).catch((error: unknown) => error);
        expect((refused as { name: string }).name).toBe("ResponseError");
        expect((refused as { status_code: number }).status_code).toBe(400);
        expect((refused as Error).message).toMatch(/64/);
    });

    it("an unknown model is a 404 { error } naming the accepted names; a missing key a 401 in the same shape", async () => {
        const unknown = await ollama.embed({ model: "all-minilm", input: "x" }).catch((error: unknown) => error);
        expect((unknown as { status_code: number }).status_code).toBe(404);
        expect((unknown as Error).message).toMatch(/The model "all-minilm" is not served for embeddings\. Accepted names: "qwen3-embedding:0\.6b"/);
        const raw = await postJson(`${server.url}/api/embed`, { model: "qwen3-embedding:0.6b", input: "x" });
        expect(raw.status).toBe(401);
        expect(Object.keys(raw.body)).toEqual(["error"]);
        expect(typeof raw.body.error).toBe("string");
    });
});

describe("Ollama POST /api/embeddings (the older route) through the ollama client", () => {
    it("prompt → { embedding }", async () => {
        const response = await ollama.embeddings({ model: "qwen3-embedding:0.6b", prompt: texts[1]! });
        expect(Object.keys(response)).toEqual(["embedding"]);
        expectVectorsClose(response.embedding, (await library.embedDocuments([texts[1]!])).embeddings[0]!);
        const wrong = await postJson(`${server.url}/api/embeddings`, { model: "qwen3-embedding:0.6b", input: "x" }, { authorization: `Bearer ${KEY}` });
        expect(wrong.status).toBe(400);
        expect(wrong.body).toEqual({ error: expect.stringMatching(/Unknown field "input"/) });
    });
});

// ollama docs/api.md, "List Local Models": GET /api/tags → { models: [{ name, model, modified_at, size, digest,
// details: { format, family, families, parameter_size, quantization_level } }] }; "Version": GET /api/version →
// { version }.
describe("Ollama GET /api/tags and /api/version through the ollama client", () => {
    it("list() names each served model as requests send it, with its GGUF file's size", async () => {
        const { models } = await ollama.list();
        const { statSync } = await import("node:fs");
        const paths = await fixturePaths();
        expect(models.map((model) => model.name)).toEqual(["qwen3-embedding:0.6b", expect.any(String)]);
        const [embedding] = models;
        expect(embedding!.model).toBe("qwen3-embedding:0.6b");
        expect(embedding!.size).toBe(statSync(paths.embedding).size);
        expect(embedding!.modified_at).toBe(statSync(paths.embedding).mtime.toISOString()); // a string on the wire, typed Date by the client
        expect(embedding!.digest).toMatch(/^[0-9a-f]{64}$/);
        expect(embedding!.details).toMatchObject({ format: "gguf", family: "qwen3", families: ["qwen3"] });
        // The name listed is one the embedding routes take.
        expect((await ollama.embed({ model: models[0]!.name, input: "x" })).embeddings).toHaveLength(1);
    });

    it("version() answers { version }; both need the key like the other routes", async () => {
        expect(await ollama.version()).toEqual({ version: expect.stringMatching(/^\d+\.\d+\.\d+/) });
        const tags = await fetch(`${server.url}/api/tags`);
        expect(tags.status).toBe(401);
        expect(Object.keys(await tags.json() as object)).toEqual(["error"]);
    });
});
