import { AbortedError, InvalidOptionError } from "../internal/errors.js";
import { buildEmbeddingSequence, formatQuery } from "../format/embedding-input.js";
import { normalizeInputText } from "../format/input-normalization.js";
import { embeddingSimilarity } from "../format/embedding-similarity.js";
import { OUTPUT_TYPES, quantizeEmbedding, type EmbeddingArray, type OutputType } from "../format/output-types.js";
import { DEFAULT_INSTRUCTION, isSymmetricTask, resolveInstruction, type TaskName } from "../format/task-instructions.js";
import { truncateDimensions } from "../format/vector-math.js";
import { checkScheduleOptions, FACADE_MODEL_OPTIONS, FacadeModel, loadFacadeModel, type FacadeModelOptions, type ScheduleOptions } from "./facade-model.js";
import { ScheduledFacade } from "./scheduled-facade.js";
import {
    checkAbortSignal,
    checkBoolean,
    checkInteger,
    checkOneOf,
    checkOptionsObject,
    checkString,
    checkStringArray,
    describeValue,
} from "../internal/validation.js";

export interface CreateEmbedderOptions extends FacadeModelOptions {
    /** NFKC, straight quotes and collapsed whitespace on every input before tokenizing. Default false. */
    normalizeInput?: boolean;
}

/** Which side of an asymmetric retrieval model the texts are: queries get an instruction, documents are embedded as they are. */
export type EmbedRole = "query" | "document";

export const EMBED_ROLES: readonly EmbedRole[] = Object.freeze(["query", "document"]);

export interface EmbedOptions extends ScheduleOptions {
    /**
     * "query": formatted `Instruct: {instruction}\nQuery:{text}` (the web-search instruction unless `instruction` or
     * `task` says otherwise); "document": the raw text, no instruction (except the symmetric task "semantic-similarity").
     * Without it, texts with an `instruction`/`task` are queries and texts without one are documents (with a one-time
     * warning: embedding queries as documents silently loses retrieval quality).
     */
    role?: EmbedRole;
    /** Free-text task instruction: the inputs are formatted as queries `Instruct: {instruction}\nQuery:{text}`. */
    instruction?: string;
    /** A named task instead of an instruction ("web-search", "memory-retrieval", ...). */
    task?: TaskName;
    /** Matryoshka: keep the first N components (32..model dimension), then L2-normalize again. */
    dimensions?: number;
    /** L2-normalize (default true). */
    normalize?: boolean;
    /** Tokens the model sees per input, the appended <|endoftext|> included. Default 8192, at most the context size. */
    maxTokens?: number;
    /** "end" (default) cuts long inputs from the end, keeping the appended token; "error" rejects them. */
    truncate?: "end" | "error";
    /** "float32" (default), "int8", "uint8", "binary" or "ubinary" (sentence-transformers / Cohere definitions). */
    outputType?: OutputType;
}

/** Any embedding `embed` can return; a call's result is typed by its `outputType` (Float32Array by default). */
export type EmbeddingVector = EmbeddingArray;

export interface EmbeddingResult<V extends EmbeddingVector = EmbeddingVector> {
    embeddings: V[];
    /** Tokens the model saw for each input, the appended <|endoftext|> included. */
    tokens: number[];
    totalTokens: number;
    /** Which inputs were cut to maxTokens. */
    truncated: boolean[];
    dimensions: number;
}

export interface SingleEmbeddingResult<V extends EmbeddingVector = EmbeddingVector> {
    embedding: V;
    tokens: number;
    truncated: boolean;
    dimensions: number;
}

const CREATE_OPTIONS = [...FACADE_MODEL_OPTIONS, "normalizeInput"] as const;
const EMBED_OPTIONS = [
    "role", "instruction", "task", "dimensions", "normalize", "maxTokens", "truncate", "outputType", "signal", "priority", "timeoutMs",
] as const;

/** Options that say the texts' role, or imply it with an instruction or task. */
export type RoleOptions<T extends OutputType = OutputType> = EmbedOptions & { outputType?: T } & ({ role: EmbedRole } | { instruction: string } | { task: TaskName });

let warnedRoleless = false;

/** Qwen3 text embeddings with every detail of the model's contract handled. Create with `createEmbedder`. */
export class Embedder extends ScheduledFacade {
    /** The model's full embedding dimension. */
    readonly dimensions: number;
    readonly #normalizeInput: boolean;

