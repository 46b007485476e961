import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InvalidOptionError, RERANK_PREFIX, RERANK_SUFFIX, createReranker, formatRerankBody, type Reranker } from "../../src/index.js";
import { formatRerankHead } from "../../src/format/rerank-prompt.js";
import { buildFixtureMetadata, buildFixtureTensors, ensureFixtureModel } from "../fixtures/qwen3-fixture.js";
import { writeGguf } from "../fixtures/gguf-writer.js";
import { loadQwen3Reference, type Qwen3ReferenceModel } from "../reference/qwen3-reference.js";
import { referenceTokenize } from "../support/hf-tokenizer.js";
import { loadTestCorpus } from "../support/corpus.js";

const WEB_SEARCH = "Given a web search query, retrieve relevant passages that answer the query";
const prefix = referenceTokenize(RERANK_PREFIX);
const suffix = referenceTokenize(RERANK_SUFFIX);

/** The official prompt, tokenized independently: prefix + tokens(body as ONE string) + suffix, body cut from its end. */
function expectedPrompt(query: string, document: string, instruction = WEB_SEARCH, maxTokens = 8192): number[] {
    const body = referenceTokenize(formatRerankBody(instruction, query, document));
    return [...prefix, ...body.slice(0, maxTokens - prefix.length - suffix.length), ...suffix];
}

const documents = loadTestCorpus().filter((item) => item.text.length < 2500).slice(0, 12).map((item) => item.text);
const query = "How do I unsubscribe from this mailing list?";

let oracle: Qwen3ReferenceModel;
let rank: Reranker;
let causal: Reranker;

beforeAll(async () => {
    const rankPath = await ensureFixtureModel({ kind: "reranker-rank", size: "tiny" });
    const causalPath = await ensureFixtureModel({ kind: "reranker-causal", size: "tiny" });
    // f32 KV cache: the exact mode, so scores can be held to 1e-4 of the float64 reference.
    rank = await createReranker({ model: rankPath, kvCacheType: "f32", batchTokens: 512 });
    causal = await createReranker({ model: causalPath, kvCacheType: "f32", batchTokens: 512 });
    oracle = await loadQwen3Reference(causalPath);
});
afterAll(() => {
    rank?.dispose();
    causal?.dispose();
    oracle?.close();
});

describe("the Qwen3 reranker contract", () => {
    it("detects the GGUF flavour from its metadata", () => {
        expect(rank.flavour).toBe("rank-classifier");
        expect(causal.flavour).toBe("causal-lm");
    });

    it("says which KV cache precision it runs with", () => {
        expect(rank.kvCacheType).toBe("f32");
        expect(causal.kvCacheType).toBe("f32");
    });

    it("scores p(yes) of the official prompt within 1e-4 of the reference, with either flavour", async () => {
        const expected = documents.map((document) => oracle.rankScore(expectedPrompt(query, document)));
        for (const reranker of [rank, causal]) {
            const scores = await reranker.score(documents.map((document) => [query, document] as const));
            scores.forEach((score, index) => {
                expect(score).toBeGreaterThanOrEqual(0);
                expect(score).toBeLessThanOrEqual(1);
                expect(Math.abs(score - expected[index]!)).toBeLessThanOrEqual(1e-4);
            });
        }
    });

    it("tokenizes the body as one string and counts the tokens it evaluated", async () => {
        const result = await rank.rerank(query, documents);
        const expectedTotal = documents.reduce((sum, document) => sum + expectedPrompt(query, document).length, 0);
        expect(result.totalTokens).toBe(expectedTotal);
    });

    it("truncates only the document's tail so prefix and suffix stay whole", async () => {
        const long = documents.reduce((a, b) => (a.length > b.length ? a : b));
        const maxTokens = prefix.length + suffix.length + 40;
        const prompt = expectedPrompt(query, long, WEB_SEARCH, maxTokens);
        expect(prompt.length).toBe(maxTokens);
        const [score] = await rank.score([[query, long]], { maxTokens });
        expect(Math.abs(score! - oracle.rankScore(prompt))).toBeLessThanOrEqual(1e-4);
        const result = await rank.rerank(query, [long], { maxTokens });
        expect(result.totalTokens).toBe(maxTokens);
    });

    it("uses a custom instruction", async () => {
        const instruction = "Given a complaint, find the reply that resolves it";
        const [score] = await causal.score([[query, documents[0]!]], { instruction });
        expect(Math.abs(score! - oracle.rankScore(expectedPrompt(query, documents[0]!, instruction)))).toBeLessThanOrEqual(1e-4);
    });

    it("sorts best first, honours topN and returnDocuments", async () => {
        const all = await rank.rerank(query, documents);
        const scores = all.results.map((item) => item.score);
        expect(scores).toEqual([...scores].sort((a, b) => b - a));
        expect(new Set(all.results.map((item) => item.index)).size).toBe(documents.length);
        const top = await rank.rerank(query, documents, { topN: 3, returnDocuments: true });
        expect(top.results).toHaveLength(3);
        expect(top.results.map((item) => item.index)).toEqual(all.results.slice(0, 3).map((item) => item.index));
        top.results.forEach((item) => expect(item.document).toBe(documents[item.index]));
        expect(all.results[0]!.document).toBeUndefined();
        expect((await rank.rerank(query, [])).results).toEqual([]);
    });

    it("score() takes tuples or objects", async () => {
        const a = await rank.score([[query, documents[1]!]]);
        const b = await rank.score([{ query, document: documents[1]! }]);
        expect(a).toEqual(b);
    });
});

