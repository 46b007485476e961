import { describe, expect, it } from "vitest";
import { runInShortLivedThread } from "../../src/internal/short-lived-thread.js";

describe("runInShortLivedThread", () => {
    it("answers with what the function returned, bigints and packages of this one included", async () => {
        const body = `async ({ n }, importModule) => {
            const { GGUFValueType } = await importModule("@huggingface/gguf");
            return { doubled: n * 2n, hasTypes: typeof GGUFValueType.STRING === "number" };
        }`;
        const value = await runInShortLivedThread(body, { n: 21n }, ["@huggingface/gguf"]);
        expect(value).toEqual({ doubled: 42n, hasTypes: true });
    });

    it("rejects with the function's own error message", async () => {
        const body = `async () => { throw new Error("the header is damaged"); }`;
        await expect(runInShortLivedThread(body, {}, [])).rejects.toThrow("the header is damaged");
    });

    it("rejects, naming the exit code, when the thread ends without answering", async () => {
        const body = `async () => { process.exit(3); }`;
        await expect(runInShortLivedThread(body, {}, [])).rejects.toThrow("the helper thread exited with code 3 before answering");
    });
});
