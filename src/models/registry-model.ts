/** What the registry knows of one official Qwen3 model (an entry of `models/manifest.json`, once checked). */

export type RegistryModelKind = "embedding" | "reranker";

/** How a reranker GGUF scores: RANK pooling over a [yes, no] classifier, or the yes/no logits of a plain causal LM. */
export type RerankerGgufFlavour = "rank" | "causal-lm";

/** One downloadable GGUF file of a model. */
export interface GgufFileSource {
    /** Hugging Face repository, "owner/name". */
    readonly repo: string;
    /** File name inside the repository (and in the models directory once pulled). */
    readonly file: string;
    /** Rerankers only: the flavour the conversion is expected to have. */
    readonly flavour?: RerankerGgufFlavour;
    readonly note?: string;
}

interface RegistryModelBase {
    /** Registry id, lower case: "qwen3-embedding-0.6b". */
    readonly id: string;
    /** Official name: "Qwen3-Embedding-0.6B". */
    readonly name: string;
    readonly kind: RegistryModelKind;
    /** The original checkpoint: "Qwen/Qwen3-Embedding-0.6B". */
    readonly baseModel: string;
    /** Parameter count as Qwen states it: "0.6B". */
    readonly parameters: string;
    readonly layers: number;
    readonly hiddenSize: number;
    readonly contextLength: number;
    readonly defaultInstruction: string;
    readonly gguf: {
        readonly defaultQuant: string;
        readonly quants: Readonly<Record<string, GgufFileSource>>;
        readonly note?: string;
    };
}

export interface EmbeddingRegistryModel extends RegistryModelBase {
    readonly kind: "embedding";
    /** Full embedding dimension. */
    readonly dimension: number;
    /** Matryoshka (MRL) dimensions accepted: [32, dimension]. */
    readonly mrlRange: readonly [number, number];
}

export interface RerankerRegistryModel extends RegistryModelBase {
    readonly kind: "reranker";
}

export type RegistryModel = EmbeddingRegistryModel | RerankerRegistryModel;