    /** @internal */
    constructor(loaded: FacadeModel, normalizeInput: boolean) {
        super(loaded);
        this.#normalizeInput = normalizeInput;
        this.dimensions = loaded.info.embeddingSize;
    }

    /**
     * Embeds texts as queries or documents, by `role` (see EmbedOptions.role). Vectors come typed by `outputType`:
     * Float32Array by default.
     */
    embed<T extends OutputType = "float32">(texts: readonly string[], options: RoleOptions<T>): Promise<EmbeddingResult<EmbeddingArray<T>>>;
    /** @deprecated Say what the texts are: `{ role: "query" }` or `{ role: "document" }` (or use embedQuery / embedDocuments). */
    embed<T extends OutputType = "float32">(texts: readonly string[], options?: EmbedOptions & { outputType?: T }): Promise<EmbeddingResult<EmbeddingArray<T>>>;
    async embed(texts: readonly string[], options: EmbedOptions = {}): Promise<EmbeddingResult> {
        checkStringArray("texts", texts);
        const opts = checkOptionsObject<EmbedOptions>("embed options", options, EMBED_OPTIONS);
        const role = opts.role === undefined ? undefined : checkOneOf("role", opts.role, EMBED_ROLES);
        if (role === "query") return this.#embed(texts, resolveInstruction(opts) ?? DEFAULT_INSTRUCTION, opts);
        if (role === "document") return this.#embedDocuments(texts, opts, 'embed() with role "document"');
        const instruction = resolveInstruction(opts);
        if (instruction === undefined && !warnedRoleless) {
            warnedRoleless = true;
            process.emitWarning(
                'embed() without a role embeds texts as documents (no instruction). Queries embedded this way lose retrieval quality with Qwen3-Embedding: ' +
                'pass { role: "query" } or { role: "document" }, or use embedQuery() / embedDocuments()',
                { type: "Qwen3EmbeddingWarning", code: "QWEN3_EMBEDDING_ROLE" },
            );
        }
        return this.#embed(texts, instruction, opts);
    }

    /** Embeds one query with an instruction (default: the web-search one). */
    async embedQuery<T extends OutputType = "float32">(text: string, options: EmbedOptions & { outputType?: T } = {}): Promise<SingleEmbeddingResult<EmbeddingArray<T>>> {
        checkString("text", text);
        const opts = checkOptionsObject<EmbedOptions>("embedQuery options", options, EMBED_OPTIONS);
        const instruction = resolveInstruction(opts) ?? DEFAULT_INSTRUCTION;
        const result = await this.#embed([text], instruction, opts);
        return { embedding: result.embeddings[0]! as EmbeddingArray<T>, tokens: result.tokens[0]!, truncated: result.truncated[0]!, dimensions: result.dimensions };
    }

    /** Embeds documents: raw text, no instruction (except for the symmetric task "semantic-similarity"). */
    async embedDocuments<T extends OutputType = "float32">(texts: readonly string[], options: EmbedOptions & { outputType?: T } = {}): Promise<EmbeddingResult<EmbeddingArray<T>>> {
        checkStringArray("texts", texts);
        const opts = checkOptionsObject<EmbedOptions>("embedDocuments options", options, EMBED_OPTIONS);
        if (opts.role !== undefined && opts.role !== "document") {
            throw new InvalidOptionError(`Expected no role or "document" for role in embedDocuments options but received ${describeValue(opts.role)}; use embedQuery() for queries`, { option: "role" });
        }
        return this.#embedDocuments(texts, opts, "embedDocuments") as Promise<EmbeddingResult<EmbeddingArray<T>>>;
    }

