/** Where an index queue lives: a Redis URL and a queue name, checked before BullMQ loads. */
import { InvalidOptionError } from "../internal/errors.js";
import { checkString, describeValue } from "../internal/validation.js";

/** The BullMQ queue the producer fills and workers drain, unless told otherwise. */
export const DEFAULT_QUEUE_NAME = "qwen3-embedding-index";

/** Accepts a `redis://` or `rediss://` URL. */
export function checkRedisUrl(name: string, value: unknown): string {
    let url: URL | undefined;
    try {
        url = typeof value === "string" ? new URL(value) : undefined;
    } catch {
        url = undefined;
    }
    if (url === undefined || (url.protocol !== "redis:" && url.protocol !== "rediss:") || url.hostname === "") {
        throw new InvalidOptionError(`Expected a redis:// or rediss:// URL for ${name} but received ${describeValue(value)}`, { option: name });
    }
    return value as string;
}

/** A BullMQ queue name: letters, digits, "-", "_" and "." (":" separates BullMQ's own keys). */
export function checkQueueName(name: string, value: unknown): string {
    if (value === undefined) return DEFAULT_QUEUE_NAME;
    const text = checkString(name, value, { allowEmpty: false });
    if (!/^[A-Za-z0-9_.-]{1,100}$/.test(text)) {
        throw new InvalidOptionError(`Expected 1 to 100 letters, digits, "-", "_" or "." for ${name} but received ${describeValue(value)}`, { option: name });
    }
    return text;
}

/**
 * BullMQ's connection options for a URL. `maxRetriesPerRequest: null`: commands wait through a Redis restart instead
 * of failing after 20 retries (what BullMQ's workers require).
 */
export function connectionOptions(url: string): { url: string; maxRetriesPerRequest: null } {
    return { url, maxRetriesPerRequest: null };
}

/** The URL without its password, for messages and status output. */
export function redactedUrl(url: string): string {
    const parsed = new URL(url);
    if (parsed.password !== "") parsed.password = "***";
    return parsed.toString();
}

/** The `queue` (Redis URL) and `queueName` options every queue call takes. */
export function checkQueueLocation(opts: { queue?: unknown; queueName?: unknown }): { url: string; queueName: string } {
    return { url: checkRedisUrl("queue", opts.queue), queueName: checkQueueName("queueName", opts.queueName) };
}

/** Accepts an object with a method of that name (an Embedder, a Tokenizer, or anything shaped like one). */
export function checkObjectWithMethod<T>(name: string, value: unknown, method: string, expected: string): T {
    if (value === null || typeof value !== "object" || typeof (value as Record<string, unknown>)[method] !== "function") {
        throw new InvalidOptionError(`Expected ${expected} for ${name} but received ${describeValue(value)}`, { option: name });
    }
    return value as T;
}
