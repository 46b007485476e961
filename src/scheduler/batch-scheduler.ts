import { AbortedError, DeadlineExceededError, DisposedError, InvalidOptionError, QueueFullError } from "../internal/errors.js";
import { INTERACTIVE_BATCHES_PER_SLOT, type BatchRunner, type JobKind } from "../runtime/batch-runner.js";

/** "interactive" calls (queries, reranking) are batched ahead of "bulk" ones (documents being indexed). */
export type Priority = "interactive" | "bulk";
export const PRIORITIES: readonly Priority[] = ["interactive", "bulk"];

/**
 * The share of a call's timeoutMs that its expected time may take and still be accepted: the rest absorbs what the
 * estimate misses (a rate measured over the last batches, on cores other work shares; tokenizing; the event loop).
 */
const DEADLINE_HEADROOM = 0.75;

export interface SchedulerLimits {
    /** Tokens per dispatched batch; a single longer sequence goes alone. */
    batchTokens: number;
    /** Sequences per dispatched batch. */
    batchSequences: number;
    /** Room a sequence of `tokens` takes in a batch, alignment padding included (default: `tokens`). */
    batchedLength?: (tokens: number) => number;
    /** Tokens waiting (not yet dispatched) across all calls; a call that would exceed it is refused with QueueFullError. */
    maxQueuedTokens: number;
    /** Calls waiting; one more is refused with QueueFullError. */
    maxQueuedCalls: number;
}

export interface ScheduledCall {
    kind: JobKind;
    sequences: readonly Int32Array[];
    priority: Priority;
    signal?: AbortSignal | undefined;
    /** Milliseconds from submission until the call fails with DeadlineExceededError. */
    timeoutMs?: number | undefined;
}

export interface SchedulerStats {
    queuedCalls: number;
    queuedSequences: number;
    queuedTokens: number;
    runningBatches: number;
    completedBatches: number;
    /** Tokens per second over recent batches (0 before the first). */
    tokensPerSecond: number;
}

export interface BatchEvent {
    kind: JobKind;
    sequences: number;
    tokens: number;
    calls: number;
    durationMs: number;
    error?: Error;
}

interface PendingCall {
    readonly kind: JobKind;
    readonly sequences: readonly Int32Array[];
    readonly priority: Priority;
    readonly result: Float32Array;
    readonly width: number;
    /** Next sequence not yet dispatched. */
    next: number;
    /** Tokens of the sequences not yet dispatched. */
    waiting: number;
    /** performance.now() by which the call must finish, when it has a timeoutMs. */
    readonly deadline: number | undefined;
    readonly timeoutMs: number;
    /** Sequences whose rows have not arrived. */
    remaining: number;
    settled: boolean;
    resolve(rows: Float32Array): void;
    reject(error: Error): void;
    cleanup(): void;
}

interface FormedBatch {
    readonly kind: JobKind;
    /** Of the batch's first call: "interactive" when it holds any interactive call. */
    readonly priority: Priority;
    readonly items: { call: PendingCall; index: number }[];
}

interface RunningBatch {
    readonly priority: Priority;
    readonly calls: Set<PendingCall>;
    readonly controller: AbortController;
    readonly tokens: number;
}

/**
 * Coalesces concurrent calls into token-budget batches for a BatchRunner. Batches are formed when the runner has a
 * free slot: interactive calls first, then bulk (in batches apart, for a runner that interleaves them), taking
 * sequences round-robin across the waiting calls of a priority so one huge call cannot starve small ones; inside a
 * batch, sequences are ordered by length so packed sequences share decodes with their peers. Rows come back to each
 * caller in its own order.
 */
export class BatchScheduler {
    readonly #runner: BatchRunner;
    readonly #limits: SchedulerLimits;
    readonly #width: Record<JobKind, number>;
    readonly #queues: Record<Priority, PendingCall[]> = { interactive: [], bulk: [] };
    readonly #running = new Set<RunningBatch>();
    readonly #listeners = new Set<(event: BatchEvent) => void>();
    #queuedTokens = 0;
    #queuedSequences = 0;
    #completedBatches = 0;
    #recent = { tokens: 0, ms: 0 };
    #runningTokens = 0;
    /** Like #recent, over batches at least half of batchTokens: what a deadline is planned with (see #deadlineConflict). */
    #fullBatches = { tokens: 0, ms: 0 };
    #closed: string | undefined;
    #dispatchScheduled = false;

    constructor(runner: BatchRunner, limits: SchedulerLimits, width: Record<JobKind, number>) {
        this.#runner = runner;
        this.#limits = limits;
        this.#width = width;
    }

