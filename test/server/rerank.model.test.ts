import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RERANK_PREFIX, RERANK_SUFFIX, createReranker, type Reranker, type RerankResult } from "../../src/index.js";
import { formatRerankHead } from "../../src/format/rerank-prompt.js";
import { DEFAULT_INSTRUCTION } from "../../src/format/task-instructions.js";
import { referenceTokenize } from "../support/hf-tokenizer.js";
import { type RunningServer } from "../../src/exports/server.js";
import { MODEL_OPTIONS, expectError, fixturePaths, postJson, startFixtureServer } from "./server-fixture.js";

const query = "What is the capital of China?";
const documents = [
    "The capital of China is Beijing.",
    "Gravity is a force that attracts two bodies towards each other.",
    "北京是中华人民共和国的首都。",
    "Paris is the capital of France.",
    "Shanghai is the largest city in China by population.",
];
/** Scores of two separate evaluations of the same prompt agree to float32 rounding. */
const SCORE_TOLERANCE = 1e-6;

let server: RunningServer;
let library: Reranker;

beforeAll(async () => {
    const paths = await fixturePaths();
    server = await startFixtureServer({ servedModelNames: ["reranker=jina-reranker-v2-base-multilingual", "reranker=BAAI/bge-reranker-v2-m3"] });
    library = await createReranker({ model: paths.reranker, ...MODEL_OPTIONS });
});
afterAll(async () => {
    await server?.close();
    library?.dispose();
});

interface RerankItem {
    index: number;
    relevance_score: number;
    document?: { text: string };
}

/** Same documents in the same order, scores within float32 rounding; the order must be by score, best first. */
function expectSameRanking(results: RerankItem[], expected: RerankResult): void {
    expect(results.map((item) => item.index)).toEqual(expected.results.map((item) => item.index));
    results.forEach((item, position) => {
        expect(Math.abs(item.relevance_score - expected.results[position]!.score)).toBeLessThanOrEqual(SCORE_TOLERANCE);
        if (position > 0) expect(item.relevance_score).toBeLessThanOrEqual(results[position - 1]!.relevance_score);
    });
}

