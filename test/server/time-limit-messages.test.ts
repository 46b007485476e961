import { describe, expect, it } from "vitest";
import { DeadlineExceededError, QueueFullError } from "../../src/internal/errors.js";
import { toHttpError } from "../../src/server/error-responses.js";

const CONTEXT = { retryAfterSeconds: 2, maxBodyBytes: 1024 };
const RAISE = "raise it with --request-timeout <ms> (environment QWEN3_EMBEDDING_REQUEST_TIMEOUT, server option requestTimeoutMs)";

describe("time-limit errors over HTTP name the flag, environment variable and option that raise the limit", () => {
    it("a library deadline is a 503 timeout saying how to raise --request-timeout", () => {
        const { http } = toHttpError(new DeadlineExceededError("The call did not finish within its timeoutMs of 59990 ms"), CONTEXT);
        expect(http.status).toBe(503);
        expect(http.toBody().error).toEqual({
            message: `The request did not finish within the server's time limit; ${RAISE}`, type: "service_unavailable", code: "timeout", param: null,
        });
    });

    it("a call the scheduler expects to miss its deadline: 429 naming the flag; a full queue does not", () => {
        // The scheduler's message, as test/scheduler/batch-scheduler.test.ts pins it.
        const late = "This call of 8192 tokens would finish in about 90000 ms (0 tokens ahead of it at 91 tokens/s), too close to its timeoutMs " +
            "of 59990 ms (at most 75% of it is planned for); retry in about 90 s";
        const { http } = toHttpError(new QueueFullError(late), CONTEXT);
        expect(http.status).toBe(429);
        expect(http.code).toBe("queue_full");
        expect(http.message).toBe(`${late}; its timeoutMs is what is left of the server's time limit: ${RAISE}`);
        const full = "The queue is full (10 calls, 0 tokens waiting; limits 10 calls, 1000 tokens); retry in about 1 s";
        expect(toHttpError(new QueueFullError(full), CONTEXT).http.message).toBe(full);
    });
});
