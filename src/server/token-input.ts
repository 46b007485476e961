import { loadEngineModel, type LoadEngineModelOptions } from "../engine/engine-model.js";
import { END_OF_TEXT_TOKEN } from "../format/embedding-input.js";
import { HttpError } from "./error-responses.js";

/**
 * The tokenizer of the served embedding model, for requests that send token ids instead of text (OpenAI's
 * `input: number[] | number[][]`). The facade embeds strings only, so the server decodes ids to text and the facade
 * embeds that text; the ids are accepted only when the text encodes back to exactly the same ids, so what the model
 * sees is what the client sent.
 */
export interface TokenCodec {
    /** Token ids run from 0 to vocabularySize - 1. */
    readonly vocabularySize: number;
    /** Tokenizes user text: no special tokens parsed, nothing added. */
    tokenize(texts: readonly string[]): Promise<Int32Array[]>;
    /** Text of the ids, special tokens rendered as nothing. */
    detokenize(ids: Int32Array): Promise<string>;
    dispose(): void;
}

/**
 * A TokenCodec on the engine: a second handle on the embedding model's GGUF (the process shares one copy of the
 * weights between handles), used only for its tokenizer. This is the server's one use of the engine layer, until the
 * facade offers tokenize/detokenize (or embedTokens) itself.
 */
export async function loadEngineTokenCodec(path: string, options: LoadEngineModelOptions = {}): Promise<TokenCodec> {
    const model = await loadEngineModel(path, options);
    return {
        vocabularySize: model.info.vocabularySize,
        tokenize: (texts) => model.tokenize(texts, { special: false }),
        detokenize: (ids) => model.detokenize(ids, { special: false }),
        dispose: () => model.dispose(),
    };
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
