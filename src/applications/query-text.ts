import { InvalidOptionError } from "../internal/errors.js";
import { checkString, describeValue } from "../internal/validation.js";
import type { EmbeddingCache } from "./embedding-cache.js";

/** A search query (or a preference written as text) must say something: a string with a non-whitespace character. */
export function checkQueryText(name: string, value: unknown): string {
    checkString(name, value);
    if ((value as string).trim() === "") {
        throw new InvalidOptionError(`Expected a string with at least one non-whitespace character for ${name} but received ${describeValue(value)}`);
    }
    return value as string;
}

/**
 * Refuses a query that, formatted with its instruction and with the appended <|endoftext|>, has more tokens than the
 * cache embeds (`cache.maxTokens`). Documents are cut to fit; a query is not: a cut query retrieves for a question
 * nobody asked, and says nothing about it. The error names the query (`name`), its tokens alone and with the
 * instruction, the limit, and how short to make it.
 */
export async function checkQueryLengths(cache: EmbeddingCache, queries: readonly { name: string; text: string }[], instruction: string): Promise<void> {
    if (queries.length === 0) return;
    const counts = await cache.embedder.countTokens(queries.map((query) => query.text), { instruction });
    const at = counts.findIndex((count) => count > cache.maxTokens);
    if (at === -1) return;
    const { name, text } = queries[at]!;
    const [alone] = await cache.embedder.countTokens([text]);
    const queryTokens = alone! - 1;
    const excess = counts[at]! - cache.maxTokens;
    const remedy = queryTokens - excess >= 1 ? `shorten ${name} to at most ${queryTokens - excess} tokens` : "use a shorter instruction";
    throw new InvalidOptionError(
        `${name} has ${queryTokens} tokens; with the instruction and the appended <|endoftext|> that makes ${counts[at]}, over the ` +
        `embedder's limit of ${cache.maxTokens} tokens per input (queries are not cut); ${remedy}`,
        { option: name },
    );
}
