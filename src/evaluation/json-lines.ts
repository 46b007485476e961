import { readFile } from "node:fs/promises";
import { InvalidOptionError } from "../internal/errors.js";

/** One parsed line of a JSONL file and its 1-based line number (for messages naming `path:line`). */
export interface JsonLine {
    line: number;
    value: unknown;
}

/** Reads a file that must exist; the error names the option it came from. */
export async function readTextFile(path: string, option: string): Promise<string> {
    try {
        return await readFile(path, "utf8");
    } catch (error) {
        throw new InvalidOptionError(`Cannot read ${path} (${option}): ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
}

/** Parses JSON Lines: one JSON value per non-blank line. */
export function parseJsonLines(content: string, path: string): JsonLine[] {
    const lines: JsonLine[] = [];
    content.split(/\r?\n/).forEach((text, index) => {
        if (text.trim() === "") return;
        try {
            lines.push({ line: index + 1, value: JSON.parse(text) });
        } catch {
            throw new InvalidOptionError(`${path}:${index + 1} is not valid JSON`);
        }
    });
    return lines;
}

/** The non-empty lines of a plain text file (one text per line). */
export function parsePlainLines(content: string): string[] {
    const lines = content.split(/\r?\n/);
    if (lines.at(-1) === "") lines.pop();
    return lines;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
    return value !== null && typeof value === "object" && !Array.isArray(value);
}
