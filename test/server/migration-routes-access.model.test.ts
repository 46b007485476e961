// Every route added for the APIs users migrate from (Cohere, Ollama, llama-server, TEI; sources cited in their own
// tests) sits behind the same API keys and request limits as the OpenAI route: no key is a 401 and too many inputs a
// 413, each in the route's own error shape; a scoped tenant key (users and namespaces only) may call them, as it may
// call every model route.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningServer } from "../../src/exports/server.js";
import { postJson, startFixtureServer, type JsonResponse } from "./server-fixture.js";

const ADMIN = "admin-key";
const TENANT = "tenant-key";
const MAX_INPUTS = 3;
const many = ["a", "b", "c", "d"];

/** Each route, a body it answers 200, the same body with more inputs than allowed (where it takes several), and its error shape's keys. */
const ROUTES: { path: string; ok: unknown; tooMany: unknown | undefined; shape: string[] }[] = [
    { path: "/v1/embed", ok: { texts: ["a"], input_type: "search_query" }, tooMany: { texts: many }, shape: ["id", "message"] },
    { path: "/v2/embed", ok: { texts: ["a"], input_type: "search_document" }, tooMany: { texts: many, input_type: "search_document" }, shape: ["id", "message"] },
    { path: "/api/embed", ok: { model: "embedding-tiny-s1", input: "a" }, tooMany: { input: many }, shape: ["error"] },
    { path: "/api/embeddings", ok: { model: "embedding-tiny-s1", prompt: "a" }, tooMany: undefined, shape: ["error"] }, // one prompt, a string
    { path: "/embedding", ok: { content: "a" }, tooMany: { content: many }, shape: ["error"] },
    { path: "/embeddings", ok: { input: ["a"] }, tooMany: { input: many }, shape: ["error"] },
    { path: "/reranking", ok: { query: "q", documents: ["a"] }, tooMany: { query: "q", documents: many }, shape: ["error"] },
    { path: "/v1/reranking", ok: { query: "q", documents: ["a"] }, tooMany: { query: "q", documents: many }, shape: ["error"] },
    { path: "/tokenize", ok: { inputs: "a" }, tooMany: { inputs: many }, shape: ["error", "error_type"] },
    { path: "/decode", ok: { ids: [64] }, tooMany: { ids: [[1], [2], [3], [4]] }, shape: ["error", "error_type"] },
    { path: "/similarity", ok: { inputs: { source_sentence: "a", sentences: ["b"] } }, tooMany: { inputs: { source_sentence: "a", sentences: many } }, shape: ["error", "error_type"] },
];

let server: RunningServer;

beforeAll(async () => {
    server = await startFixtureServer({ apiKeys: [ADMIN, { key: TENANT, users: ["alice"], namespaces: ["docs"] }], maxInputs: MAX_INPUTS });
});
afterAll(async () => {
    await server?.close();
});

function expectShape(response: JsonResponse, status: number, keys: string[]): void {
    expect(response.status, JSON.stringify(response.body)).toBe(status);
    expect(Object.keys(response.body)).toEqual(keys);
}

describe("the migration routes share keys and limits", () => {
    for (const route of ROUTES) {
        it(`${route.path}: 401 without a key, 200 with a tenant key, 413 over --max-inputs`, async () => {
            expectShape(await postJson(`${server.url}${route.path}`, route.ok), 401, route.shape);
            const ok = await postJson(`${server.url}${route.path}`, route.ok, { authorization: `Bearer ${TENANT}` });
            expect(ok.status, JSON.stringify(ok.body)).toBe(200);
            if (route.tooMany !== undefined) expectShape(await postJson(`${server.url}${route.path}`, route.tooMany, { authorization: `Bearer ${ADMIN}` }), 413, route.shape);
        });
    }

    it("GET /info needs a key too", async () => {
        expect((await fetch(`${server.url}/info`)).status).toBe(401);
        expect((await fetch(`${server.url}/info`, { headers: { authorization: `Bearer ${TENANT}` } })).status).toBe(200);
    });
});
