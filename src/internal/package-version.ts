import { readFileSync } from "node:fs";

/** This package's version from its package.json (two levels above src/ or dist/ modules), or undefined if unreadable. */
export function packageVersion(): string | undefined {
    try {
        return (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }).version;
    } catch {
        return undefined;
    }
}
