import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { AbortedError, DeadlineExceededError, DecodeError, DisposedError, InvalidOptionError, QueueFullError } from "../../src/index.js";
import type { BatchPriority, BatchRunner, JobKind } from "../../src/runtime/batch-runner.js";
import { BatchScheduler, type SchedulerLimits } from "../../src/scheduler/batch-scheduler.js";

/** A runner whose batches finish only when the test says so; rows are [first token, length] per sequence. */
class ManualRunner implements BatchRunner {
    readonly batches: { kind: JobKind; priority: BatchPriority; sequences: Int32Array[]; signal: AbortSignal; finish(): void; fail(error: Error): void }[] = [];
    constructor(readonly concurrency = 1, readonly interleavesInteractive = false) {}

    runBatch(kind: JobKind, sequences: readonly Int32Array[], signal: AbortSignal, priority: BatchPriority): Promise<Float32Array> {
        return new Promise((resolve, reject) => {
            const copy = [...sequences];
            this.batches.push({
                kind,
                priority,
                sequences: copy,
                signal,
                finish: () => resolve(Float32Array.from(copy.flatMap((sequence) => [sequence[0]!, sequence.length]))),
                fail: reject,
            });
        });
    }

    async close(): Promise<void> {}

    /** Ids (first tokens) of batch `n`, in the order the scheduler sent them. */
    ids(n: number): number[] {
        return this.batches[n]!.sequences.map((sequence) => sequence[0]!);
    }
}

const LIMITS: SchedulerLimits = { batchTokens: 100, batchSequences: 8, maxQueuedTokens: 1000, maxQueuedCalls: 10 };
const WIDTH = { embed: 2, rank: 1 };

/** A sequence of `length` tokens whose first token is `id`. */
const seq = (id: number, length = 10) => Int32Array.from({ length }, (_, i) => (i === 0 ? id : 7));
const tick = () => new Promise((resolve) => setImmediate(resolve));

