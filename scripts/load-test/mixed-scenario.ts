/**
 * `npm run load-test -- --scenario mixed`: the server with both fixture models and the application routes on a fresh
 * embedded store, under a mix of model and application requests plus clients that hang up after 100 ms. Per round:
 * answers by kind and status, p50/p99, the server's RSS, and how long the scheduler queue took to empty after the
 * clients stopped; then a verdict table. A measurement: verdicts print PASS/FAIL, the exit code stays 0.
 *
 * Design: one autocannon instance per request kind, the connections split between them by fixed shares, all running
 * at once. autocannon walks its `requests` list in order on every connection, so in a single instance the slowest
 * kind (a search reranking 200 candidates) would set the pace of every connection and the fast kinds would only run
 * between slow ones; separate instances are separate client populations, as in production, and give statuses and
 * percentiles per kind. Bodies rotate through `setupRequest` (a counter per kind). The overall percentiles come from
 * every instance's `response` events. Clients that hang up early are a small fetch + AbortController loop beside them.
 * Latencies are of answered requests only: each connection's request still waiting when its round stops is cut (its
 * connection closed) and is in no percentile; a kind with fewer answers than connections had connections stuck all round.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { cpus, platform, release, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { randomBytes } from "node:crypto";
import type { ChildProcess } from "node:child_process";
import { runEarlyDisconnects, type EarlyDisconnectStats } from "./early-disconnects.js";
import {
    freePort, LOOPBACK, mib, percentile, runAutocannon, spawnServer, stopServer, waitForHealth, type AutocannonRequest, type AutocannonResult,
} from "./load-test-support.js";
import { countsSince, errorCounts, scrapeMetrics, sumOf } from "./metrics-scrape.js";
import { seedSearchNamespace } from "./seed-store.js";
import { memoryText, queryText, rerankDocuments, shortTexts } from "./workload-texts.js";

export const MIXED_DEFAULTS = { requestTimeoutMs: 5000, maxConcurrent: 32 } as const;

export interface MixedScenarioOptions {
    duration: number;
    connections: number;
    rounds: number;
    warmup: number;
    embeddingModel: string;
    rerankerModel: string;
    maxConcurrent: number;
    requestTimeoutMs: number;
}

/** The model options of the server tests (test/server/server-fixture.ts MODEL_OPTIONS), for the seeding and the server. */
const MODEL_OPTIONS = { batchTokens: 256, contextSize: 4096 } as const;
const SEARCH_NAMESPACE = "load-docs";
const SEARCH_DOCUMENTS = 600;
const RERANK_TOP_K = 200;
const USERS = Array.from({ length: 8 }, (_, n) => `user-${n + 1}`);
const SEED_MEMORIES_PER_USER = 25;
const ABORT_AFTER_MS = 100;
/** Each client that hangs up starts at most one request per this many ms. */
const ABORT_INTERVAL_MS = 1000;
/** The scheduler queue counts as empty once it read 0 for this long: a search empties it between its embedding and its rerank. */
const QUEUE_QUIET_MS = 1000;
const POLL_MS = 100;

interface RequestKind {
    name: string;
    /** Connections out of 64. */
    share: number;
    path: string;
    body(n: number): unknown;
}

const user = (n: number) => USERS[n % USERS.length]!;

const KINDS: readonly RequestKind[] = [
    {
        name: "embeddings", share: 16, path: "/v1/embeddings",
        body: (n) => ({ input: shortTexts(n), encoding_format: n % 2 === 0 ? "float" : "base64" }),
    },
    {
        name: "rerank 10-20 docs", share: 8, path: "/v1/rerank",
        body: (n) => ({ query: queryText(n), documents: rerankDocuments(n), top_n: 3 }),
    },
    {
        name: "memories add", share: 8, path: "/v1/memories",
        body: (n) => ({ user_id: user(n), text: memoryText(user(n), 1000 + n), metadata: { source: "load-test", n } }),
    },
    {
        name: "memories search", share: 12, path: "/v1/memories/search",
        body: (n) => ({ user_id: user(n), query: queryText(n), top_k: 5, rerank: n % 2 === 0 }),
    },
    {
        name: `search rerank_top_k ${RERANK_TOP_K}`, share: 16, path: "/v1/search",
        body: (n) => ({ query: queryText(n), namespace: SEARCH_NAMESPACE, top_k: 10, rerank: true, rerank_top_k: RERANK_TOP_K }),
    },
];
const EARLY_DISCONNECT_SHARE = 4;

