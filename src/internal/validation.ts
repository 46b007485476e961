import { InvalidOptionError } from "./errors.js";

/** Describes a received value for error messages: its type and a short rendering. */
export function describeValue(value: unknown): string {
    if (value === null) return "null";
    if (value === undefined) return "undefined";
    if (typeof value === "string") return `the string ${JSON.stringify(value.length > 40 ? value.slice(0, 40) + "…" : value)}`;
    if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") return `${typeof value} ${String(value)}`;
    if (Array.isArray(value)) return `an array of length ${value.length}`;
    if (ArrayBuffer.isView(value)) return `a ${value.constructor.name}`;
    if (typeof value === "function") return "a function";
    return "an object";
}

function invalid(name: string, expected: string, value: unknown): never {
    throw new InvalidOptionError(`Expected ${expected} for ${name} but received ${describeValue(value)}`, { option: optionRoot(name) });
}

/** The option a path names: `entries[2].text`, `filter.$or[0]` and `metadata key "k"` belong to `entries`, `filter` and `metadata`. */
export function optionRoot(path: string): string {
    return /^[^[. ]*/.exec(path)![0];
}

/** Rejects options objects that are not plain objects or that carry misspelled / unknown keys. */
export function checkOptionsObject<T extends object>(name: string, value: unknown, allowed: readonly (keyof T & string)[]): T {
    if (value === undefined) return {} as T;
    if (value === null || typeof value !== "object" || Array.isArray(value)) invalid(name, "an options object", value);
    for (const key of Object.keys(value)) {
        if (!(allowed as readonly string[]).includes(key)) {
            throw new InvalidOptionError(
                `Unknown option ${JSON.stringify(key)} in ${name}; the known options are ${allowed.join(", ")}`,
            );
        }
    }
    return value as T;
}

export function checkInteger(name: string, value: unknown, min: number, max: number): number {
    if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
        invalid(name, `an integer between ${min} and ${max}`, value);
    }
    return value;
}

export function checkBoolean(name: string, value: unknown): boolean {
    if (typeof value !== "boolean") invalid(name, "a boolean", value);
    return value;
}

export function checkString(name: string, value: unknown, { allowEmpty = true } = {}): string {
    if (typeof value !== "string" || (!allowEmpty && value.length === 0)) {
        invalid(name, allowEmpty ? "a string" : "a non-empty string", value);
    }
    return value;
}

export function checkOneOf<T extends string>(name: string, value: unknown, choices: readonly T[]): T {
    if (typeof value !== "string" || !(choices as readonly string[]).includes(value)) {
        invalid(name, `one of ${choices.map((choice) => JSON.stringify(choice)).join(", ")}`, value);
    }
    return value as T;
}

export function checkStringArray(name: string, value: unknown): string[] {
    if (!Array.isArray(value)) invalid(name, "an array of strings", value);
    value.forEach((item, index) => {
        if (typeof item !== "string") invalid(`${name}[${index}]`, "a string", item);
    });
    return value as string[];
}

export function checkAbortSignal(name: string, value: unknown): AbortSignal | undefined {
    if (value === undefined) return undefined;
    if (!(value instanceof AbortSignal)) invalid(name, "an AbortSignal", value);
    return value;
}

/** An object literal (or Object.create(null)): not an array, class instance, Date or Map. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
    if (value === null || typeof value !== "object" || Array.isArray(value)) return false;
    const prototype = Object.getPrototypeOf(value) as unknown;
    return prototype === Object.prototype || prototype === null;
}
