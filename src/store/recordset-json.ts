/**
 * The JSON text that `jsonb_to_recordset($n::jsonb)` turns into rows: how the store sends many rows in one bound
 * parameter (one statement per chunk, whatever its size, and nothing from the caller written into SQL text).
 */

/**
 * A JSON array with one object per row, keys in the row's order. Fields are strings, quoted with JSON.stringify,
 * except those named in `jsonFields`, which already hold JSON text (metadata from `checkMetadata`) and go in as they are.
 */
export function recordsetJson(rows: readonly Readonly<Record<string, string>>[], jsonFields: readonly string[] = []): string {
    const field = ([key, value]: [string, string]): string => `${JSON.stringify(key)}:${jsonFields.includes(key) ? value : JSON.stringify(value)}`;
    return "[" + rows.map((row) => "{" + Object.entries(row).map(field).join(",") + "}").join(",") + "]";
}
