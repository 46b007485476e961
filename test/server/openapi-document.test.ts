// The OpenAPI document (GET /openapi.json, /docs): every route fastify registered is in it, with a summary, its
// source API's tags and, for a body, the very schema the body is validated against; a documented field with a value
// of the wrong type is a 400 naming the field, what was expected and what was received, in the route's error shape.
// Served models are stand-ins (no model loads): validation happens before any model is called. Also Jina's { text }
// inputs on /v1/embeddings and Ollama's /api/tags and /api/version shapes; the ollama client drives them in
// ollama.model.test.ts.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance, LightMyRequestResponse } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildServer, type Qwen3Server } from "../../src/server/create-server.js";
import { API_TAGS } from "../../src/server/route-docs.js";

const KEY = "sk-openapi-test";
const DIMENSIONS = 64;
let directory: string;
let server: Qwen3Server;
let app: FastifyInstance;
/** The texts the stand-in embedder was last asked to embed. */
let embedded: string[] = [];

beforeAll(async () => {
    directory = mkdtempSync(join(tmpdir(), "openapi-test-"));
    // A registry file name: /api/tags reads its parameter count and quantization from the registry.
    const modelPath = join(directory, "Qwen3-Embedding-0.6B-Q8_0.gguf");
    writeFileSync(modelPath, Buffer.alloc(1234));
    const embedder = {
        modelPath, dimensions: DIMENSIONS, contextSize: 4096,
        async embed(texts: string[]) {
            embedded = texts;
            return { embeddings: texts.map(() => new Float32Array(DIMENSIONS).fill(0.125)), totalTokens: texts.length };
        },
        dispose() {},
    };
    const reranker = {
        modelPath: join(directory, "reranker.gguf"), contextSize: 4096,
        async rerank() {
            throw new Error("not called");
        },
        dispose() {},
    };
    // database: the application routes are registered (the store opens with their first request, which no test sends).
    server = await buildServer({ embedder: embedder as never, reranker: reranker as never, database: "memory", apiKeys: [KEY], logLevel: "silent" });
    await server.load();
    app = server.app;
});
afterAll(async () => {
    await server?.dispose();
    if (directory !== undefined) rmSync(directory, { recursive: true, force: true });
});

const auth = { authorization: `Bearer ${KEY}` };
const post = (url: string, body: unknown) => app.inject({ method: "POST", url, headers: { ...auth, "content-type": "application/json" }, payload: JSON.stringify(body) });
const json = (response: LightMyRequestResponse) => JSON.parse(response.body) as any;

/** A body that passes `schema`: its required fields, each with a value of its schema (the first alternative). */
function validBody(schema: any): Record<string, unknown> {
    return Object.fromEntries((schema.required ?? []).map((field: string) => [field, validValue(schema.properties[field])]));
}

function validValue(schema: any): unknown {
    if (schema.anyOf !== undefined) return validValue(schema.anyOf[0]);
    if (schema.enum !== undefined) return schema.enum[0];
    switch (schema.type) {
        case "string": return "text";
        case "integer": case "number": return schema.minimum ?? 1;
        case "boolean": return true;
        case "array": return schema.items === undefined ? [] : [validValue(schema.items)];
        case "object": return validBody(schema);
        default: return "text";
    }
}

/** Every (method, path) fastify serves, read from its route tree (printRoutes), HEAD and OPTIONS left out. */
function registeredRoutes(instance: FastifyInstance): { method: string; path: string }[] {
    const stack: string[] = [];
    const routes: { method: string; path: string }[] = [];
    for (const line of instance.printRoutes({ commonPrefix: false }).split("\n")) {
        const match = /^([│ ]*)(?:├── |└── )(.*?)(?: \(([A-Z, ]+)\))?$/.exec(line);
        if (match === null) continue;
        const depth = match[1]!.length / 4;
        stack.length = depth;
        const path = (stack[depth - 1] ?? "") + match[2]!;
        stack.push(path);
        for (const method of (match[3] ?? "").split(", ").filter((name) => name !== "" && name !== "HEAD" && name !== "OPTIONS")) {
            routes.push({ method, path });
        }
    }
    return routes;
}

