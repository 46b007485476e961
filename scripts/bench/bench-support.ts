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

/**
 * The ratio of two throughputs measured in turn, slice by slice, as the ratio of their median slices: on a shared
 * host, interference only ever slows a slice down (it hit about a third of 2-second slices here, by up to 25%), so
 * the median estimates each engine's undisturbed speed where the ratio of totals carries whichever slices were hit.
 * Both are returned, with a 90% interval of the median ratio (bootstrap over the slices, pairs kept together, fixed
 * seed: the same measurements always print the same interval).
 */
export function pairedRatio(a: readonly { tokensPerSecond: number; tokens: number; seconds: number }[], b: readonly { tokensPerSecond: number; tokens: number; seconds: number }[], resamples = 2000): { ratio: number; interval: [number, number]; ratioOfTotals: number } {
    const pairs = Math.min(a.length, b.length);
    const total = (list: readonly { tokens: number; seconds: number }[]) => list.reduce((sum, t) => sum + t.tokens, 0) / list.reduce((sum, t) => sum + t.seconds, 0);
    const medianRatio = (indices: number[]) => median(indices.map((i) => a[i]!.tokensPerSecond)) / median(indices.map((i) => b[i]!.tokensPerSecond));
    const all = Array.from({ length: pairs }, (_, i) => i);
    let seed = 0x2545f491;
    const random = () => {
        // xorshift32
        seed ^= seed << 13;
        seed ^= seed >>> 17;
        seed ^= seed << 5;
        return (seed >>> 0) / 2 ** 32;
    };
    const ratios: number[] = [];
    for (let r = 0; r < resamples && pairs > 0; r++) ratios.push(medianRatio(all.map(() => Math.floor(random() * pairs))));
    return { ratio: medianRatio(all), interval: [percentile(ratios, 5), percentile(ratios, 95)], ratioOfTotals: total(a.slice(0, pairs)) / total(b.slice(0, pairs)) };
}
