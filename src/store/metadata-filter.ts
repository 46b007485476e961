import { InvalidOptionError } from "../internal/errors.js";
import { describeValue, isPlainObject } from "../internal/validation.js";
import { checkWellFormed } from "./item-validation.js";
import type { SqlParameter } from "./sql-driver.js";

/** A metadata value a filter can compare with. */
export type MetadataScalar = string | number | boolean | null;

export interface MetadataOperators {
    $eq?: MetadataScalar;
    $ne?: MetadataScalar;
    $gt?: number | string;
    $gte?: number | string;
    $lt?: number | string;
    $lte?: number | string;
    $in?: MetadataScalar[];
    $nin?: MetadataScalar[];
    $exists?: boolean;
}

/**
 * A filter on items' JSON metadata, MongoDB-style: `{ genre: "jazz", year: { $gte: 1960 } }` (all conditions
 * must hold), `{ $or: [...] }`, `{ $and: [...] }`, `{ $not: {...} }`. Keys name top-level metadata keys literally
 * (a dot is part of the key). Equality also matches inside arrays' elements only by exact value.
 *
 * Every key and value becomes a bound parameter; nothing from a filter is ever written into SQL text, and anything
 * that is not exactly this grammar is rejected with InvalidOptionError.
 */
export interface MetadataFilter {
    $and?: MetadataFilter[];
    $or?: MetadataFilter[];
    $not?: MetadataFilter;
    [key: string]: MetadataScalar | MetadataOperators | MetadataFilter[] | MetadataFilter | undefined;
}

export interface CompiledFilter {
    /** A boolean SQL expression, `TRUE` for an empty filter. */
    sql: string;
    params: SqlParameter[];
}

const COMPARISONS = { $gt: ">", $gte: ">=", $lt: "<", $lte: "<=" } as const;
const FIELD_OPERATORS = ["$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$exists"] as const;
const LOGICAL_OPERATORS = ["$and", "$or", "$not"] as const;

export const FILTER_LIMITS = { depth: 8, conditions: 256, listLength: 1024, keyLength: 256, stringLength: 4096 } as const;

/**
 * Compiles a filter to a parameterized boolean expression over the jsonb `column`. Placeholders are numbered from
 * `firstParameter` (`$firstParameter`, ...).
 */
