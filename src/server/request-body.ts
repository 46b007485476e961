import { InvalidOptionError } from "../internal/errors.js";
import { checkBoolean, checkInteger, checkOneOf, checkString, describeValue } from "../internal/validation.js";
import { HttpError, invalidField } from "./error-responses.js";
import { knownFields, type ObjectSchema } from "./json-schema.js";
import { unknownFieldError } from "./schema-errors.js";

/**
 * Reads the fields of one JSON request body. The fields a route knows are those of its body schema (json-schema.ts),
 * which fastify has already validated the body against; the checks here hold for a body that did not go through it
 * (a nested object, a caller of its own). The body must be an object whose fields are all known to the route
 * (a misspelled field is a 400 naming it, not silently ignored); `null` counts as absent, as OpenAI-style clients send
 * it for unset optional fields. Every error is a 400 naming the field in `param`, with the library's
 * "Expected …, but received …" wording.
 */
export class RequestBody {
    readonly #fields: Record<string, unknown>;

    constructor(body: unknown, schema: ObjectSchema) {
        const known = knownFields(schema);
        if (body === null || typeof body !== "object" || Array.isArray(body)) {
            throw new HttpError(400, `Expected a JSON object as the request body but received ${describeValue(body)}`, { code: "invalid_body" });
        }
        for (const key of Object.keys(body)) {
            if (!known.includes(key)) {
                throw unknownFieldError(key, known, "the request body");
            }
        }
        this.#fields = body as Record<string, unknown>;
    }

    has(name: string): boolean {
        return this.raw(name) !== undefined;
    }

    /** The field's value; `null` reads as undefined. */
    raw(name: string): unknown {
        const value = this.#fields[name];
        return value === null ? undefined : value;
    }

    string(name: string, options: { nonEmpty?: boolean } = {}): string | undefined {
        const value = this.raw(name);
        return value === undefined ? undefined : field(name, () => checkString(name, value, { allowEmpty: options.nonEmpty !== true }));
    }

    requiredString(name: string): string {
        const value = this.string(name, { nonEmpty: true });
        if (value === undefined) throw invalidField(name, `Expected a non-empty string for ${name} but received undefined`, "missing_field");
        return value;
    }

    integer(name: string, min: number, max: number): number | undefined {
        const value = this.raw(name);
        return value === undefined ? undefined : field(name, () => checkInteger(name, value, min, max));
    }

    boolean(name: string): boolean | undefined {
        const value = this.raw(name);
        return value === undefined ? undefined : field(name, () => checkBoolean(name, value));
    }

    oneOf<T extends string>(name: string, choices: readonly T[]): T | undefined {
        const value = this.raw(name);
        return value === undefined ? undefined : field(name, () => checkOneOf(name, value, choices));
    }
}

/** Runs a library check and turns its InvalidOptionError into a 400 naming the field. */
function field<T>(name: string, check: () => T): T {
    try {
        return check();
    } catch (error) {
        if (error instanceof InvalidOptionError) throw invalidField(name, error.message);
        throw error;
    }
}
