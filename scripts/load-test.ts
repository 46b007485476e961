/**
 * Load test of `qwen3-embedding serve` on loopback: autocannon at a fixed concurrency for a fixed time, several rounds,
 * against a server in a child process (so the load generator does not share its event loop). Requests cycle through
 * OpenAI embeddings (base64 documents, float queries with `dimensions`) and Jina-style rerank. After each round the
 * server's RSS and heap are read from its /metrics, to show memory stays flat.
 *
 * Passes (exit 0) when there were no 5xx, no connection errors or timeouts, no non-2xx answers other than 429 (the
 * server's deliberate backpressure), and RSS after the last round is within 10% of RSS after the first.
 *
 * `--scenario mixed` adds the application routes on a seeded store and clients that hang up early, and prints
 * verdicts instead of failing (scripts/load-test/mixed-scenario.ts).
 *
 *   npm run load-test -- [--scenario models|mixed] [--duration 30] [--connections 64] [--rounds 3] [--embedding-model <path|id>] [--reranker-model <path|id>]
 */
import { cpus, platform, release, totalmem } from "node:os";
import { parseArgs } from "node:util";
import { ensureFixtureModel } from "../test/fixtures/qwen3-fixture.js";
import { runMixedScenario, MIXED_DEFAULTS, type MixedScenarioOptions } from "./load-test/mixed-scenario.js";
import {
    freePort, LOOPBACK, mib, positiveInteger, runAutocannon, spawnServer, stopServer, waitForHealth, type AutocannonRequest, type AutocannonResult,
} from "./load-test/load-test-support.js";

const SCENARIOS = ["models", "mixed"] as const;

const USAGE = `Usage: npm run load-test -- [options]

autocannon against \`qwen3-embedding serve\` on ${LOOPBACK} (a child process), in rounds; RSS after each round.

Scenarios (--scenario):
  models    (default) embeddings and rerank only; exit 1 on any 5xx, connection error, non-2xx other than 429,
            or RSS growth over 10%
  mixed     the application routes too, on a seeded embedded store: embeddings, rerank, memory adds, memory
            searches (half with rerank), /v1/search with rerank_top_k 200, and clients that hang up after 100 ms;
            per round status counts, p50/p99, server RSS, how long the scheduler queue takes to empty; a verdict
            table (exit 0 even when a verdict fails: it is a measurement)

Options:
  --scenario S          models | mixed (default models)
  --duration S          seconds per round (default 30)
  --connections N       concurrent connections (default 64; mixed: at least 6, split across the request kinds)
  --rounds K            rounds (default 3)
  --warmup S            unmeasured warm-up seconds before the rounds (default 5)
  --embedding-model M   embedding GGUF path or id (default: the tiny fixture)
  --reranker-model M    reranker GGUF path or id (default: the tiny fixture)
  --max-concurrent N    the server's --max-concurrent-requests (default: the server's, 512; mixed: ${MIXED_DEFAULTS.maxConcurrent});
                        below --connections it answers 429s
  --request-timeout MS  the server's --request-timeout (default: the server's, 60000; mixed: ${MIXED_DEFAULTS.requestTimeoutMs})
`;

/** The server's memory, from its own /metrics (process metrics of the server process, not of this one). */
async function serverMemory(url: string): Promise<{ rssBytes: number; heapUsedBytes: number }> {
    const text = await (await fetch(`${url}/metrics`)).text();
    const read = (name: string) => {
        const match = new RegExp(`^${name} (\\d+(?:\\.\\d+)?(?:e\\+\\d+)?)$`, "m").exec(text);
        if (match === null) throw new Error(`${name} missing from /metrics`);
        return Number(match[1]);
    };
    return { rssBytes: read("qwen3_process_resident_memory_bytes"), heapUsedBytes: read("qwen3_nodejs_heap_size_used_bytes") };
}

