/** Timing a workload: throughput of one run, latency under concurrent callers, and arms measured in turn on slices. */
import { percentile, startClock } from "./bench-support.js";

export interface Throughput { tokens: number; texts: number; seconds: number; tokensPerSecond: number; textsPerSecond: number; cpuPercent: number }
export interface Latency { concurrency: number; requests: number; p50Ms: number; p99Ms: number; tokensPerSecond: number }

export function throughput(tokens: number, texts: number, clock: { seconds: number; cpuPercent: number }): Throughput {
    return { tokens, texts, ...clock, tokensPerSecond: tokens / clock.seconds, textsPerSecond: texts / clock.seconds };
}

export async function measure(tokens: number, texts: number, run: () => Promise<unknown>): Promise<Throughput> {
    const clock = startClock();
    await run();
    return throughput(tokens, texts, clock.stop());
}

/** `requests` calls of one short text each, `concurrency` callers at a time; latency of every call. */
export async function latency(concurrency: number, requests: number, texts: string[], tokensOf: (i: number) => number, call: (i: number) => Promise<unknown>): Promise<Latency> {
    const times: number[] = [];
    let next = 0;
    let tokens = 0;
    const clock = startClock();
    await Promise.all(Array.from({ length: concurrency }, async () => {
        while (next < requests) {
            const i = next++ % texts.length;
            const start = performance.now();
            await call(i);
            times.push(performance.now() - start);
            tokens += tokensOf(i);
        }
    }));
    const { seconds } = clock.stop();
    return { concurrency, requests, p50Ms: percentile(times, 50), p99Ms: percentile(times, 99), tokensPerSecond: tokens / seconds };
}

export type Arm = (slice: number) => Promise<{ tokens: number; texts: number }>;

/**
 * The arms run in turn on each slice, the first arm rotating from slice to slice; returns each arm's throughput on
 * every slice. This machine's speed drifts by 10-20% between processes and over tens of seconds, so a ratio is
 * only worth its margin between arms measured seconds apart.
 */
export async function alternate<K extends string>(slices: number, arms: Record<K, Arm>): Promise<Record<K, Throughput[]>> {
    const names = Object.keys(arms) as K[];
    const runs = new Map<K, Throughput[]>(names.map((name) => [name, []]));
    for (let slice = 0; slice < slices; slice++) {
        for (let k = 0; k < names.length; k++) {
            const name = names[(k + slice) % names.length]!;
            const clock = startClock();
            const { tokens, texts } = await arms[name](slice);
            runs.get(name)!.push(throughput(tokens, texts, clock.stop()));
        }
    }
    return Object.fromEntries(runs) as Record<K, Throughput[]>;
}

/** Tokens of all the sequences together. */
export const totalTokens = (sequences: readonly (readonly number[])[]) => sequences.reduce((total, sequence) => total + sequence.length, 0);