    /**
     * How many tokens each text has as the model would see it, before any cut: formatted as a query when `instruction`
     * or `task` is given (as `embed` does), normalized when the embedder normalizes input, the appended <|endoftext|>
     * included. A count above `maxTokens` is an input `embed` cuts (or, with `truncate: "error"`, refuses).
     */
    async countTokens(texts: readonly string[], options: Pick<EmbedOptions, "instruction" | "task"> = {}): Promise<number[]> {
        checkStringArray("texts", texts);
        const opts = checkOptionsObject<EmbedOptions>("countTokens options", options, ["instruction", "task"]);
        const { model } = this.loaded.use();
        const tokenized = await model.tokenize(this.#inputs(texts, resolveInstruction(opts)), { special: false });
        return tokenized.map((ids) => ids.length + 1);
    }

    /**
     * Similarity of two embeddings of the same output type, on the cosine scale: the cosine for float vectors (the dot
     * product when both are normalized), the cosine of the bucket centres for "int8"/"uint8", `1 - 2 * hamming / bits`
     * for packed bits. Int8Array is read as "int8" and Uint8Array as "uint8" unless `outputType` says "binary"/"ubinary".
     */
    similarity(a: Float32Array, b: Float32Array, outputType?: "float32"): number;
    similarity(a: Int8Array, b: Int8Array, outputType?: "int8" | "binary"): number;
    similarity(a: Uint8Array, b: Uint8Array, outputType?: "uint8" | "ubinary"): number;
    similarity(a: EmbeddingVector, b: EmbeddingVector, outputType?: OutputType): number;
    similarity(a: EmbeddingVector, b: EmbeddingVector, outputType?: OutputType): number {
        return embeddingSimilarity(a, b, outputType);
    }

    #embedDocuments(texts: readonly string[], opts: EmbedOptions, caller: string): Promise<EmbeddingResult> {
        if (opts.instruction !== undefined || (opts.task !== undefined && !isSymmetricTask(opts.task))) {
            throw new InvalidOptionError(
                `${caller} embeds documents as raw text and takes no instruction; use embed() or embedQuery() for queries, or task "semantic-similarity" for symmetric tasks`,
            );
        }
        return this.#embed(texts, resolveInstruction(opts), opts);
    }

    async #embed(texts: readonly string[], instruction: string | undefined, opts: EmbedOptions): Promise<EmbeddingResult> {
        const { model, scheduler } = this.loaded.use();
        const dimensions = opts.dimensions === undefined ? this.dimensions : checkInteger("dimensions", opts.dimensions, Math.min(32, this.dimensions), this.dimensions);
        const normalize = opts.normalize === undefined ? true : checkBoolean("normalize", opts.normalize);
        const maxTokens = opts.maxTokens === undefined ? Math.min(8192, this.contextSize) : checkInteger("maxTokens", opts.maxTokens, 2, this.contextSize);
        const truncate = checkOneOf("truncate", opts.truncate ?? "end", ["end", "error"] as const);
        const outputType = checkOneOf("outputType", opts.outputType ?? "float32", OUTPUT_TYPES);
        const signal = checkAbortSignal("signal", opts.signal);
        // Queries are what a user waits for; documents are usually bulk indexing.
        const schedule = checkScheduleOptions(opts, instruction === undefined ? "bulk" : "interactive");
        if (signal?.aborted) throw new AbortedError();

        const tokenized = await model.tokenize(this.#inputs(texts, instruction), { special: false });
        const built = tokenized.map((ids, index) => buildEmbeddingSequence(ids, { maxTokens, truncate, index }));
        const sequences = built.map((entry) => entry.tokens);
        const hidden = await scheduler.submit({ kind: "embed", sequences, signal, ...schedule });
        const width = this.dimensions;
        const embeddings = sequences.map((_, index) => {
            const row = hidden.subarray(index * width, (index + 1) * width);
            const shaped = normalize ? truncateDimensions(row, dimensions) : row.slice(0, dimensions);
            return outputType === "float32" ? shaped : quantizeEmbedding(shaped, outputType);
        });
        const tokens = sequences.map((sequence) => sequence.length);
        return {
            embeddings,
            tokens,
            totalTokens: tokens.reduce((sum, count) => sum + count, 0),
            truncated: built.map((entry) => entry.truncated),
            dimensions,
        };
    }

    /** The texts the model reads: normalized (when asked), formatted as queries when there is an instruction. */
    #inputs(texts: readonly string[], instruction: string | undefined): string[] {
        return texts.map((text) => {
            const clean = this.#normalizeInput ? normalizeInputText(text) : text;
            return instruction === undefined ? clean : formatQuery(instruction, clean);
        });
    }
}

/** Loads a Qwen3-Embedding GGUF (path or pulled registry id) and prepares a batched evaluation context. */
export async function createEmbedder(options: CreateEmbedderOptions): Promise<Embedder> {
    const opts = checkOptionsObject<CreateEmbedderOptions>("createEmbedder options", options, CREATE_OPTIONS);
    const normalizeInput = opts.normalizeInput === undefined ? false : checkBoolean("normalizeInput", opts.normalizeInput);
    const loaded = await loadFacadeModel(opts, "embedding");
    return new Embedder(loaded, normalizeInput);
}
