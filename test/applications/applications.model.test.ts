/**
 * Memory, search index, recommender and embedding cache on the tiny fixture models, over both backends (PGlite in
 * this process; `pg` over TCP to PGlite on loopback). Expectations are computed independently from the embedder and
 * reranker themselves (brute-force cosine, direct rerank calls), so the tests check what the applications send to
 * the models and how they combine the answers.
 */
import { closeSync, copyFileSync, openSync, readSync, rmSync, statSync, utimesSync, writeSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AbortedError, DEFAULT_INSTRUCTION, InvalidOptionError, TASK_INSTRUCTIONS, createEmbedder, createReranker, type Embedder, type Reranker } from "../../src/index.js";
import { PREFERENCE_INSTRUCTION, createEmbeddingCache, createMemory, createRecommender, createSearchIndex, documentId, memoryId, modelFingerprint, type IndexProgress, type VectorStore } from "../../src/exports/store.js";
import { ensureFixtureModel } from "../fixtures/qwen3-fixture.js";
import { loadTestCorpus } from "../support/corpus.js";
import { BACKENDS, cosine, startBackend, temporaryDirectory, type StoreBackend } from "./support/store-backends.js";

const MEMORY_INSTRUCTION = "Given a user query, retrieve relevant memories";

const corpus = loadTestCorpus()
    .filter((item) => item.text.trim().length > 1 && item.text.length < 1500)
    .map((item) => item.text);

let embedder: Embedder;
let reranker: Reranker;
let embeddingPath: string;
const parent = temporaryDirectory("qwen3-applications-test-");

beforeAll(async () => {
    embeddingPath = await ensureFixtureModel({ kind: "embedding", size: "tiny" });
    embedder = await createEmbedder({ model: embeddingPath, batchTokens: 256, contextSize: 4096 });
    reranker = await createReranker({ model: await ensureFixtureModel({ kind: "reranker-rank", size: "tiny" }), batchTokens: 512, contextSize: 4096 });
});
afterAll(() => {
    embedder?.dispose();
    reranker?.dispose();
    rmSync(parent, { recursive: true, force: true });
});

const documentsOf = async (texts: string[]) => (await embedder.embedDocuments(texts)).embeddings as Float32Array[];
const queryOf = async (text: string, instruction: string) => (await embedder.embed([text], { instruction })).embeddings[0] as Float32Array;

/** Texts sorted by cosine similarity to the query vector, best first. */
function bruteForce(query: Float32Array, texts: string[], vectors: Float32Array[]): { text: string; score: number }[] {
    return texts.map((text, index) => ({ text, score: cosine(query, vectors[index]!) })).sort((a, b) => b.score - a.score);
}

it("memory-retrieval is the memory instruction, on the query side", () => {
    expect(TASK_INSTRUCTIONS["memory-retrieval"]).toBe(MEMORY_INSTRUCTION);
});