describe("GET /openapi.json", () => {
    it("lists every registered route with a summary, its source API's tags, and a body schema for each POST", async () => {
        const response = await app.inject({ method: "GET", url: "/openapi.json" });
        expect(response.statusCode).toBe(200);
        const document = json(response);
        expect(document.openapi).toBe("3.1.0");
        expect(document.tags.map((tag: { name: string }) => tag.name)).toEqual(API_TAGS.map((tag) => tag.name));
        const routes = registeredRoutes(app).filter((route) => !route.path.startsWith("/docs"));
        // The route tree was read: the model routes, the Ollama list, the application routes and the document itself.
        for (const expected of ["POST /v1/embeddings", "POST /v1/rerank", "GET /api/tags", "GET /api/version", "GET /metrics", "GET /health", "GET /v1/models",
            "POST /v1/search", "POST /v1/documents", "DELETE /v1/documents", "DELETE /v1/memories/:id", "GET /openapi.json", "POST /embed_all"]) {
            expect(routes.map((route) => `${route.method} ${route.path}`)).toContain(expected);
        }
        const tagNames: string[] = API_TAGS.map((tag) => tag.name);
        for (const { method, path } of routes) {
            const operation = document.paths[path.replace(/:(\w+)/g, "{$1}")]?.[method.toLowerCase()];
            expect(operation, `${method} ${path} is not in the document`).toBeDefined();
            expect(typeof operation.summary === "string" && operation.summary.length > 0, `${method} ${path} has no summary`).toBe(true);
            expect(operation.tags.length, `${method} ${path} has no tags`).toBeGreaterThan(0);
            for (const tag of operation.tags) expect(tagNames).toContain(tag);
            if (method === "POST") {
                const schema = operation.requestBody?.content?.["application/json"]?.schema;
                expect(schema, `${method} ${path} has no body schema`).toBeDefined();
                // Each body names its fields and refuses any other (embed_all takes anything: it is refused as a whole); the
                // application routes refuse them through propertyNames.
                const objects = schema.if === undefined ? [schema] : [schema.then, schema.else];
                if (path === "/embed_all") continue;
                for (const object of objects) {
                    const closed = object.additionalProperties === false || object.propertyNames?.enum?.join() === Object.keys(object.properties).join();
                    expect(closed, `${method} ${path} takes fields it does not name`).toBe(true);
                }
            }
        }
    });

    it("documents each route's errors in its error shape, and the main routes' answers, without fastify serializing through them", async () => {
        const document = json(await app.inject({ method: "GET", url: "/openapi.json" }));
        const errorFields = (path: string, method = "post") =>
            Object.keys(document.paths[path][method].responses.default.content["application/json"].schema.properties);
        expect(errorFields("/v1/embeddings")).toEqual(["error"]);
        expect(errorFields("/api/embed")).toEqual(["error"]);
        expect(document.paths["/api/embed"].post.responses.default.content["application/json"].schema.properties.error.type).toBe("string");
        expect(errorFields("/tokenize")).toEqual(["error", "error_type"]);
        expect(errorFields("/v2/embed")).toEqual(["id", "message"]);
        for (const [path, operations] of Object.entries<any>(document.paths)) {
            for (const [method, operation] of Object.entries<any>(operations)) expect(operation.responses.default, `${method} ${path}`).toBeDefined();
        }
        const answer = document.paths["/v1/embeddings"].post.responses["200"].content["application/json"].schema;
        expect(Object.keys(answer.properties)).toEqual(["object", "data", "model", "usage"]);
        expect(Object.keys(document.paths["/api/tags"].get.responses["200"].content["application/json"].schema.properties.models.items.properties))
            .toEqual(["name", "model", "modified_at", "size", "digest", "details"]);
        // The documented responses are not the routes' response schemas: answers are written as the handlers make them.
        const base64 = json(await post("/v1/embeddings", { input: "a", encoding_format: "base64" }));
        expect(Object.keys(base64)).toEqual(["object", "data", "model", "usage"]);
        expect(typeof base64.data[0].embedding).toBe("string");
        expect(Buffer.from(base64.data[0].embedding, "base64").length).toBe(DIMENSIONS * 4);
        const health = json(await app.inject({ method: "GET", url: "/health" }));
        expect(health).toEqual({ status: "ok", models: { embedding: "qwen3-embedding-0.6b", reranker: "reranker" } });
    });

    it("documents the fields the route takes, with the type it validates: /v1/embeddings", async () => {
        const body = json(await app.inject({ method: "GET", url: "/openapi.json" })).paths["/v1/embeddings"].post.requestBody.content["application/json"].schema;
        expect(body.required).toEqual(["input"]);
        expect(Object.keys(body.properties)).toEqual([
            "model", "input", "encoding_format", "dimensions", "user", "instruction", "instruct", "task", "input_type", "text_type", "normalize", "truncate",
            "embedding_type", "normalized", "late_chunking",
        ]);
        expect(body.properties.encoding_format.enum).toEqual(["float", "base64"]);
        expect(body.properties.dimensions.type).toBe("integer");
    });

    it("the document and /docs are readable without an API key, like /health; what the server serves is not", async () => {
        const document = await app.inject({ method: "GET", url: "/openapi.json" });
        expect(document.statusCode).toBe(200);
        const page = await app.inject({ method: "GET", url: "/docs" });
        expect(page.statusCode).toBe(200);
        expect(page.headers["content-type"]).toMatch(/^text\/html/);
        expect(page.body).toMatch(/<html/i);
        const copy = await app.inject({ method: "GET", url: "/docs/json" });
        expect(copy.statusCode).toBe(200);
        expect(json(copy).paths).toEqual(json(document).paths);
        expect(json(document).paths["/openapi.json"].get.security).toEqual([]);
        expect(json(document).paths["/health"].get.security).toEqual([]);
        expect(json(document).paths["/v1/models"].get.security).toBeUndefined(); // the document's default: the bearer key
        expect(json(document).security).toEqual([{ apiKey: [] }]);
        expect((await app.inject({ method: "GET", url: "/v1/models" })).statusCode).toBe(401);
        expect((await app.inject({ method: "GET", url: "/api/tags" })).statusCode).toBe(401);
    });
});

