/**
 * The application routes mounted on a bare fastify instance (no auth, no limits: the server adds those), driven
 * with app.inject, on the embedded store and the tiny fixture models.
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import Fastify, { type FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEmbedder, createReranker, type Embedder, type Reranker } from "../../src/index.js";
import { createSearchIndex, type VectorStore } from "../../src/exports/store.js";
import { registerApplicationRoutes } from "../../src/exports/server.js";
import { ensureFixtureModel } from "../fixtures/qwen3-fixture.js";
import { startBackend, temporaryDirectory } from "./support/store-backends.js";

let embedder: Embedder;
let reranker: Reranker;
let store: VectorStore;
let app: FastifyInstance;
let bare: FastifyInstance; // no reranker
const parent = temporaryDirectory("qwen3-routes-test-");

const documents = [
    "The capital of China is Beijing.",
    "Gravity is a force that attracts two bodies towards each other.",
    "Photosynthesis turns light into chemical energy in plants.",
    "Node.js runs JavaScript outside the browser.",
    "The Great Wall of China is thousands of kilometres long.",
];

beforeAll(async () => {
    embedder = await createEmbedder({ model: await ensureFixtureModel({ kind: "embedding", size: "tiny" }), batchTokens: 256, contextSize: 4096 });
    reranker = await createReranker({ model: await ensureFixtureModel({ kind: "reranker-rank", size: "tiny" }), batchTokens: 512, contextSize: 4096 });
    const backend = await startBackend("pglite", join(parent, "store"));
    store = await backend.open();
    await (await createSearchIndex({ embedder, store, namespace: "kb" })).index(documents.map((text, index) => ({ id: `d${index}`, text, metadata: { n: index } })));
    app = Fastify();
    await registerApplicationRoutes(app, { embedder, reranker, store, searchNamespace: "kb" });
    await app.ready();
    bare = Fastify();
    await registerApplicationRoutes(bare, { embedder, store, memoryNamespace: "memories", searchNamespace: "kb" });
    await bare.ready();
});
afterAll(async () => {
    await app?.close();
    await bare?.close();
    await store?.close();
    embedder?.dispose();
    reranker?.dispose();
    rmSync(parent, { recursive: true, force: true });
});

const post = (url: string, payload: unknown, target = app) => target.inject({ method: "POST", url, payload: payload as object });

function expectError(response: { statusCode: number; json(): unknown }, status: number, param: string | null, message: string | RegExp) {
    expect(response.statusCode).toBe(status);
    const body = response.json() as { error: { message: string; type: string; code: string; param: string | null } };
    expect(Object.keys(body)).toEqual(["error"]);
    expect(body.error.param).toBe(param);
    expect(typeof body.error.code).toBe("string");
    expect(body.error.type).toBe(status === 404 ? "not_found_error" : status >= 500 ? "server_error" : "invalid_request_error");
    if (typeof message === "string") expect(body.error.message).toBe(message);
    else expect(body.error.message).toMatch(message);
}

describe("memories", () => {
    it("adds, searches, lists and deletes a user's memories, and only theirs", async () => {
        const added = await post("/v1/memories", { user_id: "alice", text: "Alice is allergic to peanuts", metadata: { topic: "health" } });
        expect(added.statusCode).toBe(200);
        const memory = added.json() as { object: string; id: string; user_id: string; text: string; metadata: object; created_at: number };
        expect(memory).toMatchObject({ object: "memory", user_id: "alice", text: "Alice is allergic to peanuts", metadata: { topic: "health" } });
        expect(Number.isInteger(memory.created_at)).toBe(true);
        await post("/v1/memories", { user_id: "alice", text: "Alice's favourite city is Kyoto", metadata: { topic: "travel" } });
        await post("/v1/memories", { user_id: "bob", text: "Bob is allergic to peanuts", metadata: { topic: "health" } });

        const search = await post("/v1/memories/search", { user_id: "alice", query: "what food allergies?", top_k: 5 });
        expect(search.statusCode).toBe(200);
        const found = search.json() as { object: string; data: { user_id: string; text: string; score: number; similarity: number }[] };
        expect(found.object).toBe("list");
        expect(found.data.map((item) => item.user_id)).toEqual(["alice", "alice"]);
        expect(found.data[0]!.score).toBeGreaterThanOrEqual(found.data[1]!.score);

        const crafted = await post("/v1/memories/search", { user_id: "alice", query: "allergies", filter: { $or: [{}, { user_id: "bob" }], "topic' OR '1'='1": { $exists: false } } });
        expect((crafted.json() as { data: { user_id: string }[] }).data.every((item) => item.user_id === "alice")).toBe(true);
        const reranked = await post("/v1/memories/search", { user_id: "alice", query: "allergies", top_k: 1, rerank: true });
        expect((reranked.json() as { data: unknown[] }).data.length).toBe(1);
        const filtered = await post("/v1/memories/search", { user_id: "alice", query: "allergies", filter: { topic: "travel" } });
        expect((filtered.json() as { data: { text: string }[] }).data.map((item) => item.text)).toEqual(["Alice's favourite city is Kyoto"]);

        const listed = await app.inject({ method: "GET", url: "/v1/memories?user_id=alice&limit=10" });
        expect((listed.json() as { data: { user_id: string }[] }).data.map((item) => item.user_id)).toEqual(["alice", "alice"]);

        expectError(await app.inject({ method: "DELETE", url: `/v1/memories/${memory.id}?user_id=bob` }), 404, "id", `No memory ${JSON.stringify(memory.id)} for this user`);
        const deleted = await app.inject({ method: "DELETE", url: `/v1/memories/${memory.id}?user_id=alice` });
        expect(deleted.json()).toEqual({ object: "memory.deleted", id: memory.id, deleted: true });
        expectError(await app.inject({ method: "DELETE", url: `/v1/memories/${memory.id}?user_id=alice` }), 404, "id", /^No memory/);
    });

    it("answers bad requests with OpenAI-shaped errors naming the field", async () => {
        expectError(await post("/v1/memories", { text: "no user" }), 400, "user_id", /must have required property 'user_id'/);
        expectError(await post("/v1/memories", { user_id: "alice", text: "x", colour: "red" }), 400, "colour", 'Unknown field "colour" in the request body');
        expectError(await post("/v1/memories", { user_id: "alice", text: "" }), 400, "text", /text must NOT have fewer than 1 characters/);
        expectError(await post("/v1/memories", { user_id: "alice", text: "x", metadata: "not an object" }), 400, "metadata", /metadata must be object/);
        expectError(await post("/v1/memories", { user_id: "alice", text: "a\u0000b" }), 400, "text", /without NUL characters/);
        expectError(await post("/v1/memories/search", { user_id: "alice", query: "q", top_k: 0 }), 400, "top_k", /top_k must be >= 1/);
        expectError(await post("/v1/memories/search", { user_id: "alice", query: "q", filter: { $where: "1=1" } }), 400, "filter", /^Unknown operator "\$where" at filter\.\$where; the logical operators are \$and, \$or, \$not/);
        expectError(await post("/v1/memories/search", { user_id: "alice", query: "q", top_k: 10, rerank: true, rerank_top_k: 2 }), 400, "rerank_top_k", "Expected an integer between 10 and 1000 for rerankTopK but received number 2");
        expectError(await post("/v1/memories/search", { user_id: "alice", query: "q", rerank: true }, bare), 400, "rerank", "rerank is not available: this server has no reranker model");
        expectError(await app.inject({ method: "DELETE", url: "/v1/memories/x" }), 400, "user_id", /must have required property 'user_id'/);
        const invalidJson = await app.inject({ method: "POST", url: "/v1/memories", payload: "{not json", headers: { "content-type": "application/json" } });
        expectError(invalidJson, 400, null, "The request body is not valid JSON");
    });
});

describe("search", () => {
    it("retrieves then reranks the namespace's documents", async () => {
        const response = await post("/v1/search", { query: "What is the capital of China?", top_k: 3, rerank_top_k: 5 });
        expect(response.statusCode).toBe(200);
        const body = response.json() as { object: string; namespace: string; data: { object: string; id: string; text: string; score: number; similarity: number; metadata: { n: number } }[] };
        expect(body).toMatchObject({ object: "list", namespace: "kb" });
        expect(body.data.length).toBe(3);
        const direct = await reranker.rerank("What is the capital of China?", documents, { topN: 3 });
        expect(body.data.map((item) => item.text)).toEqual(direct.results.map((item) => documents[item.index]));
        body.data.forEach((item, rank) => {
            expect(item.object).toBe("search_result");
            expect(item.id).toBe(`d${item.metadata.n}`);
            expect(item.score).toBeCloseTo(direct.results[rank]!.score, 6);
        });
        const plain = (await post("/v1/search", { query: "gravity", top_k: 5, rerank: false })).json() as { data: { score: number; similarity: number }[] };
        plain.data.forEach((item) => expect(item.score).toBe(item.similarity));
        const filtered = (await post("/v1/search", { query: "gravity", filter: { n: { $lt: 2 } } })).json() as { data: { id: string }[] };
        expect(filtered.data.map((item) => item.id).sort()).toEqual(["d0", "d1"]);
    });

    it("404s for a namespace that was never indexed and never creates it", async () => {
        expectError(await post("/v1/search", { query: "q", namespace: "nothing-here" }), 404, "namespace", /No namespace "nothing-here"/);
        expect(await store.getNamespace("nothing-here")).toBeUndefined();
        expectError(await post("/v1/search", { query: { text: "q" } }), 400, "query", /query must be string/);
    });
});
