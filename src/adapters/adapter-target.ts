import { InvalidOptionError } from "../internal/errors.js";
import { describeValue } from "../internal/validation.js";
import { serveClient, type ServeClient, type ServeConnection } from "./serve-client.js";

/**
 * An adapter's model: the in-process object under `localKey` (an Embedder, a Reranker), or a remote serve at
 * `baseUrl`; exactly one of them.
 */
export function chooseTarget<K extends string, T>(
    optionsName: string,
    options: Partial<ServeConnection> & Partial<Record<K, unknown>>,
    localKey: K,
    localClass: abstract new (...args: never[]) => T,
    localDescription: string,
): { local: T; client?: undefined } | { local?: undefined; client: ServeClient } {
    const given = options[localKey];
    const remoteKeys = (["model", "apiKey", "timeoutMs"] as const).filter((key) => options[key] !== undefined);
    if (given !== undefined && options.baseUrl !== undefined) {
        throw new InvalidOptionError(`Pass either ${localKey} (${localDescription}) or baseUrl (a qwen3-embedding serve) in ${optionsName}, not both`, { option: localKey });
    }
    if (given !== undefined) {
        if (!(given instanceof localClass)) {
            throw new InvalidOptionError(`Expected ${localDescription} for ${localKey} but received ${describeValue(given)}`, { option: localKey });
        }
        if (remoteKeys.length > 0) {
            throw new InvalidOptionError(`${remoteKeys.join(", ")} ${remoteKeys.length === 1 ? "goes" : "go"} with baseUrl, not with ${localKey}, in ${optionsName}`, { option: remoteKeys[0]! });
        }
        return { local: given };
    }
    if (options.baseUrl === undefined) {
        throw new InvalidOptionError(`Expected ${localKey} (${localDescription}) or baseUrl (a qwen3-embedding serve URL) in ${optionsName} but received neither`, { option: localKey });
    }
    return { client: serveClient(options as ServeConnection) };
}
