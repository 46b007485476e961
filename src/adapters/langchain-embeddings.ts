import { Embeddings, type EmbeddingsParams } from "@langchain/core/embeddings";
import { checkString } from "../internal/validation.js";
import { EmbeddingSource, type EmbeddingSourceOptions } from "./embedding-source.js";

/** LangChain's AsyncCaller settings (maxConcurrency, maxRetries, onFailedAttempt): they apply to a remote serve only. */
const CALLER_OPTIONS = ["maxConcurrency", "maxRetries", "onFailedAttempt"] as const;

export interface Qwen3EmbeddingsOptions extends EmbeddingSourceOptions, EmbeddingsParams {}

/**
 * LangChain embeddings over Qwen3-Embedding: `embedQuery` embeds the query with the Qwen3 instruction
 * (`Instruct: {instruction}\nQuery:{text}`, the web-search one unless `instruction` or `task` says otherwise);
 * `embedDocuments` embeds documents as raw text. Give an `embedder` (in process) or the `baseUrl` of a serve.
 * Requests to a serve go through LangChain's AsyncCaller (retries, concurrency); in-process calls do not.
 */
export class Qwen3Embeddings extends Embeddings {
    readonly #source: EmbeddingSource;
    readonly #remote: boolean;

    constructor(options: Qwen3EmbeddingsOptions) {
        const source = new EmbeddingSource("Qwen3Embeddings options", options, CALLER_OPTIONS);
        super(Object.fromEntries(CALLER_OPTIONS.filter((key) => options[key] !== undefined).map((key) => [key, options[key]])));
        this.#source = source;
        this.#remote = options.embedder === undefined;
    }

    /** The instruction queries get. */
    get instruction(): string {
        return this.#source.instruction;
    }

    override async embedQuery(query: string): Promise<number[]> {
        checkString("query", query);
        const { embeddings } = await this.#call(() => this.#source.queries([query], undefined));
        return embeddings[0]!;
    }

    override async embedDocuments(documents: string[]): Promise<number[][]> {
        return (await this.#call(() => this.#source.documents(documents))).embeddings;
    }

    #call<T>(run: () => Promise<T>): Promise<T> {
        return this.#remote ? this.caller.call(run) : run();
    }
}
