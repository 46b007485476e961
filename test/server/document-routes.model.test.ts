/**
 * /v1/documents over a real server on 127.0.0.1 with the tiny fixture models and an embedded store: documents added
 * over HTTP are searchable, re-adding changes nothing, an id replaces, delete removes, progress streams as NDJSON,
 * write scopes and tenants hold, a disconnect leaves whole batches only, and the stored vectors are the library's.
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEmbedder, type Embedder } from "../../src/index.js";
import { createSearchIndex, openStore } from "../../src/exports/store.js";
import { type RunningServer } from "../../src/exports/server.js";
import { documentId } from "../../src/applications/document-indexer.js";
import { temporaryDirectory } from "../applications/support/store-backends.js";
import { MODEL_OPTIONS, expectError, fixturePaths, postJson, startFixtureServer, type JsonResponse } from "./server-fixture.js";

const ADMIN = "sk-admin-docs";
const WRITER = "sk-kb-writer"; // alice's tenant: searches and writes "kb"
const READER = "sk-kb-reader"; // searches "kb", writes nothing
const OTHER = "sk-other-tenant"; // bob's tenant: its own namespace "other"
const KEYS = [
    ADMIN,
    { key: WRITER, users: ["alice"], namespaces: ["kb"], writeNamespaces: ["kb"] },
    { key: READER, namespaces: ["kb"] },
    { key: OTHER, users: ["bob"], namespaces: ["other"], writeNamespaces: ["other"] },
];
const MAX_INPUTS = 250;
const as = (key: string) => ({ authorization: `Bearer ${key}` });

const parent = temporaryDirectory("qwen3-documents-test-");
const directory = join(parent, "store");
let embedder: Embedder;
let server: RunningServer | undefined;

beforeAll(async () => {
    const paths = await fixturePaths();
    embedder = await createEmbedder({ model: paths.embedding, ...MODEL_OPTIONS });
    // "kb" holds a document that belongs to a user (an application may store users' documents).
    const store = await openStore({ database: directory });
    await createSearchIndex({ embedder, store, namespace: "kb" });
    const { embeddings } = await embedder.embedDocuments(["Bob's private bank document"]);
    await store.upsert("kb", [{ id: "bob-doc", userId: "bob", text: "Bob's private bank document", metadata: {}, embedding: embeddings[0] as Float32Array }]);
    await store.close();
    server = await startFixtureServer({ database: directory, apiKeys: KEYS, maxInputs: MAX_INPUTS });
});
afterAll(async () => {
    await server?.close();
    await embedder?.dispose();
    rmSync(parent, { recursive: true, force: true });
});

const url = (path: string) => `${server!.url}${path}`;
async function send(method: string, path: string, key: string, body?: unknown): Promise<JsonResponse> {
    const response = await fetch(url(path), {
        method,
        headers: { ...as(key), ...(body === undefined ? {} : { "content-type": "application/json" }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, headers: response.headers, body: await response.json() };
}
const list = async (namespace: string, key = ADMIN) => send("GET", `/v1/documents?namespace=${namespace}&limit=10000`, key);
const texts = (response: JsonResponse): string[] => response.body.data.map((item: { text: string }) => item.text);
const ids = (response: JsonResponse): string[] => response.body.data.map((item: { id: string }) => item.id);
const search = async (query: string, key = WRITER) => postJson(url("/v1/search"), { query, namespace: "kb", top_k: 10, rerank: false }, as(key));

/** Reads an NDJSON answer line by line; `onLine` may stop early by returning true (the request is then aborted). */
async function ndjson(body: unknown, key: string, onLine: (line: any) => boolean = () => false): Promise<{ status: number; type: string | null; lines: any[] }> {
    const controller = new AbortController();
    const response = await fetch(url("/v1/documents"), {
        method: "POST",
        headers: { ...as(key), "content-type": "application/json", accept: "application/x-ndjson" },
        body: JSON.stringify(body),
        signal: controller.signal,
    });
    const lines: any[] = [];
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let pending = "";
    for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        pending += decoder.decode(value, { stream: true });
        const parts = pending.split("\n");
        pending = parts.pop()!;
        for (const part of parts) {
            const line = JSON.parse(part);
            lines.push(line);
            if (onLine(line)) {
                controller.abort();
                return { status: response.status, type: response.headers.get("content-type"), lines };
            }
        }
    }
    expect(pending).toBe("");
    return { status: response.status, type: response.headers.get("content-type"), lines };
}

