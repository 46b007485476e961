import type { FacadeModelOptions } from "./facade-model.js";

/** The KV cache precision of a model's contexts (the `kvCacheType` option). */
export type KvCacheType = NonNullable<FacadeModelOptions["kvCacheType"]>;

/** The default KV cache precision (llama.cpp's): the fast mode. */
export const DEFAULT_KV_CACHE_TYPE: KvCacheType = "f16";

/**
 * What a KV cache precision means for results: "exact" (f32: the closest to a float64 forward pass, at twice the
 * KV memory and without flash attention), "fast" (f16, the default), "quantized" (q8_0).
 */
export type PrecisionMode = "exact" | "fast" | "quantized";

const MODES: Record<KvCacheType, PrecisionMode> = { f32: "exact", f16: "fast", q8_0: "quantized" };

/** Whether a value is a KV cache precision this library knows (for what a duck-typed model says of itself). */
export function isKvCacheType(value: unknown): value is KvCacheType {
    return typeof value === "string" && Object.hasOwn(MODES, value);
}

export function precisionModeOf(kvCacheType: KvCacheType): PrecisionMode {
    return MODES[kvCacheType];
}

/** How reports and logs name the mode a model ran in: "exact (f32 KV cache)", "fast (f16 KV cache)". */
export function describePrecision(kvCacheType: KvCacheType): string {
    return `${precisionModeOf(kvCacheType)} (${kvCacheType} KV cache)`;
}

/**
 * The mode of a run with up to two models: one description when they agree (or only one is known), both named when
 * they differ ("embedding exact (f32 KV cache), reranker fast (f16 KV cache)"); undefined when neither is known.
 */
export function describeModelsPrecision(kvCacheTypes: { embedding?: KvCacheType | undefined; reranker?: KvCacheType | undefined }): string | undefined {
    const { embedding, reranker } = kvCacheTypes;
    if (embedding !== undefined && reranker !== undefined && embedding !== reranker) {
        return `embedding ${describePrecision(embedding)}, reranker ${describePrecision(reranker)}`;
    }
    const known = embedding ?? reranker;
    return known === undefined ? undefined : describePrecision(known);
}
