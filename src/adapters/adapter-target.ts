import { InvalidOptionError } from "../internal/errors.js";
import { checkOptionsObject, describeValue } from "../internal/validation.js";
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

/** An adapter's checked options (no unknown keys), its model (see chooseTarget), and a model id for logs. */
export interface AdapterTarget<O, T> {
    options: O;
    local: T | undefined;
    client: ServeClient | undefined;
    /** `localId` in process; the served model's name, or the server's URL, remotely. */
    modelId: string;
}

/** Checks an adapter's options object against `keys` and chooses its target (see chooseTarget). */
export function readAdapterTarget<O extends Partial<ServeConnection>, K extends keyof O & string, T>(
    optionsName: string,
    options: unknown,
    keys: readonly string[],
    local: { key: K; class: abstract new (...args: never[]) => T; description: string; id: string },
): AdapterTarget<O, T> {
    const opts = checkOptionsObject<O>(optionsName, options, keys as (keyof O & string)[]);
    const target = chooseTarget(optionsName, opts as Partial<ServeConnection> & Partial<Record<K, unknown>>, local.key, local.class, local.description);
    return { options: opts, local: target.local, client: target.client, modelId: target.client === undefined ? local.id : (target.client.model ?? target.client.root) };
}

/** What an adapter's source holds of its target: the in-process model or the serve client, and the model id. */
export abstract class TargetedSource<T> {
    protected readonly local: T | undefined;
    protected readonly client: ServeClient | undefined;
    /** For logs: "qwen3-embedding" / "qwen3-reranker" in process; the served model's name, or the server's URL, remotely. */
    readonly modelId: string;

    protected constructor(target: AdapterTarget<unknown, T>) {
        this.local = target.local;
        this.client = target.client;
        this.modelId = target.modelId;
    }
}
