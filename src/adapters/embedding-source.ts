import { Embedder } from "../facade/embedder.js";
import { DEFAULT_INSTRUCTION, isSymmetricTask, resolveInstruction, TASK_NAMES, type TaskName } from "../format/task-instructions.js";
import { checkInteger, checkOneOf, checkStringArray, describeValue } from "../internal/validation.js";
import { readAdapterTarget, TargetedSource } from "./adapter-target.js";
import { SERVE_CONNECTION_OPTIONS, ServeRequestError, type ServeConnection } from "./serve-client.js";

/** The instruction queries get: free text, or a named task. Documents never get one (except the symmetric "semantic-similarity"). */
export interface QueryInstruction {
    /** Free-text task instruction for queries: `Instruct: {instruction}\nQuery:{text}`. Default: the web-search one. */
    instruction?: string;
    /** A named task instead of an instruction ("web-search", "memory-retrieval", ...). */
    task?: TaskName;
}

/**
 * Where the embeddings come from: an `embedder` made by `createEmbedder` (in this process), or a `qwen3-embedding serve`
 * at `baseUrl` (its OpenAI route, queries marked with `input_type: "query"` and their instruction). Give one of them.
 */
export interface EmbeddingSourceOptions extends QueryInstruction, Partial<ServeConnection> {
    /** An Embedder from createEmbedder; the adapter does not dispose it. */
    embedder?: Embedder;
    /** Matryoshka: keep the first N components, then L2-normalize again. Default: the model's full dimension. */
    dimensions?: number;
}

export const EMBEDDING_SOURCE_OPTIONS = ["embedder", ...SERVE_CONNECTION_OPTIONS, "instruction", "task", "dimensions"] as const;

export interface SourceEmbeddings {
    embeddings: number[][];
    /** Tokens the model saw, instructions and <|endoftext|> included. */
    tokens: number;
}

/** Embeds queries (with their instruction) and documents (bare) through an in-process Embedder or a remote serve. */
export class EmbeddingSource extends TargetedSource<Embedder> {
    readonly #defaults: QueryInstruction;
    readonly #dimensions: number | undefined;

    /** Checks `options` (named `optionsName` in errors; `extra` are the adapter's own keys, checked by it). */
    constructor(optionsName: string, options: unknown, extra: readonly string[] = []) {
        const target = readAdapterTarget<EmbeddingSourceOptions, "embedder", Embedder>(optionsName, options, [...EMBEDDING_SOURCE_OPTIONS, ...extra], {
            key: "embedder", class: Embedder, description: "an Embedder from createEmbedder", id: "qwen3-embedding",
        });
        super(target);
        const opts = target.options;
        this.#defaults = checkQueryInstruction(opts, "");
        const max = this.local?.dimensions ?? 1_000_000;
        this.#dimensions = opts.dimensions === undefined ? undefined : checkInteger("dimensions", opts.dimensions, Math.min(32, max), max);
    }

    /** The instruction queries get by default, after the options' instruction / task. */
    get instruction(): string {
        return resolveInstruction(this.#defaults) ?? DEFAULT_INSTRUCTION;
    }

    /** Embeds queries with `choice`'s instruction, or the adapter's default one. */
    async queries(texts: readonly string[], choice: QueryInstruction | undefined, signal?: AbortSignal): Promise<SourceEmbeddings> {
        const instruction = choice === undefined || (choice.instruction === undefined && choice.task === undefined)
            ? this.instruction
            : resolveInstruction(choice) ?? DEFAULT_INSTRUCTION;
        checkStringArray("texts", texts);
        if (texts.length === 0) return { embeddings: [], tokens: 0 };
        if (this.local !== undefined) {
            return local(await this.local.embed(texts, { role: "query", instruction, ...this.#shape(signal) }));
        }
        return this.#remote({ input: texts, input_type: "query", instruction }, texts.length, signal);
    }

    /** Embeds documents as raw text (with the task's instruction only for the symmetric "semantic-similarity"). */
    async documents(texts: readonly string[], signal?: AbortSignal): Promise<SourceEmbeddings> {
        const task = this.#defaults.task !== undefined && isSymmetricTask(this.#defaults.task) ? this.#defaults.task : undefined;
        checkStringArray("texts", texts);
        if (texts.length === 0) return { embeddings: [], tokens: 0 };
        if (this.local !== undefined) {
            return local(await this.local.embedDocuments(texts, { ...(task === undefined ? {} : { task }), ...this.#shape(signal) }));
        }
        return this.#remote({ input: texts, input_type: "document", ...(task === undefined ? {} : { task }) }, texts.length, signal);
    }

    #shape(signal: AbortSignal | undefined): { dimensions?: number; signal?: AbortSignal } {
        return { ...(this.#dimensions === undefined ? {} : { dimensions: this.#dimensions }), ...(signal === undefined ? {} : { signal }) };
    }

    async #remote(body: Record<string, unknown>, count: number, signal: AbortSignal | undefined): Promise<SourceEmbeddings> {
        const client = this.client!;
        const dimensions = this.#dimensions === undefined ? {} : { dimensions: this.#dimensions };
        const answer = await client.post("/v1/embeddings", { ...body, ...dimensions, encoding_format: "float" }, signal) as {
            data?: { index?: unknown; embedding?: unknown }[];
            usage?: { total_tokens?: unknown };
        };
        const data = answer.data;
        if (!Array.isArray(data) || data.length !== count || data.some((item) => typeof item?.index !== "number" || !Array.isArray(item.embedding))) {
            throw new ServeRequestError(`${client.root}/v1/embeddings answered without ${count} embeddings in data[]: ${describeValue(data)}`, `${client.root}/v1/embeddings`);
        }
        const embeddings: number[][] = new Array(count);
        for (const item of data) embeddings[item.index as number] = item.embedding as number[];
        const tokens = typeof answer.usage?.total_tokens === "number" ? answer.usage.total_tokens : 0;
        return { embeddings, tokens };
    }
}

/** Checks an instruction / task pair; `prefix` goes before the option names in errors. */
export function checkQueryInstruction(choice: QueryInstruction, prefix: string): QueryInstruction {
    resolveInstruction(choice, prefix);
    if (choice.task !== undefined) checkOneOf(`${prefix}task`, choice.task, TASK_NAMES);
    return { ...(choice.instruction === undefined ? {} : { instruction: choice.instruction }), ...(choice.task === undefined ? {} : { task: choice.task }) };
}

function local(result: { embeddings: ArrayLike<number>[]; totalTokens: number }): SourceEmbeddings {
    return { embeddings: result.embeddings.map((embedding) => Array.from(embedding)), tokens: result.totalTokens };
}
