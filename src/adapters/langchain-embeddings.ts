import { Embeddings, type EmbeddingsParams } from "@langchain/core/embeddings";
import { stampRetryable } from "@langchain/core/errors";
import { Qwen3EmbeddingError } from "../internal/errors.js";
import { checkString, checkStringArray } from "../internal/validation.js";
import { EmbeddingSource, type EmbeddingSourceOptions } from "./embedding-source.js";
import { ServeRequestError } from "./serve-client.js";

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
        checkStringArray("texts", documents);
        return (await this.#call(() => this.#source.documents(documents))).embeddings;
    }

    /**
     * Through the AsyncCaller to a serve: it retries what may pass on a second try (no answer, 408, 429, 5xx), not a
     * request the server refused (other 4xx), nor an error of this library. Arguments are checked before.
     */
    #call<T>(run: () => Promise<T>): Promise<T> {
        if (!this.#remote) return run();
        return this.caller.call(async () => {
            try {
                return await run();
            } catch (error) {
                throw isFinal(error) ? stampRetryable(error, false) : error;
            }
        });
    }
}

/** An error a second try would repeat. */
function isFinal(error: unknown): boolean {
    if (error instanceof Qwen3EmbeddingError) return true;
    const status = error instanceof ServeRequestError ? error.status : undefined;
    return status !== undefined && status >= 400 && status < 500 && status !== 408 && status !== 429;
}
