import { createTokenizer, type CreateTokenizerOptions, type TokenizerMethods } from "../facade/tokenizer.js";
import type { ServedEmbedder } from "./server-options.js";
import { END_OF_TEXT_TOKEN } from "../format/embedding-input.js";
import { HttpError } from "./error-responses.js";

/**
 * The tokenizer of the served embedding model, for requests that send token ids instead of text (OpenAI's
 * `input: number[] | number[][]`). The facade embeds strings only, so the server decodes ids to text and the facade
 * embeds that text; the ids are accepted only when the text encodes back to exactly the same ids, so what the model
 * sees is what the client sent.
 */
export type TokenCodec = TokenizerMethods;

/**
 * The served embedder's own tokenizer when it has one (the facade's Embedder does), else a Tokenizer on its model file
 * (the process shares one copy of the weights between handles); `dispose` releases what was loaded here.
 */
export async function tokenCodecFor(
    served: ServedEmbedder,
    options: Omit<CreateTokenizerOptions, "model">,
): Promise<{ codec: TokenCodec; dispose(): Promise<void> }> {
    const own = served as Partial<TokenizerMethods>;
    if (typeof own.tokenize === "function" && typeof own.detokenize === "function" && typeof own.vocabularySize === "number") {
        return { codec: own as TokenizerMethods, dispose: async () => undefined };
    }
    const tokenizer = await createTokenizer({ ...options, model: served.modelPath });
    return { codec: tokenizer, dispose: () => tokenizer.dispose() };
}

/**
 * Turns token-id inputs into the texts they spell, for the facade to embed. One trailing `<|endoftext|>` (151643) is
 * dropped, since Hugging Face's Qwen3 embedding tokenizer appends it and the library appends it itself; any other
 * special token, an id outside the vocabulary, or ids that are not the Qwen3 tokenization of their own text (ids of
 * another tokenizer, such as tiktoken's) are a 422 naming the input.
 *
 * @param param the request field, for messages: "input" or "inputs".
 */
export async function tokenInputsToTexts(codec: TokenCodec, sequences: readonly (readonly number[])[], param: string): Promise<string[]> {
    const trimmed = sequences.map((sequence, index) => {
        const ids = sequence.at(-1) === END_OF_TEXT_TOKEN ? sequence.slice(0, -1) : sequence;
        if (ids.length === 0) {
            throw new HttpError(400, `${param}[${index}] holds no token besides <|endoftext|>; send at least one token`, { code: "empty_input", param });
        }
        ids.forEach((id, position) => {
            if (id < 0 || id >= codec.vocabularySize) {
                throw new HttpError(422, `Expected token ids between 0 and ${codec.vocabularySize - 1} but ${param}[${index}][${position}] is ${id}`, {
                    code: "invalid_token_ids", param,
                });
            }
        });
        return Int32Array.from(ids);
    });
    const texts = await Promise.all(trimmed.map((ids) => codec.detokenize(ids)));
    const encoded = await codec.tokenize(texts);
    trimmed.forEach((ids, index) => {
        const again = encoded[index]!;
        const position = firstDifference(ids, again);
        if (position !== -1) {
            throw new HttpError(
                422,
                `${param}[${index}] is not the Qwen3 tokenization of any text: decoding it and encoding the text again gives different ids ` +
                `(first at position ${position}). Send the text itself, or ids from the Qwen3 tokenizer without special tokens; ` +
                "ids from another tokenizer (such as tiktoken's) mean nothing to this model",
                { code: "invalid_token_ids", param },
            );
        }
    });
    return texts;
}

function firstDifference(a: Int32Array, b: Int32Array): number {
    const length = Math.min(a.length, b.length);
    for (let i = 0; i < length; i++) if (a[i] !== b[i]) return i;
    return a.length === b.length ? -1 : length;
}