describe.each(BACKENDS)("on %s", (kind) => {
    let backend: StoreBackend;
    let store: VectorStore;

    beforeAll(async () => {
        backend = await startBackend(kind, join(parent, kind));
        store = await backend.open();
    });
    afterAll(async () => {
        await store?.close();
        await backend?.stop();
    });

    describe("memory", () => {
        const alice = corpus.slice(0, 10);
        const bob = [...corpus.slice(5, 15)]; // five texts in common with alice

        it("keeps users apart, searches with the memory instruction on the query side only, reranks on demand", async () => {
            const memory = await createMemory({ embedder, reranker, store });
            const added = await memory.addMany(alice.map((text, index) => ({ text, metadata: { index, user_id: "bob", kind: index % 2 ? "odd" : "even" } })), { userId: "alice" });
            expect(added.map((item) => item.id)).toEqual(alice.map((text) => memoryId("alice", text)));
            for (const text of bob) await memory.add(text, { userId: "bob", metadata: { owner: "bob" } });
            expect(await memory.count({ userId: "alice" })).toBe(10);
            expect(await memory.count({ userId: "bob" })).toBe(10);

            const query = "What did we agree about the meeting next week?";
            const expected = bruteForce(await queryOf(query, MEMORY_INSTRUCTION), alice, await documentsOf(alice));
            const results = await memory.search(query, { userId: "alice", topK: 10 });
            expect(results.map((result) => result.text)).toEqual(expected.map((entry) => entry.text));
            results.forEach((result, index) => {
                expect(result.userId).toBe("alice");
                expect(result.score).toBeCloseTo(expected[index]!.score, 5);
                expect(result.similarity).toBe(result.score);
            });

            // Reranked: the reranker's order of the retrieved candidates, with the memory instruction.
            const reranked = await memory.search(query, { userId: "alice", topK: 3, rerank: true, rerankTopK: 8 });
            const direct = await reranker.rerank(query, expected.slice(0, 8).map((entry) => entry.text), { instruction: MEMORY_INSTRUCTION, topN: 3 });
            expect(reranked.map((result) => result.text)).toEqual(direct.results.map((result) => expected[result.index]!.text));
            reranked.forEach((result, index) => {
                expect(result.score).toBeCloseTo(direct.results[index]!.score, 6);
                expect(result.similarity).toBeCloseTo(expected.find((entry) => entry.text === result.text)!.score, 5);
            });
        });

        it("never returns another user's memories, whatever the filter", async () => {
            const memory = await createMemory({ embedder, store });
            const aliceIds = new Set(alice.map((text) => memoryId("alice", text)));
            const attempts = [
                undefined,
                { user_id: "bob" }, // a metadata key, not the owner column
                { owner: "bob" },
                { $or: [{}, { owner: "bob" }] },
                { $not: { owner: "alice" } },
                { "owner' OR '1'='1": "x" },
                { owner: "bob' OR user_id = 'bob" },
                { "x\") OR TRUE OR (\"": { $exists: false } },
                { kind: { $in: ["odd", "' OR 1=1 --"] } },
            ];
            for (const filter of attempts) {
                const results = await memory.search("meeting", { userId: "alice", topK: 50, ...(filter === undefined ? {} : { filter }) });
                for (const result of results) {
                    expect(result.userId).toBe("alice");
                    expect(aliceIds.has(result.id)).toBe(true);
                }
            }
            expect((await memory.search("meeting", { userId: "alice", topK: 50, filter: { $or: [{}, { owner: "bob" }] } })).length).toBe(10);
            expect((await memory.search("meeting", { userId: "alice", topK: 50, filter: { owner: "bob" } })).length).toBe(0);
            expect((await memory.search("meeting", { userId: "alice' OR user_id <> '", topK: 50 })).length).toBe(0);
            await expect(memory.search("meeting", { userId: "alice", filter: { $where: "user_id = 'bob'" } as never })).rejects.toThrow(
                'Unknown operator "$where" at filter.$where',
            );
        });

        it("lists, gets and deletes only the user's own memories; the same memory twice is stored once", async () => {
            const memory = await createMemory({ embedder, store });
            const shared = memoryId("alice", alice[5]!);
            expect((await memory.list({ userId: "alice", limit: 100 })).every((item) => item.userId === "alice")).toBe(true);
            expect(await memory.get(shared, { userId: "bob" })).toBeUndefined();
            expect(await memory.delete(shared, { userId: "bob" })).toEqual([]);
            expect((await memory.get(shared, { userId: "alice" }))!.text).toBe(alice[5]);
            expect(await memory.delete([shared], { userId: "alice" })).toEqual([shared]);
            expect(await memory.count({ userId: "alice" })).toBe(9);
            expect(await memory.count({ userId: "bob" })).toBe(10); // bob's copy of that text is untouched
            const again = await memory.add(alice[0]!, { userId: "alice", metadata: { index: 0, user_id: "bob", kind: "even" } });
            expect(again.id).toBe(memoryId("alice", alice[0]!));
            expect(await memory.count({ userId: "alice" })).toBe(9);
            const custom = await memory.add("A memory with my own id", { userId: "alice", id: "note-1" });
            expect(custom.id).toBe("note-1");
        });

        it("validates options, naming them", async () => {
            const memory = await createMemory({ embedder, store });
            const cases: [() => Promise<unknown>, string][] = [
                [() => memory.add("text", {} as never), "Expected a user id of 1 to 256 characters without NUL for userId but received undefined"],
                [() => memory.add("   ", { userId: "alice" }), 'Expected a non-empty memory for text but received an empty string'],
                [() => memory.add("text", { userId: "alice", metadata: [] as never }), "Expected a plain object of JSON values for metadata but received an array of length 0"],
                [() => memory.add("text", { userId: "alice", tags: [] } as never), 'Unknown option "tags" in add options; the known options are userId, metadata, id, signal'],
                [() => memory.search("q", { userId: "alice", rerank: true }), "rerank: true needs a reranker; pass one to createMemory({ reranker })"],
                [() => memory.search("q", { userId: "alice", topK: 5, rerankTopK: 2 }), "Expected an integer between 5 and 1000 for rerankTopK but received number 2"],
                [() => memory.search(42 as never, { userId: "alice" }), "Expected a string for query but received number 42"],
                [() => createMemory({ embedder, store: {} as never }), "Expected a store (from openStore) for store but received an object"],
                [() => createMemory({ embedder: "model.gguf" as never, store }), 'Expected an Embedder (from createEmbedder) for embedder but received the string "model.gguf"'],
                [() => createMemory({ embedder, store, dimensions: 32 }), 'Namespace "memories" holds vectors of model'],
            ];
            for (const [call, message] of cases) await expect(call()).rejects.toThrow(message);
        });
    });

    describe("search index", () => {
        // Texts the memory tests did not embed: nothing of these is in the embedding cache yet.
        const documents = corpus.slice(15, 45).map((text, index) => ({ id: `doc-${index}`, text, metadata: { lang: /[\u4e00-\u9fff]/.test(text) ? "zh" : "en", n: index } }));

        it("indexes with progress, retrieves exactly, reranks the retrieved top-k with the reranker", async () => {
            const index = await createSearchIndex({ embedder, reranker, store, namespace: "kb" });
            const progress: IndexProgress[] = [];
            const result = await index.index(documents, { batchSize: 8, onProgress: (update) => progress.push(update) });
            expect(result).toEqual({ total: 30, written: 30, unchanged: 0, embedded: 30, cached: 0, builtVectorIndex: false });
            expect(progress.map((update) => update.phase)).toEqual(["checking", "embedding", "embedding", "embedding", "embedding", "building-index"]);
            expect(progress.filter((update) => update.phase === "embedding").map((update) => update.done)).toEqual([8, 16, 24, 30]);

            const query = "How do I read a file in TypeScript?";
            const vectors = await documentsOf(documents.map((document) => document.text));
            const expected = bruteForce(await queryOf(query, DEFAULT_INSTRUCTION), documents.map((document) => document.text), vectors);
            const plain = await index.search(query, { topK: 5, rerank: false });
            expect(plain.map((hit) => hit.text)).toEqual(expected.slice(0, 5).map((entry) => entry.text));
            plain.forEach((hit, rank) => expect(hit.score).toBeCloseTo(expected[rank]!.score, 5));

            const english = await index.search(query, { topK: 30, rerank: false, filter: { lang: "en" } });
            expect(english.map((hit) => hit.id).sort()).toEqual(documents.filter((document) => document.metadata.lang === "en").map((document) => document.id).sort());

            const reranked = await index.search(query, { topK: 4, rerankTopK: 12 });
            const direct = await reranker.rerank(query, expected.slice(0, 12).map((entry) => entry.text), { topN: 4 });
            expect(reranked.map((hit) => hit.text)).toEqual(direct.results.map((item) => expected[item.index]!.text));
            reranked.forEach((hit, rank) => expect(hit.score).toBeCloseTo(direct.results[rank]!.score, 6));
        });

        it("skips what is indexed unchanged, serves re-indexing elsewhere from the cache, rewrites what changed", async () => {
            const index = await createSearchIndex({ embedder, store, namespace: "kb" });
            expect(await index.index(documents)).toMatchObject({ total: 30, written: 0, unchanged: 30, embedded: 0, cached: 0 });

            const copy = await createSearchIndex({ embedder, store, namespace: "kb-copy" });
            expect(await copy.index(documents.map((document) => document.text))).toMatchObject({ total: 30, written: 30, embedded: 0, cached: 30 });
            expect(copy.cacheStats()).toEqual({ hits: 30, misses: 0 });
            const [original] = await store.get("kb", ["doc-3"], { withEmbeddings: true });
            const [cached] = await store.get("kb-copy", [documentId(documents[3]!.text)], { withEmbeddings: true });
            expect(cached!.embedding).toEqual(original!.embedding);

            const changed = documents.map((document, position) => (position === 2 ? { ...document, text: document.text + " (edited)" } : position === 4 ? { ...document, metadata: { ...document.metadata, n: -1 } } : document));
            expect(await index.index(changed)).toMatchObject({ written: 2, unchanged: 28, embedded: 1, cached: 1 });
            expect((await index.get(["doc-2"]))[0]!.text).toMatch(/\(edited\)$/);
            expect(await index.delete(["doc-2", "missing"])).toEqual(["doc-2"]);
            expect(await index.count()).toBe(29);
        });

        it("can defer the HNSW index during a load and builds it at the end; honours an aborted signal", async () => {
            const index = await createSearchIndex({ embedder, store, namespace: "bulk" });
            const result = await index.index(corpus.slice(0, 12), { deferIndex: true });
            expect(result).toMatchObject({ written: 12, builtVectorIndex: true });
            expect((await store.stats()).namespaces.find((ns) => ns.name === "bulk")).toMatchObject({ items: 12, hasVectorIndex: true });
            const controller = new AbortController();
            controller.abort();
            await expect(index.index(corpus.slice(12, 20), { signal: controller.signal })).rejects.toThrow(AbortedError);
            expect(await index.count()).toBe(12);
            await expect(createSearchIndex({ embedder, store, namespace: "never-indexed", create: false })).rejects.toMatchObject({ reason: "namespace_not_found" });
            await expect(index.index([{ text: "x", id: 7 as never }])).rejects.toThrow("Expected an id of 1 to 512 characters without NUL for documents[0].id but received number 7");
            await expect(index.index(["fine", ""])).rejects.toThrow("Expected a non-empty text for documents[1] but received an empty string");
            await expect(index.search("q", { topK: 3, rerank: true })).rejects.toThrow("rerank: true needs a reranker; pass one to createSearchIndex({ reranker })");
        });
    });

    describe("recommender", () => {
        const catalogue = corpus.slice(0, 24);

        it("finds similar items among ad-hoc strings and in the catalogue", async () => {
            const recommender = await createRecommender({ embedder, store });
            const vectors = await documentsOf(catalogue);
            const [target] = await documentsOf([catalogue[3]!]);
            const adHoc = await recommender.findSimilar(catalogue[3]!, catalogue.slice(10), { topK: 5 });
            const expectedAdHoc = bruteForce(target!, catalogue.slice(10), vectors.slice(10)).slice(0, 5);
            expect(adHoc.map((item) => item.text)).toEqual(expectedAdHoc.map((entry) => entry.text));
            expect(adHoc.map((item) => item.index)).toEqual(expectedAdHoc.map((entry) => catalogue.slice(10).indexOf(entry.text)));

            await recommender.index(catalogue.map((text, index) => ({ id: `item-${index}`, text })));
            const stored = await recommender.findSimilar({ id: "item-3" }, undefined, { topK: 5 });
            const expectedStored = bruteForce(target!, catalogue, vectors).filter((entry) => entry.text !== catalogue[3]).slice(0, 5);
            expect(stored.map((item) => item.id)).toEqual(expectedStored.map((entry) => `item-${catalogue.indexOf(entry.text)}`));
            stored.forEach((item, rank) => expect(item.score).toBeCloseTo(expectedStored[rank]!.score, 5));
            const mixed = await recommender.findSimilar("an ad-hoc query text", [{ id: "item-1" }, "an ad-hoc candidate", { text: "another", id: "x", metadata: { a: 1 } }]);
            expect(mixed.map((item) => item.index).sort()).toEqual([0, 1, 2]);
            expect(mixed.find((item) => item.index === 2)).toMatchObject({ id: "x", metadata: { a: 1 }, text: "another" });
        });

        it("recommends by the mean or the closest preference, with MMR diversity", async () => {
            const recommender = await createRecommender({ embedder, store });
            const preferences = ["I love classical Chinese poetry about the moon", "Technical discussions about Linux servers"];
            const prefVectors = (await embedder.embed(preferences, { instruction: PREFERENCE_INSTRUCTION })).embeddings as Float32Array[];
            const candidates = catalogue.slice(0, 16);
            const vectors = await documentsOf(candidates);
            const meanVector = prefVectors[0]!.map((value, index) => value + prefVectors[1]![index]!);

            const mean = await recommender.recommend(preferences, candidates, { topK: 6, strategy: "mean" });
            const expectedMean = bruteForce(meanVector, candidates, vectors).slice(0, 6);
            expect(mean.map((item) => item.text)).toEqual(expectedMean.map((entry) => entry.text));
            mean.forEach((item, rank) => expect(item.score).toBeCloseTo(expectedMean[rank]!.score, 5));

            const relevanceMax = vectors.map((vector) => Math.max(cosine(vector, prefVectors[0]!), cosine(vector, prefVectors[1]!)));
            const max = await recommender.recommend(preferences, candidates, { topK: 6, strategy: "max" });
            const expectedMax = candidates.map((text, index) => ({ text, score: relevanceMax[index]! })).sort((a, b) => b.score - a.score).slice(0, 6);
            expect(max.map((item) => item.text)).toEqual(expectedMax.map((entry) => entry.text));

            // MMR, recomputed here the naive way.
            const lambda = 0.6;
            const picked: number[] = [];
            while (picked.length < 6) {
                let best = -1;
                let bestValue = -Infinity;
                candidates.forEach((_, index) => {
                    if (picked.includes(index)) return;
                    const redundancy = picked.length === 0 ? 0 : Math.max(...picked.map((other) => cosine(vectors[index]!, vectors[other]!)));
                    const value = (1 - lambda) * relevanceMax[index]! - lambda * redundancy;
                    if (value > bestValue) [best, bestValue] = [index, value];
                });
                picked.push(best);
            }
            const diverse = await recommender.recommend(preferences, candidates, { topK: 6, strategy: "max", diversity: lambda });
            expect(diverse.map((item) => item.index)).toEqual(picked);
            expect(diverse.map((item) => item.index)).not.toEqual(max.map((item) => item.index));

            // From the catalogue: liked items are left out.
            const fromCatalogue = await recommender.recommend([{ id: "item-2" }, preferences[0]!], undefined, { topK: 5 });
            expect(fromCatalogue.length).toBe(5);
            expect(fromCatalogue.map((item) => item.id)).not.toContain("item-2");
        });

        it("validates its options", async () => {
            const recommender = await createRecommender({ embedder, store });
            const standalone = await createRecommender({ embedder });
            const cases: [() => Promise<unknown>, string][] = [
                [() => recommender.recommend(["x"], ["y"], { strategy: "median" as never }), 'Expected one of "mean", "max" for strategy but received the string "median"'],
                [() => recommender.recommend(["x"], ["y"], { diversity: 2 }), "Expected a number between 0 and 1 for diversity but received number 2"],
                [() => recommender.recommend([], ["y"]), "Expected at least one preference for preferences but received an empty array"],
                [() => recommender.findSimilar({ id: "no-such-item" }, ["y"]), 'query names 1 id(s) not in namespace "items": "no-such-item"'],
                [() => recommender.findSimilar(5 as never, ["y"]), "Expected a string, { id } or { text } for query but received number 5"],
                [() => standalone.findSimilar({ id: "item-1" }, ["y"]), "query names stored items by id, which needs a store; pass one to createRecommender({ store })"],
                [() => standalone.findSimilar("x"), "Searching the catalogue needs a store"],
            ];
            for (const [call, message] of cases) await expect(call()).rejects.toThrow(message);
            expect((await standalone.findSimilar("x", ["y", "z"])).length).toBe(2);
        });
    });
});