/** Requests of the clients that hang up: the slow kinds, where hanging up matters. */
function earlyDisconnectRequest(n: number): { path: string; body: unknown } {
    const kind = [KINDS[4]!, KINDS[1]!, KINDS[3]!][n % 3]!;
    return { path: kind.path, body: kind.body(n) };
}

/** `total` connections in proportion to `shares` (largest remainder), each kind at least one. */
export function splitConnections(total: number, shares: readonly number[]): number[] {
    const sum = shares.reduce((a, b) => a + b, 0);
    const exact = shares.map((share) => (share * total) / sum);
    const counts = exact.map(Math.floor);
    const byRemainder = exact.map((value, index) => ({ index, remainder: value - Math.floor(value) })).sort((a, b) => b.remainder - a.remainder);
    for (let given = counts.reduce((a, b) => a + b, 0), k = 0; given < total; given++, k++) counts[byRemainder[k]!.index]!++;
    for (let index = 0; index < counts.length; index++) {
        if (counts[index] === 0) {
            counts[counts.indexOf(Math.max(...counts))]!--;
            counts[index] = 1;
        }
    }
    return counts;
}

interface KindRound {
    kind: string;
    connections: number;
    result: AutocannonResult;
}

interface QueueDrain {
    /** ms after the clients stopped at which the queue read 0 and stayed so (undefined: not within the limit). */
    emptyAfterMs: number | undefined;
    /** ms after the clients stopped at which qwen3_model_calls_in_flight read 0 (model routes only). */
    modelCallsZeroAfterMs: number | undefined;
    /** The first reading after the clients stopped. */
    atStop: { calls: number; tokens: number; modelCallsInFlight: number } | undefined;
    /** The last reading, when the queue did not empty within the limit. */
    left: { calls: number; tokens: number; atMs: number } | undefined;
    failedScrapes: number;
    gaugesMissing: boolean;
}

interface RoundReport {
    label: string;
    seconds: number;
    kinds: KindRound[];
    responses: number;
    statuses: Record<string, number>;
    p50: number;
    p99: number;
    disconnects: EarlyDisconnectStats;
    drain: QueueDrain;
    rssBytes: number;
    serverErrors: [string, number][];
    serverLog: [string, number][];
}

/** The server's log lines at warn and above, tallied by message (its stdout is JSON lines). */
class ServerLogTally {
    #counts = new Map<string, number>();

    constructor(child: ChildProcess) {
        createInterface({ input: child.stdout! }).on("line", (line) => {
            let entry: { level?: number; msg?: string; code?: string; err?: { type?: string; message?: string } };
            try {
                entry = JSON.parse(line) as typeof entry;
            } catch {
                process.stdout.write(`server: ${line}\n`);
                return;
            }
            if ((entry.level ?? 0) < 40) return;
            const key = `${entry.msg ?? "?"}${entry.code === undefined ? "" : ` [${entry.code}]`}${entry.err === undefined ? "" : `: ${entry.err.type}: ${entry.err.message}`}`.slice(0, 240);
            this.#counts.set(key, (this.#counts.get(key) ?? 0) + 1);
        });
    }

