import { describeValue } from "../internal/validation.js";
import { HttpError } from "./error-responses.js";
import { describeSchema, type JsonSchema } from "./json-schema.js";

/** One ajv error as fastify hands it over (`error.validation`); `data` and `parentSchema` come with ajv's `verbose`. */
export interface SchemaIssue {
    instancePath?: string;
    keyword?: string;
    params?: Record<string, unknown>;
    propertyName?: string;
    data?: unknown;
    parentSchema?: JsonSchema;
}

/**
 * A JSON-schema validation failure as the 400 the server answers, in the library's wording:
 * - the body is not an object: "Expected a JSON object as the request body but received …" (`invalid_body`);
 * - an unknown field: "Unknown field "x" in the request body; the known fields are …" (`unknown_field`, `param` x);
 * - a missing required field: "Expected … for x but received undefined" (`missing_field`);
 * - a wrong value: "Expected … for input[1] but received number 7" (`invalid_value`), the expectation being the
 *   failing schema's (describeSchema).
 * Of the issues ajv reports (without allErrors: the first failure of each alternative tried, then the alternatives'
 * own), the one that got furthest into the value is answered: for `["a", 7]` against "a string or an array of
 * strings or …" that is `input[1]`, not `input`. `param` is the field named, the innermost one outside arrays
 * (`input` for input[1], `sentences` for inputs.sentences[0], `documents` for documents[0].text).
 *
 * Issues without ajv's verbose details (another validator) fall back to fastify's message.
 */
export function schemaIssueError(issues: readonly SchemaIssue[], where: string, fallbackMessage: string): HttpError {
    const unknownName = (issue: SchemaIssue) => issue.params?.["additionalProperty"] ?? issue.propertyName ?? issue.params?.["propertyName"];
    const issue = pickIssue(issues);
    const path = segmentsOf(issue.instancePath);
    const unknown = unknownName(issue);
    if (typeof unknown === "string") return unknownFieldError(unknown, Object.keys(issue.parentSchema?.properties ?? {}), path.length === 0 ? `the request ${where}` : render(path));
    if (issue.parentSchema === undefined) return legacyError(issues, where, fallbackMessage);
    if (path.length === 0 && issue.keyword === "type") {
        return new HttpError(400, `Expected a JSON object as the request ${where} but received ${describeValue(issue.data)}`, { code: "invalid_body" });
    }
    const missing = issue.keyword === "required" ? issue.params?.["missingProperty"] : undefined;
    if (typeof missing === "string") {
        const field = [...path, missing];
        const expected = describeSchema(issue.parentSchema.properties?.[missing]);
        return new HttpError(400, `Expected ${expected} for ${render(field)} but received undefined`, { code: "missing_field", param: paramOf(field) });
    }
    return new HttpError(400, `Expected ${describeSchema(issue.parentSchema)} for ${render(path)} but received ${describeValue(issue.data)}`, {
        code: "invalid_value",
        param: paramOf(path),
    });
}

/** The 400 for a field `place` ("the request body", "inputs") does not know; `known` lists the fields it does. */
export function unknownFieldError(name: string, known: readonly string[], place: string): HttpError {
    const list = known.length === 0 ? "" : `; the known fields are ${known.join(", ")}`;
    return new HttpError(400, `Unknown field ${JSON.stringify(name)} in ${place}${list}`, { code: "unknown_field", param: name });
}

/**
 * Refuses a body field its schema does not name, before ajv validates the body: ajv checks `required` first, and a
 * misspelled field (`input` on a route that takes `prompt`) is better answered as unknown than as the missing one.
 * Reads the same schema (a closed object, or the if/then/else of the rerank routes); anything else is left to ajv.
 */
export function refuseUnknownFields(body: unknown, schema: JsonSchema | undefined): void {
    if (schema === undefined || body === null || typeof body !== "object" || Array.isArray(body)) return;
    const fields = body as Record<string, unknown>;
    const branch = schema.if === undefined ? schema : (matchesRequired(fields, schema.if) ? schema.then : schema.else);
    if (branch?.additionalProperties !== false || branch.properties === undefined) return;
    const known = Object.keys(branch.properties);
    const unknown = Object.keys(fields).find((key) => !known.includes(key));
    if (unknown !== undefined) throw unknownFieldError(unknown, known, "the request body");
}

