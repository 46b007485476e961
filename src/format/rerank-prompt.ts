import { InvalidOptionError } from "../internal/errors.js";

/**
 * The Qwen3 Reranker prompt, as in the official code: tokens(prefix, special tokens parsed) + tokens(body as ONE
 * string, special tokens not parsed) + tokens(suffix, special tokens parsed). Nothing follows the suffix; the score is
 * read from the logits of `yes` and `no` at the last position.
 */
export const RERANK_PREFIX =
    "<|im_start|>system\nJudge whether the Document meets the requirements based on the Query and the Instruct provided. " +
    "Note that the answer can only be \"yes\" or \"no\".<|im_end|>\n<|im_start|>user\n";

export const RERANK_SUFFIX = "<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n";

/**
 * The user turn of the rerank prompt. Tokenize it as one string: tokenizing query and document apart changes the BPE
 * merges at the joins and shifts scores.
 */
export function formatRerankBody(instruction: string, query: string, document: string): string {
    return `${formatRerankHead(instruction, query)} ${document}`;
}

/**
 * The body up to the document: `<Instruct>: {instruction}\n<Query>: {query}\n<Document>:`, without the space that
 * joins the document. It ends on punctuation, where the Qwen2 pre-tokenizer always splits, so its tokens are the first
 * tokens of the whole body's: their count is where the document starts.
 */
export function formatRerankHead(instruction: string, query: string): string {
    return `<Instruct>: ${instruction}\n<Query>: ${query}\n<Document>:`;
}

/**
 * The fewest document tokens a rerank prompt must keep. With none, the prompt ends at `<Document>:` and every document
 * gets the same score; any larger floor would be arbitrary and would refuse prompts a caller capped on purpose (a
 * small `maxTokens` with short documents). So "no room for the document" means: zero document tokens would be left.
 */
export const MIN_RERANK_DOCUMENT_TOKENS = 1;

export interface RerankRoomCheck {
    /** The name of the query in messages: "query", or "pairs[3] query" for `score()`. */
    queryName: string;
    /** Tokens of the query alone, and of the instruction alone (for the message). */
    queryTokens: number;
    instructionTokens: number;
    /** Tokens of {@link formatRerankHead}, and of the prompt prefix and suffix. */
    headTokens: number;
    prefixTokens: number;
    suffixTokens: number;
    maxTokens: number;
}

/**
 * The error for a prompt whose template, instruction and query leave fewer than {@link MIN_RERANK_DOCUMENT_TOKENS}
 * tokens for the document within `maxTokens`, or undefined when there is room. The query and the instruction are never
 * cut (only the document's tail is, as in the official code), so such a prompt is refused rather than scored without
 * its document. The error names the longer of query and instruction (its `option` too), gives both counts, the
 * template's and the limit, and how short the named one must become.
 */
export function rerankRoomError(check: RerankRoomCheck): InvalidOptionError | undefined {
    const { queryName, queryTokens, instructionTokens, headTokens, prefixTokens, suffixTokens, maxTokens } = check;
    const excess = prefixTokens + headTokens + suffixTokens + MIN_RERANK_DOCUMENT_TOKENS - maxTokens;
    if (excess <= 0) return undefined;
    const template = prefixTokens + headTokens + suffixTokens - queryTokens - instructionTokens;
    const queryAtFault = queryTokens >= instructionTokens;
    const [name, tokens, otherName, otherTokens] = queryAtFault
        ? [queryName, queryTokens, "instruction", instructionTokens]
        : ["instruction", instructionTokens, queryName, queryTokens];
    const together = tokens + otherTokens - excess;
    const remedy = tokens - excess >= 1
        ? `shorten ${name} to at most ${tokens - excess} tokens`
        : together >= 1
            ? `shorten ${name} and ${otherName} to at most ${together} tokens together`
            : `use a maxTokens of at least ${maxTokens + excess}`;
    return new InvalidOptionError(
        `${name} has ${tokens} tokens and ${otherName} ${otherTokens}: with the rerank prompt's template (${template} tokens) they leave ` +
        `no room for the document within the limit of ${maxTokens} tokens per prompt (maxTokens); ${remedy}`,
        { option: queryAtFault ? "query" : "instruction" },
    );
}

export interface RerankSequence {
    /** prefix + body (possibly cut) + suffix; `tokens.length` is the total count, at most `maxTokens`. */
    tokens: Int32Array;
    /** True when the body lost tokens from its end (the document's tail) to fit `maxTokens`. */
    truncated: boolean;
    /** How many body tokens were dropped; 0 when not truncated. */
    droppedTokens: number;
}

/**
 * Joins the three token runs, cutting only the body, from its end, so that the total stays within `maxTokens`, as the
 * official code does; the prefix and suffix are always kept whole.
 *
 * The body must keep at least one token: a budget of zero would score the bare template, which is meaningless, so
 * that case is an error rather than a silent 0-token body. (One token is the floor this function can check; that the
 * document keeps {@link MIN_RERANK_DOCUMENT_TOKENS} is checked beforehand with {@link rerankRoomError}, which knows
 * where the document starts.)
 *
 * @throws InvalidOptionError when prefix and suffix leave no room for a body token within `maxTokens`.
 */
export function buildRerankSequence(
    prefixTokens: Int32Array,
    bodyTokens: Int32Array,
    suffixTokens: Int32Array,
    maxTokens: number,
): RerankSequence {
    checkRerankMaxTokens(prefixTokens.length, suffixTokens.length, maxTokens);
    const templateLength = prefixTokens.length + suffixTokens.length;
    const bodyLength = Math.min(bodyTokens.length, maxTokens - templateLength);
    const tokens = new Int32Array(prefixTokens.length + bodyLength + suffixTokens.length);
    tokens.set(prefixTokens, 0);
    tokens.set(bodyTokens.subarray(0, bodyLength), prefixTokens.length);
    tokens.set(suffixTokens, prefixTokens.length + bodyLength);
    const droppedTokens = bodyTokens.length - bodyLength;
    return { tokens, truncated: droppedTokens > 0, droppedTokens };
}

/** @throws InvalidOptionError when prefix and suffix leave no room for a body token within `maxTokens`. */
export function checkRerankMaxTokens(prefixLength: number, suffixLength: number, maxTokens: number): void {
    const templateLength = prefixLength + suffixLength;
    if (!Number.isSafeInteger(maxTokens) || maxTokens < templateLength + 1) {
        throw new InvalidOptionError(
            `maxTokens ${String(maxTokens)} leaves no room for the rerank body: the prompt prefix (${prefixLength} tokens) ` +
            `and suffix (${suffixLength} tokens) take ${templateLength}; use a maxTokens of at least ${templateLength + 1}`,
        );
    }
}
