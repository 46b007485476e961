/**
 * Search queries (and preferences written as text) are never cut: Memory.search, SearchIndex.search and
 * Recommender.recommend refuse an empty or whitespace-only one, and one whose query format (instruction, query,
 * appended <|endoftext|>) has more tokens than the embedder takes, with an InvalidOptionError naming it. The expected
 * counts come from the Hugging Face tokenizer, independently of the library. One backend is enough: nothing here
 * reaches the store's search.
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_INSTRUCTION, InvalidOptionError, TASK_INSTRUCTIONS, createEmbedder, formatQuery, type Embedder } from "../../src/index.js";
import { PREFERENCE_INSTRUCTION, createMemory, createRecommender, createSearchIndex, type VectorStore } from "../../src/exports/store.js";
import { ensureFixtureModel } from "../fixtures/qwen3-fixture.js";
import { referenceTokenize } from "../support/hf-tokenizer.js";
import { startBackend, temporaryDirectory, type StoreBackend } from "./support/store-backends.js";

/** The embedder's context, hence the cache's tokens per input: min(8192, context size). */
const LIMIT = 512;
const MEMORY_INSTRUCTION = TASK_INSTRUCTIONS["memory-retrieval"];

let embedder: Embedder;
let backend: StoreBackend;
let store: VectorStore;
const parent = temporaryDirectory("qwen3-query-limits-test-");

beforeAll(async () => {
    embedder = await createEmbedder({ model: await ensureFixtureModel({ kind: "embedding", size: "tiny" }), batchTokens: 256, contextSize: LIMIT });
    backend = await startBackend("pglite", join(parent, "pglite"));
    store = await backend.open();
});
afterAll(async () => {
    await store?.close();
    await backend?.stop();
    embedder?.dispose();
    rmSync(parent, { recursive: true, force: true });
});

/** Tokens of the query format with the appended <|endoftext|>, as the embedding model sees it. */
const formatted = (instruction: string, text: string) => referenceTokenize(formatQuery(instruction, text)).length + 1;

/** "word word ... " with exactly `total` tokens in the query format of `instruction` (one " word" is one token). */
function queryOfTokens(instruction: string, total: number): string {
    const text = `word${" word".repeat(total - formatted(instruction, "word"))}`;
    expect(formatted(instruction, text)).toBe(total);
    return text;
}

/** The message for a query over the limit, from independent counts. */
function tooLong(name: string, instruction: string, text: string): string {
    const alone = referenceTokenize(text).length;
    const total = formatted(instruction, text);
    return `${name} has ${alone} tokens; with the instruction and the appended <|endoftext|> that makes ${total}, over the ` +
        `embedder's limit of ${LIMIT} tokens per input (queries are not cut); shorten ${name} to at most ${alone - (total - LIMIT)} tokens`;
}

async function rejection(call: Promise<unknown>): Promise<InvalidOptionError> {
    const error = await call.then(() => undefined, (failure: unknown) => failure);
    expect(error).toBeInstanceOf(InvalidOptionError);
    return error as InvalidOptionError;
}

describe("search queries are refused, not cut", () => {
    it("countTokens counts what embed would see: query format, appended <|endoftext|>, before any cut", async () => {
        const long = "word ".repeat(LIMIT + 50);
        expect(await embedder.countTokens(["fine", long])).toEqual([referenceTokenize("fine").length + 1, referenceTokenize(long).length + 1]);
        const counts = await embedder.countTokens(["fine", long], { task: "memory-retrieval" });
        expect(counts).toEqual([formatted(MEMORY_INSTRUCTION, "fine"), formatted(MEMORY_INSTRUCTION, long)]);
        const embedded = await embedder.embed(["fine", long], { task: "memory-retrieval" });
        expect(embedded.tokens).toEqual([counts[0], LIMIT]);
        expect(embedded.truncated).toEqual([false, true]);
    });

    it("Memory.search: empty or blank query, and one over the limit, name query; a query at the limit is served", async () => {
        const memory = await createMemory({ embedder, store });
        await memory.add("We agreed to meet on Tuesday at the station.", { userId: "alice" });
        await expect(memory.search("", { userId: "alice" })).rejects.toThrow('Expected a string with at least one non-whitespace character for query but received the string ""');
        await expect(memory.search(" \n\t ", { userId: "alice" })).rejects.toThrow(
            'Expected a string with at least one non-whitespace character for query but received the string " \\n\\t "',
        );

        const atLimit = queryOfTokens(MEMORY_INSTRUCTION, LIMIT);
        expect(await memory.search(atLimit, { userId: "alice" })).toHaveLength(1);
        const over = `${atLimit} word`;
        const error = await rejection(memory.search(over, { userId: "alice" }));
        expect(error.message).toBe(tooLong("query", MEMORY_INSTRUCTION, over));
        expect(error.option).toBe("query");
        expect(error.message).toMatch(/\bquery\b/); // what the HTTP layer maps to param "query"
        const huge = await rejection(memory.search("word ".repeat(100_000), { userId: "alice" }));
        expect(huge.message).toBe(tooLong("query", MEMORY_INSTRUCTION, "word ".repeat(100_000)));
    });

    it("SearchIndex.search: the same rules, with the index's instruction", async () => {
        const index = await createSearchIndex({ embedder, store, namespace: "query-limits" });
        await index.index(["Rotate the API keys every ninety days."]);
        await expect(index.search("   ")).rejects.toThrow('Expected a string with at least one non-whitespace character for query but received the string "   "');
        const atLimit = queryOfTokens(DEFAULT_INSTRUCTION, LIMIT);
        expect(await index.search(atLimit)).toHaveLength(1);
        const over = `${atLimit} word`;
        const error = await rejection(index.search(over, { topK: 3 }));
        expect(error.message).toBe(tooLong("query", DEFAULT_INSTRUCTION, over));
        expect(error.option).toBe("query");
        expect(index.cacheStats()).toEqual({ hits: 0, misses: 2 }); // the document and the query at the limit; the refused one never reached the model
    });

    it("Recommender.recommend: a preference written as text is a query, named by its position", async () => {
        const recommender = await createRecommender({ embedder });
        const candidates = ["A quiet novel about the sea", "A loud action film"];
        const over = `${queryOfTokens(PREFERENCE_INSTRUCTION, LIMIT)} word`;
        await expect(recommender.recommend(["I like the sea", " "], candidates)).rejects.toThrow(
            'Expected a string with at least one non-whitespace character for preferences[1] but received the string " "',
        );
        expect((await rejection(recommender.recommend(["I like the sea", over], candidates))).message).toBe(tooLong("preferences[1]", PREFERENCE_INSTRUCTION, over));
        expect((await rejection(recommender.recommend([{ text: over }], candidates))).message).toBe(tooLong("preferences[0].text", PREFERENCE_INSTRUCTION, over));
        expect(await recommender.recommend(["I like the sea"], candidates)).toHaveLength(2);
        // Items compared as documents are still cut to fit, as documents are everywhere.
        expect(await recommender.findSimilar(over, candidates)).toHaveLength(2);
    });
});