/**
 * What the no-room error says for this query and instruction at this limit, computed independently: the template is
 * everything of the prompt but query and instruction, the head the body up to `<Document>:`.
 */
function noRoomCounts(query: string, instruction: string, maxTokens: number) {
    const head = referenceTokenize(`<Instruct>: ${instruction}\n<Query>: ${query}\n<Document>:`).length;
    const queryTokens = referenceTokenize(query).length;
    const instructionTokens = referenceTokenize(instruction).length;
    const excess = prefix.length + head + suffix.length + 1 - maxTokens;
    return { head, queryTokens, instructionTokens, excess, template: prefix.length + head + suffix.length - queryTokens - instructionTokens };
}

describe("a query or instruction that leaves the document no room", () => {
    it("is refused, naming the query, its token count and the limit, also at the default limit", async () => {
        const long = "word ".repeat(rank.contextSize + 100);
        const counts = noRoomCounts(long, WEB_SEARCH, rank.contextSize);
        const message = `query has ${counts.queryTokens} tokens and instruction ${counts.instructionTokens}: with the rerank prompt's template ` +
            `(${counts.template} tokens) they leave no room for the document within the limit of ${rank.contextSize} tokens per prompt (maxTokens); ` +
            `shorten query to at most ${counts.queryTokens - counts.excess} tokens`;
        for (const reranker of [rank, causal]) {
            const refused = reranker.rerank(long, documents.slice(0, 3));
            await expect(refused).rejects.toThrow(InvalidOptionError);
            await expect(refused).rejects.toThrow(message);
            await expect(refused).rejects.toMatchObject({ code: "ERR_INVALID_OPTION", option: "query" });
        }
        // score() names the pair whose query is at fault.
        await expect(rank.score([[query, documents[0]!], [long, documents[1]!], [long, documents[2]!]])).rejects.toThrow(
            message.replaceAll("query has", "pairs[1] query has").replace("shorten query", "shorten pairs[1] query"),
        );
    });

    it("keeps a prompt with exactly one document token, refuses one with none", async () => {
        const { head } = noRoomCounts(query, WEB_SEARCH, 0);
        const fits = prefix.length + head + suffix.length + 1;
        const result = await rank.rerank(query, documents.slice(0, 2), { maxTokens: fits });
        expect(result.totalTokens).toBe(2 * fits);
        const [score] = await rank.score([[query, documents[0]!]], { maxTokens: fits });
        expect(Math.abs(score! - oracle.rankScore(expectedPrompt(query, documents[0]!, WEB_SEARCH, fits)))).toBeLessThanOrEqual(1e-4);
        const counts = noRoomCounts(query, WEB_SEARCH, fits - 1);
        // The instruction is the longer here, so it is the one named.
        await expect(rank.rerank(query, documents, { maxTokens: fits - 1 })).rejects.toThrow(
            `instruction has ${counts.instructionTokens} tokens and query ${counts.queryTokens}: with the rerank prompt's template (${counts.template} tokens) ` +
            `they leave no room for the document within the limit of ${fits - 1} tokens per prompt (maxTokens); shorten instruction to at most ${counts.instructionTokens - 1} tokens`,
        );
    });

    it("names the instruction when it is the longer, and both when neither alone can make room", async () => {
        const instruction = "Judge the passage carefully. ".repeat(60);
        const counts = noRoomCounts(query, instruction, 256);
        const refused = rank.rerank(query, documents, { instruction, maxTokens: 256 });
        await expect(refused).rejects.toThrow(
            `instruction has ${counts.instructionTokens} tokens and query ${counts.queryTokens}: with the rerank prompt's template (${counts.template} tokens) ` +
            `they leave no room for the document within the limit of 256 tokens per prompt (maxTokens); shorten instruction to at most ${counts.instructionTokens - counts.excess} tokens`,
        );
        await expect(refused).rejects.toMatchObject({ option: "instruction" });

        const longQuery = "word ".repeat(400);
        const both = noRoomCounts(longQuery, instruction, 256);
        expect(both.instructionTokens).toBeLessThan(both.queryTokens);
        expect(both.instructionTokens - both.excess).toBeLessThan(1); // shortening the query alone cannot help
        await expect(rank.rerank(longQuery, documents, { instruction, maxTokens: 256 })).rejects.toThrow(
            `query has ${both.queryTokens} tokens and instruction ${both.instructionTokens}: with the rerank prompt's template (${both.template} tokens) ` +
            `they leave no room for the document within the limit of 256 tokens per prompt (maxTokens); ` +
            `shorten query and instruction to at most ${both.queryTokens + both.instructionTokens - both.excess} tokens together`,
        );
    });
});

