import { InvalidOptionError } from "../internal/errors.js";
import { checkNamespace, checkUserId } from "../store/item-validation.js";
import { checkBoolean, checkOptionsObject, checkString, describeValue } from "../internal/validation.js";

/**
 * One API key and what it may reach. A plain string key (`"sk-..."`) is an admin key, as every key was before scopes
 * existed. A scoped key names the users it may act for on the memory routes, the namespaces it may search (and list
 * documents of) and the namespaces it may write documents to;
 * everything else it names nothing of is refused with 403. Every key may call the model routes and /v1/models.
 */
export interface ApiKeySpec {
    key: string;
    /** Every user, every namespace, and /metrics. Not combined with `users` or `namespaces`. */
    admin?: boolean;
    /** User ids this key may read and write memories for (`user_id`), or "*" for every user. Default: none. */
    users?: readonly string[] | "*";
    /** Namespaces this key may search through /v1/search, or "*" for all. Default: none. */
    namespaces?: readonly string[] | "*";
    /** Namespaces this key may add, update and delete documents in through /v1/documents, or "*" for all. Default: none. */
    writeNamespaces?: readonly string[] | "*";
}

const SPEC_FIELDS = ["key", "admin", "users", "namespaces", "writeNamespaces"] as const;

/** What a request's key allows. */
export class KeyAccess {
    /** A server without keys, or an admin key: everything. */
    static readonly ADMIN = new KeyAccess(true, "*", "*", "*");

    readonly admin: boolean;
    readonly #users: ReadonlySet<string> | "*";
    readonly #namespaces: ReadonlySet<string> | "*";
    readonly #writeNamespaces: ReadonlySet<string> | "*";

    private constructor(admin: boolean, users: ReadonlySet<string> | "*", namespaces: ReadonlySet<string> | "*", writeNamespaces: ReadonlySet<string> | "*") {
        this.admin = admin;
        this.#users = users;
        this.#namespaces = namespaces;
        this.#writeNamespaces = writeNamespaces;
    }

    static scoped(users: readonly string[] | "*", namespaces: readonly string[] | "*", writeNamespaces: readonly string[] | "*" = []): KeyAccess {
        const set = (names: readonly string[] | "*") => (names === "*" ? "*" : new Set(names));
        return new KeyAccess(false, set(users), set(namespaces), set(writeNamespaces));
    }

    /** May act for every user, present and future: what reading a namespace that holds users' items needs. */
    get everyUser(): boolean {
        return this.#users === "*";
    }

    mayActFor(userId: string): boolean {
        return this.#users === "*" || this.#users.has(userId);
    }

    maySearch(namespace: string): boolean {
        return this.#namespaces === "*" || this.#namespaces.has(namespace);
    }

    /** May add, update and delete documents in the namespace (/v1/documents). */
    mayWrite(namespace: string): boolean {
        return this.#writeNamespaces === "*" || this.#writeNamespaces.has(namespace);
    }
}

/** A validated key: the key itself and what it allows. */
export interface ResolvedApiKey {
    key: string;
    access: KeyAccess;
}

/** Validates `apiKeys` (server option): strings (admin keys) or {@link ApiKeySpec} objects; a key may appear once. */
export function resolveApiKeys(name: string, value: unknown): ResolvedApiKey[] {
    if (value === undefined) return [];
    if (!Array.isArray(value)) {
        // Never quote a string here: it may be the key itself.
        const received = typeof value === "string" ? `a string of ${value.length} characters` : describeValue(value);
        throw new InvalidOptionError(`Expected an array of keys (strings, or { key, admin?, users?, namespaces?, writeNamespaces? } objects) for ${name} but received ${received}`);
    }
    const seen = new Set<string>();
    return value.map((entry: unknown, index) => {
        const resolved = resolveApiKey(`${name}[${index}]`, entry);
        if (seen.has(resolved.key)) throw new InvalidOptionError(`${name}[${index}] repeats a key given before; give each key once, with all it may reach`);
        seen.add(resolved.key);
        return resolved;
    });
}

function resolveApiKey(name: string, entry: unknown): ResolvedApiKey {
    if (typeof entry === "string") return { key: checkKey(name, entry), access: KeyAccess.ADMIN };
    if (entry === null || typeof entry !== "object" || Array.isArray(entry)) {
        throw new InvalidOptionError(`Expected a key string or a { key, admin?, users?, namespaces?, writeNamespaces? } object for ${name} but received ${describeValue(entry)}`);
    }
    const spec = checkOptionsObject<ApiKeySpec>(name, entry, SPEC_FIELDS);
    const key = checkKey(`${name}.key`, checkString(`${name}.key`, spec.key));
    const admin = spec.admin === undefined ? false : checkBoolean(`${name}.admin`, spec.admin);
    if (admin) {
        if (spec.users !== undefined || spec.namespaces !== undefined || spec.writeNamespaces !== undefined) {
            throw new InvalidOptionError(`${name} is an admin key, which reaches every user and namespace; drop its users, namespaces and writeNamespaces, or admin`);
        }
        return { key, access: KeyAccess.ADMIN };
    }
    const users = scopeList(`${name}.users`, spec.users, (field, item) => checkUserId(field, item));
    const namespaces = scopeList(`${name}.namespaces`, spec.namespaces, (field, item) => checkNamespace(field, item));
    const writeNamespaces = scopeList(`${name}.writeNamespaces`, spec.writeNamespaces, (field, item) => checkNamespace(field, item));
    return { key, access: KeyAccess.scoped(users, namespaces, writeNamespaces) };
}

function checkKey(name: string, key: string): string {
    if (key.length === 0 || key.trim() !== key) {
        throw new InvalidOptionError(`Expected a non-empty key without surrounding whitespace for ${name} but received a key of ${key.length} characters`);
    }
    return key;
}

function scopeList(name: string, value: unknown, check: (name: string, item: unknown) => string): readonly string[] | "*" {
    if (value === undefined) return [];
    if (value === "*") return "*";
    if (!Array.isArray(value)) throw new InvalidOptionError(`Expected "*" or an array for ${name} but received ${describeValue(value)}`);
    return value.map((item: unknown, index) => check(`${name}[${index}]`, item));
}

/**
 * The keys of an API key file: one a line, `#` comments and blank lines skipped. A line that is a key is an admin
 * key; a line that is a JSON object is an {@link ApiKeySpec}. Messages name the line, never its key.
 */
export function parseApiKeyFile(content: string, file: string): (string | ApiKeySpec)[] {
    const keys: (string | ApiKeySpec)[] = [];
    content.split(/\r?\n/).forEach((raw, index) => {
        const line = raw.trim();
        if (line === "" || line.startsWith("#")) return;
        if (!line.startsWith("{")) {
            keys.push(line);
            return;
        }
        let spec: unknown;
        try {
            spec = JSON.parse(line);
        } catch {
            throw new InvalidOptionError(`Line ${index + 1} of the API key file ${file} starts with "{" but is not a JSON object; write {"key": "...", "users": [...], "namespaces": [...]} on one line`);
        }
        resolveApiKey(`line ${index + 1} of the API key file ${file}`, spec); // errors name the line
        keys.push(spec as ApiKeySpec);
    });
    return keys;
}
