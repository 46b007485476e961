import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import { ADMITTED_KINDS, type AdmittedKind } from "./model-call-gate.js";
import type { ServedKind } from "./model-names.js";
import type { SchedulerBatchEvent, SchedulerQueueStats } from "./server-options.js";

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const INPUT_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048];
const TOKEN_BUCKETS = [16, 64, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536];

/** A source of scheduler queue depth for one model. */
export interface QueueSource {
    /** "embedding", "reranker", or "all" for a scheduler shared by both. */
    model: string;
    stats: () => SchedulerQueueStats;
}

/**
 * The server's Prometheus metrics, in a registry of its own (never prom-client's global one), so several servers can
 * run in one process. Process metrics (RSS, heap, event-loop lag) are included with the `qwen3_` prefix.
 */
export class ServerMetrics {
    readonly registry = new Registry();
    readonly #queueSources: QueueSource[] = [];
    readonly #requests: Counter<"method" | "route" | "status">;
    readonly #errors: Counter<"route" | "status" | "code">;
    readonly #duration: Histogram<"method" | "route">;
    readonly #tokens: Counter<"model">;
    readonly #inputs: Counter<"model">;
    readonly #requestInputs: Histogram<"model">;
    readonly #batchSequences: Histogram<"model">;
    readonly #batchTokens: Histogram<"model">;
    readonly #batchDuration: Histogram<"model">;

    constructor(modelCallsInFlight: (model: AdmittedKind) => number) {
        const registers = [this.registry];
        collectDefaultMetrics({ register: this.registry, prefix: "qwen3_" });
        this.#requests = new Counter({
            name: "qwen3_http_requests_total", help: "HTTP requests answered, by method, route and status", labelNames: ["method", "route", "status"], registers,
        });
        this.#errors = new Counter({
            name: "qwen3_http_errors_total", help: "Error responses, by route, status and error code", labelNames: ["route", "status", "code"], registers,
        });
        this.#duration = new Histogram({
            name: "qwen3_http_request_duration_seconds", help: "Time from receiving a request to sending its response", labelNames: ["method", "route"],
            buckets: LATENCY_BUCKETS, registers,
        });
        this.#tokens = new Counter({
            name: "qwen3_tokens_processed_total", help: "Tokens the models evaluated for answered requests (instructions, templates and <|endoftext|> included)",
            labelNames: ["model"], registers,
        });
        this.#inputs = new Counter({
            name: "qwen3_inputs_processed_total", help: "Embedding inputs and rerank documents evaluated for answered requests", labelNames: ["model"], registers,
        });
        this.#requestInputs = new Histogram({
            name: "qwen3_request_inputs", help: "Inputs (or documents) per request: the batch size clients send", labelNames: ["model"],
            buckets: INPUT_BUCKETS, registers,
        });
        this.#batchSequences = new Histogram({
            name: "qwen3_batch_sequences", help: "Sequences per batch the scheduler evaluated (reported by a scheduler's onBatch)", labelNames: ["model"],
            buckets: INPUT_BUCKETS, registers,
        });
        this.#batchTokens = new Histogram({
            name: "qwen3_batch_tokens", help: "Tokens per batch the scheduler evaluated (reported by a scheduler's onBatch)", labelNames: ["model"],
            buckets: TOKEN_BUCKETS, registers,
        });
        this.#batchDuration = new Histogram({
            name: "qwen3_batch_duration_seconds", help: "Time per batch the scheduler evaluated (reported by a scheduler's onBatch)", labelNames: ["model"],
            buckets: LATENCY_BUCKETS, registers,
        });
        new Gauge({
            name: "qwen3_model_calls_in_flight", help: "Requests admitted to a model and not yet answered (waiting for it or running): the server's queue depth",
            labelNames: ["model"], registers,
            collect() {
                for (const model of ADMITTED_KINDS) this.set({ model }, modelCallsInFlight(model));
            },
        });
        const sources = this.#queueSources;
        const queueGauge = (name: string, help: string, read: (stats: SchedulerQueueStats) => number) =>
            new Gauge({
                name, help, labelNames: ["model"], registers,
                collect() {
                    this.reset();
                    for (const source of sources) {
                        const value = readStats(source, read);
                        if (value !== undefined) this.set({ model: source.model }, value);
                    }
                },
            });
        queueGauge("qwen3_scheduler_queued_calls", "Calls waiting in the scheduler's queue (from a schedulerStats hook)", (stats) => stats.queuedCalls);
        queueGauge("qwen3_scheduler_queued_tokens", "Tokens waiting in the scheduler's queue (from a schedulerStats hook)", (stats) => stats.queuedTokens);
    }

    addQueueSource(source: QueueSource): void {
        this.#queueSources.push(source);
    }

    request(method: string, route: string, status: number, seconds: number): void {
        this.#requests.inc({ method, route, status: String(status) });
        this.#duration.observe({ method, route }, seconds);
    }

    error(route: string, status: number, code: string): void {
        this.#errors.inc({ route, status: String(status), code });
    }

    processed(model: ServedKind, inputs: number, tokens: number): void {
        this.#inputs.inc({ model }, inputs);
        this.#tokens.inc({ model }, tokens);
        this.#requestInputs.observe({ model }, inputs);
    }

    batch(model: ServedKind, batch: SchedulerBatchEvent): void {
        if (Number.isFinite(batch?.sequences)) this.#batchSequences.observe({ model }, batch.sequences);
        if (Number.isFinite(batch?.tokens)) this.#batchTokens.observe({ model }, batch.tokens);
        if (Number.isFinite(batch?.durationMs)) this.#batchDuration.observe({ model }, batch.durationMs! / 1000);
    }
}

/** A hook that throws or returns nonsense must not break the scrape: it is left out. */
function readStats(source: QueueSource, read: (stats: SchedulerQueueStats) => number): number | undefined {
    try {
        const value = read(source.stats());
        return Number.isFinite(value) ? value : undefined;
    } catch {
        return undefined;
    }
}
