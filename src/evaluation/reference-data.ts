/**
 * What a verification compares: inputs ("probes") and what a reference returned for them. A reference file holds
 * exactly this, one JSON object per line (see reference-file.ts); a remote reference is asked for it.
 */

/** A text to embed. With an instruction it is a query (`Instruct: {instruction}\nQuery:{text}`), without one a document. */
export interface EmbeddingProbe {
    id: string;
    text: string;
    instruction?: string | undefined;
}

/** A query and the documents to score against it (in this order). */
export interface RerankProbe {
    id: string;
    query: string;
    /** the reranker's `<Instruct>:` line; the official web-search instruction when absent */
    instruction?: string | undefined;
    documents: string[];
}

export interface ProbeSet {
    embeddings: EmbeddingProbe[];
    rerankings: RerankProbe[];
}

export interface ReferenceEmbedding extends EmbeddingProbe {
    embedding: ArrayLike<number>;
}

export interface ReferenceRerank extends RerankProbe {
    /** one score per document, in document order */
    scores: number[];
}

export interface ReferenceData {
    /** where it came from: a URL or a file path, for reports */
    source: string;
    embeddings: ReferenceEmbedding[];
    rerankings: ReferenceRerank[];
}
