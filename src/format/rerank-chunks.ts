import { InvalidOptionError } from "../internal/errors.js";
import { describeValue } from "../internal/validation.js";

/** A run of a document's tokens scored as its own prompt: `[start, end)` in the document's tokens. */
export interface RerankChunk {
    start: number;
    end: number;
}

/**
 * Where a document of `documentTokens` tokens is cut into chunks of at most `chunkTokens` tokens, each starting
 * `chunkTokens - overlapTokens` after the one before (so adjacent chunks share `overlapTokens` tokens), the last one
 * ending at the document's end or shorter, and at most `maxChunks` of them: what lies past the last chunk is not scored
 * (as a document is cut when it is not chunked). A document that fits one chunk is one chunk, the whole document.
 * Every chunk after the first holds at least one token the one before does not.
 *
 * `chunkTokens` is what a prompt leaves the document: with a template, instruction and query of T tokens and a limit
 * of N tokens per prompt, N - T.
 *
 * @throws InvalidOptionError (option `overlapTokens`) when more than one chunk is allowed and `overlapTokens` is not
 * below `chunkTokens`: the chunks would not advance.
 */
export function planRerankChunks(documentTokens: number, chunkTokens: number, overlapTokens: number, maxChunks: number): RerankChunk[] {
    checkRerankOverlap(chunkTokens, overlapTokens, maxChunks);
    const chunks: RerankChunk[] = [{ start: 0, end: Math.min(documentTokens, chunkTokens) }];
    const stride = chunkTokens - overlapTokens;
    while (chunks.length < maxChunks && chunks[chunks.length - 1]!.end < documentTokens) {
        const start = chunks.length * stride;
        chunks.push({ start, end: Math.min(documentTokens, start + chunkTokens) });
    }
    return chunks;
}

/**
 * How many chunks {@link planRerankChunks} makes and how many document tokens they hold together (shared ones counted
 * in each chunk), computed without making them: a caller can refuse work that is too large before building prompts.
 * All chunks but the last are full, since a chunk follows only one that ends before the document's end.
 */
export function countRerankChunks(documentTokens: number, chunkTokens: number, overlapTokens: number, maxChunks: number): { chunks: number; tokens: number } {
    checkRerankOverlap(chunkTokens, overlapTokens, maxChunks);
    const stride = chunkTokens - overlapTokens;
    const chunks = documentTokens <= chunkTokens ? 1 : Math.min(maxChunks, 1 + Math.ceil((documentTokens - chunkTokens) / stride));
    return { chunks, tokens: (chunks - 1) * chunkTokens + Math.min(chunkTokens, documentTokens - (chunks - 1) * stride) };
}

/**
 * @throws InvalidOptionError (option `overlapTokens`) when `maxChunks` allows more than one chunk and `overlapTokens`
 * is not below `chunkTokens`, the document tokens a prompt holds; the message gives both and the remedies.
 */
export function checkRerankOverlap(chunkTokens: number, overlapTokens: number, maxChunks: number): void {
    if (maxChunks === 1 || overlapTokens < chunkTokens) return;
    throw new InvalidOptionError(
        `Expected an integer between 0 and ${chunkTokens - 1} for overlapTokens but received ${describeValue(overlapTokens)}: ` +
        `each chunk holds ${chunkTokens} document tokens (what the limit of tokens per prompt leaves after the template, ` +
        "instruction and query), and the overlap must be smaller; send a smaller overlapTokens or a larger maxTokens",
        { option: "overlapTokens" },
    );
}
