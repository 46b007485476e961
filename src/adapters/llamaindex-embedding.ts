import { BaseEmbedding } from "@llamaindex/core/embeddings";
import type { MessageContentDetail } from "@llamaindex/core/llms";
import { checkInteger, checkString } from "../internal/validation.js";
import { EmbeddingSource, type EmbeddingSourceOptions } from "./embedding-source.js";

export type Qwen3LlamaIndexEmbeddingOptions = EmbeddingSourceOptions & {
    /** Texts per call of getTextEmbeddingsBatch (LlamaIndex's embedBatchSize). Default: LlamaIndex's (10). */
    embedBatchSize?: number;
};

/**
 * A LlamaIndex embedding over Qwen3-Embedding: `getQueryEmbedding` embeds the query with the Qwen3 instruction
 * (`Instruct: {instruction}\nQuery:{text}`, the web-search one unless `instruction` or `task` says otherwise);
 * `getTextEmbedding(s)` embed documents (nodes) as raw text. Give an `embedder` (in process) or the `baseUrl` of a serve.
 */
export class Qwen3Embedding extends BaseEmbedding {
    readonly #source: EmbeddingSource;

    constructor(options: Qwen3LlamaIndexEmbeddingOptions) {
        const source = new EmbeddingSource("Qwen3Embedding options", options, ["embedBatchSize"]);
        super();
        this.#source = source;
        if (options.embedBatchSize !== undefined) this.embedBatchSize = checkBatchSize(options.embedBatchSize);
        this.getTextEmbeddings = async (texts: string[]) => (await this.#source.documents(texts)).embeddings;
    }

    /** The instruction queries get. */
    get instruction(): string {
        return this.#source.instruction;
    }

    override async getTextEmbedding(text: string): Promise<number[]> {
        checkString("text", text);
        return (await this.#source.documents([text])).embeddings[0]!;
    }

    /** The query's text (a string, or a `{ type: "text" }` detail) embedded with the instruction; null for images and other non-text details, as LlamaIndex's own. */
    override async getQueryEmbedding(query: MessageContentDetail | string): Promise<number[] | null> {
        const text = typeof query === "string" ? query : query?.type === "text" ? checkString("query.text", query.text) : null;
        if (text === null) return null;
        return (await this.#source.queries([text], undefined)).embeddings[0]!;
    }
}

function checkBatchSize(value: unknown): number {
    return checkInteger("embedBatchSize", value, 1, Number.MAX_SAFE_INTEGER);
}