describe("Jina / Cohere / SiliconFlow rerank", () => {
    it("Jina: POST /v1/rerank with strings, top_n and return_documents", async () => {
        const response = await postJson(`${server.url}/v1/rerank`, {
            model: "jina-reranker-v2-base-multilingual", query, documents, top_n: 3, return_documents: true,
        }, { authorization: "Bearer unused" });
        expect(response.status).toBe(200);
        const expected = await library.rerank(query, documents, { topN: 3 });
        expect(response.body.model).toBe("jina-reranker-v2-base-multilingual");
        expect(response.body.results).toHaveLength(3);
        expectSameRanking(response.body.results, expected);
        for (const item of response.body.results as RerankItem[]) expect(item.document).toEqual({ text: documents[item.index] });
        expect(response.body.usage).toEqual({ total_tokens: expected.totalTokens });
        expect(response.body.meta).toEqual({ tokens: { input_tokens: expected.totalTokens, output_tokens: 0 } });
        expect(response.body.id).toBe(response.headers.get("x-request-id"));
    });

    it("Cohere: documents as { text } objects, max_tokens_per_doc caps each scored prompt; /v2/rerank too", async () => {
        const objects = documents.map((text) => ({ text }));
        const expected = await library.rerank(query, documents, { maxTokens: 80 });
        for (const path of ["/v1/rerank", "/v2/rerank"]) {
            const response = await postJson(`${server.url}${path}`, { model: "reranker-rank-tiny-s1", query, documents: objects, max_tokens_per_doc: 80 });
            expect(response.status, path).toBe(200);
            expectSameRanking(response.body.results, expected);
            expect(response.body.results[0].document).toBeUndefined();
            expect(response.body.usage.total_tokens).toBe(expected.totalTokens);
        }
        const full = await library.rerank(query, documents);
        expect(expected.totalTokens).toBeLessThan(full.totalTokens); // the cap did cut documents
    });

    it("SiliconFlow: POST /rerank with instruction, chunking fields (documents that fit one chunk score as unchunked), return_documents false", async () => {
        const instruction = "Given a question, find documents that answer it";
        const response = await postJson(`${server.url}/rerank`, {
            model: "BAAI/bge-reranker-v2-m3", query, documents, instruction, top_n: 10, return_documents: false, max_chunks_per_doc: 1024, overlap_tokens: 80,
        });
        expect(response.status).toBe(200);
        const expected = await library.rerank(query, documents, { instruction });
        expectSameRanking(response.body.results, expected);
        expect(response.body.results).toHaveLength(documents.length);
        expect(response.body.meta.tokens.input_tokens).toBe(expected.totalTokens);
        const withDefault = await library.rerank(query, documents);
        expect(withDefault.results.map((item) => item.score)).not.toEqual(expected.results.map((item) => item.score)); // the instruction mattered
    });

    it("rerank requests are checked like embedding ones: unknown model, the embedding model, bad documents", async () => {
        expectError(await postJson(`${server.url}/v1/rerank`, { model: "rerank-english-v3.0", query, documents }), 404, "model_not_found",
            'Accepted names: "jina-reranker-v2-base-multilingual", "BAAI/bge-reranker-v2-m3", "reranker-rank-tiny-s1", "reranker-rank-tiny-s1.gguf"', "model");
        expectError(await postJson(`${server.url}/v1/rerank`, { model: "embedding-tiny-s1", query, documents }), 404, "model_not_found",
            /is this server's embedding model, which does not do reranking/);
        expectError(await postJson(`${server.url}/v1/rerank`, { query, documents: ["a", { txt: "b" }] }), 400, "invalid_value",
            "Expected a string or an object with a string text field for documents[1] but received an object", "documents");
        expectError(await postJson(`${server.url}/v1/rerank`, { documents }), 400, "missing_field", "Expected a non-empty string for query but received undefined", "query");
        expectError(await postJson(`${server.url}/v1/rerank`, { query, documents, top_n: 0 }), 400, "invalid_value",
            "Expected an integer of at least 1 for top_n but received number 0", "top_n");
        expectError(await postJson(`${server.url}/v1/rerank`, { query, documents, max_tokens_per_doc: 5000 }), 400, "invalid_value",
            "Expected an integer between 1 and 4096 for max_tokens_per_doc but received number 5000", "max_tokens_per_doc");
        expectError(await postJson(`${server.url}/v1/rerank`, { query, documents, return_documents: "yes" }), 400, "invalid_value",
            'Expected a boolean for return_documents but received the string "yes"', "return_documents");
    });
});

describe("SiliconFlow's max_chunks_per_doc and overlap_tokens: long documents in chunks", () => {
    // SiliconFlow: "Maximum number of chunks generated from within a document. Long documents are divided into multiple
    // chunks for calculation, and the highest score among the chunks is taken as the document's score" (default 1024);
    // past that number nothing more is generated, so the rest of the document is not scored.
    // https://docs.siliconflow.cn/en/api-reference/rerank/create-rerank
    const filler = "Gravity is a force that attracts two bodies towards each other. ".repeat(12);
    const long = `${filler}The capital of China is Beijing, a city of more than twenty million people.`;
    const chunked = [long, documents[1]!, documents[3]!];

    it("scores each chunk of a long document and answers the best chunk's score, with the whole document returned", async () => {
        const response = await postJson(`${server.url}/v1/rerank`, {
            query, documents: chunked, max_tokens_per_doc: 96, max_chunks_per_doc: 1024, overlap_tokens: 8, return_documents: true,
        });
        expect(response.status).toBe(200);
        const expected = await library.rerank(query, chunked, { maxTokens: 96, maxChunksPerDoc: 1024, overlapTokens: 8 });
        expectSameRanking(response.body.results, expected);
        for (const item of response.body.results as RerankItem[]) expect(item.document).toEqual({ text: chunked[item.index] });
        expect(response.body.usage.total_tokens).toBe(expected.totalTokens);
        // The long document was scored in several prompts: more tokens, another score than its first 96-token prompt.
        const cut = await library.rerank(query, chunked, { maxTokens: 96 });
        expect(expected.totalTokens).toBeGreaterThan(cut.totalTokens + 96);
        const scoreOf = (result: RerankResult) => result.results.find((item) => item.index === 0)!.score;
        expect(scoreOf(expected)).toBeGreaterThanOrEqual(scoreOf(cut));
        expect(scoreOf(expected)).not.toBe(scoreOf(cut));
    });

    it("neither field: documents are cut, as before; only overlap_tokens: SiliconFlow's default of 1024 chunks; max_chunks_per_doc: 2 scores two", async () => {
        const plain = await postJson(`${server.url}/v1/rerank`, { query, documents: chunked, max_tokens_per_doc: 96 });
        expectSameRanking(plain.body.results, await library.rerank(query, chunked, { maxTokens: 96 }));
        const overlapOnly = await postJson(`${server.url}/v1/rerank`, { query, documents: chunked, max_tokens_per_doc: 96, overlap_tokens: 4 });
        expectSameRanking(overlapOnly.body.results, await library.rerank(query, chunked, { maxTokens: 96, maxChunksPerDoc: 1024, overlapTokens: 4 }));
        const two = await postJson(`${server.url}/v1/rerank`, { query, documents: chunked, max_tokens_per_doc: 96, max_chunks_per_doc: 2 });
        const expectedTwo = await library.rerank(query, chunked, { maxTokens: 96, maxChunksPerDoc: 2, overlapTokens: 0 });
        expectSameRanking(two.body.results, expectedTwo);
        expect(two.body.usage.total_tokens).toBe(expectedTwo.totalTokens);
    });

    it("an overlap_tokens not below the document tokens a prompt holds is a 400 naming overlap_tokens; bad values too", async () => {
        // 96 tokens per prompt less the template, the instruction and the query: what a chunk holds
        const template = [RERANK_PREFIX, formatRerankHead(DEFAULT_INSTRUCTION, query), RERANK_SUFFIX].map((text) => referenceTokenize(text).length);
        const chunk = 96 - template.reduce((a, b) => a + b, 0);
        const refused = await postJson(`${server.url}/v1/rerank`, { query, documents: chunked, max_tokens_per_doc: 96, max_chunks_per_doc: 4, overlap_tokens: 500 });
        expectError(refused, 400, "invalid_value",
            `Expected an integer between 0 and ${chunk - 1} for overlap_tokens but received number 500: each chunk holds ${chunk} document tokens ` +
            "(what the limit of tokens per prompt leaves after the template, instruction and query), and the overlap must be smaller; " +
            "send a smaller overlap_tokens or a larger max_tokens_per_doc (at most --max-tokens-per-input)",
            "overlap_tokens");
        expect((await postJson(`${server.url}/v1/rerank`, { query, documents: chunked, max_tokens_per_doc: 96, max_chunks_per_doc: 4, overlap_tokens: chunk - 1 })).status).toBe(200);
        expectError(await postJson(`${server.url}/v1/rerank`, { query, documents: chunked, overlap_tokens: chunk, max_tokens_per_doc: 96 }), 400, "invalid_value", undefined, "overlap_tokens");
        // 12 documents of 1024 prompts of 96 tokens (overlap one less than a chunk): more than the reranker queues (1,048,576 tokens)
        const many = Array.from({ length: 12 }, () => filler.repeat(12));
        expectError(await postJson(`${server.url}/v1/rerank`, { query, documents: many, max_tokens_per_doc: 96, overlap_tokens: chunk - 1 }), 400, "invalid_value",
            "In chunks, these documents make 12288 prompts of 1179648 tokens, more than the reranker queues (maxQueuedTokens 1048576); " +
            "send a smaller max_chunks_per_doc, a smaller overlap_tokens or fewer documents", "max_chunks_per_doc");
        expectError(await postJson(`${server.url}/v1/rerank`, { query, documents, max_chunks_per_doc: 0 }), 400, "invalid_value",
            "Expected an integer of at least 1 for max_chunks_per_doc but received number 0", "max_chunks_per_doc");
        expectError(await postJson(`${server.url}/v1/rerank`, { query, documents, overlap_tokens: -1 }), 400, "invalid_value",
            "Expected an integer of at least 0 for overlap_tokens but received number -1", "overlap_tokens");
    });
});

describe("a query or instruction that leaves the documents no room: 400, never a score without the document", () => {
    /** The library's message for the same call (the server's limit is the library's default here: the context, 4096). */
    async function libraryMessage(call: Promise<unknown>): Promise<string> {
        const error = await call.then(() => undefined, (failure: unknown) => failure);
        expect(error).toBeInstanceOf(Error);
        return (error as Error).message;
    }

    it("names query on every rerank route shape, TEI's truncate: true included, and goes on serving", async () => {
        const long = "word ".repeat(4200);
        const message = await libraryMessage(library.rerank(long, documents));
        expect(message).toMatch(/^query has 4201 tokens and instruction 13: .* within the limit of 4096 tokens per prompt \(maxTokens\); shorten query to at most \d+ tokens$/);
        const requests: [string, unknown][] = [
            ["/v1/rerank", { model: "jina-reranker-v2-base-multilingual", query: long, documents }],
            ["/v2/rerank", { query: long, documents: documents.map((text) => ({ text })) }],
            ["/rerank", { query: long, documents, top_n: 2 }],
            ["/rerank", { query: long, texts: documents, truncate: true }],
            ["/rerank", { query: long, texts: documents }],
        ];
        for (const [path, body] of requests) expectError(await postJson(`${server.url}${path}`, body), 400, "invalid_value", message, "query");
        const after = await postJson(`${server.url}/v1/rerank`, { query, documents });
        expect(after.status).toBe(200);
        expectSameRanking(after.body.results, await library.rerank(query, documents));
    });

    it("names instruction when it is the longer, also when a small max_tokens_per_doc is the cause", async () => {
        const instruction = "Judge the passage carefully. ".repeat(1000);
        const message = await libraryMessage(library.rerank(query, documents, { instruction }));
        expect(message).toMatch(/^instruction has \d+ tokens and query 7: .*; shorten instruction to at most \d+ tokens$/);
        expectError(await postJson(`${server.url}/rerank`, { query, documents, instruction }), 400, "invalid_value", message, "instruction");
        expectError(await postJson(`${server.url}/rerank`, { query, texts: documents, instruction }), 400, "invalid_value", message, "instruction");
        // The default instruction (13 tokens) is longer than this query (7): with 78 tokens per prompt (39 + 30 of instruction, query and markup + 9) nothing is left for a document, with 79 one token is.
        const capped = await libraryMessage(library.rerank(query, documents, { maxTokens: 78 }));
        expect(capped).toMatch(/^instruction has 13 tokens and query 7: .* within the limit of 78 tokens per prompt \(maxTokens\); shorten instruction to at most \d+ tokens$/);
        expectError(await postJson(`${server.url}/v2/rerank`, { query, documents, max_tokens_per_doc: 78 }), 400, "invalid_value", capped, "instruction");
        expect((await postJson(`${server.url}/v2/rerank`, { query, documents, max_tokens_per_doc: 79 })).status).toBe(200);
    });
});

describe("TEI POST /rerank", () => {
    it("texts, return_text, answered as [{ index, score, text }] best first", async () => {
        const response = await postJson(`${server.url}/rerank`, { query, texts: documents, return_text: true, truncate: true });
        expect(response.status).toBe(200);
        const expected = await library.rerank(query, documents);
        expect(Array.isArray(response.body)).toBe(true);
        expect(response.body.map((item: { index: number }) => item.index)).toEqual(expected.results.map((item) => item.index));
        response.body.forEach((item: { index: number; score: number; text: string }, position: number) => {
            expect(Object.keys(item).sort()).toEqual(["index", "score", "text"]);
            expect(Math.abs(item.score - expected.results[position]!.score)).toBeLessThanOrEqual(SCORE_TOLERANCE);
            expect(item.text).toBe(documents[item.index]);
        });
    });

    it("raw_scores: the logit of p(yes), so sigmoid(raw) is the relevance score", async () => {
        const raw = await postJson(`${server.url}/rerank`, { query, texts: documents, raw_scores: true });
        const expected = await library.rerank(query, documents);
        expect(raw.status).toBe(200);
        raw.body.forEach((item: { index: number; score: number; text?: string }, position: number) => {
            expect(item.text).toBeUndefined();
            expect(Number.isFinite(item.score)).toBe(true);
            expect(Math.abs(1 / (1 + Math.exp(-item.score)) - expected.results[position]!.score)).toBeLessThanOrEqual(SCORE_TOLERANCE);
        });
        expect(raw.body.some((item: { score: number }) => item.score < 0 || item.score > 1)).toBe(true); // logits, not probabilities
    });

    it("TEI bodies are checked too", async () => {
        expectError(await postJson(`${server.url}/rerank`, { query, texts: [{ text: "objects are Jina's, not TEI's" }] }), 400, "invalid_value",
            "Expected a string for texts[0] but received an object", "texts");
        expectError(await postJson(`${server.url}/rerank`, { query, texts: documents, raw_scores: 1 }), 400, "invalid_value",
            "Expected a boolean for raw_scores but received number 1", "raw_scores");
        expectError(await postJson(`${server.url}/rerank`, { query, texts: documents, top_n: 2 }), 400, "unknown_field", /Unknown field "top_n"/, "top_n");
    });
});
