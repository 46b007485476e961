/**
 * Tenant safety over HTTP: scoped API keys, exact identifiers, the application routes under the server's limits, a
 * locked store, and a log without users' data. Real servers on 127.0.0.1 with the tiny fixture models.
 */
import { rmSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AbortedError, createEmbedder, type Embedder } from "../../src/index.js";
import { createSearchIndex, openStore, type VectorStore } from "../../src/exports/store.js";
import { type RunningServer } from "../../src/exports/server.js";
import { temporaryDirectory } from "../applications/support/store-backends.js";
import { MODEL_OPTIONS, deferred, expectError, fixturePaths, postJson, startFixtureServer, type JsonResponse } from "./server-fixture.js";

const ADMIN = "sk-admin-0000";
const ALICE = "sk-tenant-alice";
const BOB = "sk-tenant-bob";
const KEYS = [ADMIN, { key: ALICE, users: ["alice"], namespaces: ["kb"] }, { key: BOB, users: ["bob"], namespaces: ["kb"] }];
const as = (key: string) => ({ authorization: `Bearer ${key}` });

const parent = temporaryDirectory("qwen3-tenant-test-");
let embedder: Embedder;
let server: RunningServer;
const logLines: string[] = [];

/** Bob's memory: metadata chosen so that every filter below would match it if users were not kept apart. */
const BOB_SECRET = { user_id: "bob", text: "Bob's PIN is 4321", metadata: { topic: "secret", level: 5, tags: "pin", flag: true } };
const ALICE_NOTE = { user_id: "alice", text: "Alice's PIN is 1111", metadata: { topic: "secret", level: 5, tags: "pin", flag: true } };

/** Every filter operator, each of them matching Bob's memory and the owned document. */
const FILTERS: Record<string, unknown>[] = [
    { topic: "secret" }, { topic: { $eq: "secret" } }, { topic: { $ne: "public" } }, { level: { $gt: 1 } }, { level: { $gte: 5 } },
    { level: { $lt: 9 } }, { level: { $lte: 5 } }, { tags: { $in: ["pin", "x"] } }, { tags: { $nin: ["x"] } }, { flag: { $exists: true } },
    { $and: [{ topic: "secret" }, { level: 5 }] }, { $or: [{ topic: "secret" }, { level: 0 }] }, { $not: { topic: "public" } },
];

beforeAll(async () => {
    const paths = await fixturePaths();
    embedder = await createEmbedder({ model: paths.embedding, ...MODEL_OPTIONS });
    // The search namespace: public documents, and one that belongs to Bob (an application may store users' documents).
    const directory = join(parent, "store");
    const store = await openStore({ database: directory });
    const index = await createSearchIndex({ embedder, store, namespace: "kb" });
    await index.index([{ id: "public-1", text: "The library opens at nine.", metadata: { topic: "secret", level: 5, tags: "pin", flag: true } }]);
    const { embeddings } = await embedder.embedDocuments(["Bob's private bank document"]);
    await store.upsert("kb", [{ id: "bob-doc", userId: "bob", text: "Bob's private bank document", metadata: BOB_SECRET.metadata, embedding: embeddings[0] as Float32Array }]);
    await store.close();
    server = await startFixtureServer({
        database: directory,
        apiKeys: KEYS,
        logLevel: "info",
        logStream: { write: (line: string) => logLines.push(line) },
    });
});
afterAll(async () => {
    await server?.close();
    await embedder?.dispose();
    rmSync(parent, { recursive: true, force: true });
});

const url = (path: string) => `${server.url}${path}`;
async function send(method: string, path: string, key: string): Promise<JsonResponse> {
    const response = await fetch(url(path), { method, headers: as(key) });
    return { status: response.status, headers: response.headers, body: await response.json() };
}
async function expectStillServing(): Promise<void> {
    expect((await postJson(url("/v1/embeddings"), { input: "still here" }, as(ADMIN))).status).toBe(200);
}
const texts = (response: JsonResponse): string[] => response.body.data.map((item: { text: string }) => item.text);

