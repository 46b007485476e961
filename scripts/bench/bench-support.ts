/** Measuring helpers shared by the benchmarks: CPU clock, machine load, loaded llama.cpp libraries, statistics. */
import { readFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";

export function startClock(): { stop(): { seconds: number; cpuPercent: number } } {
    const cpu = process.cpuUsage();
    const start = performance.now();
    return {
        stop() {
            const seconds = (performance.now() - start) / 1000;
            const used = process.cpuUsage(cpu);
            return { seconds, cpuPercent: ((used.user + used.system) / 1e6 / seconds) * 100 };
        },
    };
}

/** How much CPU other processes use right now: /proc/stat over one second (Linux), else the 1-minute load average. */
export async function otherCpuUse(): Promise<{ percent: number; how: string }> {
    const sample = (): { idle: number; total: number } | undefined => {
        try {
            const fields = readFileSync("/proc/stat", "utf8").split("\n")[0]!.trim().split(/\s+/).slice(1, 9).map(Number);
            return { idle: fields[3]! + fields[4]!, total: fields.reduce((sum, value) => sum + value, 0) };
        } catch {
            return undefined;
        }
    };
    const before = sample();
    await new Promise((resolveTimer) => setTimeout(resolveTimer, 1000));
    const after = sample();
    if (before !== undefined && after !== undefined && after.total > before.total) {
        const percent = 100 * (1 - (after.idle - before.idle) / (after.total - before.total));
        return { percent, how: `${percent.toFixed(0)}% of all CPUs busy over the last second` };
    }
    const load = loadavg()[0]!;
    return { percent: (100 * load) / cpus().length, how: `1-minute load average ${load.toFixed(2)} on ${cpus().length} CPUs` };
}

/** The llama.cpp and ggml libraries this process mapped (Linux; empty elsewhere): shows which CPU variant ran. */
export function loadedLlamaLibraries(): string[] {
    try {
        const maps = readFileSync("/proc/self/maps", "utf8");
        const found = new Set<string>();
        for (const line of maps.split("\n")) {
            const path = line.slice(line.indexOf("/"));
            if (line.includes("/") && /\/lib(llama|ggml)[^/]*\.(so|dylib)[^/]*$/.test(path)) found.add(path);
        }
        return [...found].sort();
    } catch {
        return [];
    }
}

/** Peak resident memory of this process in MB (Linux VmHWM; process.resourceUsage elsewhere). */
export function peakRssMb(): number {
    try {
        const match = readFileSync("/proc/self/status", "utf8").match(/VmHWM:\s+(\d+)\s+kB/);
        if (match) return Number(match[1]) / 1024;
    } catch {
        // not Linux
    }
    return process.resourceUsage().maxRSS / 1024;
}

export function median(values: number[]): number {
    return percentile(values, 50);
}

/** Nearest-rank percentile. */
export function percentile(values: number[], p: number): number {
    if (values.length === 0) return Number.NaN;
    const sorted = [...values].sort((a, b) => a - b);
    const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
    return sorted[rank - 1]!;
}