describe("bodies are validated against their documented schema", () => {
    it("a wrong type is a 400 naming the field, the expectation and the value, in each route's error shape", async () => {
        expect(json(await post("/v1/embeddings", { input: "a", dimensions: "32" }))).toEqual({
            error: { message: 'Expected an integer from 32 up to the model\'s dimension for dimensions but received the string "32"', type: "invalid_request_error", code: "invalid_value", param: "dimensions" },
        });
        expect(json(await post("/v1/embeddings", { input: ["a", 7] })).error).toMatchObject({
            message: "Expected a string or a { text } object for input[1] but received number 7", param: "input",
        });
        expect(json(await post("/embed", { inputs: [[1, 2], "a"] })).error.message).toBe('Expected an array of token ids for inputs[1] but received the string "a"');
        expect(json(await post("/embed", { inputs: [1.5] })).error.message).toBe("Expected an integer token id for inputs[0] but received number 1.5");
        const ollama = await post("/api/embed", { input: "a", keep_alive: true });
        expect(ollama.statusCode).toBe(400);
        expect(json(ollama)).toEqual({ error: "Expected a string or a number for keep_alive but received boolean true" });
        const cohere = await post("/v1/embed", { texts: "a" });
        expect(cohere.statusCode).toBe(400);
        expect(json(cohere)).toEqual({ id: expect.any(String), message: 'Expected an array of strings for texts but received the string "a"' });
        const tei = await post("/tokenize", { inputs: 5 });
        expect(json(tei)).toEqual({ error: "Expected a string or an array of strings for inputs but received number 5", error_type: "validation" });
        const nested = await post("/similarity", { inputs: { source_sentence: "a", sentences: ["b", 3] } });
        expect(json(nested)).toEqual({ error: "Expected a non-empty string for inputs.sentences[1] but received number 3", error_type: "validation" });
        expect(json(await post("/v1/rerank", { query: "q", documents: ["a"], top_n: 0 })).error).toMatchObject({
            message: "Expected an integer of at least 1 for top_n but received number 0", param: "top_n",
        });
    });

    it("every documented field of every model route: a value of another JSON type is a 400 naming the field and the value", async () => {
        const document = json(await app.inject({ method: "GET", url: "/openapi.json" }));
        let checked = 0;
        for (const [path, operations] of Object.entries<any>(document.paths)) {
            const operation = operations.post;
            const schema = operation?.requestBody?.content["application/json"].schema;
            if (schema === undefined || operation.tags.includes("qwen3-embedding")) continue; // the application routes: own tests
            const body = schema.if === undefined ? schema : schema.else;
            for (const [field, fieldSchema] of Object.entries<any>(body.properties ?? {})) {
                if (fieldSchema.type === undefined) continue; // alternatives (anyOf): covered above
                const wrong = fieldSchema.type === "string" ? 12345 : "wrong";
                const response = await post(path, { ...validBody(body), [field]: wrong });
                expect(response.statusCode, `${path} ${field}: ${response.body}`).toBe(400);
                const message: string = json(response).error?.message ?? json(response).error ?? json(response).message;
                expect(message, `${path} ${field}`).toMatch(new RegExp(`^Expected .+ for ${field} but received ${typeof wrong === "number" ? "number 12345" : 'the string "wrong"'}$`));
                if (typeof json(response).error === "object") expect(json(response).error.param).toBe(field);
                checked++;
            }
        }
        expect(checked).toBeGreaterThan(60);
    });

    it("an unknown field, a missing one, a body that is not an object; null fields count as absent", async () => {
        expect(json(await post("/v1/embeddings", { input: "a", inputs: "b" })).error).toEqual({
            message: 'Unknown field "inputs" in the request body; the known fields are model, input, encoding_format, dimensions, user, instruction, instruct, task, ' +
                "input_type, text_type, normalize, truncate, embedding_type, normalized, late_chunking",
            type: "invalid_request_error", code: "unknown_field", param: "inputs",
        });
        expect(json(await post("/similarity", { inputs: { source_sentence: "a", sentences: ["b"], extra: 1 } }))).toEqual({
            error: 'Unknown field "extra" in inputs; the known fields are source_sentence, sentences', error_type: "validation",
        });
        expect(json(await post("/rerank", { query: "q", texts: ["a"], top_n: 2 })).error).toMatchObject({ code: "unknown_field", param: "top_n" });
        // A misspelled field is answered as unknown, not as the required field it stands for.
        expect(json(await post("/api/embeddings", { input: "x" }))).toEqual({
            error: 'Unknown field "input" in the request body; the known fields are model, prompt, keep_alive, options',
        });
        expect(json(await post("/v1/rerank", { qurey: "q", documents: ["a"] })).error).toMatchObject({ code: "unknown_field", param: "qurey" });
        expect(json(await post("/v1/embeddings", {})).error).toEqual({
            message: "Expected a string, an array of strings, an array of token ids or an array of arrays of token ids for input but received undefined",
            type: "invalid_request_error", code: "missing_field", param: "input",
        });
        expect(json(await post("/v1/embeddings", ["a"])).error).toMatchObject({ message: "Expected a JSON object as the request body but received an array of length 1", code: "invalid_body" });
        const nulls = await post("/v1/embeddings", { input: "a", user: null, dimensions: null, encoding_format: null });
        expect(nulls.statusCode).toBe(200);
        expect(json(nulls).data[0].embedding).toHaveLength(DIMENSIONS);
    });
});

