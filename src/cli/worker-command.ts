import { createServer } from "node:http";
import { createEmbedder } from "../facade/embedder.js";
import { indexWorkerMetrics, type IndexWorkerMetrics } from "../queue/index-worker-metrics.js";
import { resolveModelPath } from "../models/model-location.js";
import { openStore } from "../store/open-store.js";
import { startIndexWorker } from "../queue/index-worker.js";
import { checkQueueName, checkRedisUrl } from "../queue/queue-connection.js";
import { asUsageError, asUsageErrorAsync, requireString, type Command } from "./command.js";
import { databaseOption, positiveInteger } from "./index-command.js";

export const workerCommand: Command = {
    summary: "Take index jobs from a Redis queue (filled by `index --queue`) and write them to the database",
    usage: [
        "qwen3-embedding worker --queue <redis-url> --embedding-model <path|id> --database <postgres-url|dir> [--queue-name <name>]",
        "                       [--dimensions N] [--token-budget N] [--job-tokens N] [--stall-interval-ms N] [--max-jobs-per-second N]",
        "                       [--name <worker>] [--metrics-port N] [--metrics-host <host>]",
        "Holds one embedder and takes as many jobs at once as fill --token-budget (default 2048) at --job-tokens per job",
        "(default 1024, the producer's). Each job is written in one transaction; documents already stored unchanged are",
        "skipped, so a retried job writes nothing. A job whose worker stops (killed, frozen) goes back to the queue after",
        "--stall-interval-ms (default 30000). Many machines share one PostgreSQL: --database postgres://...; --max-jobs-per-second",
        "caps the jobs started by all the queue's workers together (BullMQ's rate limiter; give every worker the same value).",
        "Prints one JSON line per job started, completed or failed, and per Redis error, on stderr. --metrics-port N serves Prometheus metrics",
        "(jobs, documents, tokens, failures, the queue's depth by state) at http://<--metrics-host, default 127.0.0.1>:N/metrics.",
        "SIGTERM or SIGINT: take no more jobs, finish those held, exit; a second signal exits at once (held jobs are retried",
        "elsewhere after the stall interval).",
    ].join("\n"),
    options: {
        queue: { type: "string" }, "queue-name": { type: "string" }, "embedding-model": { type: "string" }, database: { type: "string" },
        dimensions: { type: "string" }, "token-budget": { type: "string" }, "job-tokens": { type: "string" },
        "stall-interval-ms": { type: "string" }, "max-jobs-per-second": { type: "string" }, name: { type: "string" }, "metrics-port": { type: "string" }, "metrics-host": { type: "string" },
    },
    async run(values) {
        const queue = requireString(values, "queue");
        const model = requireString(values, "embedding-model");
        const database = databaseOption(values);
        const dimensions = positiveInteger(values, "dimensions");
        const tokenBudget = positiveInteger(values, "token-budget");
        const jobTokens = positiveInteger(values, "job-tokens");
        const stallIntervalMs = positiveInteger(values, "stall-interval-ms");
        const maxJobsPerSecond = positiveInteger(values, "max-jobs-per-second");
        const metricsPort = positiveInteger(values, "metrics-port");
        const metricsHost = (values["metrics-host"] as string | undefined) ?? "127.0.0.1";
        const settings = {
            queue,
            ...(values["queue-name"] === undefined ? {} : { queueName: values["queue-name"] as string }),
            ...(dimensions === undefined ? {} : { dimensions }),
            ...(tokenBudget === undefined ? {} : { tokenBudget }),
            ...(jobTokens === undefined ? {} : { jobTokens }),
            ...(stallIntervalMs === undefined ? {} : { stallIntervalMs }),
            ...(maxJobsPerSecond === undefined ? {} : { maxJobsPerSecond }),
            ...(values["name"] === undefined ? {} : { name: values["name"] as string }),
        };
        // Checked before the model and the database load.
        asUsageError(() => {
            checkRedisUrl("--queue", queue);
            checkQueueName("--queue-name", values["queue-name"]);
        });
        const store = await openStore({ database });
        try {
            const embedder = await createEmbedder({ model: await resolveModelPath(model) });
            try {
                const worker = await asUsageErrorAsync(() => startIndexWorker({
                    ...settings,
                    embedder,
                    store,
                    onEvent: (event) => process.stderr.write(JSON.stringify(event) + "\n"),
                }));
                const metrics = metricsPort === undefined ? undefined : await serveMetrics(indexWorkerMetrics(worker), metricsHost, metricsPort);
                process.stderr.write(JSON.stringify({
                    event: "ready", queue: worker.queueName, concurrency: worker.concurrency, pid: process.pid,
                    ...(metrics === undefined ? {} : { metrics: `http://${metricsHost}:${metrics.port}/metrics` }),
                }) + "\n");
                await new Promise<void>((resolve) => {
                    let stopping = false;
                    const onSignal = () => {
                        if (stopping) process.exit(1);
                        stopping = true;
                        void worker.close().then(resolve, resolve);
                    };
                    process.on("SIGTERM", onSignal);
                    process.on("SIGINT", onSignal);
                });
                await metrics?.close();
                process.stderr.write(JSON.stringify({ event: "stopped", ...worker.stats() }) + "\n");
            } finally {
                await embedder.dispose();
            }
        } finally {
            await store.close();
        }
    },
};

/** GET /metrics on host:port; anything else is a 404. */
async function serveMetrics(metrics: IndexWorkerMetrics, host: string, port: number): Promise<{ port: number; close(): Promise<void> }> {
    const server = createServer((request, response) => {
        if (request.method !== "GET" || request.url !== "/metrics") {
            response.writeHead(404).end();
            return;
        }
        metrics.render().then(
            (text) => response.writeHead(200, { "content-type": metrics.contentType }).end(text),
            (error: unknown) => response.writeHead(503, { "content-type": "text/plain" }).end(`metrics unavailable: ${(error as Error).message}\n`),
        );
    });
    await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, host, () => resolve());
    });
    return { port: (server.address() as { port: number }).port, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
