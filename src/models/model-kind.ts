import { basename } from "node:path";
import { UnsupportedModelError } from "../internal/errors.js";
import type { GgufInspection } from "./gguf-inspection.js";

export type ModelKind = "embedding" | "reranker";

/**
 * How a Qwen3 GGUF is used:
 * - "last-token": an embedding model (pooling LAST, or no pooling key in older conversions);
 * - "rank-classifier": a reranker converted by llama.cpp >= b6578 (pooling RANK, cls.output = [yes, no] rows);
 * - "causal-lm": a reranker kept as a plain causal LM; the score comes from the yes/no logits.
 */
export type ModelFlavour = "last-token" | "rank-classifier" | "causal-lm";

export interface ModelClassification {
    kind: ModelKind;
    flavour: ModelFlavour;
}

/** Tells an embedding GGUF from a reranker GGUF by its metadata and head tensors. */
export function classifyModel(inspection: GgufInspection): ModelClassification {
    const { path, pooling } = inspection;
    if (pooling === "last") return { kind: "embedding", flavour: "last-token" };
    if (pooling === "rank") {
        if (inspection.classifierRows === 0) {
            throw new UnsupportedModelError(
                `${path} uses RANK pooling without cls.output: re-convert it with llama.cpp b6578 or later (convert_hf_to_gguf.py), or use a plain causal-LM conversion of the reranker`,
            );
        }
        if (inspection.classifierRows !== 2) {
            throw new UnsupportedModelError(
                `${path} has a classifier with ${inspection.classifierRows} outputs; a Qwen3 reranker has 2 (yes, no)`,
            );
        }
        const labels = inspection.classifierLabels.map((label) => label.toLowerCase());
        if (labels.length === 2 && (labels[0] !== "yes" || labels[1] !== "no")) {
            throw new UnsupportedModelError(
                `${path} labels its classifier outputs ${JSON.stringify(inspection.classifierLabels)}; a Qwen3 reranker's are ["yes", "no"]`,
            );
        }
        return { kind: "reranker", flavour: "rank-classifier" };
    }
    if (pooling === "unspecified" || pooling === "none") {
        // A causal LM: a reranker kept as an LM, or an embedding conversion that predates the pooling key.
        // The name decides where it says which; reranking is the only use of an untied LM head here.
        const name = `${inspection.name ?? ""} ${basename(path)}`.toLowerCase();
        if (name.includes("embedding")) return { kind: "embedding", flavour: "last-token" };
        return { kind: "reranker", flavour: "causal-lm" };
    }
    throw new UnsupportedModelError(
        `${path} uses ${pooling.toUpperCase()} pooling, which no Qwen3 embedding or reranker model uses; convert the original checkpoint again with llama.cpp's convert_hf_to_gguf.py`,
    );
}

/** Throws a clear error when a file of one kind is used as the other. */
export function requireModelKind(inspection: GgufInspection, wanted: ModelKind): ModelClassification {
    const classification = classifyModel(inspection);
    if (classification.kind === wanted) return classification;
    if (wanted === "reranker") {
        throw new UnsupportedModelError(
            `${inspection.path} is an embedding model, not a reranker: use it with createEmbedder(), and rerank with a Qwen3-Reranker GGUF`,
        );
    }
    throw new UnsupportedModelError(
        `${inspection.path} is a reranker model, not an embedding model: use it with createReranker(), and embed with a Qwen3-Embedding GGUF`,
    );
}