describe("BatchScheduler", () => {
    it("returns each caller's rows in its own order although batches are sorted by length", async () => {
        const runner = new ManualRunner();
        const scheduler = new BatchScheduler(runner, LIMITS, WIDTH);
        const a = scheduler.submit({ kind: "embed", sequences: [seq(1, 5), seq(2, 30)], priority: "bulk" });
        const b = scheduler.submit({ kind: "embed", sequences: [seq(3, 20)], priority: "bulk" });
        await tick();
        expect(runner.batches).toHaveLength(1); // calls of one tick share a batch
        expect(runner.ids(0)).toEqual([2, 3, 1]); // longest first
        runner.batches[0]!.finish();
        expect(Array.from(await a)).toEqual([1, 5, 2, 30]);
        expect(Array.from(await b)).toEqual([3, 20]);
    });

    it("keeps batches within the token and sequence budgets and sends an over-long sequence alone", async () => {
        const runner = new ManualRunner();
        const scheduler = new BatchScheduler(runner, LIMITS, WIDTH);
        const call = scheduler.submit({ kind: "embed", sequences: [seq(1, 60), seq(2, 60), seq(3, 250), ...Array.from({ length: 12 }, (_, i) => seq(10 + i, 1))], priority: "bulk" });
        const sizes: { tokens: number; sequences: number }[] = [];
        for (let n = 0; n < 10 && sizes.reduce((sum, size) => sum + size.sequences, 0) < 15; n++) {
            await tick();
            const batch = runner.batches[n]!;
            sizes.push({ tokens: batch.sequences.reduce((sum, s) => sum + s.length, 0), sequences: batch.sequences.length });
            batch.finish();
        }
        await call;
        for (const size of sizes) {
            expect(size.sequences).toBeLessThanOrEqual(LIMITS.batchSequences);
            if (size.sequences > 1) expect(size.tokens).toBeLessThanOrEqual(LIMITS.batchTokens);
        }
        expect(sizes.some((size) => size.tokens === 250 && size.sequences === 1)).toBe(true);
        expect(sizes.reduce((sum, size) => sum + size.sequences, 0)).toBe(15);
    });

    it("sends an interactive batch to a runner busy with bulk work when the runner interleaves, and only then", async () => {
        for (const interleaves of [true, false]) {
            const runner = new ManualRunner(1, interleaves);
            const scheduler = new BatchScheduler(runner, LIMITS, WIDTH);
            const bulk = scheduler.submit({ kind: "embed", sequences: [seq(1, 90), seq(2, 90)], priority: "bulk" });
            await tick();
            expect(runner.batches.map((batch) => batch.priority)).toEqual(["bulk"]);
            const query = scheduler.submit({ kind: "embed", sequences: [seq(3, 5)], priority: "interactive" });
            const moreBulk = scheduler.submit({ kind: "embed", sequences: [seq(4, 5)], priority: "bulk" });
            await tick();
            if (interleaves) {
                // The extra batch holds the interactive call only; the waiting bulk call waits for a free slot.
                expect(runner.batches.map((batch) => batch.priority)).toEqual(["bulk", "interactive"]);
                expect(runner.ids(1)).toEqual([3]);
                runner.batches[1]!.finish();
                expect(Array.from(await query)).toEqual([3, 5]);
                await tick();
                expect(runner.batches).toHaveLength(2); // the waiting bulk call waits for the bulk slot
            } else {
                expect(runner.batches).toHaveLength(1);
            }
            runner.batches[0]!.finish();
            await tick();
            const next = runner.batches.at(-1)!;
            expect(next.priority).toBe(interleaves ? "bulk" : "interactive");
            next.finish();
            if (!interleaves) {
                await tick();
                runner.batches.at(-1)!.finish();
            }
            await Promise.all([bulk, query, moreBulk]);
        }
    });

    it("never mixes interactive and bulk sequences in one batch for a runner that interleaves, and runs one of each at once", async () => {
        const runner = new ManualRunner(1, true);
        const scheduler = new BatchScheduler(runner, LIMITS, WIDTH);
        const bulk = scheduler.submit({ kind: "embed", sequences: [seq(1, 30), seq(2, 30)], priority: "bulk" });
        const query = scheduler.submit({ kind: "embed", sequences: [seq(3, 5)], priority: "interactive" });
        await tick();
        // Room for all three in one batch, but the query would then wait for the bulk sequences' decodes.
        expect(runner.batches.map((batch) => batch.priority)).toEqual(["interactive", "bulk"]);
        expect(runner.ids(0)).toEqual([3]);
        expect(runner.ids(1)).toEqual([1, 2]);
        // A second interactive batch goes to the runner at once (it runs as soon as the first ends); a third waits.
        const second = scheduler.submit({ kind: "embed", sequences: [seq(4, 5)], priority: "interactive" });
        await tick();
        const third = scheduler.submit({ kind: "embed", sequences: [seq(5, 5)], priority: "interactive" });
        const fourth = scheduler.submit({ kind: "embed", sequences: [seq(6, 5)], priority: "interactive" });
        await tick();
        expect(runner.batches.map((batch) => batch.priority)).toEqual(["interactive", "bulk", "interactive"]);
        expect(runner.ids(2)).toEqual([4]);
        runner.batches[0]!.finish();
        await query;
        await tick();
        expect(runner.batches.map((batch) => batch.priority)).toEqual(["interactive", "bulk", "interactive", "interactive"]);
        expect(runner.ids(3)).toEqual([5, 6]); // the calls that waited share a batch
        runner.batches[2]!.finish();
        runner.batches[3]!.finish();
        runner.batches[1]!.finish();
        expect(Array.from(await bulk)).toEqual([1, 30, 2, 30]);
        expect(Array.from(await second)).toEqual([4, 5]);
        expect(Array.from(await third)).toEqual([5, 5]);
        expect(Array.from(await fourth)).toEqual([6, 5]);
    });

    it("puts interactive calls ahead of bulk ones that were queued earlier", async () => {
        const runner = new ManualRunner();
        const scheduler = new BatchScheduler(runner, { ...LIMITS, batchSequences: 2 }, WIDTH);
        const first = scheduler.submit({ kind: "embed", sequences: [seq(1)], priority: "bulk" });
        await tick(); // batch 0 runs the first bulk call
        const bulk = scheduler.submit({ kind: "embed", sequences: [seq(2), seq(3), seq(4)], priority: "bulk" });
        const query = scheduler.submit({ kind: "embed", sequences: [seq(9)], priority: "interactive" });
        await tick();
        runner.batches[0]!.finish();
        await first;
        await tick();
        expect(runner.ids(1)).toContain(9);
        runner.batches[1]!.finish();
        await query;
        await tick();
        runner.batches[2]!.finish();
        await tick();
        runner.batches[3]?.finish();
        await bulk;
    });

    it("is fair: a small call that arrives behind a huge one is served in the next batch", async () => {
        const runner = new ManualRunner();
        const scheduler = new BatchScheduler(runner, { ...LIMITS, maxQueuedTokens: 100_000 }, WIDTH);
        const huge = scheduler.submit({ kind: "embed", sequences: Array.from({ length: 200 }, (_, i) => seq(1000 + i)), priority: "bulk" });
        await tick();
        const small = scheduler.submit({ kind: "embed", sequences: [seq(5)], priority: "bulk" });
        await tick();
        runner.batches[0]!.finish();
        await tick();
        expect(runner.ids(1)).toContain(5);
        runner.batches[1]!.finish();
        expect(Array.from(await small)).toEqual([5, 10]);
        for (let n = 2; n < 40 && runner.batches[n] !== undefined; n++) {
            runner.batches[n]!.finish();
            await tick();
        }
        expect((await huge).length).toBe(400);
    });

    it("refuses calls with QueueFullError when the waiting tokens or calls reach their limits, and recovers", async () => {
        const runner = new ManualRunner();
        const scheduler = new BatchScheduler(runner, { ...LIMITS, maxQueuedTokens: 50, maxQueuedCalls: 3 }, WIDTH);
        const running = scheduler.submit({ kind: "embed", sequences: [seq(1, 40)], priority: "bulk" });
        await tick(); // dispatched: no longer waiting
        const waiting = [scheduler.submit({ kind: "embed", sequences: [seq(2, 40)], priority: "bulk" })];
        const full = scheduler.submit({ kind: "embed", sequences: [seq(3, 20)], priority: "bulk" });
        await expect(full).rejects.toBeInstanceOf(QueueFullError);
        await expect(full).rejects.toThrow(/queue is full \(1 calls, 40 tokens waiting; limits 3 calls, 50 tokens\); retry in about \d+ s/);
        waiting.push(scheduler.submit({ kind: "embed", sequences: [seq(4, 5)], priority: "bulk" }));
        waiting.push(scheduler.submit({ kind: "embed", sequences: [seq(5, 5)], priority: "bulk" }));
        await expect(scheduler.submit({ kind: "embed", sequences: [seq(6, 1)], priority: "bulk" })).rejects.toThrow(/3 calls/);
        expect(scheduler.stats()).toMatchObject({ queuedCalls: 3, queuedTokens: 50, runningBatches: 1 });
        await expect(scheduler.submit({ kind: "embed", sequences: [seq(7, 51)], priority: "bulk" })).rejects.toBeInstanceOf(InvalidOptionError);
        runner.batches[0]!.finish();
        await running;
        await tick();
        runner.batches[1]!.finish();
        await Promise.all(waiting);
        expect(scheduler.stats()).toMatchObject({ queuedCalls: 0, queuedTokens: 0 });
        await tick();
        const after = scheduler.submit({ kind: "embed", sequences: [seq(8, 20)], priority: "bulk" });
        await tick();
        runner.batches[2]!.finish();
        expect(Array.from(await after)).toEqual([8, 20]);
    });

    it("an aborted call fails at once, its waiting sequences are dropped, and a batch left with no live call is stopped", async () => {
        const runner = new ManualRunner();
        const scheduler = new BatchScheduler(runner, { ...LIMITS, batchSequences: 1 }, WIDTH);
        const controller = new AbortController();
        const aborted = scheduler.submit({ kind: "embed", sequences: [seq(1), seq(2), seq(3)], priority: "bulk", signal: controller.signal });
        const other = scheduler.submit({ kind: "embed", sequences: [seq(9)], priority: "bulk" });
        await tick();
        controller.abort();
        await expect(aborted).rejects.toBeInstanceOf(AbortedError);
        expect(runner.batches[0]!.signal.aborted).toBe(true);
        runner.batches[0]!.fail(new AbortedError());
        await tick();
        expect(runner.ids(1)).toEqual([9]); // seq 2 and 3 were dropped
        runner.batches[1]!.finish();
        expect(Array.from(await other)).toEqual([9, 10]);
        expect(scheduler.stats().queuedSequences).toBe(0);
        await expect(scheduler.submit({ kind: "embed", sequences: [seq(1)], priority: "bulk", signal: AbortSignal.abort() })).rejects.toBeInstanceOf(AbortedError);
    });

    it("a batch shared with a live call keeps running when one of its calls is aborted", async () => {
        const runner = new ManualRunner();
        const scheduler = new BatchScheduler(runner, LIMITS, WIDTH);
        const controller = new AbortController();
        const aborted = scheduler.submit({ kind: "embed", sequences: [seq(1)], priority: "bulk", signal: controller.signal });
        const live = scheduler.submit({ kind: "embed", sequences: [seq(2)], priority: "bulk" });
        await tick();
        controller.abort();
        await expect(aborted).rejects.toBeInstanceOf(AbortedError);
        expect(runner.batches[0]!.signal.aborted).toBe(false);
        runner.batches[0]!.finish();
        expect(Array.from(await live)).toEqual([2, 10]);
    });

    it("fails a call with DeadlineExceededError when its timeoutMs passes, waiting or running", async () => {
        const runner = new ManualRunner();
        const scheduler = new BatchScheduler(runner, LIMITS, WIDTH);
        const running = scheduler.submit({ kind: "embed", sequences: [seq(1)], priority: "bulk", timeoutMs: 20 });
        await tick();
        const waiting = scheduler.submit({ kind: "embed", sequences: [seq(2)], priority: "bulk", timeoutMs: 20 });
        await expect(running).rejects.toBeInstanceOf(DeadlineExceededError);
        await expect(waiting).rejects.toThrow("The call did not finish within its timeoutMs of 20 ms");
        expect(runner.batches[0]!.signal.aborted).toBe(true);
        expect(scheduler.stats().queuedCalls).toBe(0);
    });

    it("a failed batch fails only the calls in it", async () => {
        const runner = new ManualRunner();
        const scheduler = new BatchScheduler(runner, { ...LIMITS, batchSequences: 1 }, WIDTH);
        const first = scheduler.submit({ kind: "embed", sequences: [seq(1)], priority: "bulk" });
        const second = scheduler.submit({ kind: "embed", sequences: [seq(2)], priority: "bulk" });
        await tick();
        runner.batches[0]!.fail(new DecodeError("llama_decode failed"));
        await expect(first).rejects.toThrow("llama_decode failed");
        await tick();
        runner.batches[1]!.finish();
        expect(Array.from(await second)).toEqual([2, 10]);
    });

    it("runs as many batches at once as the runner allows, and never mixes kinds in a batch", async () => {
        const runner = new ManualRunner(2);
        const scheduler = new BatchScheduler(runner, { ...LIMITS, batchSequences: 1 }, WIDTH);
        const calls = [
            scheduler.submit({ kind: "embed", sequences: [seq(1)], priority: "bulk" }),
            scheduler.submit({ kind: "rank", sequences: [seq(2)], priority: "bulk" }),
            scheduler.submit({ kind: "embed", sequences: [seq(3)], priority: "bulk" }),
        ];
        await tick();
        expect(runner.batches).toHaveLength(2);
        expect(scheduler.stats().runningBatches).toBe(2);
        runner.batches[0]!.finish();
        await tick();
        expect(runner.batches).toHaveLength(3);
        runner.batches.slice(1).forEach((batch) => batch.finish());
        const [a, b, c] = await Promise.all(calls);
        expect(Array.from(a!)).toEqual([1, 10]);
        expect(Array.from(b!)).toEqual([2]); // rank rows are one float wide
        expect(Array.from(c!)).toEqual([3, 10]);
        for (const batch of runner.batches) expect(new Set(batch.sequences.map(() => batch.kind)).size).toBe(1);
    });

    it("close() fails waiting and running calls with DisposedError and refuses new ones", async () => {
        const runner = new ManualRunner();
        const scheduler = new BatchScheduler(runner, { ...LIMITS, batchSequences: 1 }, WIDTH);
        const running = scheduler.submit({ kind: "embed", sequences: [seq(1)], priority: "bulk" });
        const waiting = scheduler.submit({ kind: "embed", sequences: [seq(2)], priority: "bulk" });
        await tick();
        scheduler.close("gone; create a new one");
        await expect(running).rejects.toBeInstanceOf(DisposedError);
        await expect(waiting).rejects.toThrow("gone; create a new one");
        expect(runner.batches[0]!.signal.aborted).toBe(true);
        await expect(scheduler.submit({ kind: "embed", sequences: [seq(3)], priority: "bulk" })).rejects.toBeInstanceOf(DisposedError);
    });

    it("reports every batch to listeners", async () => {
        const runner = new ManualRunner();
        const scheduler = new BatchScheduler(runner, LIMITS, WIDTH);
        const events: { sequences: number; tokens: number; calls: number }[] = [];
        const stop = scheduler.onBatch((event) => events.push({ sequences: event.sequences, tokens: event.tokens, calls: event.calls }));
        const call = Promise.all([
            scheduler.submit({ kind: "embed", sequences: [seq(1, 4), seq(2, 6)], priority: "bulk" }),
            scheduler.submit({ kind: "embed", sequences: [seq(3, 5)], priority: "interactive" }),
        ]);
        await tick();
        runner.batches[0]!.finish();
        await call;
        stop();
        expect(events).toEqual([{ sequences: 3, tokens: 15, calls: 2 }]);
        expect(scheduler.stats().tokensPerSecond).toBeGreaterThan(0);
    });

    describe("deadlines (a fake performance clock: batch durations are what the test says)", () => {
        beforeEach(() => vi.useFakeTimers({ toFake: ["performance"] }));
        afterEach(() => vi.useRealTimers());

        /** A scheduler whose first batch, one call of `tokens`, took 1000 ms. */
        async function afterOneBatch(tokens: number) {
            const runner = new ManualRunner();
            const scheduler = new BatchScheduler(runner, LIMITS, WIDTH);
            const first = scheduler.submit({ kind: "embed", sequences: [seq(1, tokens)], priority: "bulk" });
            await tick();
            vi.advanceTimersByTime(1000);
            runner.batches[0]!.finish();
            await first;
            return { runner, scheduler };
        }

        it("refuses at once a call that cannot finish within its timeoutMs at the recent rate (interactive calls count only interactive work ahead)", async () => {
            // No rate measured yet: a call is not refused for its deadline, however short; it runs out of time instead.
            // (Its own scheduler: a call that must also finish within 1 ms of real time would race the machine's load.)
            const unmeasured = new BatchScheduler(new ManualRunner(), LIMITS, WIDTH);
            await expect(unmeasured.submit({ kind: "embed", sequences: [seq(1, 100)], priority: "bulk", timeoutMs: 1 })).rejects.toBeInstanceOf(DeadlineExceededError);
            const { runner, scheduler } = await afterOneBatch(100); // 100 tokens in 1000 ms: 100 tokens/s
            const queued = [2, 3, 4].map((id) => scheduler.submit({ kind: "embed", sequences: [seq(id, 100)], priority: "bulk" }));
            // 300 tokens wait: a bulk call of 100 needs about 4000 ms.
            const late = scheduler.submit({ kind: "embed", sequences: [seq(9, 100)], priority: "bulk", timeoutMs: 3000 });
            await expect(late).rejects.toBeInstanceOf(QueueFullError);
            await expect(late).rejects.toThrow(/^This call of 100 tokens would finish in about 4000 ms \(300 tokens ahead of it at 100 tokens\/s\), too close to its timeoutMs of 3000 ms \(at most 75% of it is planned for\); retry in about 3 s$/);
            const inTime = scheduler.submit({ kind: "embed", sequences: [seq(10, 100)], priority: "bulk", timeoutMs: 7000 });
            const interactive = scheduler.submit({ kind: "embed", sequences: [seq(11, 100)], priority: "interactive", timeoutMs: 3000 });
            for (let n = 1; n <= 5; n++) {
                await tick();
                runner.batches[n]!.finish();
            }
            await Promise.all([...queued, inTime, interactive]);
            // Accepted with 200 bulk tokens still queued, it ran before all of them.
            expect(runner.batches.map((_, n) => runner.ids(n))).toEqual([[1], [2], [11], [3], [4], [10]]);
        });

        it("refuses a call that would make a waiting call miss its deadline, and accepts it once that call has room", async () => {
            const { runner, scheduler } = await afterOneBatch(100); // 100 tokens/s
            const blocker = scheduler.submit({ kind: "embed", sequences: [seq(2, 100)], priority: "bulk" });
            await tick(); // running: 100 tokens
            const tight = scheduler.submit({ kind: "embed", sequences: [seq(3, 100)], priority: "bulk", timeoutMs: 3000 }); // about 2000 ms, within 75% of 3000
            const jumper = scheduler.submit({ kind: "embed", sequences: [seq(4, 100)], priority: "interactive" }); // would push it to 3000 ms, past 2250
            await expect(jumper).rejects.toThrow(/^This call of 100 tokens would make an earlier call miss its deadline \(about 1000 ms more of work ahead of it at 100 tokens\/s\); retry in about/);
            const patient = scheduler.submit({ kind: "embed", sequences: [seq(5, 100)], priority: "bulk" }); // its round-robin share, min(100, 100), counts against it too (conservative for one-sequence calls)
            await expect(patient).rejects.toBeInstanceOf(QueueFullError);
            runner.batches[1]!.finish();
            await blocker;
            await tick();
            runner.batches[2]!.finish();
            await tight;
            const later = scheduler.submit({ kind: "embed", sequences: [seq(6, 100)], priority: "interactive" }); // nothing with a deadline waits now
            await tick();
            runner.batches[3]!.finish();
            expect(Array.from(await later)).toEqual([6, 100]);
        });

        it("plans deadlines only with the rate of batches at least half full: small ones are mostly fixed cost", async () => {
            const { runner, scheduler } = await afterOneBatch(2); // 2 tokens/s, if it counted
            const large = scheduler.submit({ kind: "embed", sequences: [seq(2, 100)], priority: "interactive", timeoutMs: 10_000 });
            await tick();
            runner.batches[1]!.finish();
            expect(Array.from(await large)).toEqual([2, 100]);
        });
    });
});
