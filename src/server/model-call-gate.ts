import type { FastifyReply } from "fastify";
import { HttpError, requestTimeoutMessage, tooManyRequests } from "./error-responses.js";
import type { ServedKind } from "./model-names.js";

/** An admitted request's work: its signal, and the milliseconds left before its time limit. */
export interface AdmittedCall {
    signal: AbortSignal;
    remainingMs(): number;
}

/** What a request is admitted to: one model, or the application routes (which embed, rerank and query the store). */
export type AdmittedKind = ServedKind | "application";
export const ADMITTED_KINDS: readonly AdmittedKind[] = ["embedding", "reranker", "application"];

/**
 * Admission to the models: at most `maxConcurrent` requests wait on or use them at once (the next one gets 429 with
 * Retry-After, straight away, instead of queueing without bound), and each admitted request runs under an AbortSignal
 * that fires when its time limit passes (answered 503) or when the client goes away (nothing left to answer).
 */
export class ModelCallGate {
    readonly #maxConcurrent: number;
    readonly #timeoutMs: number;
    readonly #retryAfterSeconds: number;
    readonly #inFlight: Record<AdmittedKind, number> = { embedding: 0, reranker: 0, application: 0 };

    constructor(options: { maxConcurrent: number; timeoutMs: number; retryAfterSeconds: number }) {
        this.#maxConcurrent = options.maxConcurrent;
        this.#timeoutMs = options.timeoutMs;
        this.#retryAfterSeconds = options.retryAfterSeconds;
    }

    inFlight(model?: AdmittedKind): number {
        return model === undefined ? this.#inFlight.embedding + this.#inFlight.reranker + this.#inFlight.application : this.#inFlight[model];
    }

    async run<T>(model: AdmittedKind, reply: FastifyReply, work: (admitted: AdmittedCall) => Promise<T>): Promise<T> {
        if (this.inFlight() >= this.#maxConcurrent) {
            throw tooManyRequests(
                `The server is busy: ${this.#maxConcurrent} requests are already in progress (--max-concurrent-requests); retry later`,
                "server_busy",
                this.#retryAfterSeconds,
            );
        }
        const controller = new AbortController();
        let timer: NodeJS.Timeout | undefined;
        const timedOut = new Promise<never>((_resolve, reject) => {
            timer = setTimeout(() => {
                // Settled before the abort, so that the race answers this and not the work's AbortedError.
                reject(new HttpError(503, requestTimeoutMessage(this.#timeoutMs), {
                    code: "timeout",
                    headers: { "retry-after": String(this.#retryAfterSeconds) },
                }));
                controller.abort();
            }, this.#timeoutMs);
        });
        const onClose = () => {
            if (!reply.raw.writableFinished) controller.abort();
        };
        reply.raw.once("close", onClose);
        // The slot is held until the work has really stopped, even when the answer (a timeout) went out before.
        this.#inFlight[model]++;
        const deadline = performance.now() + this.#timeoutMs;
        // Model calls get what is left as their timeoutMs, so that the scheduler refuses (429) work it cannot finish in time.
        const working = work({ signal: controller.signal, remainingMs: () => Math.max(1, Math.floor(deadline - performance.now())) });
        const release = () => {
            this.#inFlight[model]--;
            reply.raw.off("close", onClose);
        };
        working.then(release, release);
        try {
            // At the time limit the answer goes out whether or not the work noticed its signal (a store query cannot).
            return await Promise.race([working, timedOut]);
        } finally {
            clearTimeout(timer);
        }
    }
}
