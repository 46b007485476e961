/** What the results were measured on: the CPU (the node-llama-cpp and llama.cpp builds: src/engine/llama-build-guard.ts). */
import { readFileSync } from "node:fs";
import { cpus } from "node:os";

export function cpuModel(): string {
    try {
        const line = readFileSync("/proc/cpuinfo", "utf8").split("\n").find((l) => l.startsWith("model name"));
        if (line !== undefined) return line.slice(line.indexOf(":") + 1).trim();
    } catch {
        // not Linux
    }
    return cpus()[0]?.model ?? "unknown CPU";
}

export function readOptional(path: string): string | undefined {
    try {
        return readFileSync(path, "utf8").trim() || undefined;
    } catch {
        return undefined;
    }
}
