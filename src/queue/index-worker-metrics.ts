/**
 * Prometheus metrics of an index worker (jobs, documents, tokens, failures) and of its queue (depth by state), in a
 * registry of its own, read on each scrape.
 */
import { Gauge, Registry } from "prom-client";
import type { IndexWorker } from "./index-worker.js";

export interface IndexWorkerMetrics {
    readonly contentType: string;
    /** The metrics text, with the queue's depth read from Redis now. */
    render(): Promise<string>;
}

export function indexWorkerMetrics(worker: IndexWorker): IndexWorkerMetrics {
    const registry = new Registry();
    const registers = [registry];
    const stat = (name: string, help: string, read: (stats: ReturnType<IndexWorker["stats"]>) => number) =>
        new Gauge({ name, help, registers, collect() { this.set(read(worker.stats())); } });
    stat("qwen3_queue_worker_jobs_completed_total", "Jobs this worker completed", (stats) => stats.jobsCompleted);
    stat("qwen3_queue_worker_jobs_failed_total", "Jobs that failed for good (last try) in this worker", (stats) => stats.jobsFailed);
    stat("qwen3_queue_worker_jobs_active", "Jobs this worker holds now", (stats) => stats.active);
    stat("qwen3_queue_worker_documents_written_total", "Documents this worker wrote (new or changed)", (stats) => stats.documentsWritten);
    stat("qwen3_queue_worker_documents_unchanged_total", "Documents already stored unchanged (a retried job's, or indexed before)", (stats) => stats.documentsUnchanged);
    stat("qwen3_queue_worker_tokens_completed_total", "Tokens of the jobs this worker completed", (stats) => stats.tokensCompleted);
    const depth = new Gauge({ name: "qwen3_queue_jobs", help: "Jobs in the queue by state (all workers)", labelNames: ["state"], registers });
    return {
        contentType: registry.contentType,
        async render() {
            const counts = await worker.queueCounts();
            for (const [state, count] of Object.entries(counts)) depth.set({ state }, count);
            return registry.metrics();
        },
    };
}