export function compileMetadataFilter(filter: unknown, column: string, firstParameter: number, name = "filter"): CompiledFilter {
    const params: SqlParameter[] = [];
    let conditions = 0;
    const bind = (value: SqlParameter): string => {
        params.push(value);
        return `$${firstParameter + params.length - 1}`;
    };

    const compileObject = (value: unknown, path: string, depth: number): string => {
        if (depth > FILTER_LIMITS.depth) throw new InvalidOptionError(`Expected a filter nested at most ${FILTER_LIMITS.depth} levels deep for ${name} but ${path} is deeper`);
        if (!isPlainObject(value)) throw new InvalidOptionError(`Expected a filter object for ${path} but received ${describeValue(value)}`);
        const parts = Object.entries(value).map(([key, operand]) => {
            if (key.startsWith("$")) return compileLogical(key, operand, `${path}.${key}`, depth);
            return compileField(key, operand, `${path}[${JSON.stringify(key)}]`);
        });
        return parts.length === 0 ? "TRUE" : parts.length === 1 ? parts[0]! : `(${parts.join(" AND ")})`;
    };

    const compileLogical = (operator: string, operand: unknown, path: string, depth: number): string => {
        switch (operator) {
            case "$and":
            case "$or": {
                if (!Array.isArray(operand) || operand.length === 0 || operand.length > FILTER_LIMITS.listLength) {
                    throw new InvalidOptionError(`Expected a non-empty array of filter objects for ${path} but received ${describeValue(operand)}`);
                }
                const parts = operand.map((item, index) => compileObject(item, `${path}[${index}]`, depth + 1));
                return `(${parts.join(operator === "$and" ? " AND " : " OR ")})`;
            }
            case "$not":
                return `(NOT ${compileObject(operand, path, depth + 1)})`;
            default:
                throw new InvalidOptionError(
                    `Unknown operator ${JSON.stringify(operator)} at ${path}; the logical operators are ${LOGICAL_OPERATORS.join(", ")} ` +
                    `and the field operators ${FIELD_OPERATORS.join(", ")} (inside a field's object)`,
                );
        }
    };

    const compileField = (key: string, operand: unknown, path: string): string => {
        checkKey(key, path);
        if (isPlainObject(operand)) {
            const entries = Object.entries(operand);
            if (entries.length === 0) throw new InvalidOptionError(`Expected at least one operator in ${path} but received an empty object`);
            const parts = entries.map(([operator, value]) => compileOperator(key, operator, value, `${path}.${operator}`));
            return parts.length === 1 ? parts[0]! : `(${parts.join(" AND ")})`;
        }
        return compileOperator(key, "$eq", operand, path);
    };

    const compileOperator = (key: string, operator: string, value: unknown, path: string): string => {
        if (++conditions > FILTER_LIMITS.conditions) throw new InvalidOptionError(`Expected at most ${FILTER_LIMITS.conditions} conditions in ${name}`);
        switch (operator) {
            case "$eq":
                return `(${column} @> ${bind(JSON.stringify({ [key]: checkScalar(value, path) }))}::jsonb)`;
            case "$ne":
                return `(NOT (${column} @> ${bind(JSON.stringify({ [key]: checkScalar(value, path) }))}::jsonb))`;
            case "$gt":
            case "$gte":
            case "$lt":
            case "$lte": {
                if ((typeof value !== "number" || !Number.isFinite(value)) && typeof value !== "string") {
                    throw new InvalidOptionError(`Expected a finite number or a string for ${path} but received ${describeValue(value)}`);
                }
                if (typeof value === "string") checkScalar(value, path);
                const field = `(${column} -> ${bind(key)}::text)`;
                // Compared as jsonb (numbers numerically, strings as text) and only against values of the same JSON type.
                return `(jsonb_typeof(${field}) = ${bind(typeof value)}::text AND ${field} ${COMPARISONS[operator]} ${bind(JSON.stringify(value))}::jsonb)`;
            }
            case "$in":
            case "$nin": {
                if (!Array.isArray(value) || value.length === 0 || value.length > FILTER_LIMITS.listLength) {
                    throw new InvalidOptionError(`Expected a non-empty array of at most ${FILTER_LIMITS.listLength} values for ${path} but received ${describeValue(value)}`);
                }
                const list = value.map((item, index) => checkScalar(item, `${path}[${index}]`));
                const keyParam = bind(key);
                const test = `(${column} ? ${keyParam}::text AND jsonb_build_array(${column} -> ${keyParam}::text) <@ ${bind(JSON.stringify(list))}::jsonb)`;
                return operator === "$in" ? test : `(NOT ${test})`;
            }
            case "$exists": {
                if (typeof value !== "boolean") throw new InvalidOptionError(`Expected a boolean for ${path} but received ${describeValue(value)}`);
                const test = `(${column} ? ${bind(key)}::text)`;
                return value ? test : `(NOT ${test})`;
            }
            default:
                throw new InvalidOptionError(`Unknown operator ${JSON.stringify(operator)} at ${path}; the field operators are ${FIELD_OPERATORS.join(", ")}`);
        }
    };

    try {
        const sql = filter === undefined ? "TRUE" : compileObject(filter, name, 1);
        return { sql, params };
    } catch (error) {
        // Every message names a path below `name`; the error names the option itself for callers that map it.
        if (error instanceof InvalidOptionError && error.option === undefined) throw new InvalidOptionError(error.message, { option: name });
        throw error;
    }
}

function checkKey(key: string, path: string): void {
    if (key.length === 0 || key.length > FILTER_LIMITS.keyLength || key.includes("\u0000")) {
        throw new InvalidOptionError(`Expected a metadata key of 1 to ${FILTER_LIMITS.keyLength} characters without NUL at ${path}`);
    }
    checkWellFormed(`${path} key`, key, "a metadata key");
}

function checkScalar(value: unknown, path: string): MetadataScalar {
    if (value === null || typeof value === "boolean") return value;
    if (typeof value === "number") {
        if (!Number.isFinite(value)) throw new InvalidOptionError(`Expected a finite number for ${path} but received ${describeValue(value)}`);
        return value;
    }
    if (typeof value === "string") {
        if (value.length > FILTER_LIMITS.stringLength || value.includes("\u0000")) {
            throw new InvalidOptionError(`Expected a string of at most ${FILTER_LIMITS.stringLength} characters without NUL for ${path}`);
        }
        return checkWellFormed(path, value);
    }
    throw new InvalidOptionError(
        `Expected a string, number, boolean or null for ${path} but received ${describeValue(value)}; ` +
        "compare with operators in an object ({ $gte: 3 }) and match lists with $in",
    );
}
