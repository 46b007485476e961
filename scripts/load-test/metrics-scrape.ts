/** Reads the server's Prometheus /metrics text into samples (name, labels, value). */

export interface MetricSample {
    name: string;
    labels: Record<string, string>;
    value: number;
}

const SAMPLE_LINE = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /(\w+)="((?:[^"\\]|\\.)*)"/g;

export function parseMetrics(text: string): MetricSample[] {
    const samples: MetricSample[] = [];
    for (const line of text.split("\n")) {
        if (line.startsWith("#")) continue;
        const match = SAMPLE_LINE.exec(line);
        if (match === null) continue;
        const labels: Record<string, string> = {};
        for (const label of (match[2] ?? "").matchAll(LABEL)) labels[label[1]!] = label[2]!.replace(/\\(.)/g, "$1");
        samples.push({ name: match[1]!, labels, value: Number(match[3]) });
    }
    return samples;
}

/** GET /metrics with the API key; rejects after `timeoutMs` (a server too busy to answer is reported, not waited on). */
export async function scrapeMetrics(url: string, apiKey: string, timeoutMs = 10_000): Promise<MetricSample[]> {
    const response = await fetch(`${url}/metrics`, { headers: { authorization: `Bearer ${apiKey}` }, signal: AbortSignal.timeout(timeoutMs) });
    if (response.status !== 200) throw new Error(`/metrics answered ${response.status}: ${(await response.text()).slice(0, 200)}`);
    return parseMetrics(await response.text());
}

/** The sum over every label set of one metric; undefined when the metric has no sample. */
export function sumOf(samples: readonly MetricSample[], name: string): number | undefined {
    const matching = samples.filter((sample) => sample.name === name);
    return matching.length === 0 ? undefined : matching.reduce((sum, sample) => sum + sample.value, 0);
}

/** `qwen3_http_errors_total` by "route status code", for the difference between two scrapes. */
export function errorCounts(samples: readonly MetricSample[]): Map<string, number> {
    const counts = new Map<string, number>();
    for (const sample of samples) {
        if (sample.name !== "qwen3_http_errors_total") continue;
        counts.set(`${sample.labels["route"] ?? "?"} ${sample.labels["status"] ?? "?"} ${sample.labels["code"] ?? "?"}`, sample.value);
    }
    return counts;
}

/** What `after` counted beyond `before`, largest first. */
export function countsSince(before: Map<string, number>, after: Map<string, number>): [string, number][] {
    return [...after]
        .map(([key, value]): [string, number] => [key, value - (before.get(key) ?? 0)])
        .filter(([, value]) => value > 0)
        .sort((a, b) => b[1] - a[1]);
}
