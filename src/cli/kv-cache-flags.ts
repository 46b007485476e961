import { describeValue } from "../internal/validation.js";
import type { KvCacheType } from "../facade/precision-mode.js";
import { UsageError } from "./command.js";

/**
 * The KV cache types the command line offers. Not q8_0: a quantized cache needs flash attention, and the engine
 * decodes short sequences in a context without it, so q8_0 fails there (llama.cpp refuses the context).
 */
export const CLI_KV_CACHE_TYPES = ["f16", "f32"] as const satisfies readonly KvCacheType[];

/** The parseArgs options of --exact and --kv-cache-type, for every command that loads models. */
export const KV_CACHE_OPTIONS = { exact: { type: "boolean" }, "kv-cache-type": { type: "string" } } as const;

/** The --help lines of --exact and --kv-cache-type. */
export const KV_CACHE_USAGE = [
    "--exact: exact mode for every model the command loads: a float32 KV cache (kvCacheType \"f32\") instead of the",
    "  default float16 one (the fast mode), for results closest to a float64 forward pass, as parity checks want.",
    "  Costs twice the KV cache memory, and runs dense attention instead of flash attention: slower.",
    "--kv-cache-type f16|f32: the KV cache precision outright (default f16). --exact is --kv-cache-type f32; with",
    "  --kv-cache-type f16 it is refused.",
].join("\n");

/** A value as given, and where it came from for messages: "--exact", or an environment variable's name. */
export interface GivenValue {
    value: unknown;
    from: string;
}

/**
 * The KV cache type that `exact` (--exact) and `kvCacheType` (--kv-cache-type) ask for; undefined when neither does
 * (the library's default, f16). Both may be given when they agree; a conflict is a UsageError naming both.
 */
export function kvCacheTypeFrom(exact: GivenValue | undefined, kvCacheType: GivenValue | undefined): KvCacheType | undefined {
    let explicit: KvCacheType | undefined;
    if (kvCacheType !== undefined) {
        const value = kvCacheType.value;
        if (typeof value !== "string" || !(CLI_KV_CACHE_TYPES as readonly string[]).includes(value)) {
            const received = typeof value === "string" ? JSON.stringify(value) : describeValue(value);
            throw new UsageError(`Expected ${CLI_KV_CACHE_TYPES.join(" or ")} for ${kvCacheType.from} but received ${received}`);
        }
        explicit = value as KvCacheType;
    }
    if (exact === undefined || exact.value !== true) return explicit;
    if (explicit !== undefined && explicit !== "f32") {
        throw new UsageError(
            `${exact.from} asks for the f32 KV cache (exact mode) but ${kvCacheType!.from} asks for ${explicit}; pass one of them`,
        );
    }
    return "f32";
}

/** `{ kvCacheType }` for createEmbedder/createReranker from a command's parsed --exact and --kv-cache-type; `{}` when neither is given. */
export function kvCacheOption(values: Record<string, unknown>): { kvCacheType?: KvCacheType } {
    const given = (flag: string): GivenValue | undefined => (values[flag] === undefined ? undefined : { value: values[flag], from: `--${flag}` });
    const kvCacheType = kvCacheTypeFrom(given("exact"), given("kv-cache-type"));
    return kvCacheType === undefined ? {} : { kvCacheType };
}