function requests(rerank: boolean): AutocannonRequest[] {
    const json = { "content-type": "application/json" };
    const list: AutocannonRequest[] = [
        {
            method: "POST", path: "/v1/embeddings", headers: json,
            body: JSON.stringify({
                input: [
                    "The capital of China is Beijing.",
                    "Gravity is a force that attracts two bodies towards each other.",
                    "北京是中华人民共和国的首都。",
                    "A load test keeps many connections busy at once.",
                ],
                encoding_format: "base64",
            }),
        },
        {
            method: "POST", path: "/v1/embeddings", headers: json,
            body: JSON.stringify({ input: "What is the capital of China?", input_type: "query", dimensions: 32, encoding_format: "float" }),
        },
    ];
    if (rerank) {
        list.push({
            method: "POST", path: "/v1/rerank", headers: json,
            body: JSON.stringify({
                query: "What is the capital of China?",
                documents: ["The capital of China is Beijing.", "Paris is the capital of France.", "Gravity pulls.", "北京是首都。"],
                top_n: 2,
            }),
        });
    }
    return list;
}

/** The mixed scenario's options, with the server's own limits unless given. */
type ModelsScenarioOptions = Omit<MixedScenarioOptions, "maxConcurrent" | "requestTimeoutMs"> & {
    maxConcurrent: number | undefined;
    requestTimeoutMs: number | undefined;
};

async function main(): Promise<number> {
    const { values } = parseArgs({
        options: {
            scenario: { type: "string" }, duration: { type: "string" }, connections: { type: "string" }, rounds: { type: "string" }, warmup: { type: "string" },
            "embedding-model": { type: "string" }, "reranker-model": { type: "string" }, "max-concurrent": { type: "string" },
            "request-timeout": { type: "string" }, help: { type: "boolean" },
        },
        strict: true,
    });
    if (values.help) {
        process.stdout.write(USAGE);
        return 0;
    }
    const scenario = values.scenario ?? "models";
    if (!(SCENARIOS as readonly string[]).includes(scenario)) {
        throw new Error(`Expected ${SCENARIOS.join(" or ")} for --scenario but received ${JSON.stringify(scenario)}`);
    }
    const duration = positiveInteger("duration", values.duration, 30);
    const connections = positiveInteger("connections", values.connections, 64);
    const rounds = positiveInteger("rounds", values.rounds, 3);
    const warmup = values.warmup === "0" ? 0 : positiveInteger("warmup", values.warmup, 5);
    const maxConcurrent = values["max-concurrent"] === undefined ? undefined : positiveInteger("max-concurrent", values["max-concurrent"], 512);
    const requestTimeoutMs = values["request-timeout"] === undefined ? undefined : positiveInteger("request-timeout", values["request-timeout"], 60_000);
    const embeddingModel = values["embedding-model"] ?? await ensureFixtureModel({ kind: "embedding", size: "tiny" });
    const rerankerModel = values["reranker-model"] ?? await ensureFixtureModel({ kind: "reranker-rank", size: "tiny" });
    if (scenario === "mixed") {
        await runMixedScenario({
            duration, connections, rounds, warmup, embeddingModel, rerankerModel,
            maxConcurrent: maxConcurrent ?? MIXED_DEFAULTS.maxConcurrent,
            requestTimeoutMs: requestTimeoutMs ?? MIXED_DEFAULTS.requestTimeoutMs,
        });
        return 0; // a measurement: the verdicts are printed, not turned into an exit code
    }
    return await runModelsScenario({ duration, connections, rounds, warmup, embeddingModel, rerankerModel, maxConcurrent, requestTimeoutMs });
}

