import { describe, expect, it } from "vitest";
import { ProgressBar } from "../../src/evaluation/progress-bar.js";
import { mapWithConcurrency } from "../../src/evaluation/task-pool.js";

function recorder(isTTY: boolean) {
    const writes: string[] = [];
    return { stream: { isTTY, write: (text: string) => writes.push(text) }, writes };
}

describe("progress bar", () => {
    it("redraws one line in place on a terminal and ends it when finished", () => {
        const { stream, writes } = recorder(true);
        const bar = new ProgressBar("embedding corpus", 4, { stream, width: 8, interval: 0 });
        bar.advance();
        expect(writes.at(-1)).toMatch(/^\rembedding corpus \[██░░░░░░\] 1\/4 25% eta \d+s\u001b\[K$/);
        bar.advance(3);
        expect(writes.at(-1)).toMatch(/^\rembedding corpus \[████████\] 4\/4 100% eta 0s\u001b\[K$/);
        bar.finish();
        expect(writes.at(-2)).toMatch(/^\rembedding corpus \[████████\] 4\/4 100% in \d+s\u001b\[K$/);
        expect(writes.at(-1)).toBe("\n");
        bar.finish(); // once only
        expect(writes).toHaveLength(4);
    });

    it("stays silent when stderr is not a terminal, unless forced", () => {
        const { stream, writes } = recorder(false);
        const quiet = new ProgressBar("x", 2, { stream, interval: 0 });
        quiet.advance(2);
        quiet.finish();
        expect(writes).toEqual([]);
        const forced = new ProgressBar("x", 2, { stream, interval: 0, enabled: true });
        forced.advance(5); // never past the total
        expect(forced.done).toBe(2);
        expect(writes).toHaveLength(1);
    });

    it("throttles redraws but always draws the last state", () => {
        const { stream, writes } = recorder(true);
        const bar = new ProgressBar("x", 1000, { stream, interval: 60_000 });
        for (let i = 0; i < 1000; i++) bar.advance();
        // the first advance draws (nothing drawn for 60 s before it), the rest wait, the 1000th draws
        expect(writes).toHaveLength(2);
        expect(writes[1]).toContain("1000/1000 100%");
    });
});

describe("mapWithConcurrency", () => {
    it("keeps input order, never runs more than asked, and stops starting work after a failure", async () => {
        let running = 0;
        let most = 0;
        const started: number[] = [];
        const result = await mapWithConcurrency([5, 1, 4, 2, 3], 2, async (item) => {
            started.push(item);
            running++;
            most = Math.max(most, running);
            await new Promise((resolve) => setImmediate(resolve));
            running--;
            return item * 10;
        });
        expect(result).toEqual([50, 10, 40, 20, 30]);
        expect(most).toBe(2);
        const seen: number[] = [];
        await expect(
            mapWithConcurrency([1, 2, 3, 4, 5, 6], 1, async (item) => {
                seen.push(item);
                if (item === 2) throw new Error("boom");
                return item;
            }),
        ).rejects.toThrow("boom");
        expect(seen).toEqual([1, 2]);
    });
});
