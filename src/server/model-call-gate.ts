import type { FastifyReply } from "fastify";
import { HttpError, tooManyRequests } from "./error-responses.js";
import type { ServedKind } from "./model-names.js";

/**
 * Admission to the models: at most `maxConcurrent` requests wait on or use them at once (the next one gets 429 with
 * Retry-After, straight away, instead of queueing without bound), and each admitted request runs under an AbortSignal
 * that fires when its time limit passes (answered 503) or when the client goes away (nothing left to answer).
 */
export class ModelCallGate {
    readonly #maxConcurrent: number;
    readonly #timeoutMs: number;
    readonly #retryAfterSeconds: number;
    readonly #inFlight: Record<ServedKind, number> = { embedding: 0, reranker: 0 };

    constructor(options: { maxConcurrent: number; timeoutMs: number; retryAfterSeconds: number }) {
        this.#maxConcurrent = options.maxConcurrent;
        this.#timeoutMs = options.timeoutMs;
        this.#retryAfterSeconds = options.retryAfterSeconds;
    }

    inFlight(model?: ServedKind): number {
        return model === undefined ? this.#inFlight.embedding + this.#inFlight.reranker : this.#inFlight[model];
    }

    async run<T>(model: ServedKind, reply: FastifyReply, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
        if (this.inFlight() >= this.#maxConcurrent) {
            throw tooManyRequests(
                `The server is busy: ${this.#maxConcurrent} requests are already in progress (--max-concurrent-requests); retry later`,
                "server_busy",
                this.#retryAfterSeconds,
            );
        }
        const controller = new AbortController();
        let timedOut = false;
        const timer = setTimeout(() => {
            timedOut = true;
            controller.abort();
        }, this.#timeoutMs);
        const onClose = () => {
            if (!reply.raw.writableFinished) controller.abort();
        };
        reply.raw.once("close", onClose);
        this.#inFlight[model]++;
        try {
            return await work(controller.signal);
        } catch (error) {
            if (timedOut) {
                throw new HttpError(503, `The request did not finish within the server's time limit of ${this.#timeoutMs} ms (--request-timeout)`, {
                    code: "timeout",
                    headers: { "retry-after": String(this.#retryAfterSeconds) },
                });
            }
            throw error;
        } finally {
            this.#inFlight[model]--;
            clearTimeout(timer);
            reply.raw.off("close", onClose);
        }
    }
}