async function runModelsScenario(options: ModelsScenarioOptions): Promise<number> {
    const { duration, connections, rounds, warmup, embeddingModel, rerankerModel, maxConcurrent, requestTimeoutMs } = options;
    const port = await freePort();
    const url = `http://${LOOPBACK}:${port}`;
    const child = spawnServer(port, [
        "--embedding-model", embeddingModel, "--reranker-model", rerankerModel,
        ...(maxConcurrent === undefined ? [] : ["--max-concurrent-requests", String(maxConcurrent)]),
        ...(requestTimeoutMs === undefined ? [] : ["--request-timeout", String(requestTimeoutMs)]),
    ], { stdout: "inherit" });
    const started = performance.now();
    // Bounded: however the server behaves, this process ends.
    const deadline = setTimeout(() => {
        process.stderr.write("load test: overall time limit reached; stopping\n");
        child.kill("SIGKILL");
        process.exit(1);
    }, (warmup + rounds * (duration + 15) + 300) * 1000);
    deadline.unref();

    try {
        await waitForHealth(url, child);
        const load = requests(true);
        process.stdout.write(`load test: ${url}, ${connections} connections, ${rounds} x ${duration} s, models ${embeddingModel} + ${rerankerModel} (ready in ${((performance.now() - started) / 1000).toFixed(1)} s)\n`);
        if (warmup > 0) await runAutocannon({ url, connections, duration: warmup, timeout: 60, requests: load });

        const results: { round: number; result: AutocannonResult; rssBytes: number; heapUsedBytes: number }[] = [];
        for (let round = 1; round <= rounds; round++) {
            const result = await runAutocannon({ url, connections, duration, timeout: 60, requests: load });
            await new Promise((resolve) => setTimeout(resolve, 1000)); // let the last responses and GC settle
            const memory = await serverMemory(url);
            results.push({ round, result, ...memory });
            const statuses = Object.entries(result.statusCodeStats).map(([status, stats]) => `${status}: ${stats.count}`).join(", ");
            process.stdout.write(
                `round ${round}: ${result.requests.total} requests (${result.requests.average.toFixed(1)}/s), ` +
                `latency p50 ${result.latency.p50} ms, p90 ${result.latency.p90} ms, p99 ${result.latency.p99} ms, max ${result.latency.max} ms; ` +
                `status ${statuses}; errors ${result.errors}, timeouts ${result.timeouts}; server RSS ${mib(memory.rssBytes)}, heap ${mib(memory.heapUsedBytes)}\n`,
            );
        }

        const failures: string[] = [];
        for (const { round, result } of results) {
            const unexpected = Object.entries(result.statusCodeStats).filter(([status]) => !status.startsWith("2") && status !== "429");
            if (result["5xx"] > 0) failures.push(`round ${round}: ${result["5xx"]} 5xx answers`);
            if (unexpected.length > 0) failures.push(`round ${round}: non-2xx answers other than 429: ${unexpected.map(([status, stats]) => `${status} x${stats.count}`).join(", ")}`);
            if (result.errors > 0 || result.timeouts > 0) failures.push(`round ${round}: ${result.errors} connection errors, ${result.timeouts} timeouts`);
        }
        const firstRss = results[0]!.rssBytes;
        const lastRss = results.at(-1)!.rssBytes;
        const growth = (lastRss - firstRss) / firstRss;
        if (growth > 0.1) failures.push(`RSS grew ${(growth * 100).toFixed(1)}% from round 1 to round ${rounds}`);

        const summary = {
            date: new Date().toISOString(),
            machine: { cpu: cpus()[0]?.model ?? "unknown", cores: cpus().length, memoryBytes: totalmem(), platform: `${platform()} ${release()}`, node: process.version },
            models: { embedding: embeddingModel, reranker: rerankerModel },
            connections,
            durationSeconds: duration,
            rounds: results.map(({ round, result, rssBytes, heapUsedBytes }) => ({
                round,
                requests: result.requests.total,
                requestsPerSecond: Number(result.requests.average.toFixed(1)),
                latencyMs: { p50: result.latency.p50, p90: result.latency.p90, p99: result.latency.p99, max: result.latency.max },
                statusCodes: Object.fromEntries(Object.entries(result.statusCodeStats).map(([status, stats]) => [status, stats.count])),
                errors: result.errors,
                timeouts: result.timeouts,
                rssBytes,
                heapUsedBytes,
            })),
            rssGrowthFirstToLast: Number(growth.toFixed(4)),
            passed: failures.length === 0,
            failures,
        };
        process.stdout.write(`${JSON.stringify(summary)}\n`);
        process.stdout.write(failures.length === 0 ? "load test passed\n" : `load test FAILED:\n- ${failures.join("\n- ")}\n`);
        return failures.length === 0 ? 0 : 1;
    } finally {
        await stopServer(child);
        clearTimeout(deadline);
    }
}

main().then(
    (code) => (process.exitCode = code),
    (error: unknown) => {
        process.stderr.write(`load test: ${(error as Error).message}\n`);
        process.exitCode = 1;
    },
);
