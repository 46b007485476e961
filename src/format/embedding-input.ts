import { InvalidOptionError } from "../internal/errors.js";
import { checkOneOf, describeValue } from "../internal/validation.js";

/**
 * `<|endoftext|>`: the token Qwen3 Embedding pools from. The Hugging Face embedding tokenizer appends it in its
 * post-processor; this library appends it itself, exactly once. Not `tokenizer.eos_token`, which is `<|im_end|>`
 * (151645): appending that one is a known trap that ruins quality.
 */
export const END_OF_TEXT_TOKEN = 151643;

/**
 * The query text the embedding model was trained on: `Instruct: {instruction}\nQuery:{query}`, with one `\n` and no
 * space after `Query:` (gte-Qwen2 had one; Qwen3 does not). Documents are embedded as raw text, without this.
 */
export function formatQuery(instruction: string, query: string): string {
    return `Instruct: ${instruction}\nQuery:${query}`;
}

/** How an input longer than `maxTokens` is handled. */
export type EmbeddingTruncation = "end" | "error";

export const EMBEDDING_TRUNCATIONS: readonly EmbeddingTruncation[] = Object.freeze(["end", "error"]);

export interface EmbeddingSequenceOptions {
    /** The most tokens one sequence may have, the appended `<|endoftext|>` included. At least 2. */
    maxTokens: number;
    /** `"end"`: keep the first `maxTokens - 1` text tokens; `"error"`: throw for a longer input. */
    truncate: EmbeddingTruncation;
    /** The input's position in the caller's batch, named in error messages. */
    index: number;
}

export interface EmbeddingSequence {
    /** The text tokens (possibly cut) and the appended 151643; `tokens.length` is the count, at most `maxTokens`. */
    tokens: Int32Array;
    /** True when text tokens were dropped from the end to fit `maxTokens`. */
    truncated: boolean;
    /** How many text tokens were dropped; 0 when not truncated. */
    droppedTokens: number;
}

/**
 * The end of the error for an input over `maxTokens` with `truncate: "error"` (its option is `truncate`): the limit
 * and the library's remedy. The server swaps it for its own limit, flag and request field.
 */
export function overlongInputRemedy(maxTokens: number): string {
    return `but maxTokens is ${maxTokens}; pass truncate: "end" to cut it to fit, or a larger maxTokens`;
}

/**
 * The token sequence to embed: the text's tokens, cut from the end to `maxTokens - 1` when `truncate` is `"end"`,
 * followed by exactly one {@link END_OF_TEXT_TOKEN}, whose last hidden state is the embedding.
 *
 * Invariant: `textTokens` come from a tokenizer call that adds no special tokens and does not parse them, so a literal
 * `"<|endoftext|>"` spelled in the text is ordinary text tokens, never 151643. The appended token is therefore the only
 * 151643 in the result, and it is always the last one, truncated or not. Input that breaks the invariant (a 151643
 * among `textTokens`, e.g. caller-supplied token ids) is rejected rather than silently producing two.
 *
 * @throws InvalidOptionError when `maxTokens` is below 2, `truncate` is neither `"end"` nor `"error"`, `textTokens`
 * holds a 151643, or `truncate` is `"error"` and the text has more than `maxTokens - 1` tokens.
 */
export function buildEmbeddingSequence(textTokens: Int32Array, options: EmbeddingSequenceOptions): EmbeddingSequence {
    const { maxTokens, index } = options;
    const truncate = checkOneOf("truncate", options.truncate, EMBEDDING_TRUNCATIONS);
    if (!Number.isSafeInteger(maxTokens) || maxTokens < 2) {
        throw new InvalidOptionError(
            `Expected an integer of at least 2 for maxTokens (one text token and the appended <|endoftext|>) but received ${describeValue(maxTokens)}`,
        );
    }
    const position = textTokens.indexOf(END_OF_TEXT_TOKEN);
    if (position !== -1) {
        throw new InvalidOptionError(
            `Input ${index} contains the token ${END_OF_TEXT_TOKEN} (<|endoftext|>) at position ${position}; ` +
            "the library appends it exactly once, so tokenize the text without special tokens",
        );
    }
    const textLimit = maxTokens - 1;
    if (textTokens.length > textLimit && truncate === "error") {
        throw new InvalidOptionError(
            `Input ${index} has ${textTokens.length + 1} tokens (including the appended <|endoftext|>) ${overlongInputRemedy(maxTokens)}`,
            { option: "truncate" },
        );
    }
    const keptLength = Math.min(textTokens.length, textLimit);
    const tokens = new Int32Array(keptLength + 1);
    tokens.set(textTokens.subarray(0, keptLength));
    tokens[keptLength] = END_OF_TEXT_TOKEN;
    const droppedTokens = textTokens.length - keptLength;
    return { tokens, truncated: droppedTokens > 0, droppedTokens };
}
