/**
 * The shared prefix the short-sequence context keeps (native/prefix-cache.h): Qwen3 queries all start with
 * `Instruct: {instruction}\nQuery`, and a context that has seen two of them keeps their common start (whole groups of
 * 16 tokens) in its KV cache, so the next query decodes only the rest. The contract checked here: the result is the
 * same bits as without the prefix (each query alone in a fresh context, which never keeps one), one by one and in
 * a batch; the prefix is learned from two different texts, never from one text seen twice; and texts that do not
 * start with it are decoded as before.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadEngineModel, type EngineContext, type EngineModel } from "../../src/exports/engine.js";
import { formatQuery } from "../../src/format/embedding-input.js";
import { DEFAULT_INSTRUCTION } from "../../src/format/task-instructions.js";
import { ensureFixtureModel } from "../fixtures/qwen3-fixture.js";
import { loadTestCorpus } from "../support/corpus.js";

const END_OF_TEXT = 151643;
// The facade's context settings: flash attention on the CPU, so texts under 64 tokens take the short context.
const CONTEXT = { batchTokens: 512, contextSize: 1024 };
const QUERIES = [
    "What is the capital of France?",
    "how do whales sleep",
    "Why is the sky blue during the day but red at sunset?",
    "best pizza near me",
    "a",
    "Explain quantum entanglement to a five year old child, with an example of two coins",
];
const DOCUMENT = "Paris is the capital and most populous city of France, with two million residents.";

describe.each(["tiny", "0.6b"] as const)("the kept query prefix on the %s fixture", (size) => {
    let model: EngineModel;
    let queries: Int32Array[];
    let document: Int32Array;
    let width: number;
    const alone: Float32Array[] = [];
    let documentAlone: Float32Array;
    const contexts: EngineContext[] = [];

    const context = async () => {
        const created = await model.createContext(CONTEXT);
        contexts.push(created);
        return created;
    };
    const embedAlone = async (sequence: Int32Array) => {
        const fresh = await context();
        const row = await fresh.embedBatch([sequence]);
        expect(fresh.prefixTokenCount).toBe(0);
        return row;
    };

    beforeAll(async () => {
        model = await loadEngineModel(await ensureFixtureModel({ kind: "embedding", size }));
        const withEnd = (ids: Int32Array) => Int32Array.from([...ids, END_OF_TEXT]);
        queries = (await model.tokenize(QUERIES.map((text) => formatQuery(DEFAULT_INSTRUCTION, text)), { special: false })).map(withEnd);
        document = (await model.tokenize([DOCUMENT], { special: false })).map(withEnd)[0]!;
        for (const query of queries) alone.push(await embedAlone(query));
        documentAlone = await embedAlone(document!);
        width = alone[0]!.length;
    }, 300_000);
    afterAll(async () => {
        for (const created of contexts) await created.dispose();
        await model?.dispose();
    });

    it("builds queries of 17 to 63 tokens that share a start of at least 16 tokens", () => {
        for (const query of queries) {
            expect(query.length).toBeGreaterThan(16);
            expect(query.length).toBeLessThan(64);
            expect(Array.from(query.subarray(0, 16))).toEqual(Array.from(queries[0]!.subarray(0, 16)));
        }
    });

    it("learns the prefix from the second query and decodes only the rest of each later one, with the same bits", async () => {
        const kept = await context();
        const saved: number[] = [];
        const decodes: number[] = [];
        for (const [index, query] of queries.entries()) {
            const [tokensBefore, decodesBefore] = [kept.prefixTokenCount, kept.decodeCount];
            const row = await kept.embedBatch([query]);
            saved.push(kept.prefixTokenCount - tokensBefore);
            decodes.push(kept.decodeCount - decodesBefore);
            expect(row, `query ${index}`).toEqual(alone[index]);
        }
        // The first query has nothing to share yet; the second shares 16 tokens with it (the prefix is decoded once,
        // one more decode); every later one starts with them.
        expect(saved).toEqual([0, 16, 16, 16, 16, 16]);
        expect(decodes).toEqual([1, 2, 1, 1, 1, 1]);
    });

    it("leaves a text that does not start with the prefix as it was, and learns nothing from one text seen twice", async () => {
        const kept = await context();
        await kept.embedBatch([queries[0]!]);
        await kept.embedBatch([queries[1]!]);
        const before = kept.prefixTokenCount;
        expect(before).toBe(16);
        expect(await kept.embedBatch([document!])).toEqual(documentAlone);
        expect(await kept.embedBatch([document!])).toEqual(documentAlone);
        expect(kept.prefixTokenCount).toBe(before);
        // The query prefix is still kept (a text it does not cover does not replace it).
        expect(await kept.embedBatch([queries[2]!])).toEqual(alone[2]);
        expect(kept.prefixTokenCount).toBe(before + 16);
    });

    it("learns the prefix inside one batch and gives every query the bits it has alone", async () => {
        const kept = await context();
        const rows = await kept.embedBatch([...queries, document!]);
        expect(kept.prefixTokenCount).toBe(16 * queries.length);
        queries.forEach((_, index) => {
            const batched = rows.subarray(index * width, (index + 1) * width);
            if (size === "0.6b") {
                expect(batched, `query ${index}`).toEqual(alone[index]);
            } else {
                // F32 weights: one row alone takes ggml_vec_dot_f32, several rows the llamafile sgemm, which sum in
                // another order (test/engine/batch-invariance.model.test.ts); the same bound as there.
                let dot = 0, a2 = 0, b2 = 0;
                for (let i = 0; i < width; i++) {
                    dot += batched[i]! * alone[index]![i]!;
                    a2 += batched[i]! ** 2;
                    b2 += alone[index]![i]! ** 2;
                }
                expect(1 - dot / Math.sqrt(a2 * b2), `query ${index}`).toBeLessThanOrEqual(1e-12);
            }
        });
    });
});

const RERANK_PREFIX =
    '<|im_start|>system\nJudge whether the Document meets the requirements based on the Query and the Instruct provided. Note that the answer can only be "yes" or "no".<|im_end|>\n<|im_start|>user\n';
const RERANK_SUFFIX = "<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n";
// Decodes of 256 tokens: a pair (about 180 tokens) fits with room to spare, and a text of 256 tokens only alone.
const RERANK_CONTEXT = { batchTokens: 256, contextSize: 1024 };

describe.each(["tiny", "0.6b"] as const)("the kept rerank prefix on the %s fixture", (size) => {
    let model: EngineModel;
    let pairs: Int32Array[];
    const alone: number[] = [];
    let prefixLength = 0;
    const contexts: EngineContext[] = [];

    const context = async () => {
        const created = await model.createContext(RERANK_CONTEXT);
        contexts.push(created);
        return created;
    };

    beforeAll(async () => {
        model = await loadEngineModel(await ensureFixtureModel({ kind: "reranker-rank", size }));
        // One query, documents of 100 tokens (a 0.6B decode costs ~100 times a tiny one): every pair shares the system prompt, the instruction and the query.
        const documents = loadTestCorpus().map((item) => item.text).filter((text) => text.length > 400).slice(0, size === "tiny" ? 5 : 3);
        const [[prefix], [suffix]] = await Promise.all([model.tokenize([RERANK_PREFIX], { special: true }), model.tokenize([RERANK_SUFFIX], { special: true })]);
        const bodies = await model.tokenize(documents.map((document) => `<Instruct>: ${DEFAULT_INSTRUCTION}\n<Query>: What is the meeting about?\n<Document>: ${document}`), { special: false });
        pairs = bodies.map((body) => Int32Array.from([...prefix!, ...body.subarray(0, 100), ...suffix!]));
        while (pairs.every((pair) => pair[prefixLength] === pairs[0]![prefixLength])) prefixLength++;
        for (const pair of pairs) {
            const fresh = await context();
            alone.push((await fresh.rankBatch([pair]))[0]!);
            expect(fresh.prefixTokenCount).toBe(0);
        }
    }, 300_000);
    afterAll(async () => {
        for (const created of contexts) await created.dispose();
        await model?.dispose();
    });

    it("decodes the shared start once per call and gives every pair the score it has alone", async () => {
        expect(prefixLength).toBeGreaterThanOrEqual(64);
        const kept = await context();
        const decodesBefore = kept.decodeCount;
        const scores = Array.from(await kept.rankBatch(pairs));
        // Whole groups of 16 tokens of the shared start, leaving each pair 64 tokens or more.
        const saved = Math.floor(prefixLength / 16) * 16;
        expect(kept.prefixTokenCount).toBe(saved * pairs.length);
        expect(kept.decodeCount - decodesBefore).toBe(pairs.length + 1);
        expect(scores).toEqual(alone);
        // Scored again one at a time: the prefix is already kept.
        for (const [index, pair] of pairs.entries()) expect((await kept.rankBatch([pair]))[0]).toBe(alone[index]);
        expect(kept.prefixTokenCount).toBe(2 * saved * pairs.length);
    }, 300_000);

    // The room is the same on both fixtures; the bits of covered pairs on 0.6B are held by the test above (this one
    // costs 45 s there on a slow host).
    it.runIf(size === "tiny")("decodes a sequence the prefix does not cover from cell 0, with every cell of the context free for it", async () => {
        const kept = await context();
        await kept.rankBatch(pairs.slice(0, 2));
        expect(kept.prefixTokenCount).toBeGreaterThan(0);
        // As long as the context's decode (batchTokens): it fits only if the kept prefix gives its cells back.
        const [long] = await model.tokenize([loadTestCorpus().map((item) => item.text).join("\n")], { special: false });
        const other = long!.subarray(0, RERANK_CONTEXT.batchTokens);
        const fresh = await context();
        const score = (await fresh.rankBatch([other]))[0];
        expect((await kept.rankBatch([other]))[0]).toBe(score);
        // The pairs again: the prefix is decoded again and they keep their scores.
        expect(Array.from(await kept.rankBatch(pairs))).toEqual(alone);
    }, 300_000);
});
