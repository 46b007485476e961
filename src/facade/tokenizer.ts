import { checkLoadOptions, loadEngineModel, type EngineModel, type LoadEngineModelOptions } from "../engine/engine-model.js";
import { DisposedError, InvalidOptionError } from "../internal/errors.js";
import { checkOptionsObject, checkString, checkStringArray, describeValue } from "../internal/validation.js";
import { resolveModelPath } from "../models/model-location.js";

/** What the embedder, the reranker and a standalone Tokenizer offer of the model's tokenizer. */
export interface TokenizerMethods {
    /** Token ids run from 0 to vocabularySize - 1. */
    readonly vocabularySize: number;
    /**
     * The model's tokens of each text as written: nothing added (no instruction, no <|endoftext|>), spelled-out control
     * tokens such as `<|im_end|>` kept as plain text.
     */
    tokenize(texts: readonly string[]): Promise<Int32Array[]>;
    /** The text the ids spell, special tokens rendered as nothing. */
    detokenize(ids: Int32Array | readonly number[]): Promise<string>;
}

export interface CreateTokenizerOptions extends LoadEngineModelOptions {
    /** A .gguf path or a pulled registry id, of an embedding or a reranker model. */
    model: string;
}

const CREATE_OPTIONS = ["model", "gpu", "gpuLayers", "useMmap", "repackWeights", "libraryPath"] as const;

export function tokenizeWith(model: EngineModel, texts: readonly string[]): Promise<Int32Array[]> {
    checkStringArray("texts", texts);
    return model.tokenize(texts, { special: false });
}

export function detokenizeWith(model: EngineModel, ids: Int32Array | readonly number[]): Promise<string> {
    if (!(ids instanceof Int32Array) && !Array.isArray(ids)) {
        throw new InvalidOptionError(`Expected an Int32Array or an array of token ids for ids but received ${describeValue(ids)}`, { option: "ids" });
    }
    const vocabularySize = model.info.vocabularySize;
    ids.forEach((id: number, index: number) => {
        if (!Number.isInteger(id) || id < 0 || id >= vocabularySize) {
            throw new InvalidOptionError(`Expected a token id from 0 to ${vocabularySize - 1} for ids[${index}] but received ${describeValue(id)}`, { option: "ids" });
        }
    });
    return model.detokenize(ids, { special: false });
}

/**
 * The tokenizer of a Qwen3 GGUF without an evaluation context or workers: for counting, inspecting or validating
 * tokens. It shares the process's one copy of the weights with any embedder or reranker on the same file.
 */
export class Tokenizer implements TokenizerMethods {
    readonly modelPath: string;
    readonly vocabularySize: number;
    #model: EngineModel | undefined;

    /** @internal */
    constructor(model: EngineModel) {
        this.#model = model;
        this.modelPath = model.path;
        this.vocabularySize = model.info.vocabularySize;
    }

    get disposed(): boolean {
        return this.#model === undefined;
    }

    async tokenize(texts: readonly string[]): Promise<Int32Array[]> {
        return tokenizeWith(this.#use(), texts);
    }

    async detokenize(ids: Int32Array | readonly number[]): Promise<string> {
        return detokenizeWith(this.#use(), ids);
    }

    /** Releases this handle on the model. Calling it again returns at once. */
    async dispose(): Promise<void> {
        const model = this.#model;
        this.#model = undefined;
        await model?.dispose();
    }

    async [Symbol.asyncDispose](): Promise<void> {
        await this.dispose();
    }

    #use(): EngineModel {
        if (this.#model === undefined) throw new DisposedError(`The tokenizer of ${this.modelPath} was disposed; create a new one`);
        return this.#model;
    }
}

/** Loads only the tokenizer side of a model (path or pulled registry id): every option checked before anything loads. */
export async function createTokenizer(options: CreateTokenizerOptions): Promise<Tokenizer> {
    const opts = checkOptionsObject<CreateTokenizerOptions>("createTokenizer options", options, CREATE_OPTIONS);
    const model = checkString("model", opts.model, { allowEmpty: false });
    const { model: _, ...load } = opts;
    checkLoadOptions(load);
    return new Tokenizer(await loadEngineModel(await resolveModelPath(model), load));
}