/** Whether the object has the fields `schema.required` names and, under `not`, lacks those it names. */
function matchesRequired(fields: Record<string, unknown>, schema: JsonSchema): boolean {
    const has = (schema.required ?? []).every((name) => Object.hasOwn(fields, name));
    return has && (schema.not === undefined || !matchesRequired(fields, schema.not));
}

/**
 * The issue to answer: the one deepest into the value (an array item further on wins over an earlier one); on a tie,
 * one whose schema takes the value's JSON type (for 1.5 the token ids' "an integer", not "a string or …"), then an
 * `anyOf` (it names every alternative). ajv's `if` issue (which branch failed) says nothing of the value.
 */
function pickIssue(issues: readonly SchemaIssue[]): SchemaIssue {
    const candidates = issues.filter((issue) => issue.keyword !== "if");
    let best = candidates[0] ?? issues[0]!;
    for (const issue of candidates.slice(1)) {
        const order = comparePaths(segmentsOf(issue.instancePath), segmentsOf(best.instancePath));
        if (order > 0 || (order === 0 && tieRank(issue) > tieRank(best))) best = issue;
    }
    return best;
}

function tieRank(issue: SchemaIssue): number {
    const kind = Array.isArray(issue.data) ? "array" : issue.data === null ? "null" : typeof issue.data;
    return (issue.parentSchema !== undefined && takesKind(issue.parentSchema, kind) ? 2 : 0) + (issue.keyword === "anyOf" ? 1 : 0);
}

/** Whether the schema (or one of its alternatives) is of the JSON type `kind` ("number" fits an integer schema). */
function takesKind(schema: JsonSchema, kind: string): boolean {
    if (schema.anyOf !== undefined) return schema.anyOf.some((alternative) => takesKind(alternative, kind));
    return schema.type === kind || (schema.type === "integer" && kind === "number");
}

/** > 0 when `a` reaches further into the value than `b`: a longer path, or a later item of the same array. */
function comparePaths(a: readonly string[], b: readonly string[]): number {
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
        if (a[i] === b[i]) continue;
        const [x, y] = [Number(a[i]), Number(b[i])];
        return Number.isInteger(x) && Number.isInteger(y) ? x - y : 0;
    }
    return a.length - b.length;
}

/** `/inputs/sentences/0` → ["inputs", "sentences", "0"] (JSON pointer, unescaped). */
function segmentsOf(pointer: string | undefined): string[] {
    if (pointer === undefined || pointer === "") return [];
    return pointer.slice(1).split("/").map((segment) => segment.replaceAll("~1", "/").replaceAll("~0", "~"));
}

/** ["inputs", "sentences", "0"] → "inputs.sentences[0]". */
function render(path: readonly string[]): string {
    return path.map((segment, index) => (/^\d+$/.test(segment) ? `[${segment}]` : index === 0 ? segment : `.${segment}`)).join("");
}

/** The field a path names for `param`: the last name before the first array index. */
function paramOf(path: readonly string[]): string | null {
    const firstIndex = path.findIndex((segment) => /^\d+$/.test(segment));
    const names = firstIndex === -1 ? path : path.slice(0, firstIndex);
    return names.at(-1) ?? null;
}

/** A validator without ajv's verbose details: fastify's own message, the first field of the path as `param`. */
function legacyError(issues: readonly SchemaIssue[], where: string, message: string): HttpError {
    const first = issues[0]!;
    const fromPath = segmentsOf(first.instancePath)[0];
    const missing = first.params?.["missingProperty"];
    const param = fromPath !== undefined ? fromPath : typeof missing === "string" ? missing : null;
    return new HttpError(400, `Invalid request ${where}: ${message}`, { code: param === null ? "invalid_request" : "invalid_value", param });
}
