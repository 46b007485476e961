/**
 * The JSON schemas of the request bodies: one schema per route is both what fastify validates the body against (see
 * create-server.ts: ajv without coercion or removal, `null` fields dropped first) and what the OpenAPI document shows
 * (openapi-document.ts), so the two cannot drift. Ranges that depend on the loaded model (dimensions, tokens per
 * input) and checks between fields stay in the route code.
 *
 * `x-expected` is an annotation (no validation) that says in words what a value must be, for the 400 a wrong value
 * gets ("Expected … for field but received …"); without it the words are made from the schema (describeSchema).
 */
export interface JsonSchema {
    readonly type?: "string" | "integer" | "number" | "boolean" | "array" | "object" | "null";
    readonly description?: string;
    readonly enum?: readonly unknown[];
    readonly minLength?: number;
    readonly minimum?: number;
    readonly maximum?: number;
    readonly items?: JsonSchema;
    readonly minItems?: number;
    readonly properties?: Readonly<Record<string, JsonSchema>>;
    readonly required?: readonly string[];
    readonly additionalProperties?: boolean;
    readonly anyOf?: readonly JsonSchema[];
    readonly if?: JsonSchema;
    readonly then?: JsonSchema;
    readonly else?: JsonSchema;
    readonly not?: JsonSchema;
    readonly "x-expected"?: string;
}

/** A request body's schema: an object of known fields, nothing else. */
export interface ObjectSchema extends JsonSchema {
    readonly type: "object";
    readonly properties: Readonly<Record<string, JsonSchema>>;
    readonly additionalProperties: false;
}

/** The annotation keyword ajv is told about (create-server.ts), so that strict mode accepts it. */
export const EXPECTED_KEYWORD = "x-expected";

/** An object schema whose fields are exactly `properties` (`additionalProperties: false`). */
export function objectSchema(properties: Readonly<Record<string, JsonSchema>>, required: readonly string[] = [], description?: string): ObjectSchema {
    return {
        type: "object",
        ...(description === undefined ? {} : { description }),
        properties,
        ...(required.length === 0 ? {} : { required }),
        additionalProperties: false,
    };
}

/** The schema with a description (what the OpenAPI document shows for the field). */
export function described(schema: JsonSchema, description: string): JsonSchema {
    return { ...schema, description };
}

/**
 * What a value of `schema` is, in words: its `x-expected`, else "one of "a", "b"", "a non-empty string", "an integer
 * between 1 and 10", alternatives joined with "or".
 */
export function describeSchema(schema: JsonSchema | undefined): string {
    if (schema === undefined) return "a valid value";
    if (schema["x-expected"] !== undefined) return schema["x-expected"];
    if (schema.enum !== undefined) return `one of ${schema.enum.map((choice) => JSON.stringify(choice)).join(", ")}`;
    if (schema.anyOf !== undefined) {
        const alternatives = schema.anyOf.map(describeSchema);
        return alternatives.length === 1 ? alternatives[0]! : `${alternatives.slice(0, -1).join(", ")} or ${alternatives.at(-1)!}`;
    }
    switch (schema.type) {
        case "string":
            return (schema.minLength ?? 0) > 0 ? "a non-empty string" : "a string";
        case "boolean":
            return "a boolean";
        case "integer":
        case "number": {
            const what = schema.type === "integer" ? "an integer" : "a number";
            if (schema.minimum !== undefined && schema.maximum !== undefined) return `${what} between ${schema.minimum} and ${schema.maximum}`;
            if (schema.minimum !== undefined) return `${what} of at least ${schema.minimum}`;
            if (schema.maximum !== undefined) return `${what} of at most ${schema.maximum}`;
            return what;
        }
        case "array":
            return schema.items === undefined ? "an array" : `an array whose items are each ${describeSchema(schema.items)}`;
        case "object":
            return "an object";
        default:
            return "a valid value";
    }
}

/** The fields a body schema knows, in its order. */
export function knownFields(schema: ObjectSchema): string[] {
    return Object.keys(schema.properties);
}

/**
 * A copy of `value` without its `null` fields, in nested objects too (not inside arrays): OpenAI-style clients send
 * `null` for unset optional fields, and the server reads them as absent. Anything else is returned as it is.
 */
export function withoutNullFields(value: unknown): unknown {
    if (value === null || typeof value !== "object" || Array.isArray(value)) return value;
    const entries = Object.entries(value as Record<string, unknown>).filter(([, field]) => field !== null);
    return Object.fromEntries(entries.map(([key, field]) => [key, withoutNullFields(field)]));
}
