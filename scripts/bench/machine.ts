/** What the results were measured on: the CPU, and the node-llama-cpp and llama.cpp builds. */
import { readFileSync } from "node:fs";
import { cpus } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export function cpuModel(): string {
    try {
        const line = readFileSync("/proc/cpuinfo", "utf8").split("\n").find((l) => l.startsWith("model name"));
        if (line !== undefined) return line.slice(line.indexOf(":") + 1).trim();
    } catch {
        // not Linux
    }
    return cpus()[0]?.model ?? "unknown CPU";
}

/** The installed node-llama-cpp's directory (its package.json is not in its exports map). */
function nodeLlamaCppDir(): string | undefined {
    try {
        let dir = dirname(fileURLToPath(import.meta.resolve("node-llama-cpp")));
        while (dir !== dirname(dir)) {
            const manifest = readOptional(join(dir, "package.json"));
            if (manifest !== undefined && (JSON.parse(manifest) as { name?: string }).name === "node-llama-cpp") return dir;
            dir = dirname(dir);
        }
    } catch {
        // not installed
    }
    return undefined;
}

export function nodeLlamaCppVersion(): string {
    const dir = nodeLlamaCppDir();
    const manifest = dir === undefined ? undefined : readOptional(join(dir, "package.json"));
    return manifest === undefined ? "unknown" : (JSON.parse(manifest) as { version: string }).version;
}

/** The llama.cpp release node-llama-cpp's prebuilt binaries were built from. */
export function llamaCppRelease(): string {
    const dir = nodeLlamaCppDir();
    const info = dir === undefined ? undefined : readOptional(join(dir, "llama", "llama.cpp.info.json"));
    return info === undefined ? "unknown" : (JSON.parse(info) as { tag: string }).tag;
}

export function readOptional(path: string): string | undefined {
    try {
        return readFileSync(path, "utf8").trim() || undefined;
    } catch {
        return undefined;
    }
}
