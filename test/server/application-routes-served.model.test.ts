import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InvalidOptionError } from "../../src/index.js";
import { startServer, type RunningServer } from "../../src/exports/server.js";
import { fixturePaths, postJson, startFixtureServer } from "./server-fixture.js";

const KEY = "test-key-application-routes";
let server: RunningServer;

beforeAll(async () => {
    server = await startFixtureServer({ database: "memory", apiKeys: [KEY] });
});
afterAll(async () => {
    await server?.close();
});

describe("application routes in the server (--database)", () => {
    it("stores and finds a user's memories behind the server's API key, and keeps users apart", async () => {
        const auth = { authorization: `Bearer ${KEY}` };
        const url = (path: string) => `${server.url}${path}`;
        expect((await postJson(url("/v1/memories"), { user_id: "alice", text: "I am allergic to peanuts" })).status).toBe(401);
        const added = await postJson(url("/v1/memories"), { user_id: "alice", text: "I am allergic to peanuts" }, auth);
        expect(added.status).toBe(200);
        expect((await postJson(url("/v1/memories"), { user_id: "bob", text: "Bob likes peanuts a lot" }, auth)).status).toBe(200);
        const found = await postJson(url("/v1/memories/search"), { user_id: "alice", query: "what food should I avoid?", top_k: 5 }, auth);
        expect(found.status).toBe(200);
        expect(found.body.data.map((item: { text: string }) => item.text)).toEqual(["I am allergic to peanuts"]);
        const unknownField = await postJson(url("/v1/memories/search"), { user_id: "alice", query: "x", bogus: 1 }, auth);
        expect(unknownField.status).toBe(400);
        expect(unknownField.body.error.message).toMatch(/bogus|property/);
    });

    it("refuses a database without an embedding model", async () => {
        const { reranker } = await fixturePaths();
        const attempt = startServer({ rerankerModel: reranker, database: "memory", host: "127.0.0.1", port: 0, logLevel: "silent" });
        await expect(attempt).rejects.toBeInstanceOf(InvalidOptionError);
        await expect(attempt).rejects.toThrow("The application routes need an embedding model: give embeddingModel (or embedder) with database");
    });
});