describe("long documents in chunks (maxChunksPerDoc, overlapTokens)", () => {
    // A document of several corpus texts with the answer at its end, scored with 64 document tokens per prompt.
    const answer = "To unsubscribe from this mailing list, follow the link at the bottom of any message or write to the list owner.";
    const longDocument = [...documents.slice(0, 3), answer].join("\n\n");
    const head = referenceTokenize(formatRerankHead(WEB_SEARCH, query));
    const body = referenceTokenize(formatRerankBody(WEB_SEARCH, query, longDocument));
    const documentTokens = body.slice(head.length);
    const chunkTokens = 64;
    const maxTokens = prefix.length + head.length + suffix.length + chunkTokens;
    /** The official prompt of document tokens [start, end), built independently, scored by the float64 reference. */
    const referenceChunk = (start: number, end: number) => {
        const prompt = [...prefix, ...head, ...documentTokens.slice(start, end), ...suffix];
        return { length: prompt.length, score: oracle.rankScore(prompt) };
    };

    it("the head's tokens are the body's first tokens, so the document's tokens are what follows them", () => {
        expect(body.slice(0, head.length)).toEqual(head);
        expect(documentTokens.length).toBeGreaterThan(4 * chunkTokens);
    });

    it("scores each chunk as its own prompt and gives the document its best chunk's score, past the first chunk here", async () => {
        // 64 tokens a chunk, 16 shared: chunk k holds document tokens [48k, 48k + 64)
        const chunks: [number, number][] = [];
        for (let start = 0; chunks.length === 0 || chunks.at(-1)![1] < documentTokens.length; start += 48) {
            chunks.push([start, Math.min(start + 64, documentTokens.length)]);
        }
        const expected = chunks.map(([start, end]) => referenceChunk(start, end));
        const scores = expected.map((chunk) => chunk.score);
        const best = scores.indexOf(Math.max(...scores));
        expect(best).toBeGreaterThan(0); // the fixture's best chunk is not the first: the case that chunking changes
        expect(Math.abs(scores[best]! - scores[0]!)).toBeGreaterThan(1e-3);
        for (const reranker of [rank, causal]) {
            const result = await reranker.rerank(query, [longDocument], { maxTokens, maxChunksPerDoc: 1024, overlapTokens: 16, returnDocuments: true });
            expect(Math.abs(result.results[0]!.score - scores[best]!)).toBeLessThanOrEqual(1e-4);
            expect(result.results[0]!.document).toBe(longDocument); // the whole document, not a chunk
            expect(result.totalTokens).toBe(expected.reduce((sum, chunk) => sum + chunk.length, 0));
            // Without chunking the document is its first chunk: cut to fit.
            const [cut] = await reranker.score([[query, longDocument]], { maxTokens });
            expect(Math.abs(cut! - scores[0]!)).toBeLessThanOrEqual(1e-4);
        }
    });

    it("scores at most maxChunksPerDoc chunks: the rest of the document is not scored", async () => {
        const first = referenceChunk(0, 64);
        const second = referenceChunk(64, 128);
        const result = await rank.rerank(query, [longDocument], { maxTokens, maxChunksPerDoc: 2 });
        expect(Math.abs(result.results[0]!.score - Math.max(first.score, second.score))).toBeLessThanOrEqual(1e-4);
        expect(result.totalTokens).toBe(2 * maxTokens);
    });

    it("a document that fits one prompt, or one chunk allowed, scores exactly as without chunking", async () => {
        const pairs = documents.slice(0, 4).map((document) => [query, document] as const);
        const plain = await rank.score(pairs);
        expect(await rank.score(pairs, { maxChunksPerDoc: 8, overlapTokens: 100 })).toEqual(plain);
        const plainResult = await rank.rerank(query, documents.slice(0, 4));
        expect(await rank.rerank(query, documents.slice(0, 4), { maxChunksPerDoc: 8 })).toEqual(plainResult);
        const [cut] = await rank.score([[query, longDocument]], { maxTokens });
        expect(await rank.score([[query, longDocument]], { maxTokens, maxChunksPerDoc: 1, overlapTokens: 500 })).toEqual([cut]);
    });

    it("refuses chunked work larger than the scheduler queues before building it, naming maxChunksPerDoc", async () => {
        const small = await createReranker({ model: rank.modelPath, kvCacheType: "f32", batchTokens: 512, maxQueuedTokens: 4 * maxTokens });
        try {
            // overlap 63 of 64: one more prompt of maxTokens per document token past the first chunk, at most 1024
            expect(documentTokens.length - chunkTokens + 1).toBeGreaterThan(1024);
            const prompts = 1024;
            const refused = small.rerank(query, [longDocument], { maxTokens, maxChunksPerDoc: 1024, overlapTokens: 63 });
            await expect(refused).rejects.toThrow(
                `In chunks, these documents make ${prompts} prompts of ${prompts * maxTokens} tokens, more than the reranker queues (maxQueuedTokens ` +
                `${4 * maxTokens}); send a smaller maxChunksPerDoc, a smaller overlapTokens or fewer documents`,
            );
            await expect(refused).rejects.toMatchObject({ option: "maxChunksPerDoc" });
            expect((await small.rerank(query, [longDocument], { maxTokens, maxChunksPerDoc: 4, overlapTokens: 63 })).totalTokens).toBe(4 * maxTokens);
        } finally {
            await small.close();
        }
    });

    it("refuses an overlap that is not below the document tokens a prompt holds, and checks both options", async () => {
        const refused = rank.rerank(query, [longDocument], { maxTokens, maxChunksPerDoc: 4, overlapTokens: chunkTokens });
        await expect(refused).rejects.toThrow(InvalidOptionError);
        await expect(refused).rejects.toThrow(
            `Expected an integer between 0 and ${chunkTokens - 1} for overlapTokens but received number ${chunkTokens}: each chunk holds ${chunkTokens} document tokens`,
        );
        await expect(refused).rejects.toMatchObject({ option: "overlapTokens" });
        expect((await rank.rerank(query, [longDocument], { maxTokens, maxChunksPerDoc: 4, overlapTokens: chunkTokens - 1 })).totalTokens).toBe(4 * maxTokens);
        await expect(rank.rerank(query, documents, { maxChunksPerDoc: 0 })).rejects.toThrow(
            "Expected an integer between 1 and 9007199254740991 for maxChunksPerDoc but received number 0",
        );
        await expect(rank.score([[query, longDocument]], { overlapTokens: -1 })).rejects.toThrow(
            "Expected an integer between 0 and 9007199254740991 for overlapTokens but received number -1",
        );
    });
});

