import { copyFile, mkdtemp, rm, truncate } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inspectGguf } from "../../src/index.js";
import { kv, writeGguf } from "../fixtures/gguf-writer.js";
import { buildFixtureMetadata, buildFixtureTensors } from "../fixtures/qwen3-fixture.js";

let dir: string;
beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "qwen3-inspection-cache-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const writeFixture = (path: string, name: string, kind: "embedding" | "reranker-rank") => {
    const spec = { kind, size: "tiny" } as const;
    return writeGguf(path, { ...buildFixtureMetadata(spec), "general.name": kv.str(name) }, buildFixtureTensors(spec));
};

describe("inspectGguf on a file it read before", () => {
    it("answers from the last parse while the file is unchanged, and reads it again once it is rewritten", async () => {
        const path = join(dir, "model.gguf");
        await writeFixture(path, "first", "embedding");
        const first = await inspectGguf(path);
        const again = await inspectGguf(path);
        expect(again).toEqual(first);
        expect(again).not.toBe(first);
        again.classifierLabels.push("changed by a caller");
        expect((await inspectGguf(path)).classifierLabels).toEqual(first.classifierLabels);

        await writeFixture(path, "second", "reranker-rank");
        const rewritten = await inspectGguf(path);
        expect(rewritten.name).toBe("second");
        expect(rewritten.pooling).toBe("rank");
        expect(first.name).toBe("first");
        expect(first.pooling).toBe("last");
    });

    it("checks a truncated copy on its own, not through the whole file's parse", async () => {
        const whole = join(dir, "whole.gguf");
        await writeFixture(whole, "whole", "embedding");
        await inspectGguf(whole);
        const cut = join(dir, "cut.gguf");
        await copyFile(whole, cut);
        await truncate(cut, 4096);
        await expect(inspectGguf(cut)).rejects.toThrow(/truncated|damaged/);
    });
});