    /** Queues a call; resolves with `width` floats per sequence, in the call's order. */
    submit(call: ScheduledCall): Promise<Float32Array> {
        if (this.#closed !== undefined) return Promise.reject(new DisposedError(this.#closed));
        if (call.signal?.aborted) return Promise.reject(new AbortedError());
        const width = this.#width[call.kind];
        if (call.sequences.length === 0) return Promise.resolve(new Float32Array(0));
        const tokens = call.sequences.reduce((sum, sequence) => sum + sequence.length, 0);
        if (tokens > this.#limits.maxQueuedTokens) {
            return Promise.reject(new InvalidOptionError(
                `This call has ${tokens} tokens, more than the queue holds (maxQueuedTokens ${this.#limits.maxQueuedTokens}); split it into smaller calls or raise maxQueuedTokens`,
            ));
        }
        const waitingCalls = this.#queues.interactive.length + this.#queues.bulk.length;
        if (waitingCalls >= this.#limits.maxQueuedCalls || this.#queuedTokens + tokens > this.#limits.maxQueuedTokens) {
            return Promise.reject(new QueueFullError(
                `The queue is full (${waitingCalls} calls, ${this.#queuedTokens} tokens waiting; limits ${this.#limits.maxQueuedCalls} calls, ${this.#limits.maxQueuedTokens} tokens); retry in about ${this.retryAfterSeconds()} s`,
            ));
        }
        const late = this.#deadlineConflict(call.priority, tokens, call.timeoutMs);
        if (late !== undefined) return Promise.reject(new QueueFullError(`${late}; retry in about ${this.retryAfterSeconds()} s`));
        return new Promise<Float32Array>((resolve, reject) => {
            const pending: PendingCall = {
                kind: call.kind,
                sequences: call.sequences,
                priority: call.priority,
                result: new Float32Array(call.sequences.length * width),
                width,
                next: 0,
                waiting: tokens,
                deadline: call.timeoutMs === undefined ? undefined : performance.now() + call.timeoutMs,
                timeoutMs: call.timeoutMs ?? Infinity,
                remaining: call.sequences.length,
                settled: false,
                resolve,
                reject,
                cleanup: () => undefined,
            };
            const onAbort = () => this.#fail(pending, new AbortedError());
            call.signal?.addEventListener("abort", onAbort, { once: true });
            const timer = call.timeoutMs === undefined
                ? undefined
                : setTimeout(() => this.#fail(pending, new DeadlineExceededError(`The call did not finish within its timeoutMs of ${call.timeoutMs} ms`)), call.timeoutMs);
            pending.cleanup = () => {
                call.signal?.removeEventListener("abort", onAbort);
                if (timer !== undefined) clearTimeout(timer);
            };
            this.#queues[call.priority].push(pending);
            this.#queuedTokens += tokens;
            this.#queuedSequences += call.sequences.length;
            this.#scheduleDispatch();
        });
    }

    stats(): SchedulerStats {
        return {
            queuedCalls: this.#queues.interactive.length + this.#queues.bulk.length,
            queuedSequences: this.#queuedSequences,
            queuedTokens: this.#queuedTokens,
            runningBatches: this.#running.size,
            completedBatches: this.#completedBatches,
            tokensPerSecond: this.#recent.ms > 0 ? (this.#recent.tokens / this.#recent.ms) * 1000 : 0,
        };
    }

    /**
     * Why a new call of `tokens` should be refused for time, or undefined. Calls are served round-robin within a
     * priority (interactive first), so a call of T tokens waits for min(T, R) tokens of each call of its priority
     * that has R left, for every interactive call when it is bulk, and for the batches running; and it delays each
     * waiting call by the same min(T, R) (or T, for a bulk call behind a new interactive one). It is refused when it
     * would itself finish after its timeoutMs, or would make a waiting call that could still meet its deadline miss
     * it: work is turned away at once instead of failing at a deadline, its own or an earlier caller's. An estimate at
     * the rate of the recent batches that were at least half full (every runner slot busy), held to
     * {@link DEADLINE_HEADROOM} of each time limit; nothing is refused before such a batch measured a rate.
     */
    #deadlineConflict(priority: Priority, tokens: number, timeoutMs: number | undefined): string | undefined {
        // Small batches are mostly fixed cost per decode: their rate would make any large call look hopeless.
        if (this.#fullBatches.ms <= 0) return undefined;
        const rate = (this.#fullBatches.tokens / this.#fullBatches.ms) * this.#runner.concurrency; // tokens per ms
        const withDeadline = (queue: readonly PendingCall[]) => queue.some((call) => call.deadline !== undefined);
        if (timeoutMs === undefined && !withDeadline(this.#queues.interactive) && !withDeadline(this.#queues.bulk)) return undefined;
        const interactive = this.#queues.interactive.reduce((sum, call) => sum + call.waiting, 0);
        const shares = { interactive: new RoundRobinShares(this.#queues.interactive), bulk: new RoundRobinShares(this.#queues.bulk) };
        const waitFor = (own: number, callPriority: Priority) => this.#runningTokens + (callPriority === "bulk" ? interactive : 0) + shares[callPriority].tokensBefore(own);
        if (timeoutMs !== undefined) {
            const ahead = waitFor(tokens, priority);
            const expectedMs = (ahead + tokens) / rate;
            if (expectedMs > timeoutMs * DEADLINE_HEADROOM) {
                return `This call of ${tokens} tokens would finish in about ${Math.ceil(expectedMs)} ms (${ahead} tokens ahead of it at ` +
                    `${Math.round(rate * 1000)} tokens/s), too close to its timeoutMs of ${timeoutMs} ms (at most ${DEADLINE_HEADROOM * 100}% of it is planned for)`;
            }
        }
        const now = performance.now();
        const delayed = priority === "interactive" ? PRIORITIES : (["bulk"] as const);
        for (const queue of delayed) {
            for (const call of this.#queues[queue]) {
                if (call.deadline === undefined) continue;
                const finish = now + waitFor(call.waiting, queue) / rate;
                const delay = (queue === priority ? Math.min(tokens, call.waiting) : tokens) / rate;
                const due = call.deadline - (1 - DEADLINE_HEADROOM) * call.timeoutMs;
                if (finish <= due && finish + delay > due) {
                    return `This call of ${tokens} tokens would make an earlier call miss its deadline (about ${Math.ceil(delay)} ms more of work ahead of it at ${Math.round(rate * 1000)} tokens/s)`;
                }
            }
        }
        return undefined;
    }

    /** A hint for clients refused with QueueFullError: the time the queued tokens take at the recent rate. */
    retryAfterSeconds(): number {
        const rate = this.stats().tokensPerSecond;
        return rate > 0 ? Math.max(1, Math.ceil(this.#queuedTokens / rate)) : 1;
    }

    /** Called after every batch (metrics); returns a function that unsubscribes. */
    onBatch(listener: (event: BatchEvent) => void): () => void {
        this.#listeners.add(listener);
        return () => this.#listeners.delete(listener);
    }

    /** Fails every waiting and running call with DisposedError(message) and stops running batches. */
    close(message: string): void {
        if (this.#closed !== undefined) return;
        this.#closed = message;
        for (const priority of PRIORITIES) {
            for (const call of [...this.#queues[priority]]) this.#fail(call, new DisposedError(message));
        }
        for (const batch of this.#running) {
            for (const call of batch.calls) this.#fail(call, new DisposedError(message));
        }
    }

    #scheduleDispatch(): void {
        // Calls submitted in the same tick go into one batch.
        if (this.#dispatchScheduled) return;
        this.#dispatchScheduled = true;
        queueMicrotask(() => {
            this.#dispatchScheduled = false;
            this.#dispatch();
        });
    }

    #dispatch(): void {
        while (this.#closed === undefined) {
            const picked = this.#runner.interleavesInteractive
                ? this.#formApart()
                : this.#running.size < this.#runner.concurrency ? this.#formBatch(PRIORITIES) : undefined;
            if (picked === undefined) return;
            this.#start(picked.kind, picked.priority, picked.items);
        }
    }

    /**
     * For a runner that interleaves: interactive and bulk batches apart. A query never shares a batch (and so waits)
     * with a bulk sequence; up to `concurrency` bulk batches run, so the runner always holds bulk work to decode
     * between interactive ones; and INTERACTIVE_BATCHES_PER_SLOT times as many interactive batches.
     */
    #formApart(): FormedBatch | undefined {
        const running: Record<Priority, number> = { interactive: 0, bulk: 0 };
        for (const batch of this.#running) running[batch.priority]++;
        const limits: Record<Priority, number> = { interactive: INTERACTIVE_BATCHES_PER_SLOT * this.#runner.concurrency, bulk: this.#runner.concurrency };
        for (const priority of PRIORITIES) {
            if (running[priority] >= limits[priority]) continue;
            const batch = this.#formBatch([priority]);
            if (batch !== undefined) return batch;
        }
        return undefined;
    }

    #formBatch(priorities: readonly Priority[]): FormedBatch | undefined {
        const first = priorities.map((priority) => this.#queues[priority][0]).find((call) => call !== undefined);
        if (first === undefined) return undefined;
        const kind = first.kind;
        const items: { call: PendingCall; index: number }[] = [];
        const batchedLength = this.#limits.batchedLength ?? ((length: number) => length);
        let tokens = 0;
        for (const priority of priorities) {
            const open = this.#queues[priority].filter((call) => call.kind === kind);
            // Round-robin: one sequence from each waiting call in turn, until the batch is full.
            while (open.length > 0) {
                for (let i = 0; i < open.length; i++) {
                    const call = open[i]!;
                    const sequence = call.sequences[call.next]!;
                    const room = batchedLength(sequence.length);
                    const full = items.length >= this.#limits.batchSequences || (items.length > 0 && tokens + room > this.#limits.batchTokens);
                    if (full) {
                        open.splice(i--, 1);
                        continue;
                    }
                    items.push({ call, index: call.next });
                    tokens += room;
                    call.next++;
                    call.waiting -= sequence.length;
                    this.#queuedTokens -= sequence.length;
                    this.#queuedSequences--;
                    if (call.next === call.sequences.length) {
                        this.#dequeue(call);
                        open.splice(i--, 1);
                    }
                }
            }
            if (items.length >= this.#limits.batchSequences || tokens >= this.#limits.batchTokens) break;
        }
        return { kind, priority: first.priority, items };
    }

    #start(kind: JobKind, priority: Priority, items: { call: PendingCall; index: number }[]): void {
        // Longest first: the engine packs neighbours into one decode, so peers of similar length share it.
        items.sort((a, b) => b.call.sequences[b.index]!.length - a.call.sequences[a.index]!.length);
        const sequences = items.map((item) => item.call.sequences[item.index]!);
        const tokens = sequences.reduce((sum, sequence) => sum + sequence.length, 0);
        const batch: RunningBatch = { priority, calls: new Set(items.map((item) => item.call)), controller: new AbortController(), tokens };
        this.#running.add(batch);
        this.#runningTokens += tokens;
        const started = performance.now();
        this.#runner.runBatch(kind, sequences, batch.controller.signal, priority).then(
            (rows) => {
                const width = this.#width[kind];
                items.forEach((item, row) => {
                    const call = item.call;
                    if (call.settled) return;
                    call.result.set(rows.subarray(row * width, (row + 1) * width), item.index * width);
                    if (--call.remaining === 0) {
                        call.settled = true;
                        call.cleanup();
                        call.resolve(call.result);
                    }
                });
                this.#finish(batch, { kind, sequences: sequences.length, tokens, calls: batch.calls.size, durationMs: performance.now() - started });
            },
            (error: Error) => {
                for (const call of batch.calls) this.#fail(call, error);
                this.#finish(batch, { kind, sequences: sequences.length, tokens, calls: batch.calls.size, durationMs: performance.now() - started, error });
            },
        );
    }

    #finish(batch: RunningBatch, event: BatchEvent): void {
        this.#running.delete(batch);
        this.#runningTokens -= batch.tokens;
        this.#completedBatches++;
        if (event.error === undefined) {
            // An exponential window over the last few batches.
            this.#recent = { tokens: this.#recent.tokens * 0.5 + event.tokens, ms: this.#recent.ms * 0.5 + event.durationMs };
            if (event.tokens * 2 >= this.#limits.batchTokens) {
                this.#fullBatches = { tokens: this.#fullBatches.tokens * 0.5 + event.tokens, ms: this.#fullBatches.ms * 0.5 + event.durationMs };
            }
        }
        for (const listener of this.#listeners) listener(event);
        this.#dispatch();
    }

    #fail(call: PendingCall, error: Error): void {
        if (call.settled) return;
        call.settled = true;
        call.cleanup();
        this.#dequeue(call);
        let leftover = 0;
        for (let i = call.next; i < call.sequences.length; i++) leftover += call.sequences[i]!.length;
        this.#queuedTokens -= leftover;
        this.#queuedSequences -= call.sequences.length - call.next;
        call.next = call.sequences.length;
        call.waiting = 0;
        call.reject(error);
        // A running batch whose every call is gone is stopped, so the engine moves on.
        for (const batch of this.#running) {
            if (batch.calls.has(call) && [...batch.calls].every((member) => member.settled)) batch.controller.abort();
        }
    }

    #dequeue(call: PendingCall): void {
        const queue = this.#queues[call.priority];
        const at = queue.indexOf(call);
        if (at >= 0) queue.splice(at, 1);
    }
}

/**
 * The tokens a queue serves, round-robin, before a call with `own` tokens left is done: the sum over its calls of
 * min(their tokens left, own). Sorted once, then each question takes a binary search.
 */
class RoundRobinShares {
    readonly #sorted: number[];
    readonly #prefix: number[];

    constructor(calls: readonly { waiting: number }[]) {
        this.#sorted = calls.map((call) => call.waiting).sort((a, b) => a - b);
        this.#prefix = [0];
        for (const left of this.#sorted) this.#prefix.push(this.#prefix.at(-1)! + left);
    }

    tokensBefore(own: number): number {
        let low = 0;
        let high = this.#sorted.length;
        while (low < high) {
            const middle = (low + high) >> 1;
            if (this.#sorted[middle]! <= own) low = middle + 1;
            else high = middle;
        }
        return this.#prefix[low]! + own * (this.#sorted.length - low);
    }
}
