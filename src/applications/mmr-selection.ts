import { dotProduct } from "../format/vector-math.js";

/**
 * Maximal marginal relevance (Carbonell & Goldstein 1998): greedily picks the item maximizing
 * (1 - λ) * relevance - λ * max similarity to those already picked. λ = 0 is plain relevance order.
 * Similarity is the dot product of the items' vectors (their cosine, for unit vectors). Returns indexes into `items`.
 */
export function selectByMmr(items: readonly { vector: Float32Array }[], relevance: readonly number[], topK: number, lambda: number): number[] {
    const order = items.map((_, index) => index).sort((a, b) => relevance[b]! - relevance[a]! || a - b);
    if (lambda === 0) return order.slice(0, topK);
    const picked: number[] = [];
    const closest = new Array<number>(items.length).fill(-Infinity); // max similarity to a picked item
    const left = new Set(order);
    while (picked.length < topK && left.size > 0) {
        let best = -1;
        let bestValue = -Infinity;
        for (const index of order) {
            if (!left.has(index)) continue;
            const penalty = picked.length === 0 ? 0 : closest[index]!;
            const value = (1 - lambda) * relevance[index]! - lambda * penalty;
            if (value > bestValue) {
                bestValue = value;
                best = index;
            }
        }
        picked.push(best);
        left.delete(best);
        for (const index of left) closest[index] = Math.max(closest[index]!, dotProduct(items[index]!.vector, items[best]!.vector));
    }
    return picked;
}
