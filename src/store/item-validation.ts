import { InvalidOptionError } from "../internal/errors.js";
import { describeValue, isPlainObject, optionRoot } from "../internal/validation.js";
import { unpairedSurrogateIndex, wellFormed } from "./vector-text.js";

/** JSON metadata stored with an item: a plain object of JSON values. */
export type Metadata = Record<string, unknown>;

export const ITEM_LIMITS = {
    namespaceLength: 200,
    idLength: 512,
    userIdLength: 256,
    metadataBytes: 65_536,
    metadataDepth: 16,
    textLength: 1_000_000,
} as const;

function invalid(name: string, expected: string, value: unknown): never {
    throw new InvalidOptionError(`Expected ${expected} for ${name} but received ${describeValue(value)}`, { option: optionRoot(name) });
}

/**
 * Identifiers and metadata are stored exactly or refused: UTF-8 has no form for an unpaired surrogate, so storing
 * one would turn it into U+FFFD and merge "\ud800" and "\udfff" (and "\ufffd") into one user, one id, one key.
 */
export function checkWellFormed(name: string, value: string, what = "a string"): string {
    const at = unpairedSurrogateIndex(value);
    if (at >= 0) {
        throw new InvalidOptionError(
            `Expected ${what} of well-formed Unicode for ${name} but received a string with an unpaired UTF-16 surrogate ` +
            `(U+${value.charCodeAt(at).toString(16).toUpperCase()} at index ${at}); it cannot be stored exactly: send valid UTF-8 / paired surrogates`,
            { option: optionRoot(name) },
        );
    }
    return value;
}

export function checkNamespace(name: string, value: unknown): string {
    if (typeof value !== "string" || value.length === 0 || value.length > ITEM_LIMITS.namespaceLength || /[\u0000-\u001f]/.test(value)) {
        invalid(name, `a namespace name of 1 to ${ITEM_LIMITS.namespaceLength} characters without control characters`, value);
    }
    return checkWellFormed(name, value, "a namespace name");
}

export function checkItemId(name: string, value: unknown): string {
    if (typeof value !== "string" || value.length === 0 || value.length > ITEM_LIMITS.idLength || value.includes("\u0000")) {
        invalid(name, `an id of 1 to ${ITEM_LIMITS.idLength} characters without NUL`, value);
    }
    return checkWellFormed(name, value, "an id");
}

/** A user id; the store uses "" for items that belong to no user. */
export function checkUserId(name: string, value: unknown, { allowEmpty = false } = {}): string {
    if (typeof value !== "string" || (!allowEmpty && value.length === 0) || value.length > ITEM_LIMITS.userIdLength || value.includes("\u0000")) {
        invalid(name, `a user id of ${allowEmpty ? 0 : 1} to ${ITEM_LIMITS.userIdLength} characters without NUL`, value);
    }
    return checkWellFormed(name, value, "a user id");
}

/** Text to store: PostgreSQL text cannot hold NUL; unpaired surrogates become U+FFFD (as UTF-8 encoding makes them). */
export function checkItemText(name: string, value: unknown): string {
    if (typeof value !== "string") invalid(name, "a string", value);
    if (value.length > ITEM_LIMITS.textLength) invalid(name, `a string of at most ${ITEM_LIMITS.textLength} characters`, value);
    if (value.includes("\u0000")) invalid(name, "a string without NUL characters (PostgreSQL text cannot store U+0000)", value);
    return wellFormed(value);
}

/** Checks metadata and returns its JSON text: plain objects, arrays, strings, finite numbers, booleans, null. */
export function checkMetadata(name: string, value: unknown): string {
    if (value === undefined) return "{}";
    if (!isPlainObject(value)) invalid(name, "a plain object of JSON values", value);
    const visit = (node: unknown, path: string, depth: number): void => {
        if (depth > ITEM_LIMITS.metadataDepth) {
            throw new InvalidOptionError(`Expected metadata nested at most ${ITEM_LIMITS.metadataDepth} levels deep for ${name}`, { option: optionRoot(name) });
        }
        if (node === null || typeof node === "boolean") return;
        if (typeof node === "number") {
            if (!Number.isFinite(node)) invalid(path, "a finite number", node);
            return;
        }
        if (typeof node === "string") {
            if (node.includes("\u0000")) invalid(path, "a string without NUL characters", node);
            checkWellFormed(path, node);
            return;
        }
        if (Array.isArray(node)) {
            node.forEach((item, index) => visit(item, `${path}[${index}]`, depth + 1));
            return;
        }
        if (isPlainObject(node)) {
            for (const [key, item] of Object.entries(node)) {
                if (key.includes("\u0000")) throw new InvalidOptionError(`Expected metadata keys without NUL characters in ${path}`, { option: optionRoot(name) });
                checkWellFormed(`${path} key ${JSON.stringify(key)}`, key, "a metadata key");
                visit(item, `${path}[${JSON.stringify(key)}]`, depth + 1);
            }
            return;
        }
        invalid(path, "a JSON value (object, array, string, finite number, boolean or null)", node);
    };
    visit(value, name, 1);
    const json = JSON.stringify(value);
    if (Buffer.byteLength(json) > ITEM_LIMITS.metadataBytes) {
        throw new InvalidOptionError(
            `Expected metadata of at most ${ITEM_LIMITS.metadataBytes} bytes as JSON for ${name} but received ${Buffer.byteLength(json)} bytes`,
            { option: optionRoot(name) },
        );
    }
    return json;
}

/** A vector of exactly `dimensions` finite numbers. */
export function checkEmbedding(name: string, value: unknown, dimensions: number): ArrayLike<number> {
    if (!(value instanceof Float32Array || value instanceof Float64Array || Array.isArray(value))) {
        invalid(name, `a Float32Array or an array of ${dimensions} numbers`, value);
    }
    const vector = value as ArrayLike<number>;
    if (vector.length !== dimensions) {
        throw new InvalidOptionError(`Expected ${dimensions} dimensions for ${name} but received ${vector.length}`);
    }
    let zero = true;
    for (let index = 0; index < vector.length; index++) {
        const component = vector[index];
        if (typeof component !== "number" || !Number.isFinite(component)) invalid(`${name}[${index}]`, "a finite number", component);
        if (component !== 0) zero = false;
    }
    // Cosine similarity is undefined for the zero vector (pgvector answers NaN).
    if (zero) throw new InvalidOptionError(`Expected a non-zero vector for ${name} but received ${dimensions} zeros`);
    return vector;
}

/** Ids asked for at most in one `get` or `delete`. */
const MAX_IDS = 100_000;

/** An array of at most 100,000 item ids. */
export function checkIds(name: string, ids: unknown): string[] {
    if (!Array.isArray(ids)) throw new InvalidOptionError(`Expected an array of ids for ${name} but received ${describeValue(ids)}`);
    if (ids.length > MAX_IDS) throw new InvalidOptionError(`Expected at most ${MAX_IDS} ids for ${name} but received ${ids.length}`);
    return ids.map((id, index) => checkItemId(`${name}[${index}]`, id));
}

/** A boolean option that defaults to false (`withEmbeddings`). */
export function checkOptionalBoolean(name: string, value: unknown): boolean {
    if (value === undefined) return false;
    if (typeof value !== "boolean") throw new InvalidOptionError(`Expected a boolean for ${name} but received ${describeValue(value)}`);
    return value;
}
