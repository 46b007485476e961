import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import type { ParseArgsConfig } from "node:util";
import { InvalidOptionError } from "../internal/errors.js";

/** One CLI subcommand: parsed with node:util parseArgs (strict), run with the parsed values. */
export interface Command {
    summary: string;
    usage: string;
    options: NonNullable<ParseArgsConfig["options"]>;
    positionals?: boolean;
    run(values: Record<string, unknown>, positionals: string[]): Promise<void>;
}

/** A mistake in the command line: printed as one line, exit code 2. */
export class UsageError extends Error {}

/** Runs a library check on command-line input: its InvalidOptionError becomes a UsageError, its message after `prefix`. */
export function asUsageError<T>(check: () => T, prefix = ""): T {
    try {
        return check();
    } catch (error) {
        if (error instanceof InvalidOptionError) throw new UsageError(`${prefix}${error.message}`);
        throw error;
    }
}

/** The same for an async library call: its InvalidOptionError (a rejection) becomes a UsageError. */
export async function asUsageErrorAsync<T>(call: () => Promise<T>, prefix = ""): Promise<T> {
    try {
        return await call();
    } catch (error) {
        if (error instanceof InvalidOptionError) throw new UsageError(`${prefix}${error.message}`);
        throw error;
    }
}

/** A command that ran but failed (a check did not pass, a remote service refused): printed as one line, exit code 1. */
export class CommandFailure extends Error {}

/** One JSON value per line on stdout. */
export function writeLine(value: unknown): void {
    process.stdout.write(JSON.stringify(value) + "\n");
}

export function optionalInteger(values: Record<string, unknown>, flag: string, option: string): Record<string, number> {
    const raw = values[flag];
    if (raw === undefined) return {};
    if (typeof raw !== "string" || !/^-?\d+$/.test(raw)) throw new UsageError(`Expected an integer for --${flag} but received ${JSON.stringify(raw)}`);
    return { [option]: Number(raw) };
}

export function requireString(values: Record<string, unknown>, name: string): string {
    const value = values[name];
    if (typeof value !== "string" || value === "") throw new UsageError(`--${name} is required`);
    return value;
}

/** Texts one per line, or JSONL objects with a `text` field when the file ends in .jsonl; stdin without a file. */
export async function readTexts(path: string | undefined): Promise<string[]> {
    const content = path === undefined ? readFileSync(0, "utf8") : await readFile(path, "utf8");
    const lines = content.split(/\r?\n/);
    if (lines.at(-1) === "") lines.pop();
    if (path === undefined || !path.endsWith(".jsonl")) return lines;
    return lines.map((line, index) => {
        let parsed: unknown;
        try {
            parsed = JSON.parse(line);
        } catch {
            throw new UsageError(`${path}:${index + 1} is not valid JSON`);
        }
        const text = (parsed as { text?: unknown })?.text;
        if (typeof text !== "string") throw new UsageError(`${path}:${index + 1} has no string "text" field`);
        return text;
    });
}

