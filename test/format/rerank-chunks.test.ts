import { describe, expect, it } from "vitest";
import { countRerankChunks, planRerankChunks } from "../../src/format/rerank-chunks.js";
import { expectInvalidOption } from "./expect-invalid-option.js";

/** [start, end) pairs, easier to read in expectations. */
const spans = (...args: Parameters<typeof planRerankChunks>) => planRerankChunks(...args).map(({ start, end }) => [start, end]);

describe("planRerankChunks (document tokens, chunk size, overlap, max chunks)", () => {
    it("keeps a document that fits one chunk whole, at any overlap or chunk limit", () => {
        expect(spans(10, 10, 0, 5)).toEqual([[0, 10]]);
        expect(spans(10, 10, 9, 1024)).toEqual([[0, 10]]);
        expect(spans(1, 100, 40, 3)).toEqual([[0, 1]]);
        expect(spans(0, 100, 0, 3)).toEqual([[0, 0]]);
    });

    it("without overlap, cuts back to back; the last chunk is what is left", () => {
        expect(spans(25, 10, 0, 10)).toEqual([[0, 10], [10, 20], [20, 25]]);
        expect(spans(30, 10, 0, 10)).toEqual([[0, 10], [10, 20], [20, 30]]);
        expect(spans(11, 10, 0, 10)).toEqual([[0, 10], [10, 11]]);
    });

    it("with overlap, each chunk starts chunk - overlap after the one before and shares overlap tokens with it", () => {
        // stride 7: starts 0, 7, 14; the third ends at the document's end
        expect(spans(20, 10, 3, 10)).toEqual([[0, 10], [7, 17], [14, 20]]);
        // 17 tokens: the second chunk [7, 17) reaches the end, so there is no third one holding only shared tokens
        expect(spans(17, 10, 3, 10)).toEqual([[0, 10], [7, 17]]);
        // the largest overlap: the chunks advance one token at a time
        expect(spans(12, 10, 9, 10)).toEqual([[0, 10], [1, 11], [2, 12]]);
        // chunk size 1, no overlap: one token per chunk
        expect(spans(3, 1, 0, 10)).toEqual([[0, 1], [1, 2], [2, 3]]);
    });

    it("stops at max chunks: the rest of the document is not scored", () => {
        // SiliconFlow's max_chunks_per_doc is the "maximum number of chunks generated from within a document", the
        // document's score "the highest score among the chunks": https://docs.siliconflow.cn/en/api-reference/rerank/create-rerank
        expect(spans(100, 10, 0, 3)).toEqual([[0, 10], [10, 20], [20, 30]]);
        expect(spans(100, 10, 5, 2)).toEqual([[0, 10], [5, 15]]);
        // one chunk allowed: the document's head, cut as without chunking
        expect(spans(100, 10, 0, 1)).toEqual([[0, 10]]);
    });

    it("every chunk after the first holds a token the one before does not, and the chunks cover the document", () => {
        for (const [length, size, overlap] of [[1000, 37, 36], [1000, 37, 0], [999, 100, 50], [101, 100, 99]] as const) {
            const chunks = planRerankChunks(length, size, overlap, Number.MAX_SAFE_INTEGER);
            expect(chunks[0]!.start).toBe(0);
            expect(chunks.at(-1)!.end).toBe(length);
            chunks.forEach((chunk, index) => {
                expect(chunk.end - chunk.start).toBeLessThanOrEqual(size);
                if (index === 0) return;
                expect(chunk.start).toBe(chunks[index - 1]!.start + size - overlap);
                expect(chunk.end).toBeGreaterThan(chunks[index - 1]!.end);
            });
            // how many: 1 + ceil((length - size) / (size - overlap))
            expect(chunks).toHaveLength(1 + Math.ceil((length - size) / (size - overlap)));
        }
    });

    it("countRerankChunks gives the chunks' number and document tokens without making them", () => {
        expect(countRerankChunks(20, 10, 3, 10)).toEqual({ chunks: 3, tokens: 10 + 10 + 6 });
        expect(countRerankChunks(100, 10, 5, 2)).toEqual({ chunks: 2, tokens: 20 });
        expect(countRerankChunks(10, 10, 9, 5)).toEqual({ chunks: 1, tokens: 10 });
        expect(countRerankChunks(0, 10, 0, 5)).toEqual({ chunks: 1, tokens: 0 });
        // a million chunks of one token each, counted at once
        expect(countRerankChunks(1_000_009, 10, 9, Number.MAX_SAFE_INTEGER)).toEqual({ chunks: 1_000_000, tokens: 10_000_000 });
        for (const [length, size, overlap, max] of [[1000, 37, 36, 50], [1000, 37, 0, 1000], [999, 100, 50, 3], [101, 100, 99, 9], [7, 3, 1, 1]] as const) {
            const chunks = planRerankChunks(length, size, overlap, max);
            expect(countRerankChunks(length, size, overlap, max)).toEqual({ chunks: chunks.length, tokens: chunks.reduce((sum, chunk) => sum + chunk.end - chunk.start, 0) });
        }
    });

    it("refuses an overlap that is not below the chunk size when more than one chunk is allowed", () => {
        const message = (overlap: number) =>
            `Expected an integer between 0 and 9 for overlapTokens but received number ${overlap}: each chunk holds 10 document tokens ` +
            "(what the limit of tokens per prompt leaves after the template, instruction and query), and the overlap must be smaller; " +
            "send a smaller overlapTokens or a larger maxTokens";
        expectInvalidOption(() => planRerankChunks(100, 10, 10, 2), message(10));
        expectInvalidOption(() => planRerankChunks(100, 10, 80, 1024), message(80));
        // also when this document would fit one chunk: the request is wrong whatever the document
        expectInvalidOption(() => planRerankChunks(5, 10, 10, 2), message(10));
        // with one chunk allowed the overlap is never used, so it is not checked
        expect(spans(100, 10, 80, 1)).toEqual([[0, 10]]);
    });
});