describe("scoped keys: no caller reads what is not theirs", () => {
    it("each tenant key acts only for its users, on every memory route", async () => {
        expect((await postJson(url("/v1/memories"), ALICE_NOTE, as(ALICE))).status).toBe(200);
        const bob = await postJson(url("/v1/memories"), BOB_SECRET, as(BOB));
        expect(bob.status).toBe(200);

        expectError(await postJson(url("/v1/memories"), { ...BOB_SECRET, text: "forged" }, as(ALICE)), 403, "forbidden", 'This API key may not act for the user_id "bob"', "user_id");
        expectError(await postJson(url("/v1/memories/search"), { user_id: "bob", query: "PIN" }, as(ALICE)), 403, "forbidden", undefined, "user_id");
        expectError(await send("GET", "/v1/memories?user_id=bob", ALICE), 403, "forbidden", undefined, "user_id");
        expectError(await send("DELETE", `/v1/memories/${bob.body.id}?user_id=bob`, ALICE), 403, "forbidden", undefined, "user_id");
        expectError(await send("DELETE", `/v1/memories/${bob.body.id}?user_id=alice`, ALICE), 404, "memory_not_found", undefined, "id");
        expect(texts(await send("GET", "/v1/memories?user_id=bob", BOB))).toEqual([BOB_SECRET.text]); // still there

        for (const filter of FILTERS) {
            for (const rerank of [false, true]) {
                const found = await postJson(url("/v1/memories/search"), { user_id: "alice", query: "PIN", top_k: 100, filter, rerank }, as(ALICE));
                expect(found.status, JSON.stringify(filter)).toBe(200);
                expect(texts(found), JSON.stringify(filter)).toEqual([ALICE_NOTE.text]);
            }
        }
        await expectStillServing();
    });

    it("/v1/search: the memory namespace only for a key allowed every user; owned documents only for such a key", async () => {
        for (const key of [ALICE, BOB]) {
            for (const rerank of [false, true]) {
                expectError(await postJson(url("/v1/search"), { query: "PIN", namespace: "memories", top_k: 100, rerank }, as(key)), 403, "forbidden",
                    /holds users' memories: only a key allowed every user may search it here/, "namespace");
            }
            expectError(await postJson(url("/v1/search"), { query: "PIN", namespace: "other" }, as(key)), 403, "forbidden",
                'This API key may not search the namespace "other"', "namespace");
            for (const filter of FILTERS) {
                for (const rerank of [false, true]) {
                    const found = await postJson(url("/v1/search"), { query: "bank document", namespace: "kb", top_k: 100, filter, rerank }, as(key));
                    expect(found.status, JSON.stringify(filter)).toBe(200);
                    expect(found.body.data.map((item: { id: string }) => item.id), JSON.stringify(filter)).toEqual(["public-1"]);
                }
            }
        }
        const admin = await postJson(url("/v1/search"), { query: "PIN", namespace: "memories", top_k: 100 }, as(ADMIN));
        expect(texts(admin).sort()).toEqual([ALICE_NOTE.text, BOB_SECRET.text].sort());
        const adminKb = await postJson(url("/v1/search"), { query: "bank", namespace: "kb", top_k: 100 }, as(ADMIN));
        expect(adminKb.body.data.map((item: { id: string }) => item.id).sort()).toEqual(["bob-doc", "public-1"]);
        expectError(await send("GET", "/metrics", ALICE), 403, "forbidden", "Only an admin API key may read /metrics");
        expect((await fetch(url("/metrics"), { headers: as(ADMIN) })).status).toBe(200);
        expect((await fetch(url("/v1/models"), { headers: as(ALICE) })).status).toBe(200);
        expect((await postJson(url("/v1/embeddings"), { input: "a" }, as(BOB))).status).toBe(200);
    });
});

describe("identifiers are exact", () => {
    it("user ids that are not well-formed Unicode are refused, never merged into U+FFFD; an array is not a string", async () => {
        for (const userId of ["\ud800", "\udfff", "\udbff", "a\ud800b"]) {
            expectError(await postJson(url("/v1/memories"), { user_id: userId, text: "merged?" }, as(ADMIN)), 400, "invalid_value",
                /Expected a user id of well-formed Unicode for user_id but received a string with an unpaired UTF-16 surrogate/, "user_id");
            expectError(await postJson(url("/v1/memories/search"), { user_id: userId, query: "merged" }, as(ADMIN)), 400, "invalid_value", undefined, "user_id");
        }
        const undecodable = await send("GET", "/v1/memories?user_id=%ED%A0%80", ADMIN); // U+D800 percent-encoded as if it were UTF-8
        expect(undecodable.status).toBe(200); // kept as the literal text "%ED%A0%80": exact, and nobody's memories
        expect(undecodable.body.data).toEqual([]);
        expect((await postJson(url("/v1/memories"), { user_id: "\ufffd", text: "replacement character user" }, as(ADMIN))).status).toBe(200);
        expect(texts(await send("GET", `/v1/memories?user_id=${encodeURIComponent("\ufffd")}`, ADMIN))).toEqual(["replacement character user"]);
        expectError(await postJson(url("/v1/memories"), { user_id: ["alice"], text: "array" }, as(ADMIN)), 400, "invalid_value", /user_id must be string/, "user_id");
        expectError(await postJson(url("/v1/memories/search"), { user_id: "alice", query: "q", top_k: "5" }, as(ADMIN)), 400, "invalid_value", /top_k must be integer/, "top_k");
        expectError(await postJson(url("/v1/memories"), { user_id: "alice", text: "x", id: "\udc00" }, as(ADMIN)), 400, "invalid_value", /an id of well-formed Unicode for id/, "id");
        expectError(await postJson(url("/v1/search"), { query: "q", namespace: "k\ud800" }, as(ADMIN)), 400, "invalid_value", /a namespace name of well-formed Unicode for namespace/, "namespace");
        await expectStillServing();
    });

    it("a lone surrogate in metadata or a filter is a 400 naming the field, not a 500", async () => {
        const memory = (metadata: unknown) => postJson(url("/v1/memories"), { user_id: "alice", text: "meta", metadata }, as(ADMIN));
        expectError(await memory({ k: "\ud800" }), 400, "invalid_value", /well-formed Unicode for metadata\["k"\]/, "metadata");
        expectError(await memory({ "\ud800": 1 }), 400, "invalid_value", /a metadata key of well-formed Unicode/, "metadata");
        expectError(await memory({ list: ["ok", "\udfff"] }), 400, "invalid_value", /metadata\["list"\]\[1\]/, "metadata");
        const search = (filter: unknown) => postJson(url("/v1/memories/search"), { user_id: "alice", query: "q", filter }, as(ADMIN));
        for (const filter of [{ k: "\ud800" }, { "\ud800": 1 }, { k: { $in: ["a", "\ud800"] } }, { k: { $gt: "\ud800" } }, { $or: [{ k: { $ne: "\udfff" } }] }]) {
            expectError(await search(filter), 400, "invalid_value", /well-formed Unicode/, "filter");
            expectError(await postJson(url("/v1/search"), { query: "q", namespace: "kb", filter }, as(ADMIN)), 400, "invalid_value", /well-formed Unicode/, "filter");
        }
        await expectStillServing();
    });
});

describe("errors in OpenAI's shape, every one", () => {
    it("prototype keys, unknown fields, empty queries, malformed and over-long paths", async () => {
        expectError(await postJson(url("/v1/memories"), '{"user_id": "alice", "text": "x", "__proto__": {"admin": true}}', as(ADMIN)), 400, "forbidden_key", undefined, "__proto__");
        expectError(await postJson(url("/v1/search"), '{"query": "x", "constructor": {"prototype": {}}}', as(ADMIN)), 400, "forbidden_key", undefined, "constructor");
        expectError(await postJson(url("/v1/memories/search"), { user_id: "alice", query: "x", bogus: 1 }, as(ADMIN)), 400, "unknown_field", 'Unknown field "bogus" in the request body', "bogus");
        expectError(await postJson(url("/v1/memories/search"), { user_id: "alice", query: "" }, as(ADMIN)), 400, "invalid_value", /query must NOT have fewer than 1 characters/, "query");
        expectError(await postJson(url("/v1/search"), { query: "" }, as(ADMIN)), 400, "invalid_value", undefined, "query");
        expectError(await send("DELETE", "/v1/memories/%E0%A4%A?user_id=alice", ADMIN), 400, "invalid_url", /not valid percent-encoded UTF-8/);
        expectError(await send("DELETE", `/v1/memories/${"a".repeat(5000)}?user_id=alice`, ADMIN), 414, "uri_too_long", /ids are at most 512 characters/);
        expectError(await send("DELETE", `/v1/memories/${"a".repeat(600)}?user_id=alice`, ADMIN), 400, "invalid_value", /must NOT have more than 512 characters/, "id");
        await expectStillServing();
    });

    it("what Node's HTTP parser refuses (headers too large, not HTTP) comes in the same shape", async () => {
        const { port } = new URL(server.url);
        const raw = (request: string) => new Promise<string>((resolve, reject) => {
            const socket = connect(Number(port), "127.0.0.1", () => socket.end(request));
            let answer = "";
            socket.on("data", (chunk) => (answer += chunk.toString("utf8")));
            socket.on("close", () => resolve(answer));
            socket.on("error", (error: NodeJS.ErrnoException) => (error.code === "ECONNRESET" || error.code === "EPIPE" ? resolve(answer) : reject(error)));
        });
        const parse = (answer: string): JsonResponse => ({
            status: Number(/^HTTP\/1\.1 (\d+)/.exec(answer)![1]),
            headers: new Headers(),
            body: JSON.parse(answer.slice(answer.indexOf("\r\n\r\n") + 4)),
        });
        expectError(parse(await raw(`GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(100_000)}\r\n\r\n`)), 431, "headers_too_large");
        expectError(parse(await raw("NOT HTTP AT ALL\r\n\r\n")), 400, "invalid_http");
        await expectStillServing();
    });

    it("the log at the default level holds no text, user id, query or filter value", async () => {
        await postJson(url("/v1/memories"), { user_id: "carol-private-id", text: "carol-secret-text" }, as(ADMIN));
        await postJson(url("/v1/memories/search"), { user_id: "carol-private-id", query: "carol-secret-query", filter: { k: "carol-filter-value" } }, as(ADMIN));
        await send("GET", "/v1/memories?user_id=carol-private-id", ADMIN);
        await postJson(url("/v1/memories"), { user_id: "carol-private-id", text: "x", metadata: { k: "carol-bad-\ud800" } }, as(ADMIN));
        await postJson(url("/v1/memories/search"), { user_id: "carol-private-id", query: "q", filter: { "carol-filter-key\ud800": 1 } }, as(ADMIN));
        const log = logLines.join("");
        expect(log).toContain("request refused"); // the refusals were logged, without their messages
        for (const secret of ["carol-private-id", "carol-secret-text", "carol-secret-query", "carol-filter-value", "carol-bad", "carol-filter-key"]) {
            expect(log).not.toContain(secret);
        }
    });
});

describe("the application routes under the server's limits", () => {
    /** A reranker that blocks until its call's signal fires: the request stays in flight as long as the test needs. */
    function blockingReranker() {
        let entered = deferred();
        let aborted = deferred();
        let calls = 0;
        return {
            modelPath: "/fixtures/blocking-reranker.gguf",
            contextSize: 4096,
            entered: () => entered.promise,
            aborted: () => aborted.promise,
            wasEntered: () => calls > 0,
            rearm() {
                entered = deferred();
                aborted = deferred();
                calls = 0;
            },
            rerank(_query: string, _documents: string[], options: { signal?: AbortSignal }) {
                calls++;
                const call = { entered, aborted };
                call.entered.resolve();
                return new Promise<never>((_resolve, reject) => options.signal!.addEventListener("abort", () => {
                    call.aborted.resolve();
                    reject(new AbortedError());
                }));
            },
            async dispose() {},
        };
    }

    it("concurrency limit (429 + Retry-After), client disconnect reaching the reranker, request timeout (503)", async () => {
        const reranker = blockingReranker();
        const limited = await startFixtureServer({ embedder, reranker: reranker as never, database: "memory", maxConcurrentRequests: 1, apiKeys: [ADMIN] });
        try {
            const at = (path: string) => `${limited.url}${path}`;
            expect((await postJson(at("/v1/memories"), { user_id: "u", text: "a memory to rerank" }, as(ADMIN))).status).toBe(200);
            const client = new AbortController();
            const first = fetch(at("/v1/memories/search"), {
                method: "POST", headers: { "content-type": "application/json", ...as(ADMIN) }, signal: client.signal,
                body: JSON.stringify({ user_id: "u", query: "rerank me", rerank: true }),
            }).catch((error: Error) => error);
            await reranker.entered();
            const busy = await postJson(at("/v1/memories/search"), { user_id: "u", query: "second", rerank: true }, as(ADMIN));
            expectError(busy, 429, "server_busy", /--max-concurrent-requests/);
            expect(busy.headers.get("retry-after")).toBe("1");
            expectError(await postJson(at("/v1/embeddings"), { input: "x" }, as(ADMIN)), 429, "server_busy"); // one limit for every route
            client.abort();
            await reranker.aborted(); // the disconnect reached the work
            expect(await first).toBeInstanceOf(Error);
            await expect.poll(async () => (await postJson(at("/v1/memories/search"), { user_id: "u", query: "after" }, as(ADMIN))).status).toBe(200);
        } finally {
            await limited.close();
        }

        reranker.rearm();
        const timed = await startFixtureServer({ embedder, reranker: reranker as never, database: "memory", requestTimeoutMs: 1000 });
        try {
            // The first request also opens the store, which may take longer than the limit on a busy machine: retry it.
            await expect.poll(async () => (await postJson(`${timed.url}/v1/memories`, { user_id: "u", text: "a memory" })).status, { timeout: 60_000 }).toBe(200);
            const late = await postJson(`${timed.url}/v1/memories/search`, { user_id: "u", query: "rerank me", rerank: true });
            expectError(late, 503, "timeout", "The request did not finish within the server's time limit of 1000 ms; raise it with --request-timeout <ms> (environment QWEN3_EMBEDDING_REQUEST_TIMEOUT, server option requestTimeoutMs)");
            if (reranker.wasEntered()) await reranker.aborted(); // the time limit reached the work too
            const search = await postJson(`${timed.url}/v1/search`, { query: "x", namespace: "missing" });
            expectError(search, 404, "namespace_not_found", undefined, "namespace");
        } finally {
            await timed.close();
        }
    });

    it("a store locked by another process is a 503 store_unavailable without path, pid or host", async () => {
        const directory = join(parent, "locked");
        const holder: VectorStore = await openStore({ database: directory });
        const locked = await startFixtureServer({ embedder, database: directory });
        try {
            for (const attempt of [
                postJson(`${locked.url}/v1/memories`, { user_id: "u", text: "x" }),
                postJson(`${locked.url}/v1/search`, { query: "x" }),
            ]) {
                const response = await attempt;
                expectError(response, 503, "store_unavailable", "The store is unavailable; the server log has the details");
                expect(JSON.stringify(response.body)).not.toContain(String(process.pid));
                expect(JSON.stringify(response.body)).not.toContain(directory);
            }
            expect((await postJson(`${locked.url}/v1/embeddings`, { input: "x" })).status).toBe(200);
        } finally {
            await locked.close();
            await holder.close();
        }
    });
});
