import { Worker } from "node:worker_threads";
import { beforeAll, describe, expect, it } from "vitest";
import { loadEngineModel } from "../../src/exports/engine.js";
import { loadNativeAddon } from "../../src/engine/native-addon.js";
import { ensureFixtureModel } from "../fixtures/qwen3-fixture.js";

let path: string;
beforeAll(async () => {
    path = await ensureFixtureModel({ kind: "embedding", size: "tiny" });
});

describe("model sharing", () => {
    it("loads a file once per process however many handles and threads ask for it", async () => {
        const addon = loadNativeAddon();
        const first = await loadEngineModel(path);
        const before = addon.liveModelCount();
        const second = await loadEngineModel(path);
        expect(addon.liveModelCount()).toBe(before);

        const context = await first.createContext({ batchTokens: 64, contextSize: 256 });
        const expected = await context.embedBatch([[9707, 1879, 151643]]);

        const results = await Promise.all(
            [0, 1].map(
                () =>
                    new Promise<{ hidden?: number[]; liveWhileHeld?: number; error?: string }>((resolve, reject) => {
                        const worker = new Worker(new URL("../support/typescript-worker.mjs", import.meta.url), {
                            workerData: {
                                entry: new URL("../support/embed-in-worker.ts", import.meta.url).href,
                                path,
                                sequence: [9707, 1879, 151643],
                            },
                        });
                        worker.once("message", resolve);
                        worker.once("error", reject);
                    }),
            ),
        );
        for (const result of results) {
            expect(result.error).toBeUndefined();
            expect(result.liveWhileHeld).toBe(before); // the workers used the weights already loaded
            expect(result.hidden).toEqual(Array.from(expected)); // same weights, same decode, same numbers
        }

        await context.dispose(); // resolves once the context (and its hold on the weights) is freed
        await first.dispose();
        expect(addon.liveModelCount()).toBe(before); // `second` still holds it
        second.dispose();
        expect(addon.liveModelCount()).toBe(before - 1);
    });
});
