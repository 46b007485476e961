import { createHash } from "node:crypto";

/**
 * pgvector's text form, `[x1,x2,...]`. Nine significant digits identify every float32 exactly, so a vector
 * written this way reads back bit-identical (pgvector parses with strtof).
 */
export function toVectorText(vector: ArrayLike<number>): string {
    let text = "[";
    for (let index = 0; index < vector.length; index++) {
        if (index > 0) text += ",";
        text += formatFloat32(vector[index]!);
    }
    return text + "]";
}

function formatFloat32(value: number): string {
    if (value === 0) return "0";
    const short = String(value);
    // Values that came from a Float32Array: the shortest text of the double is often already short.
    if (short.length <= 10) return short;
    return value.toPrecision(9);
}

/** Parses pgvector's text output (`[1,2.5,-3e-05]`, valid JSON) into a Float32Array. */
export function parseVectorText(text: string): Float32Array {
    return Float32Array.from(JSON.parse(text) as number[]);
}

/** Hex SHA-256 of a UTF-8 string: content hashes, cache keys. */
export function sha256Hex(text: string): string {
    return createHash("sha256").update(text, "utf8").digest("hex");
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** Index of the first unpaired UTF-16 surrogate, or -1 for well-formed Unicode. */
export function unpairedSurrogateIndex(text: string): number {
    return text.search(LONE_SURROGATE); // search() starts at 0 whatever the regex's lastIndex, and leaves it alone
}

/**
 * Replaces unpaired UTF-16 surrogates with U+FFFD, as encoding to UTF-8 does anyway; PostgreSQL rejects them in JSON.
 */
export function wellFormed(text: string): string {
    return text.replace(LONE_SURROGATE, "\ufffd");
}
