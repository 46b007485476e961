import { beforeAll, describe, expect, it } from "vitest";
import { DisposedError } from "../../src/index.js";
import { loadEngineModel } from "../../src/exports/engine.js";
import { ensureFixtureModel } from "../fixtures/qwen3-fixture.js";
import { afterCpuTime } from "../support/cpu-time.js";

let path: string;
beforeAll(async () => {
    path = await ensureFixtureModel({ kind: "embedding", size: "tiny" });
});

describe("dispose", () => {
    it("a context's dispose() resolves after the batch in flight has ended; again, it does nothing", async () => {
        const model = await loadEngineModel(path);
        const context = await model.createContext({ batchTokens: 64, contextSize: 4096 });
        expect(context.disposed).toBe(false);
        let settled = false;
        const long = Array.from({ length: 40 }, () => new Int32Array(4000).fill(1000));
        const outcome = context.embedBatch(long).then(
            () => "resolved",
            (error: unknown) => error,
        );
        void outcome.finally(() => (settled = true));
        // Once the decode has used 100 ms of CPU it is under way (a dispose before it starts would be lost: issue 17).
        await afterCpuTime(100);
        await context.dispose();
        expect(settled).toBe(true);
        expect(context.disposed).toBe(true);
        expect(await outcome).toBeInstanceOf(DisposedError);
        await context.dispose();
        await context[Symbol.asyncDispose]();
        await expect(context.embedBatch([[1]])).rejects.toBeInstanceOf(DisposedError);
        await model.dispose();
    });

    it("a model's dispose() and Symbol.asyncDispose release the handle once", async () => {
        const model = await loadEngineModel(path);
        expect(model.disposed).toBe(false);
        await model[Symbol.asyncDispose]();
        expect(model.disposed).toBe(true);
        await model.dispose();
        await expect(model.tokenize(["x"], { special: false })).rejects.toBeInstanceOf(DisposedError);
    });
});