    /** The lines since the last call, most frequent first. */
    take(): [string, number][] {
        const taken = [...this.#counts].sort((a, b) => b[1] - a[1]);
        this.#counts = new Map();
        return taken;
    }
}

/** The server's resident memory: VmRSS of the child process from /proc (Linux), else its own /metrics. */
async function serverRss(pid: number, url: string, apiKey: string): Promise<{ bytes: number; source: string }> {
    try {
        const match = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
        if (match !== null) return { bytes: Number(match[1]) * 1024, source: `/proc/${pid}/status VmRSS of the server child process` };
    } catch {
        // not Linux
    }
    const bytes = sumOf(await scrapeMetrics(url, apiKey), "qwen3_process_resident_memory_bytes");
    if (bytes === undefined) throw new Error("qwen3_process_resident_memory_bytes missing from /metrics");
    return { bytes, source: "qwen3_process_resident_memory_bytes from the server's /metrics" };
}

/**
 * Polls /metrics from `since` (when the clients stopped) until `qwen3_scheduler_queued_calls` and `_tokens` (summed
 * over the models) read 0 for QUEUE_QUIET_MS, or `limitMs` passed. The drain time is the first zero reading of that
 * final quiet stretch.
 */
async function waitForEmptyQueue(url: string, apiKey: string, since: number, limitMs: number): Promise<QueueDrain> {
    const drain: QueueDrain = { emptyAfterMs: undefined, modelCallsZeroAfterMs: undefined, atStop: undefined, left: undefined, failedScrapes: 0, gaugesMissing: false };
    let quietSince: number | undefined;
    while (performance.now() - since < limitMs) {
        try {
            const samples = await scrapeMetrics(url, apiKey, 5000);
            const at = performance.now() - since;
            const calls = sumOf(samples, "qwen3_scheduler_queued_calls");
            const tokens = sumOf(samples, "qwen3_scheduler_queued_tokens");
            const modelCalls = sumOf(samples, "qwen3_model_calls_in_flight") ?? 0;
            if (calls === undefined || tokens === undefined) {
                drain.gaugesMissing = true;
                return drain;
            }
            drain.atStop ??= { calls, tokens, modelCallsInFlight: modelCalls };
            drain.left = { calls, tokens, atMs: at };
            if (modelCalls === 0) drain.modelCallsZeroAfterMs ??= at;
            if (calls === 0 && tokens === 0) {
                quietSince ??= at;
                if (at - quietSince >= QUEUE_QUIET_MS) {
                    drain.emptyAfterMs = quietSince;
                    drain.left = undefined;
                    return drain;
                }
            } else {
                quietSince = undefined;
            }
        } catch {
            drain.failedScrapes++;
        }
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
    return drain;
}

function addCounts(into: Record<string, number>, from: Record<string, number>): void {
    for (const [key, value] of Object.entries(from)) into[key] = (into[key] ?? 0) + value;
}

/** What was still queued when the wait ended, and at the rate it went down, about how much longer it would take. */
function describeBacklog(drain: QueueDrain): string {
    const { left, atStop } = drain;
    if (left === undefined) return "nothing";
    const rate = atStop === undefined || left.atMs <= 0 ? 0 : (atStop.tokens - left.tokens) / (left.atMs / 1000);
    const more = rate > 0 ? `, about ${Math.round(left.tokens / rate)} s more at the ${Math.round(rate)} tokens/s it went down` : ", not going down";
    return `${left.calls} calls, ${left.tokens} tokens${more}`;
}

/** "1.2 s", or "> 120.0 s (801332 tokens left)". */
function drainCell(drain: QueueDrain, limitMs: number): string {
    if (drain.gaugesMissing) return "gauges missing";
    return drain.emptyAfterMs === undefined ? `> ${seconds(limitMs)} (${drain.left?.tokens ?? "?"} tokens left)` : seconds(drain.emptyAfterMs);
}

function statusCounts(result: AutocannonResult): Record<string, number> {
    return Object.fromEntries(Object.entries(result.statusCodeStats).map(([status, stats]) => [status, stats.count]));
}

/** "429 x12, 400 x1" of the statuses in a class ("4" or "5"); "-" when none. */
function describeClass(statuses: Record<string, number>, leading: string): string {
    const entries = Object.entries(statuses).filter(([status]) => status.startsWith(leading)).sort((a, b) => b[1] - a[1]);
    return entries.length === 0 ? "-" : entries.map(([status, count]) => `${status} x${count}`).join(", ");
}

function countClass(statuses: Record<string, number>, leading: string): number {
    return Object.entries(statuses).filter(([status]) => status.startsWith(leading)).reduce((sum, [, count]) => sum + count, 0);
}

function seconds(ms: number | undefined): string {
    return ms === undefined ? "-" : `${(ms / 1000).toFixed(1)} s`;
}

function table(rows: string[][]): string {
    const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
    return rows.map((row) => `  ${row.map((cell, column) => cell.padEnd(widths[column]!)).join("  ").trimEnd()}`).join("\n");
}

export async function runMixedScenario(options: MixedScenarioOptions): Promise<void> {
    const { duration, connections, rounds, warmup, embeddingModel, rerankerModel, maxConcurrent, requestTimeoutMs } = options;
    const shares = [...KINDS.map((kind) => kind.share), EARLY_DISCONNECT_SHARE];
    if (connections < shares.length) {
        throw new Error(`Expected at least ${shares.length} for --connections with --scenario mixed (one per request kind) but received ${connections}`);
    }
    const split = splitConnections(connections, shares);
    const disconnectClients = split.at(-1)!;
    // Past this the next round starts anyway (with the backlog); the report says how much was left.
    const drainLimitMs = Math.max(120_000, 24 * requestTimeoutMs);
    const apiKey = `load-${randomBytes(12).toString("hex")}`;
    const work = mkdtempSync(join(tmpdir(), "qwen3-load-mixed-"));
    const database = join(work, "store");

    process.stdout.write(
        `mixed load test, ${new Date().toISOString()}; machine: ${cpus()[0]?.model ?? "unknown"}, ${cpus().length} CPUs, ` +
        `${(totalmem() / 2 ** 30).toFixed(0)} GiB, ${platform()} ${release()}, node ${process.version}\n` +
        `models: ${embeddingModel} + ${rerankerModel} (batchTokens ${MODEL_OPTIONS.batchTokens}, contextSize ${MODEL_OPTIONS.contextSize}); store: embedded, ${database}\n`,
    );
    let child: ChildProcess | undefined;
    // Bounded: however the server behaves, this process ends.
    const deadline = setTimeout(() => {
        process.stderr.write("load test: overall time limit reached; stopping\n");
        child?.kill("SIGKILL");
        rmSync(work, { recursive: true, force: true });
        process.exit(1);
    }, (warmup + rounds * duration + (rounds + 1) * (drainLimitMs / 1000 + 20) + 600) * 1000);
    deadline.unref();

    try {
        const seeded = await seedSearchNamespace({ database, embeddingModel, namespace: SEARCH_NAMESPACE, documents: SEARCH_DOCUMENTS, modelOptions: MODEL_OPTIONS });
        process.stdout.write(`seeded namespace ${SEARCH_NAMESPACE}: ${seeded.written} documents through the library in ${seeded.seconds.toFixed(1)} s (store closed before the server opens it)\n`);

        const port = await freePort();
        const url = `http://${LOOPBACK}:${port}`;
        child = spawnServer(port, [
            "--embedding-model", embeddingModel, "--reranker-model", rerankerModel, "--database", database,
            "--context-size", String(MODEL_OPTIONS.contextSize), "--batch-tokens", String(MODEL_OPTIONS.batchTokens),
            "--request-timeout", String(requestTimeoutMs), "--max-concurrent-requests", String(maxConcurrent),
        ], { stdout: "pipe", env: { QWEN3_EMBEDDING_API_KEY: apiKey } }); // the key in the environment, not on the command line
        const serverLog = new ServerLogTally(child);
        const started = performance.now();
        await waitForHealth(url, child);
        const pid = child.pid!;
        const headers = { "content-type": "application/json", authorization: `Bearer ${apiKey}` };

        const seedStarted = performance.now();
        const seedAdds = USERS.flatMap((id) => Array.from({ length: SEED_MEMORIES_PER_USER }, (_, n) => ({ user_id: id, text: memoryText(id, n), metadata: { seeded: true, n } })));
        for (let next = 0; next < seedAdds.length;) {
            await Promise.all(seedAdds.slice(next, next + 8).map(async (body) => {
                const response = await fetch(`${url}/v1/memories`, { method: "POST", headers, body: JSON.stringify(body) });
                if (response.status !== 200) throw new Error(`seeding POST /v1/memories answered ${response.status}: ${(await response.text()).slice(0, 300)}`);
            }));
            next += 8;
        }
        process.stdout.write(
            `server ${url} (pid ${pid}) ready in ${((seedStarted - started) / 1000).toFixed(1)} s; request timeout ${requestTimeoutMs} ms, ` +
            `max concurrent requests ${maxConcurrent}; seeded ${seedAdds.length} memories for ${USERS.length} users over HTTP in ${((performance.now() - seedStarted) / 1000).toFixed(1)} s\n` +
            `${connections} connections: ${KINDS.map((kind, index) => `${kind.name} ${split[index]}`).join(", ")}, ` +
            `early disconnects (fetch, abort after ${ABORT_AFTER_MS} ms, at most one a second each) ${disconnectClients}; ${rounds} x ${duration} s` +
            `${warmup > 0 ? ` after a ${warmup} s warm-up` : ""}\n`,
        );
        serverLog.take();

        let rssSource = "";
        const runRound = async (label: string, roundSeconds: number): Promise<RoundReport> => {
            const errorsBefore = errorCounts(await scrapeMetrics(url, apiKey, 30_000));
            const latencies: number[] = [];
            const started = performance.now();
            const [kindResults, disconnects] = await Promise.all([
                Promise.all(KINDS.map(async (kind, index): Promise<KindRound> => {
                    let n = 0;
                    const request: AutocannonRequest = {
                        method: "POST", path: kind.path, headers,
                        setupRequest: (base) => ({ ...base, body: JSON.stringify(kind.body(n++)) }),
                    };
                    const result = await runAutocannon(
                        { url, connections: split[index]!, duration: roundSeconds, timeout: 60, requests: [request] },
                        (_status, latencyMs) => latencies.push(latencyMs),
                    );
                    return { kind: kind.name, connections: split[index]!, result };
                })),
                runEarlyDisconnects({
                    url, apiKey, clients: disconnectClients, untilMs: started + roundSeconds * 1000,
                    abortAfterMs: ABORT_AFTER_MS, intervalMs: ABORT_INTERVAL_MS, request: earlyDisconnectRequest,
                }),
            ]);
            const stopped = performance.now();
            const drain = await waitForEmptyQueue(url, apiKey, stopped, drainLimitMs);
            await new Promise((resolve) => setTimeout(resolve, 1000)); // let GC settle, as the models scenario does
            const rss = await serverRss(pid, url, apiKey);
            rssSource = rss.source;
            const serverErrors = countsSince(errorsBefore, errorCounts(await scrapeMetrics(url, apiKey, 30_000)));
            const statuses: Record<string, number> = {};
            for (const { result } of kindResults) addCounts(statuses, statusCounts(result));
            const responses = Object.values(statuses).reduce((a, b) => a + b, 0);
            return {
                label, seconds: (stopped - started) / 1000, kinds: kindResults, responses, statuses,
                p50: Math.round(percentile(latencies, 50)), p99: Math.round(percentile(latencies, 99)), disconnects, drain, rssBytes: rss.bytes, serverErrors, serverLog: serverLog.take(),
            };
        };

        const print = (report: RoundReport) => {
            const { drain } = report;
            const queue = drain.gaugesMissing
                ? "the server exports no qwen3_scheduler_queued_* gauges"
                : `scheduler queue empty ${drain.emptyAfterMs === undefined ? `NOT within ${seconds(drainLimitMs)}` : `${seconds(drain.emptyAfterMs)}`} after the clients stopped ` +
                  `(request timeout ${seconds(requestTimeoutMs)}; at the stop ${drain.atStop?.calls ?? "?"} calls, ${drain.atStop?.tokens ?? "?"} tokens queued, ` +
                  `${drain.atStop?.modelCallsInFlight ?? "?"} model-route calls in flight, those at 0 after ${seconds(drain.modelCallsZeroAfterMs)})` +
                  (drain.left === undefined ? "" : `\n  left at the limit: ${describeBacklog(drain)}; the next round starts with it`);
            const rows = [["kind", "conns", "answers", "2xx", "4xx", "5xx", "p50 ms", "p99 ms", "errors", "timeouts"]];
            for (const { kind, connections: conns, result } of report.kinds) {
                const statuses = statusCounts(result);
                rows.push([
                    kind, String(conns), String(result.requests.total), String(countClass(statuses, "2")), describeClass(statuses, "4"), describeClass(statuses, "5"),
                    String(result.latency.p50), String(result.latency.p99), String(result.errors), String(result.timeouts),
                ]);
            }
            const d = report.disconnects;
            process.stdout.write(
                `${report.label}: ${report.seconds.toFixed(1)} s, ${report.responses} answers (${(report.responses / report.seconds).toFixed(1)}/s), ` +
                `2xx ${countClass(report.statuses, "2")}, 4xx ${describeClass(report.statuses, "4")}, 5xx ${describeClass(report.statuses, "5")}; ` +
                `latency p50 ${report.p50} ms, p99 ${report.p99} ms; server RSS ${mib(report.rssBytes)}\n  ${queue}\n${table(rows)}\n` +
                `  early disconnects: ${d.started} sent, ${d.abortedBeforeAnswer} aborted before an answer, answered first: ` +
                `${Object.entries(d.answered).map(([status, count]) => `${status} x${count}`).join(", ") || "none"}; ${d.failed} failed otherwise\n` +
                `  server error responses (qwen3_http_errors_total, route status code): ${report.serverErrors.map(([key, count]) => `${key} x${count}`).join("; ") || "none"}\n` +
                `  server log at warn and above: ${report.serverLog.slice(0, 4).map(([line, count]) => `${count} x ${line}`).join(" | ") || "none"}\n`,
            );
        };

        if (warmup > 0) {
            const report = await runRound("warm-up (not counted)", warmup);
            process.stdout.write(`warm-up: ${report.responses} answers; scheduler queue ${drainCell(report.drain, drainLimitMs)}\n`);
        }
        const reports: RoundReport[] = [];
        for (let round = 1; round <= rounds; round++) {
            const report = await runRound(`round ${round}`, duration);
            reports.push(report);
            print(report);
        }
        process.stdout.write(`server RSS: ${rssSource}\n`);

        const summaryRows = [["round", "answers", "2xx", "4xx", "5xx", "p50 ms", "p99 ms", "RSS", "queue empty after", "early disconnects"]];
        for (const report of reports) {
            summaryRows.push([
                report.label.replace("round ", ""), String(report.responses), String(countClass(report.statuses, "2")), describeClass(report.statuses, "4"),
                describeClass(report.statuses, "5"), String(report.p50), String(report.p99), mib(report.rssBytes),
                drainCell(report.drain, drainLimitMs),
                `${report.disconnects.abortedBeforeAnswer}/${report.disconnects.started} aborted`,
            ]);
        }
        process.stdout.write(`\nrounds:\n${table(summaryRows)}\n`);

        const verdicts = verdictsOf(reports, requestTimeoutMs, drainLimitMs);
        const verdictRows = [["verdict", "measured", "result"], ...verdicts.map((v) => [v.name, v.measured, v.result])];
        const failed = verdicts.filter((v) => v.result === "FAIL").length;
        process.stdout.write(`\nverdicts:\n${table(verdictRows)}\n${failed === 0 ? "mixed load test: every verdict PASS" : `mixed load test: FAIL (${failed} of ${verdicts.length} verdicts)`}\n`);
        process.stdout.write(`${JSON.stringify({
            scenario: "mixed", date: new Date().toISOString(), connections, split: Object.fromEntries([...KINDS.map((kind, i) => [kind.name, split[i]]), ["early disconnects", disconnectClients]]),
            durationSeconds: duration, requestTimeoutMs, maxConcurrent, rssSource,
            rounds: reports.map((report) => ({
                round: report.label, answers: report.responses, statuses: report.statuses, latencyMs: { p50: report.p50, p99: report.p99 }, rssBytes: report.rssBytes,
                queueEmptyAfterMs: report.drain.emptyAfterMs === undefined ? null : Math.round(report.drain.emptyAfterMs), queueAtStop: report.drain.atStop ?? null,
                queueLeftAtLimit: report.drain.left ?? null,
                earlyDisconnects: report.disconnects, serverErrors: Object.fromEntries(report.serverErrors),
                kinds: report.kinds.map(({ kind, result }) => ({ kind, answers: result.requests.total, statuses: statusCounts(result), p50: result.latency.p50, p99: result.latency.p99, errors: result.errors, timeouts: result.timeouts })),
            })),
            verdicts,
        })}\n`);
    } finally {
        if (child !== undefined) await stopServer(child);
        clearTimeout(deadline);
        rmSync(work, { recursive: true, force: true });
    }
}

interface Verdict {
    name: string;
    measured: string;
    result: "PASS" | "FAIL" | "n/a";
}

function verdictsOf(reports: readonly RoundReport[], requestTimeoutMs: number, drainLimitMs: number): Verdict[] {
    const fiveXx = reports.map((report) => countClass(report.statuses, "5") + countClass(report.disconnects.answered, "5"));
    const total5xx = fiveXx.reduce((a, b) => a + b, 0);
    const first = reports[0]!;
    const ratios = reports.map((report) => report.responses / Math.max(1, first.responses));
    const lowest = ratios.indexOf(Math.min(...ratios));
    const drains = reports.map((report) => report.drain.emptyAfterMs ?? Number.POSITIVE_INFINITY);
    const last = reports.at(-1)!;
    const growth = (last.rssBytes - first.rssBytes) / first.rssBytes;
    return [
        {
            name: "no 5xx answers",
            measured: total5xx === 0 ? "0" : `${total5xx} (${reports.map((report, i) => `${report.label}: ${fiveXx[i]}`).join(", ")})`,
            result: total5xx === 0 ? "PASS" : "FAIL",
        },
        {
            name: "no round below half of round 1's answers",
            measured: reports.length < 2 ? "one round" : `lowest ${reports[lowest]!.label}: ${ratios[lowest]!.toFixed(2)}x of ${first.responses}`,
            result: reports.length < 2 ? "n/a" : ratios[lowest]! >= 0.5 ? "PASS" : "FAIL",
        },
        {
            name: "scheduler queue back to 0 within the request timeout",
            measured: reports.some((report) => report.drain.gaugesMissing)
                ? "gauges missing from /metrics"
                : `${drains.map((ms) => (Number.isFinite(ms) ? seconds(ms) : `> ${seconds(drainLimitMs)}`)).join(", ")} vs ${seconds(requestTimeoutMs)}`,
            result: drains.every((ms) => ms <= requestTimeoutMs) ? "PASS" : "FAIL",
        },
        {
            name: "RSS of the last round at most 10% above round 1's",
            measured: reports.length < 2 ? "one round" : `${growth >= 0 ? "+" : ""}${(growth * 100).toFixed(1)}% (${mib(first.rssBytes)} -> ${mib(last.rssBytes)})`,
            result: reports.length < 2 ? "n/a" : growth <= 0.1 ? "PASS" : "FAIL",
        },
    ];
}