describe("embedding cache and model fingerprint", () => {
    it("counts hits and misses and answers repeated texts once", async () => {
        const backend = await startBackend("pglite", join(parent, "cache"));
        const store = await backend.open();
        try {
            const cache = await createEmbeddingCache({ embedder, store, dimensions: 32 });
            const first = await cache.embedDocuments(["alpha", "beta", "alpha"]);
            expect(first).toMatchObject({ cached: 0, embedded: 2 });
            expect(first.embeddings[0]).toEqual(first.embeddings[2]);
            // Batch composition moves the last bits (exact within one call, close across calls).
            const direct = await embedder.embedDocuments(["alpha"], { dimensions: 32 });
            expect(cosine(first.embeddings[0]!, direct.embeddings[0]!)).toBeGreaterThan(0.99999);
            const second = await cache.embedDocuments(["beta", "gamma"]);
            expect(second).toMatchObject({ cached: 1, embedded: 1 });
            const query = await cache.embedQuery("alpha", { instruction: MEMORY_INSTRUCTION }); // another key: a miss
            expect(cosine(query, (await embedder.embed(["alpha"], { task: "memory-retrieval", dimensions: 32 })).embeddings[0]!)).toBeGreaterThan(0.99999);
            expect(cosine(query, first.embeddings[0]!)).toBeLessThan(0.9999); // the instruction changed the vector
            expect(cache.stats()).toEqual({ hits: 1, misses: 4 });
            // Another process (another cache object) finds them in the store.
            const later = await createEmbeddingCache({ embedder, store, dimensions: 32 });
            expect(await later.embedDocuments(["alpha", "beta", "gamma"])).toMatchObject({ cached: 3, embedded: 0 });
            await expect(createEmbeddingCache({ embedder, store, dimensions: 16 })).rejects.toThrow("Expected an integer between 32 and 64 for dimensions but received number 16");
        } finally {
            await store.close();
        }
    });

    it("tells model files apart by header and sampled weights, not by path", async () => {
        const fingerprint = await modelFingerprint(embeddingPath);
        expect(fingerprint).toMatch(/^gguf-sha256:[0-9a-f]{64}$/);
        expect(await modelFingerprint(embeddingPath)).toBe(fingerprint);
        expect(await modelFingerprint(await ensureFixtureModel({ kind: "embedding", size: "tiny", addEos: true }))).not.toBe(fingerprint);
        const copy = join(parent, "copy.gguf");
        copyFileSync(embeddingPath, copy);
        expect(await modelFingerprint(copy)).toBe(fingerprint);
        // Weights changed past the header (1 MiB in the middle, as a fine-tune changes every tensor): same size, same header.
        const size = statSync(copy).size;
        const start = Math.floor(size / 2);
        const region = Buffer.alloc(1 << 20);
        const fd = openSync(copy, "r+");
        readSync(fd, region, 0, region.length, start);
        for (let index = 0; index < region.length; index++) region[index] = region[index]! ^ 0x01;
        writeSync(fd, region, 0, region.length, start);
        closeSync(fd);
        const later = new Date(Date.now() + 5_000);
        utimesSync(copy, later, later);
        expect(await modelFingerprint(copy)).not.toBe(fingerprint);
        await expect(modelFingerprint(join(parent, "missing.gguf"))).rejects.toThrow(/Cannot read the model file/);
    });
});

it("error classes: bad options are InvalidOptionError", async () => {
    await expect(createSearchIndex({ embedder, store: undefined as never })).rejects.toThrow(InvalidOptionError);
});
