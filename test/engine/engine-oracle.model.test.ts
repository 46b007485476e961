/**
 * The engine against the independent float64 reference (test/reference/), on the tiny F32 fixtures and real text.
 * Token sequences are built here by hand (the Qwen3 facade builds them in the library); what is checked is the
 * engine: batching, long sequences across several decodes, output-row mapping, both reranker flavours.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cosineSimilarity } from "../../src/index.js";
import { loadEngineModel, type EngineContext, type EngineModel } from "../../src/exports/engine.js";
import { ensureFixtureModel } from "../fixtures/qwen3-fixture.js";
import { loadQwen3Reference, type Qwen3ReferenceModel } from "../reference/qwen3-reference.js";
import { loadTestCorpus } from "../support/corpus.js";

const END_OF_TEXT = 151643;
const MAX_TOKENS = 3000; // keeps the float64 reference quick; still longer than several physical batches
const BATCH_TOKENS = 256;

const RERANK_PREFIX =
    '<|im_start|>system\nJudge whether the Document meets the requirements based on the Query and the Instruct provided. Note that the answer can only be "yes" or "no".<|im_end|>\n<|im_start|>user\n';
const RERANK_SUFFIX = "<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n";
const INSTRUCTION = "Given a web search query, retrieve relevant passages that answer the query";


function maxAbsDifference(a: Float32Array, b: Float32Array): number {
    return a.reduce((max, value, i) => Math.max(max, Math.abs(value - b[i]!)), 0);
}

function row(matrix: Float32Array, index: number, width: number): Float32Array {
    return matrix.subarray(index * width, (index + 1) * width);
}

const corpus = loadTestCorpus();

describe("embedding: engine vs float64 reference", () => {
    let model: EngineModel;
    let context: EngineContext;
    let oracle: Qwen3ReferenceModel;
    let sequences: Int32Array[];

    beforeAll(async () => {
        const path = await ensureFixtureModel({ kind: "embedding", size: "tiny" });
        model = await loadEngineModel(path);
        context = await model.createContext({ batchTokens: BATCH_TOKENS, contextSize: 4096 });
        oracle = await loadQwen3Reference(path);
        const tokenized = await model.tokenize(corpus.map((item) => item.text), { special: false });
        sequences = tokenized.map((ids) => Int32Array.from([...ids.subarray(0, MAX_TOKENS - 1), END_OF_TEXT]));
    });
    afterAll(() => {
        context?.dispose();
        model?.dispose();
        oracle?.close();
    });

    it("matches at cosine >= 0.99999 on every text of the real corpora, long ones spanning several decodes", async () => {
        expect(corpus.length).toBeGreaterThanOrEqual(50);
        expect(sequences.some((sequence) => sequence.length > 4 * BATCH_TOKENS)).toBe(true);
        expect(sequences.some((sequence) => sequence.length <= 2)).toBe(true);
        const hidden = await context.embedBatch(sequences);
        const width = context.embeddingSize;
        let worst = { cosine: 1, id: "" };
        sequences.forEach((sequence, index) => {
            const similarity = cosineSimilarity(row(hidden, index, width), oracle.lastHiddenState(Array.from(sequence)));
            if (similarity < worst.cosine) worst = { cosine: similarity, id: corpus[index]!.id };
        });
        console.log(`embedding: worst cosine ${worst.cosine.toFixed(9)} (${worst.id}) over ${sequences.length} texts`);
        expect(worst.cosine).toBeGreaterThanOrEqual(0.99999);
    });

    it("is batch invariant: a text alone and inside a batch of 64 mixed-length texts", async () => {
        const batch = Array.from({ length: 64 }, (_, i) => sequences[i % sequences.length]!);
        const together = await context.embedBatch(batch);
        const width = context.embeddingSize;
        for (const index of [0, 7, 31, 40, 63]) {
            const alone = await context.embedBatch([batch[index]!]);
            expect(cosineSimilarity(alone, row(together, index, width))).toBeGreaterThanOrEqual(0.99999);
        }
    });

    it("gives a text the same bits alone and behind any neighbours (CPU: no result depends on the batch)", async () => {
        // Across the engine's thresholds: 16 tokens (up to which sequences are packed unaligned), 64 (from which
        // they are decoded alone with flash attention), a decode's size (fed in chunks); behind neighbours of 1..15
        // tokens, so packed sequences start at every cell offset, and among 30 texts of mixed lengths. Packed
        // sequences match to the last bit on quantized weights (the 0.6B Q8_0 fixture, `npm run bench`); on this
        // fixture's F32 weights ggml's matrix kernels differ in the last bit with the decode's token count.
        expect(model.library.gpuOffloadSupported).toBe(false);
        const text = sequences.find((sequence) => sequence.length > 700)!;
        const neighbours = Array.from({ length: 15 }, (_, i) => text.subarray(200, 201 + i));
        const mixed = sequences.slice(0, 30);
        const width = context.embeddingSize;
        const expectSame = (batched: Float32Array, alone: Float32Array, length: number) => {
            if (length >= 64) expect({ length, maxDifference: maxAbsDifference(batched, alone) }).toEqual({ length, maxDifference: 0 });
            else expect(cosineSimilarity(batched, alone)).toBeGreaterThanOrEqual(0.999999);
        };
        const lengths = [5, 16, 17, 40, 63, 64, 65, 300, 700];
        const tested = lengths.map((length) => text.subarray(text.length - length));
        // All of them in one batch among the 30 mixed texts (each also has the others for neighbours): one large batch
        // instead of one per length, the same check.
        const amongMany = await context.embedBatch([...mixed.slice(0, 15), ...tested, ...mixed.slice(15)]);
        for (const [index, length] of lengths.entries()) {
            const sequence = tested[index]!;
            const alone = await context.embedBatch([sequence]);
            for (const neighbour of [neighbours[0]!, neighbours[6]!, neighbours[14]!]) {
                const packed = await context.embedBatch([neighbour, sequence, neighbours[3]!]);
                expectSame(row(packed, 1, width), alone, length);
            }
            expectSame(row(amongMany, 15 + index, width), alone, length);
        }
    });

    it("maps output rows to sequences exactly, whatever the order and packing", async () => {
        const picked = sequences.slice(0, 24);
        const order = picked.map((_, i) => i).sort((a, b) => ((a * 7919) % 24) - ((b * 7919) % 24));
        const forward = await context.embedBatch(picked);
        const shuffled = await context.embedBatch(order.map((i) => picked[i]!));
        const width = context.embeddingSize;
        order.forEach((original, position) => {
            expect(cosineSimilarity(row(shuffled, position, width), row(forward, original, width))).toBeGreaterThanOrEqual(0.99999);
            // and never closer to a different sequence than to its own
            const other = (original + 1) % picked.length;
            expect(cosineSimilarity(row(shuffled, position, width), row(forward, other, width))).toBeLessThan(0.999);
        });
    });

    it("agrees with llama.cpp's own embedding mode and LAST pooling (the path the fast path replaces)", async () => {
        // The fast path decodes 64 tokens or more with flash attention and shorter sequences without it (see
        // BatchContext::create); llama.cpp's pooling gets each sequence alone, with the same attention kernel.
        const picked = sequences.filter((sequence) => sequence.length <= 512).slice(0, 12);
        expect(picked.some((sequence) => sequence.length < 64) && picked.some((sequence) => sequence.length >= 64)).toBe(true);
        const pooledFlash = await model.createContext({ batchTokens: 512, contextSize: 1024, llamaPooling: true, flashAttention: true });
        const pooledPlain = await model.createContext({ batchTokens: 512, contextSize: 1024, llamaPooling: true, flashAttention: false });
        const fastContext = await model.createContext({ batchTokens: 512, contextSize: 1024 });
        const fast = await fastContext.embedBatch(picked);
        const width = context.embeddingSize;
        for (const [index, sequence] of picked.entries()) {
            const pooled = await (sequence.length >= 64 ? pooledFlash : pooledPlain).embedBatch([sequence]);
            expect(cosineSimilarity(pooled, row(fast, index, width))).toBeGreaterThanOrEqual(0.9999999);
        }
        pooledFlash.dispose();
        pooledPlain.dispose();
        fastContext.dispose();
    });
});

describe("reranking: both GGUF flavours vs float64 reference", () => {
    let rankModel: EngineModel;
    let causalModel: EngineModel;
    let oracle: Qwen3ReferenceModel;
    let prompts: Int32Array[];
    let expected: number[];

    beforeAll(async () => {
        const rankPath = await ensureFixtureModel({ kind: "reranker-rank", size: "tiny" });
        const causalPath = await ensureFixtureModel({ kind: "reranker-causal", size: "tiny" });
        rankModel = await loadEngineModel(rankPath);
        causalModel = await loadEngineModel(causalPath);
        oracle = await loadQwen3Reference(causalPath);
        const queries = ["What is the meeting about?", "唐诗中的月亮", "How do I unsubscribe from this list?"];
        const documents = corpus.filter((_, index) => index % 3 === 0);
        const [[prefix], [suffix]] = await Promise.all([
            rankModel.tokenize([RERANK_PREFIX], { special: true }),
            rankModel.tokenize([RERANK_SUFFIX], { special: true }),
        ]);
        const bodies = documents.map(
            (document, index) => `<Instruct>: ${INSTRUCTION}\n<Query>: ${queries[index % queries.length]}\n<Document>: ${document.text}`,
        );
        const bodyTokens = await rankModel.tokenize(bodies, { special: false });
        prompts = bodyTokens.map((body) => Int32Array.from([...prefix!, ...body.subarray(0, MAX_TOKENS - 200), ...suffix!]));
        expected = prompts.map((prompt) => oracle.rankScore(Array.from(prompt)));
    });
    afterAll(() => {
        rankModel?.dispose();
        causalModel?.dispose();
        oracle?.close();
    });

    async function scoresOf(model: EngineModel, options: Parameters<EngineModel["createContext"]>[0]) {
        const context = await model.createContext({ batchTokens: BATCH_TOKENS, contextSize: 4096, ...options });
        try {
            return { method: context.info.rankMethod, scores: await context.rankBatch(prompts) };
        } finally {
            context.dispose();
        }
    }

    function worstError(scores: Float32Array): number {
        return Math.max(...expected.map((value, index) => Math.abs(scores[index]! - value)));
    }

    it("exact mode (f32 KV cache): both flavours within 1e-4 of the reference and of each other", async () => {
        expect(prompts.length).toBeGreaterThanOrEqual(15);
        console.log(`rerank reference scores in [${Math.min(...expected).toFixed(3)}, ${Math.max(...expected).toFixed(3)}]`);
        expect(Math.max(...expected) - Math.min(...expected)).toBeGreaterThan(0.1); // scores that mean something
        const rank = await scoresOf(rankModel, { kvCacheType: "f32" });
        const causal = await scoresOf(causalModel, { kvCacheType: "f32" });
        expect(rank.method).toBe("classifier-rows");
        expect(causal.method).toBe("yes-no-logits");
        console.log(`rerank exact mode: worst |score - reference| ${worstError(rank.scores).toExponential(2)} (RANK), ${worstError(causal.scores).toExponential(2)} (causal)`);
        expect(worstError(rank.scores)).toBeLessThanOrEqual(1e-4);
        expect(worstError(causal.scores)).toBeLessThanOrEqual(1e-4);
        prompts.forEach((_, index) => expect(Math.abs(rank.scores[index]! - causal.scores[index]!)).toBeLessThanOrEqual(1e-5));
    });

    // llama.cpp's default f16 KV cache rounds K and V to 11 bits; on these fixtures that moves scores by up to ~1e-3.
    it("default mode (f16 KV cache, flash attention): within 2e-3, flavours agree within 1e-5", async () => {
        const rank = await scoresOf(rankModel, {});
        const causal = await scoresOf(causalModel, {});
        console.log(`rerank default mode: worst |score - reference| ${worstError(rank.scores).toExponential(2)} (RANK), ${worstError(causal.scores).toExponential(2)} (causal)`);
        expect(worstError(rank.scores)).toBeLessThanOrEqual(2e-3);
        expect(worstError(causal.scores)).toBeLessThanOrEqual(2e-3);
        prompts.forEach((_, index) => expect(Math.abs(rank.scores[index]! - causal.scores[index]!)).toBeLessThanOrEqual(1e-5));
    });

    it("agrees with llama.cpp's own RANK pooling", async () => {
        const short = prompts.filter((prompt) => prompt.length <= 512).slice(0, 8);
        const pooledContext = await rankModel.createContext({ batchTokens: 512, contextSize: 1024, llamaPooling: true });
        const fastContext = await rankModel.createContext({ batchTokens: 512, contextSize: 1024 });
        const pooled = await pooledContext.rankBatch(short);
        const fast = await fastContext.rankBatch(short);
        short.forEach((_, index) => expect(Math.abs(pooled[index]! - fast[index]!)).toBeLessThanOrEqual(1e-5));
        pooledContext.dispose();
        fastContext.dispose();
    });
});
