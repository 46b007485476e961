/**
 * `qwen3-embedding index` and `search` run as the user runs them (a process each, from source), on an embedded
 * store in a temporary directory and the tiny fixture models; results compared with the library on the same store.
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEmbedder, createReranker } from "../../src/index.js";
import { createSearchIndex, documentId, openStore } from "../../src/exports/store.js";
import { ensureFixtureModel } from "../fixtures/qwen3-fixture.js";
import { newStoreDirectory, temporaryDirectory } from "./support/store-backends.js";
import { runCli } from "../support/run-cli.js";

const cli = (args: string[], env: Record<string, string> = {}) => runCli(args, { env });

const lines = (stdout: string) => stdout.trim().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>);

const parent = temporaryDirectory("qwen3-cli-store-test-");
let database: string;
let embeddingPath: string;
let rankPath: string;
const plainTexts = ["The capital of China is Beijing.", "Gravity pulls two bodies together.", "北京是中华人民共和国的首都。"];
const jsonl = [
    { id: "node", text: "Node.js runs JavaScript outside the browser.", metadata: { topic: "software" } },
    { id: 42, text: "Photosynthesis turns light into chemical energy.", metadata: { topic: "biology" } },
];

beforeAll(async () => {
    database = await newStoreDirectory(parent, "store");
    embeddingPath = await ensureFixtureModel({ kind: "embedding", size: "tiny" });
    rankPath = await ensureFixtureModel({ kind: "reranker-rank", size: "tiny" });
    const input = join(parent, "input");
    mkdirSync(join(input, "more"), { recursive: true });
    writeFileSync(join(input, "a.txt"), plainTexts.join("\n\n") + "\n");
    writeFileSync(join(input, "more", "b.jsonl"), jsonl.map((record) => JSON.stringify(record)).join("\n") + "\n");
    writeFileSync(join(input, "ignored.md"), "# not an input\n");
    writeFileSync(join(parent, "lone-surrogate-id.jsonl"), '{"id": "doc-\\ud800", "text": "an id that UTF-8 cannot hold"}\n');
});
afterAll(() => rmSync(parent, { recursive: true, force: true }));

describe("index and search", () => {
    it("indexes a directory with progress on stderr, resumes without re-embedding, and searches like the library", async () => {
        const indexArgs = ["index", "--embedding-model", embeddingPath, "--input", join(parent, "input"), "--namespace", "kb", "--database", database];
        const first = await cli([...indexArgs, "--durability", "relaxed"]); // a bulk load
        expect(first.stderr).toMatch(/checking .*\n(.*\n)*embedding .* 5\/5 written 5, unchanged 0, embedded 5, cached 0/);
        expect(first.code).toBe(0);
        expect(lines(first.stdout)).toEqual([{ namespace: "kb", total: 5, written: 5, unchanged: 0, embedded: 5, cached: 0, database }]);
        // As if a bulk load had been killed after its last batch, before building the HNSW index again.
        const before = await openStore({ database });
        await before.dropVectorIndex("kb");
        await before.close();
        const again = await cli(indexArgs);
        expect(lines(again.stdout)).toEqual([{ namespace: "kb", total: 5, written: 0, unchanged: 5, embedded: 0, cached: 0, database }]);

        const query = "Which city is the capital?";
        const plain = await cli(["search", query, "--embedding-model", embeddingPath, "--namespace", "kb", "--top-k", "4", "--database", database]);
        expect(plain.code).toBe(0);
        const reranked = await cli(["search", query, "--embedding-model", embeddingPath, "--reranker-model", rankPath, "--namespace", "kb", "--top-k", "3", "--database", database]);
        expect(reranked.code).toBe(0);

        const store = await openStore({ database });
        const embedder = await createEmbedder({ model: embeddingPath, batchTokens: 256, contextSize: 4096 });
        const reranker = await createReranker({ model: rankPath, batchTokens: 512, contextSize: 4096 });
        try {
            expect((await store.stats()).namespaces.find((ns) => ns.name === "kb")).toMatchObject({ items: 5, hasVectorIndex: true });
            const stored = await store.get("kb", ["node", "42", documentId(plainTexts[2]!)]);
            expect(stored.map((item) => [item.id, item.metadata])).toEqual([["node", { topic: "software" }], ["42", { topic: "biology" }], [documentId(plainTexts[2]!), {}]]);
            const expectPrinted = (printed: Record<string, unknown>[], expected: { id: string; score: number; text: string }[]) => {
                expect(printed.map((line) => Object.keys(line))).toEqual(expected.map(() => ["id", "score", "text"]));
                expect(printed.map((line) => line["id"])).toEqual(expected.map((result) => result.id));
                expect(printed.map((line) => line["text"])).toEqual(expected.map((result) => result.text));
                printed.forEach((line, rank) => expect(line["score"] as number).toBeCloseTo(expected[rank]!.score, 5));
            };
            expectPrinted(lines(plain.stdout), await (await createSearchIndex({ embedder, store, namespace: "kb" })).search(query, { topK: 4 }));
            expectPrinted(lines(reranked.stdout), await (await createSearchIndex({ embedder, reranker, store, namespace: "kb" })).search(query, { topK: 3 }));
        } finally {
            embedder.dispose();
            reranker.dispose();
            await store.close();
        }
    });

    it("fails with one line and a non-zero exit on bad command lines and missing namespaces", async () => {
        const cases: [string[], number, RegExp, Record<string, string>?][] = [
            [["index", "--input", join(parent, "input"), "--database", database], 2, /--embedding-model is required/],
            [["index", "--embedding-model", embeddingPath, "--input", join(parent, "nowhere"), "--database", database], 2, /--input .*nowhere does not exist/],
            [["index", "--embedding-model", embeddingPath, "--input", join(parent, "input"), "--batch-size", "0", "--database", database], 2, /Expected a positive integer for --batch-size but received "0"/],
            [["index", "--embedding-model", embeddingPath, "--input", join(parent, "input"), "--durability", "fast", "--database", database], 2, /Expected "full" or "relaxed" for --durability but received "fast"/],
            [["index", "--embedding-model", embeddingPath, "--input", join(parent, "input"), "--durability", "relaxed", "--database", "postgres://user@127.0.0.1:1/db"], 1, /Expected "full" \(or no durability\) for durability with a postgres:\/\/ database, whose commits follow the server's own settings \(fsync, synchronous_commit\), but received the string "relaxed"/],
            [["search", "a", "b", "--embedding-model", embeddingPath, "--database", database], 2, /search takes exactly one query \(quote it\) but received 2/],
            [["search", "q", "--embedding-model", embeddingPath, "--filter", "{oops", "--database", database], 2, /--filter is not valid JSON/],
            [["search", "q", "--embedding-model", embeddingPath, "--namespace", "nothing", "--database", database], 1, /No namespace "nothing" in the store at .*; index something into it first/],
            // Identifiers are stored exactly or refused, never merged into U+FFFD.
            [["index", "--embedding-model", embeddingPath, "--input", join(parent, "lone-surrogate-id.jsonl"), "--namespace", "kb", "--database", database], 2,
                /lone-surrogate-id\.jsonl:1: Expected an id of well-formed Unicode for id but received a string with an unpaired UTF-16 surrogate \(U\+D800 at index 4\)/],
            [["search", "q", "--embedding-model", embeddingPath, "--namespace", "kb", "--filter", '{"k": "\\udfff"}', "--database", database], 2,
                /Expected a string of well-formed Unicode for --filter\["k"\] but received a string with an unpaired UTF-16 surrogate/],
            [["search", "q", "--embedding-model", embeddingPath, "--database", "https://example.com"], 1, /Expected a directory, "memory" or a postgres:\/\/ URL for database but received a https:\/\/ URL/],
            // Without --database: the environment's database; search does not create one.
            [["search", "q", "--embedding-model", embeddingPath], 1, /No database at .*never-created; create one with `qwen3-embedding index`/, { QWEN3_EMBEDDING_DATABASE: join(parent, "never-created") }],
        ];
        // Side by side: only one of them opens the store (the missing namespace); the others fail before.
        const results = await Promise.all(cases.map(([args, , , env]) => cli(args, env)));
        results.forEach((result, index) => {
            const [, code, message] = cases[index]!;
            expect(result.stderr).toMatch(message);
            expect(result.code).toBe(code);
            expect(result.stderr.trim().split("\n").length).toBe(1);
        });
        expect(existsSync(join(parent, "never-created"))).toBe(false);
    });
});
