import { InvalidOptionError } from "../internal/errors.js";
import { cosineSimilarity } from "../format/vector-math.js";
import { summarize, type Summary } from "./descriptive-statistics.js";

/** One input embedded on both sides. */
export interface EmbeddingPair {
    id: string;
    text: string;
    /** set for queries (the instruction they were formatted with); absent for documents */
    instruction?: string | undefined;
    local: ArrayLike<number>;
    reference: ArrayLike<number>;
}

export interface EmbeddingItemAgreement {
    id: string;
    role: "query" | "document";
    /** the input, cut to 120 characters for reports */
    text: string;
    cosine: number;
    /** Euclidean distance between the two vectors as returned (both L2-normalized for a Qwen3 embedding) */
    distance: number;
}

export interface EmbeddingAgreement {
    count: number;
    dimensions: number;
    cosine: Summary;
    distance: Summary;
    /** the items with the lowest cosine, worst first */
    worst: EmbeddingItemAgreement[];
    /** every item, in input order */
    items: EmbeddingItemAgreement[];
}

export function excerpt(text: string, length = 120): string {
    const flat = text.replace(/\s+/g, " ").trim();
    return flat.length > length ? flat.slice(0, length - 1) + "…" : flat;
}

function euclideanDistance(a: ArrayLike<number>, b: ArrayLike<number>): number {
    let sum = 0;
    for (let i = 0; i < a.length; i++) sum += (a[i]! - b[i]!) ** 2;
    return Math.sqrt(sum);
}

/** Cosine similarity and Euclidean distance of each local vector to its reference, summarized, worst items named. */
export function compareEmbeddings(pairs: readonly EmbeddingPair[], { worst = 5 }: { worst?: number } = {}): EmbeddingAgreement {
    const dimensions = pairs[0]?.local.length ?? 0;
    const items = pairs.map((pair): EmbeddingItemAgreement => {
        if (pair.local.length !== pair.reference.length) {
            throw new InvalidOptionError(
                `The reference embedding of ${JSON.stringify(pair.id)} has ${pair.reference.length} dimensions but the local one has ${pair.local.length}; ` +
                    "pass the same dimensions to both sides (--dimensions)",
            );
        }
        return {
            id: pair.id,
            role: pair.instruction === undefined ? "document" : "query",
            text: excerpt(pair.text),
            cosine: cosineSimilarity(pair.local, pair.reference),
            distance: euclideanDistance(pair.local, pair.reference),
        };
    });
    return {
        count: items.length,
        dimensions,
        cosine: summarize(items.map((item) => item.cosine)),
        distance: summarize(items.map((item) => item.distance)),
        worst: [...items].sort((a, b) => a.cosine - b.cosine || b.distance - a.distance).slice(0, worst),
        items,
    };
}
