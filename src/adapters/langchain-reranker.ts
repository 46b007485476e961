import type { Callbacks } from "@langchain/core/callbacks/manager";
import { Document, type DocumentInterface } from "@langchain/core/documents";
import { BaseDocumentCompressor } from "@langchain/core/retrievers/document_compressors";
import { InvalidOptionError } from "../internal/errors.js";
import { checkOptionsObject, checkString, describeValue } from "../internal/validation.js";
import { RerankSource, type RankedDocument, type RerankSourceOptions } from "./rerank-source.js";

export type Qwen3RerankOptions = RerankSourceOptions;

/**
 * A LangChain document compressor over Qwen3-Reranker, as @langchain/cohere's CohereRerank: `compressDocuments`
 * returns the documents best first (the best `topN` when set), each with `metadata.relevanceScore` (p(yes) in
 * [0, 1]). Give a `reranker` (in process) or the `baseUrl` of a serve.
 */
export class Qwen3Rerank extends BaseDocumentCompressor {
    readonly #source: RerankSource;

    constructor(options: Qwen3RerankOptions) {
        super();
        this.#source = new RerankSource("Qwen3Rerank options", options);
    }

    override async compressDocuments(documents: DocumentInterface[], query: string, _callbacks?: Callbacks): Promise<DocumentInterface[]> {
        const ranked = await this.rerank(documents, query);
        return ranked.map(({ index, score }) => {
            const document = documents[index]!;
            return new Document({ ...document, metadata: { ...document.metadata, relevanceScore: score } });
        });
    }

    /** Scores documents (their `pageContent`, or strings) against the query: indices and scores, best first. */
    async rerank(documents: readonly (DocumentInterface | string)[], query: string, options: { topN?: number } = {}): Promise<RankedDocument[]> {
        checkString("query", query);
        if (!Array.isArray(documents)) throw new InvalidOptionError(`Expected an array of Documents or strings for documents but received ${describeValue(documents)}`, { option: "documents" });
        const opts = checkOptionsObject<{ topN?: number }>("rerank options", options, ["topN"]);
        const texts = documents.map((document, index) => (typeof document === "string" ? document : checkString(`documents[${index}].pageContent`, document?.pageContent)));
        return this.#source.rerank(query, texts, opts);
    }
}
