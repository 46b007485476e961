import { InvalidOptionError } from "../internal/errors.js";
import type { Reranker } from "../facade/reranker.js";
import { VectorStore } from "../store/vector-store.js";
import { describeValue } from "../internal/validation.js";

/** Accepts a VectorStore from `openStore`. */
export function checkStore(value: unknown, name = "store"): VectorStore {
    if (!(value instanceof VectorStore)) throw new InvalidOptionError(`Expected a store (from openStore) for ${name} but received ${describeValue(value)}`);
    return value;
}

/** Accepts a Reranker (or anything shaped like one), or undefined. */
export function checkOptionalReranker(value: unknown, name = "reranker"): Reranker | undefined {
    if (value === undefined) return undefined;
    const candidate = value as Partial<Reranker> | null;
    if (candidate === null || typeof candidate !== "object" || typeof candidate.rerank !== "function") {
        throw new InvalidOptionError(`Expected a Reranker (from createReranker) for ${name} but received ${describeValue(value)}`);
    }
    return candidate as Reranker;
}

export function checkOptionalFunction<T extends (...args: never[]) => unknown>(name: string, value: unknown): T | undefined {
    if (value === undefined) return undefined;
    if (typeof value !== "function") throw new InvalidOptionError(`Expected a function for ${name} but received ${describeValue(value)}`);
    return value as T;
}

export function checkUnitInterval(name: string, value: unknown): number {
    if (typeof value !== "number" || !Number.isFinite(value) || value < 0 || value > 1) {
        throw new InvalidOptionError(`Expected a number between 0 and 1 for ${name} but received ${describeValue(value)}`);
    }
    return value;
}