describe("Jina's { text } inputs on POST /v1/embeddings", () => {
    it("embeds { text } objects as their text, mixed with strings", async () => {
        const response = await post("/v1/embeddings", { model: "qwen3-embedding-0.6b", input: [{ text: "first" }, "second"], task: "retrieval.passage" });
        expect(response.statusCode).toBe(200);
        expect(json(response).data).toHaveLength(2);
        expect(embedded).toEqual(["first", "second"]);
    });

    it("validates them as strings, refuses images, and only /v1/embeddings takes them", async () => {
        expect(json(await post("/v1/embeddings", { input: [{ text: "" }] })).error).toMatchObject({
            message: "input[0].text is an empty string; every input needs some text", code: "empty_input", param: "input",
        });
        expect(json(await post("/v1/embeddings", { input: [{ text: 5 }] })).error).toMatchObject({
            message: "Expected a string for input[0].text but received number 5", code: "invalid_value", param: "input",
        });
        const image = await post("/v1/embeddings", { input: ["a", { image: "https://example.com/cat.png" }] });
        expect(image.statusCode).toBe(400);
        expect(json(image).error).toMatchObject({
            message: "input[1] is an image ({ image }); this server embeds text only: send each input as a string or a { text } object", code: "unsupported_value", param: "input",
        });
        expect(json(await post("/embed", { inputs: [{ text: "a" }] })).error).toMatchObject({ code: "invalid_value", param: "inputs" });
    });
});

describe("Ollama GET /api/tags and /api/version (ollama docs/api.md, \"List Local Models\" and \"Version\")", () => {
    it("lists the served models in Ollama's shape, with the registry's parameter count and quantization", async () => {
        const response = await app.inject({ method: "GET", url: "/api/tags", headers: auth });
        expect(response.statusCode).toBe(200);
        const { models } = json(response);
        expect(models).toHaveLength(2);
        const [embedding] = models;
        expect(Object.keys(embedding)).toEqual(["name", "model", "modified_at", "size", "digest", "details"]);
        expect(embedding).toMatchObject({ name: "qwen3-embedding-0.6b", model: "qwen3-embedding-0.6b", size: 1234 });
        expect(new Date(embedding.modified_at).getTime()).toBeGreaterThan(Date.now() - 600_000);
        expect(embedding.digest).toMatch(/^[0-9a-f]{64}$/);
        expect(embedding.details).toEqual({
            parent_model: "", format: "gguf", family: "qwen3", families: ["qwen3"], parameter_size: "0.6B", quantization_level: "Q8_0",
        });
        expect(models[1].details.parameter_size).toBe(""); // a file the registry does not know
    });

    it("/api/version answers { version }", async () => {
        const response = await app.inject({ method: "GET", url: "/api/version", headers: auth });
        expect(json(response)).toEqual({ version: expect.stringMatching(/^\d+\.\d+\.\d+/) });
    });
});
