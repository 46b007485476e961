// Reference data computed by the independent float64 oracle (test/reference/), tokenized by the Hugging Face
// tokenizer: what a correct deployment of the same weights returns, made without any code of the library's engine.
import { DEFAULT_INSTRUCTION, RERANK_PREFIX, RERANK_SUFFIX, formatQuery, formatRerankBody } from "../../src/index.js";
import type { ProbeSet, ReferenceData } from "../../src/evaluation/reference-data.js";
import { loadQwen3Reference } from "../reference/qwen3-reference.js";
import { referenceTokenize } from "../support/hf-tokenizer.js";

const END_OF_TEXT = 151643;

/** Embeddings of every embedding probe with the oracle of `embeddingModel`, scores of every rerank probe with `rerankerModel`. */
export async function oracleReference(probes: ProbeSet, models: { embedding?: string; reranker?: string }, source = "float64 oracle"): Promise<ReferenceData> {
    const data: ReferenceData = { source, embeddings: [], rerankings: [] };
    if (models.embedding !== undefined) {
        const oracle = await loadQwen3Reference(models.embedding);
        try {
            data.embeddings = probes.embeddings.map((probe) => {
                const text = probe.instruction === undefined ? probe.text : formatQuery(probe.instruction, probe.text);
                return { ...probe, embedding: Array.from(oracle.embed([...referenceTokenize(text), END_OF_TEXT])) };
            });
        } finally {
            oracle.close();
        }
    }
    if (models.reranker !== undefined) {
        const oracle = await loadQwen3Reference(models.reranker);
        const prefix = referenceTokenize(RERANK_PREFIX);
        const suffix = referenceTokenize(RERANK_SUFFIX);
        try {
            data.rerankings = probes.rerankings.map((probe) => ({
                ...probe,
                scores: probe.documents.map((document) =>
                    oracle.rankScore([...prefix, ...referenceTokenize(formatRerankBody(probe.instruction ?? DEFAULT_INSTRUCTION, probe.query, document)), ...suffix]),
                ),
            }));
        } finally {
            oracle.close();
        }
    }
    return data;
}