describe("/v1/documents", () => {
    it("adds documents that /v1/search then finds; re-adding changes nothing; an id replaces; delete removes", async () => {
        const cats = "Cats sleep sixteen hours a day.";
        const documents = [{ id: "hours", text: "The library opens at nine in the morning.", metadata: { topic: "hours" } }, { text: cats }];
        const added = await send("POST", "/v1/documents", WRITER, { namespace: "kb", documents });
        expect(added.status, JSON.stringify(added.body)).toBe(200);
        expect(added.body).toMatchObject({ object: "index.result", namespace: "kb", ids: ["hours", documentId(cats)], total: 2, written: 2, unchanged: 0 });
        expect((await search("How long do cats sleep?")).body.data[0].id).toBe(documentId(cats));
        expect((await search("When does the library open?")).body.data.map((item: { id: string }) => item.id)).toContain("hours");

        const before = await list("kb", WRITER);
        expect(ids(before).sort()).toEqual([documentId(cats), "hours"].sort());
        const again = await send("POST", "/v1/documents", WRITER, { namespace: "kb", documents });
        expect(again.body).toMatchObject({ total: 2, written: 0, unchanged: 2, embedded: 0 });
        expect((await list("kb", WRITER)).body).toEqual(before.body); // same texts, metadata and timestamps

        const replaced = await send("POST", "/v1/documents", WRITER, { namespace: "kb", documents: [{ id: "hours", text: "The library opens at ten on Sundays.", metadata: { topic: "sunday" } }] });
        expect(replaced.body).toMatchObject({ ids: ["hours"], written: 1, unchanged: 0 });
        const hours = (await list("kb", WRITER)).body.data.filter((item: { id: string }) => item.id === "hours");
        expect(hours.map((item: { text: string; metadata: unknown }) => [item.text, item.metadata])).toEqual([["The library opens at ten on Sundays.", { topic: "sunday" }]]);
        expect((await search("library Sundays")).body.data.find((item: { id: string }) => item.id === "hours").text).toBe("The library opens at ten on Sundays.");

        const deleted = await send("DELETE", "/v1/documents", WRITER, { namespace: "kb", ids: ["hours", "never-added"] });
        expect(deleted.body).toEqual({ object: "documents.deleted", namespace: "kb", deleted: ["hours"] });
        expect(ids(await list("kb", WRITER))).toEqual([documentId(cats)]);
        expect((await search("When does the library open?")).body.data.map((item: { id: string }) => item.id)).not.toContain("hours");
    });

    it("refuses bad fields with a 400 naming them, and more documents than --max-inputs with a 413", async () => {
        const post = (body: unknown) => send("POST", "/v1/documents", ADMIN, body);
        expectError(await post({ namespace: "kb" }), 400, "invalid_value", /documents/, "documents");
        expectError(await post({ documents: [] }), 400, "invalid_value", /documents/, "documents");
        expectError(await post({ documents: [{ text: "" }] }), 400, "invalid_value", /documents/, "documents");
        expectError(await post({ documents: [{ text: "   " }] }), 400, "invalid_value", "documents[0]", "documents");
        expectError(await post({ documents: [{ text: "a", id: 5 }] }), 400, "invalid_value", /documents/, "documents");
        expectError(await post({ documents: [{ text: "a", extra: 1 }] }), 400, "unknown_field", 'Unknown field "extra"', "extra");
        expectError(await post({ documents: [{ text: "a" }], batch_size: 0 }), 400, "invalid_value", /batch_size/, "batch_size");
        expectError(await post({ documents: [{ text: "a" }], namespace: "" }), 400, "invalid_value", /namespace/, "namespace");
        expectError(await post({ documents: Array.from({ length: MAX_INPUTS + 1 }, (_, i) => `text ${i}`).map((text) => ({ text })) }), 413, "too_many_inputs",
            `documents has ${MAX_INPUTS + 1} items but this server takes at most ${MAX_INPUTS} per request`, "documents");
        expectError(await send("DELETE", "/v1/documents", ADMIN, { namespace: "kb" }), 400, "invalid_value", /ids/, "ids");
        expectError(await send("GET", "/v1/documents?namespace=kb&limit=0", ADMIN), 400, "invalid_value", /limit/, "limit");
        expectError(await send("GET", "/v1/documents?namespace=nowhere", ADMIN), 404, "namespace_not_found");
    });

    it("a key writes only the namespaces it may write, reads only its tenant's, and never replaces a user's document", async () => {
        const doc = { documents: [{ id: "x", text: "forged" }] };
        expectError(await send("POST", "/v1/documents", READER, { namespace: "kb", ...doc }), 403, "forbidden", 'This API key may not write documents to the namespace "kb"', "namespace");
        expectError(await send("DELETE", "/v1/documents", READER, { namespace: "kb", ids: ["x"] }), 403, "forbidden", 'This API key may not write documents to the namespace "kb"', "namespace");
        expectError(await send("POST", "/v1/documents", WRITER, { namespace: "other", ...doc }), 403, "forbidden", 'This API key may not write documents to the namespace "other"', "namespace");
        expectError(await send("POST", "/v1/documents", ADMIN, { namespace: "memories", ...doc }), 403, "forbidden", /holds users' memories/, "namespace");

        const bobs = await send("POST", "/v1/documents", OTHER, { namespace: "other", documents: [{ id: "b1", text: "Bob's tenant notes" }] });
        expect(bobs.status, JSON.stringify(bobs.body)).toBe(200);
        expectError(await list("other", WRITER), 403, "forbidden", 'This API key may not list the documents of the namespace "other"', "namespace");
        expectError(await list("kb", OTHER), 403, "forbidden", 'This API key may not list the documents of the namespace "kb"', "namespace");
        expectError(await send("DELETE", "/v1/documents", WRITER, { namespace: "other", ids: ["b1"] }), 403, "forbidden", undefined, "namespace");
        expect(ids(await list("other", OTHER))).toEqual(["b1"]);

        // "kb" holds a document of the user bob: the writer (alice's tenant) neither sees, replaces nor deletes it. Ids
        // are per user, and documents written over HTTP belong to no user: the same id is another document.
        const bobsText = async () => (await list("kb", ADMIN)).body.data.filter((item: { id: string }) => item.id === "bob-doc").map((item: { text: string }) => item.text).sort();
        expect(ids(await list("kb", WRITER))).not.toContain("bob-doc");
        expect(await bobsText()).toEqual(["Bob's private bank document"]);
        const same = await send("POST", "/v1/documents", WRITER, { namespace: "kb", documents: [{ id: "bob-doc", text: "overwritten" }] });
        expect(same.body).toMatchObject({ written: 1 });
        expect((await list("kb", WRITER)).body.data.filter((item: { id: string }) => item.id === "bob-doc").map((item: { text: string }) => item.text)).toEqual(["overwritten"]);
        expect(await bobsText()).toEqual(["Bob's private bank document", "overwritten"]);
        expect((await send("DELETE", "/v1/documents", WRITER, { namespace: "kb", ids: ["bob-doc"] })).body.deleted).toEqual(["bob-doc"]);
        expect(await bobsText()).toEqual(["Bob's private bank document"]);
        expect(texts(await search("bank document"))).not.toContain("Bob's private bank document");
    });

    it("streams progress as NDJSON: a line per batch, then the result", async () => {
        const documents = Array.from({ length: 20 }, (_, i) => ({ id: `p${i}`, text: `Progress document number ${i} about topic ${i % 3}` }));
        const { status, type, lines } = await ndjson({ namespace: "progress", documents, batch_size: 5 }, ADMIN);
        expect(status).toBe(200);
        expect(type).toMatch(/^application\/x-ndjson/);
        const progress = lines.filter((line) => line.object === "index.progress");
        expect(progress.filter((line) => line.phase === "checking").length).toBe(1);
        const embedding = progress.filter((line) => line.phase === "embedding");
        expect(embedding.map((line) => line.done)).toEqual([5, 10, 15, 20]);
        expect(embedding.every((line) => line.total === 20)).toBe(true);
        expect(progress.filter((line) => line.phase === "building-index").length).toBe(1);
        expect(lines.at(-1)).toMatchObject({ object: "index.result", namespace: "progress", total: 20, written: 20 });
        expect(lines.length).toBe(progress.length + 1);

        // Errors before any work are ordinary answers, not stream lines.
        const refused = await fetch(url("/v1/documents"), {
            method: "POST",
            headers: { ...as(READER), "content-type": "application/json", accept: "application/x-ndjson" },
            body: JSON.stringify({ namespace: "kb", documents }),
        });
        expect(refused.status).toBe(403);
    });

    it("a client that disconnects mid-batch stops the work and leaves only whole batches", async () => {
        const batchSize = 4;
        const documents = Array.from({ length: 200 }, (_, i) => ({ id: `d${String(i).padStart(3, "0")}`, text: `Disconnect document ${i}: ${"words ".repeat(i % 7)}` }));
        const { lines } = await ndjson({ namespace: "bulk", documents, batch_size: batchSize }, ADMIN, (line) => line.phase === "embedding");
        expect(lines.at(-1)).toMatchObject({ object: "index.progress", phase: "embedding", done: batchSize });
        // Wait for the server to notice and stop: the count stays the same.
        let count = -1;
        for (let previous = -2; count !== previous;) {
            previous = count;
            await new Promise((resolve) => setTimeout(resolve, 300));
            count = ids(await list("bulk")).length;
        }
        expect(count).toBeGreaterThanOrEqual(batchSize);
        expect(count).toBeLessThan(documents.length);
        expect(count % batchSize).toBe(0);
        expect(ids(await list("bulk")).sort()).toEqual(documents.slice(0, count).map((document) => document.id));
    });

    it("the request time limit stops the work: a 503 timeout line, and only whole batches written", async () => {
        const timed = await startFixtureServer({ embedder, database: "memory", requestTimeoutMs: 1000 });
        try {
            const at = (path: string) => `${timed.url}${path}`;
            // Opening the in-memory store may itself take longer than the limit: the first requests wait for it.
            let warm = 0;
            for (let attempt = 0; attempt < 20 && warm !== 200; attempt++) {
                warm = (await postJson(at("/v1/documents"), { namespace: "slow", documents: [{ id: "warm", text: "warm up" }] })).status;
            }
            expect(warm).toBe(200);
            const batchSize = 2;
            const documents = Array.from({ length: 600 }, (_, i) => ({ id: `t${String(i).padStart(3, "0")}`, text: `Timed document ${i}: ${"more words ".repeat(i % 11)}` }));
            const response = await fetch(at("/v1/documents"), {
                method: "POST",
                headers: { "content-type": "application/json", accept: "application/x-ndjson" },
                body: JSON.stringify({ namespace: "slow", documents, batch_size: batchSize }),
            });
            expect(response.status).toBe(200);
            const lines = (await response.text()).trim().split("\n").map((line) => JSON.parse(line));
            expect(lines.at(-1)).toMatchObject({ object: "error", status: 503, error: { code: "timeout" } });
            expect(lines.filter((line) => line.phase === "embedding").length).toBeGreaterThan(0);
            let count = -1;
            for (let previous = -2; count !== previous;) {
                previous = count;
                await new Promise((resolve) => setTimeout(resolve, 300));
                count = ((await (await fetch(at("/v1/documents?namespace=slow&limit=10000"))).json()) as { data: unknown[] }).data.length - 1; // less "warm"
            }
            expect(count).toBeLessThan(documents.length);
            expect(count % batchSize).toBe(0);
        } finally {
            await timed.close();
        }
    });

    it("stores the vectors the library's embedDocuments gives", async () => {
        const texts = ["Vectors stored over HTTP", "are the library's own"];
        const added = await send("POST", "/v1/documents", ADMIN, { namespace: "vectors", documents: texts.map((text) => ({ text })) });
        expect(added.status).toBe(200);
        await server!.close(); // the embedded store is the server's until then
        server = undefined;
        const store = await openStore({ database: directory });
        try {
            const stored = await store.get("vectors", added.body.ids, { withEmbeddings: true });
            const { embeddings } = await embedder.embedDocuments(texts);
            expect(stored.map((item) => item.text)).toEqual(texts);
            stored.forEach((item, i) => expect(Array.from(item.embedding!)).toEqual(Array.from(embeddings[i] as Float32Array)));
        } finally {
            await store.close();
        }
    });
});