describe("validation and wrong files", () => {
    it("names the option, the expectation and what it got", async () => {
        await expect(rank.rerank(query, documents, { topN: 0 })).rejects.toThrow(/^Expected an integer between 1 and \d+ for topN but received number 0$/);
        await expect(rank.rerank(query, "doc" as never)).rejects.toThrow('Expected an array of strings for documents but received the string "doc"');
        await expect(rank.rerank(1 as never, documents)).rejects.toThrow("Expected a string for query but received number 1");
        await expect(rank.rerank(query, documents, { maxTokens: 10 })).rejects.toThrow(
            `maxTokens 10 leaves no room for the rerank body: the prompt prefix (${prefix.length} tokens) and suffix (${suffix.length} tokens) take ${prefix.length + suffix.length}; use a maxTokens of at least ${prefix.length + suffix.length + 1}`,
        );
        await expect(rank.rerank(query, documents, { instruction: "" })).rejects.toThrow('Expected a non-empty string for instruction but received the string ""');
        await expect(rank.rerank(query, documents, { top_n: 2 } as never)).rejects.toThrow(/^Unknown option "top_n" in rerank options/);
        await expect(rank.score("x" as never)).rejects.toThrow('Expected an array of [query, document] pairs for pairs but received the string "x"');
        await expect(rank.score([[query, 3 as never]])).rejects.toThrow("Expected a string for pairs[0] document but received number 3");
    });

    it("refuses an embedding model", async () => {
        const path = await ensureFixtureModel({ kind: "embedding", size: "tiny" });
        await expect(createReranker({ model: path })).rejects.toThrow(
            `${path} is an embedding model, not a reranker: use it with createEmbedder(), and rerank with a Qwen3-Reranker GGUF`,
        );
    });

    it("refuses a RANK-pooled file without cls.output and says how to fix it", async () => {
        const dir = await mkdtemp(join(tmpdir(), "qwen3-reranker-"));
        try {
            const spec = { kind: "reranker-rank", size: "tiny" } as const;
            const path = join(dir, "rank-without-cls.gguf");
            await writeGguf(path, buildFixtureMetadata(spec), buildFixtureTensors(spec).filter((tensor) => tensor.name !== "cls.output.weight"));
            await expect(createReranker({ model: path })).rejects.toThrow(
                `${path} uses RANK pooling without cls.output: re-convert it with llama.cpp b6578 or later (convert_hf_to_gguf.py), or use a plain causal-LM conversion of the reranker`,
            );
        } finally {
            await rm(dir, { recursive: true, force: true });
        }
    });

    it("applies a calibration map to every score when created with one, and validates it", async () => {
        const calibration = { type: "qwen3-embedding/score-calibration" as const, version: 1 as const, method: "isotonic" as const, x: [0, 1], y: [0.5, 0.6] };
        const calibrated = await createReranker({ model: rank.modelPath, kvCacheType: "f32", batchTokens: 512, calibration });
        try {
            const pairs = documents.slice(0, 4).map((document) => [query, document] as const);
            const [raw, mapped] = await Promise.all([rank.score(pairs), calibrated.score(pairs)]);
            mapped.forEach((score, index) => expect(score).toBeCloseTo(0.5 + 0.1 * raw[index]!, 5));
            const ranked = await calibrated.rerank(query, documents.slice(0, 4));
            expect(ranked.results.map((item) => item.index)).toEqual((await rank.rerank(query, documents.slice(0, 4))).results.map((item) => item.index));
        } finally {
            await calibrated.close();
        }
        await expect(createReranker({ model: rank.modelPath, calibration: { ...calibration, y: [0.6, 0.5] } as never })).rejects.toThrow(
            "Expected a number of at least y[0] = 0.6 (the map must be monotone) for calibration.y[1] but received number 0.5",
        );
    });

    it("disposes", async () => {
        const own = await createReranker({ model: rank.modelPath, batchTokens: 64 });
        own.dispose();
        await expect(own.rerank(query, ["x"])).rejects.toThrow("The reranker was disposed; create a new one");
    });
});
