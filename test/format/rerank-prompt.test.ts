import { describe, expect, it } from "vitest";
import { MIN_RERANK_DOCUMENT_TOKENS, RERANK_PREFIX, RERANK_SUFFIX, buildRerankSequence, formatRerankBody, formatRerankHead, rerankRoomError } from "../../src/format/rerank-prompt.js";
import { DEFAULT_INSTRUCTION } from "../../src/format/task-instructions.js";
import { expectInvalidOption } from "./expect-invalid-option.js";

const range = (start: number, length: number): Int32Array => Int32Array.from({ length }, (_, i) => start + i);

describe("rerank prompt text", () => {
    it("has the official prefix and suffix, byte for byte", () => {
        expect(RERANK_PREFIX).toBe(
            "<|im_start|>system\nJudge whether the Document meets the requirements based on the Query and the Instruct provided. " +
            'Note that the answer can only be "yes" or "no".<|im_end|>\n<|im_start|>user\n',
        );
        expect(RERANK_SUFFIX).toBe("<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n");
    });

    it("formats the body as one string with single newlines and a space after each colon", () => {
        expect(formatRerankBody(DEFAULT_INSTRUCTION, "What is the capital of China?", "The capital of China is Beijing.")).toBe(
            "<Instruct>: Given a web search query, retrieve relevant passages that answer the query\n" +
            "<Query>: What is the capital of China?\n<Document>: The capital of China is Beijing.",
        );
        expect(formatRerankBody("找诗", "床前明月光", "疑是地上霜")).toBe("<Instruct>: 找诗\n<Query>: 床前明月光\n<Document>: 疑是地上霜");
    });

    it("puts nothing after the document", () => {
        expect(formatRerankBody("i", "q", "")).toBe("<Instruct>: i\n<Query>: q\n<Document>: ");
    });
});

describe("buildRerankSequence", () => {
    const prefix = range(100, 39);
    const suffix = range(900, 9);

    it("joins prefix + body + suffix when the body fits", () => {
        const body = range(500, 20);
        const { tokens, truncated, droppedTokens } = buildRerankSequence(prefix, body, suffix, 8192);
        expect(Array.from(tokens)).toEqual([...prefix, ...body, ...suffix]);
        expect(tokens.length).toBe(68);
        expect(truncated).toBe(false);
        expect(droppedTokens).toBe(0);
    });

    it("keeps a body that exactly fills maxTokens whole", () => {
        const { tokens, truncated } = buildRerankSequence(prefix, range(500, 52), suffix, 100);
        expect(tokens.length).toBe(100);
        expect(truncated).toBe(false);
    });

    it("cuts only the body, from its end, to a total of exactly maxTokens", () => {
        const body = range(500, 80);
        const { tokens, truncated, droppedTokens } = buildRerankSequence(prefix, body, suffix, 100);
        expect(tokens.length).toBe(100);
        expect(Array.from(tokens)).toEqual([...prefix, ...body.subarray(0, 52), ...suffix]);
        expect(Array.from(tokens.subarray(0, 39))).toEqual(Array.from(prefix));
        expect(Array.from(tokens.subarray(-9))).toEqual(Array.from(suffix));
        expect(truncated).toBe(true);
        expect(droppedTokens).toBe(28);
    });

    it("keeps a single body token at the smallest allowed maxTokens", () => {
        const { tokens, droppedTokens } = buildRerankSequence(prefix, range(500, 5), suffix, 49);
        expect(Array.from(tokens)).toEqual([...prefix, 500, ...suffix]);
        expect(droppedTokens).toBe(4);
    });

    it("does not alias the inputs", () => {
        const body = range(500, 3);
        const { tokens } = buildRerankSequence(prefix, body, suffix, 100);
        tokens.fill(0);
        expect(body[0]).toBe(500);
        expect(prefix[0]).toBe(100);
    });

    it("rejects a maxTokens that leaves no room for a body token, with the numbers", () => {
        expectInvalidOption(
            () => buildRerankSequence(prefix, range(500, 5), suffix, 48),
            "maxTokens 48 leaves no room for the rerank body: the prompt prefix (39 tokens) and suffix (9 tokens) take 48; " +
            "use a maxTokens of at least 49",
        );
        expectInvalidOption(
            () => buildRerankSequence(prefix, range(500, 5), suffix, 60.5),
            "maxTokens 60.5 leaves no room for the rerank body: the prompt prefix (39 tokens) and suffix (9 tokens) take 48; " +
            "use a maxTokens of at least 49",
        );
    });
});

describe("rerankRoomError: the document must keep a token", () => {
    const base = { queryName: "query", prefixTokens: 39, suffixTokens: 9, instructionTokens: 15 };

    it("the head is the body up to the document's joining space", () => {
        expect(formatRerankBody("i", "q", "d")).toBe(`${formatRerankHead("i", "q")} d`);
        expect(MIN_RERANK_DOCUMENT_TOKENS).toBe(1);
    });

    it("is undefined while one document token fits, an error naming the longer part once none does", () => {
        // head 35 = 15 instruction + 8 query + 12 of markup; 39 + 35 + 9 = 83.
        expect(rerankRoomError({ ...base, queryTokens: 8, headTokens: 35, maxTokens: 84 })).toBeUndefined();
        const error = rerankRoomError({ ...base, queryTokens: 8, headTokens: 35, maxTokens: 83 })!;
        expectInvalidOption(() => { throw error; },
            "instruction has 15 tokens and query 8: with the rerank prompt's template (60 tokens) they leave no room for the document " +
            "within the limit of 83 tokens per prompt (maxTokens); shorten instruction to at most 14 tokens");
        expect(error.option).toBe("instruction");
    });

    it("names the query when it is the longer (or as long), both when neither alone can make room, maxTokens when nothing can", () => {
        const query = rerankRoomError({ ...base, queryName: "pairs[2] query", queryTokens: 1000, headTokens: 1027, maxTokens: 500 })!;
        expect(query.message).toBe(
            "pairs[2] query has 1000 tokens and instruction 15: with the rerank prompt's template (60 tokens) they leave no room for the document " +
            "within the limit of 500 tokens per prompt (maxTokens); shorten pairs[2] query to at most 424 tokens",
        );
        expect(query.option).toBe("query");
        expect(rerankRoomError({ ...base, queryTokens: 300, instructionTokens: 200, headTokens: 512, maxTokens: 250 })!.message).toBe(
            "query has 300 tokens and instruction 200: with the rerank prompt's template (60 tokens) they leave no room for the document " +
            "within the limit of 250 tokens per prompt (maxTokens); shorten query and instruction to at most 189 tokens together",
        );
        expect(rerankRoomError({ ...base, queryTokens: 15, headTokens: 42, maxTokens: 60 })!.message).toMatch(/^query has 15 tokens and instruction 15: .*; use a maxTokens of at least 91$/);
        expect(rerankRoomError({ ...base, queryTokens: 1, instructionTokens: 1, headTokens: 14, maxTokens: 55 })!.message).toMatch(
            /; use a maxTokens of at least 63$/,
        );
    });
});
