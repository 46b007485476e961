import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { kv, writeGguf } from "../fixtures/gguf-writer.js";
import {
    DisposedError,
    InvalidOptionError,
    ModelFileError,
    UnsupportedModelError,
    cosineSimilarity,
    createReranker,
    createEmbedder,
    formatQuery,
    quantizeEmbedding,
    type Embedder,
} from "../../src/index.js";
import { ensureFixtureModel } from "../fixtures/qwen3-fixture.js";
import { loadQwen3Reference, type Qwen3ReferenceModel } from "../reference/qwen3-reference.js";
import { referenceTokenize } from "../support/hf-tokenizer.js";
import { loadTestCorpus } from "../support/corpus.js";

const END_OF_TEXT = 151643;
const WEB_SEARCH = "Given a web search query, retrieve relevant passages that answer the query";


const norm = (v: ArrayLike<number>) => Math.sqrt(Array.from(v).reduce((sum, x) => sum + x * x, 0));

let embedder: Embedder;
let oracle: Qwen3ReferenceModel;
const corpus = loadTestCorpus().filter((item) => item.text.length < 3000).slice(0, 24);

beforeAll(async () => {
    const path = await ensureFixtureModel({ kind: "embedding", size: "tiny" });
    embedder = await createEmbedder({ model: path, batchTokens: 256, contextSize: 4096 });
    oracle = await loadQwen3Reference(path);
});
afterAll(() => {
    embedder?.dispose();
    oracle?.close();
});

describe("the Qwen3 embedding contract", () => {
    it("runs with the default f16 KV cache (the fast mode) when not told otherwise", () => {
        expect(embedder.kvCacheType).toBe("f16");
    });

    it("formats queries byte-exactly: one newline, no space after Query:", () => {
        expect(formatQuery(WEB_SEARCH, "what is BM25?")).toBe(
            "Instruct: Given a web search query, retrieve relevant passages that answer the query\nQuery:what is BM25?",
        );
    });

    it("documents: raw text + one <|endoftext|>, equal to the float64 reference", async () => {
        const result = await embedder.embedDocuments(corpus.map((item) => item.text));
        corpus.forEach((item, index) => {
            const expected = [...referenceTokenize(item.text), END_OF_TEXT];
            expect(result.tokens[index]).toBe(expected.length);
            const embedding = result.embeddings[index] as Float32Array;
            expect(Math.abs(norm(embedding) - 1)).toBeLessThan(1e-5);
            expect(cosineSimilarity(embedding, oracle.embed(expected))).toBeGreaterThanOrEqual(0.99999);
        });
        expect(result.totalTokens).toBe(result.tokens.reduce((a, b) => a + b, 0));
    });

    it("queries: the instruction template, equal to the reference; embedQuery defaults to web search", async () => {
        const query = "唐诗里的月亮 and the moon in Tang poems";
        const expected = [...referenceTokenize(`Instruct: ${WEB_SEARCH}\nQuery:${query}`), END_OF_TEXT];
        const single = await embedder.embedQuery(query);
        expect(single.tokens).toBe(expected.length);
        expect(cosineSimilarity(single.embedding as Float32Array, oracle.embed(expected))).toBeGreaterThanOrEqual(0.99999);
        const viaTask = await embedder.embed([query], { task: "web-search" });
        expect(Array.from(viaTask.embeddings[0]!)).toEqual(Array.from(single.embedding));
        const memory = await embedder.embed([query], { task: "memory-retrieval" });
        const memoryTokens = [...referenceTokenize(`Instruct: Given a user query, retrieve relevant memories\nQuery:${query}`), END_OF_TEXT];
        expect(cosineSimilarity(memory.embeddings[0] as Float32Array, oracle.embed(memoryTokens))).toBeGreaterThanOrEqual(0.99999);
    });

    it("appends <|endoftext|> exactly once, whether or not the GGUF says add_eos_token", async () => {
        const withEos = await createEmbedder({ model: await ensureFixtureModel({ kind: "embedding", size: "tiny", addEos: true }), batchTokens: 256 });
        const texts = ["hello world", "a", "Summary<|endoftext|>"];
        const a = await embedder.embed(texts);
        const b = await withEos.embed(texts);
        expect(b.tokens).toEqual(a.tokens);
        texts.forEach((text, index) => {
            if (!text.includes("<|endoftext|>")) expect(a.tokens[index]).toBe(referenceTokenize(text).length + 1);
            expect(cosineSimilarity(a.embeddings[index] as Float32Array, b.embeddings[index] as Float32Array)).toBeGreaterThanOrEqual(0.999999);
        });
        // One appended token: equal to the reference with one, clearly not the reference with two.
        const once = [...referenceTokenize("hello world"), END_OF_TEXT];
        expect(cosineSimilarity(a.embeddings[0] as Float32Array, oracle.embed(once))).toBeGreaterThanOrEqual(0.99999);
        expect(cosineSimilarity(a.embeddings[0] as Float32Array, oracle.embed([...once, END_OF_TEXT]))).toBeLessThan(0.9999);
        withEos.dispose();
    });

    it("keeps a spelled-out <|endoftext|> in user text as text", async () => {
        const result = await embedder.embed(["Summary<|endoftext|>"]);
        // "Summary" + the spelling "<|endoftext|>" as ordinary text tokens (<, |, endo, ...) + the one appended token
        const spelled = referenceTokenize("<|endoftext").length + referenceTokenize("|>").length;
        expect(result.tokens[0]).toBe(referenceTokenize("Summary").length + spelled + 1);
    });

    it("Matryoshka: unit length and equal to the normalized prefix of the full vector", async () => {
        const full = await embedder.embed(["Matryoshka dimensions"]);
        for (const dimensions of [32, 48, 63, 64]) {
            const cut = await embedder.embed(["Matryoshka dimensions"], { dimensions });
            const vector = cut.embeddings[0] as Float32Array;
            expect(vector.length).toBe(dimensions);
            expect(cut.dimensions).toBe(dimensions);
            expect(Math.abs(norm(vector) - 1)).toBeLessThan(1e-6);
            const prefix = (full.embeddings[0] as Float32Array).slice(0, dimensions);
            const scale = norm(prefix);
            vector.forEach((value, i) => expect(value).toBeCloseTo(prefix[i]! / scale, 6));
        }
    });

    it("normalize: false returns the raw last-token hidden state", async () => {
        const raw = await embedder.embed(["raw"], { normalize: false });
        const expected = oracle.lastHiddenState([...referenceTokenize("raw"), END_OF_TEXT]);
        expect(cosineSimilarity(raw.embeddings[0] as Float32Array, expected)).toBeGreaterThanOrEqual(0.99999);
        expect(Math.abs(norm(raw.embeddings[0]!) - norm(expected)) / norm(expected)).toBeLessThan(1e-3);
    });

    it("output types follow sentence-transformers' definitions", async () => {
        const float = (await embedder.embed(["quantize me"])).embeddings[0] as Float32Array;
        for (const outputType of ["int8", "uint8", "binary", "ubinary"] as const) {
            const quantized = (await embedder.embed(["quantize me"], { outputType })).embeddings[0]!;
            expect(Array.from(quantized)).toEqual(Array.from(quantizeEmbedding(float, outputType)));
        }
        expect((await embedder.embed(["x"], { outputType: "ubinary" })).embeddings[0]).toBeInstanceOf(Uint8Array);
        expect((await embedder.embed(["x"], { outputType: "binary" })).embeddings[0]!.length).toBe(8);
    });

    it("truncates from the end keeping <|endoftext|>, or refuses with truncate: error", async () => {
        const long = corpus.find((item) => referenceTokenize(item.text).length > 40)!.text;
        const cut = await embedder.embed([long], { maxTokens: 16 });
        expect(cut.tokens[0]).toBe(16);
        expect(cut.truncated[0]).toBe(true);
        const expected = [...referenceTokenize(long).slice(0, 15), END_OF_TEXT];
        expect(cosineSimilarity(cut.embeddings[0] as Float32Array, oracle.embed(expected))).toBeGreaterThanOrEqual(0.99999);
        const count = referenceTokenize(long).length + 1;
        await expect(embedder.embed(["short", long], { maxTokens: 16, truncate: "error" })).rejects.toThrow(
            `Input 1 has ${count} tokens (including the appended <|endoftext|>) but maxTokens is 16; pass truncate: "end" to cut it to fit, or a larger maxTokens`,
        );
    });

    it("handles an empty list and an empty string", async () => {
        expect((await embedder.embed([])).embeddings).toEqual([]);
        const empty = await embedder.embed([""]);
        expect(empty.tokens[0]).toBe(1);
        expect(cosineSimilarity(empty.embeddings[0] as Float32Array, oracle.embed([END_OF_TEXT]))).toBeGreaterThanOrEqual(0.99999);
    });

    it("normalizeInput: NFKC, straight quotes, collapsed whitespace before tokenizing", async () => {
        const normalizing = await createEmbedder({ model: embedder.modelPath, normalizeInput: true, batchTokens: 256 });
        const a = await normalizing.embed(["“Ｈｅｌｌｏ”   world\u00a0 "]);
        const b = await embedder.embed(['"Hello" world']);
        expect(Array.from(a.embeddings[0]!)).toEqual(Array.from(b.embeddings[0]!));
        normalizing.dispose();
    });

    it("serves many concurrent callers with the same numbers as one at a time", async () => {
        const inputs = corpus.slice(0, 16).map((item) => item.text);
        const sequential: number[][] = [];
        for (const text of inputs) sequential.push(Array.from((await embedder.embed([text])).embeddings[0]!));
        const concurrent = await Promise.all(inputs.map((text) => embedder.embed([text])));
        concurrent.forEach((result, index) => {
            expect(cosineSimilarity(result.embeddings[0] as Float32Array, sequential[index]!)).toBeGreaterThanOrEqual(0.99999);
        });
    });

    it("a dispose during a batch ends that batch with an error, not a crash", async () => {
        let own = await createEmbedder({ model: embedder.modelPath, batchTokens: 64, contextSize: 4096 });
        const long = corpus.map((item) => item.text).concat(corpus.map((item) => item.text));
        for (const when of ["before the decode starts", "while it runs"] as const) {
            const pending = own.embed(long).catch((error: unknown) => error);
            const disposing = own;
            if (when === "before the decode starts") disposing.dispose(); // the call is still tokenizing
            // After the call's first batch of many, once the scheduler has handed the worker the next one.
            else disposing.onBatch(() => setImmediate(() => disposing.dispose()));
            const error = await pending;
            expect(error).toBeInstanceOf(DisposedError);
            expect((error as Error).message).toBe("The embedder was disposed while the call waited or ran; create a new one");
            if (when === "before the decode starts") own = await createEmbedder({ model: embedder.modelPath, batchTokens: 64, contextSize: 4096 });
        }
        await expect(own.embed(["x"])).rejects.toThrow("The embedder was disposed; create a new one");
    });

    it("similarity is the cosine", async () => {
        const [a, b] = (await embedder.embed(["one", "two"])).embeddings as Float32Array[];
        expect(embedder.similarity(a!, b!)).toBeCloseTo(cosineSimilarity(a!, b!), 6);
    });
});

describe("validation", () => {
    it("names the option, the expectation and what it got", async () => {
        await expect(embedder.embed(["x"], { dimensions: 16 })).rejects.toThrow("Expected an integer between 32 and 64 for dimensions but received number 16");
        await expect(embedder.embed(["x"], { dimensions: 2048 })).rejects.toThrow("Expected an integer between 32 and 64 for dimensions but received number 2048");
        await expect(embedder.embed(["x"], { maxTokens: 10_000 })).rejects.toThrow("Expected an integer between 2 and 4096 for maxTokens but received number 10000");
        await expect(embedder.embed(["x"], { truncate: "start" as never })).rejects.toThrow('Expected one of "end", "error" for truncate but received the string "start"');
        await expect(embedder.embed(["x"], { outputType: "float16" as never })).rejects.toThrow(
            'Expected one of "float32", "int8", "uint8", "binary", "ubinary" for outputType but received the string "float16"',
        );
        await expect(embedder.embed(["x"], { normalize: 1 as never })).rejects.toThrow("Expected a boolean for normalize but received number 1");
        await expect(embedder.embed(["x"], { instruction: "a", task: "web-search" })).rejects.toThrow("Pass either instruction or task, not both");
        await expect(embedder.embed(["x"], { task: "sts" as never })).rejects.toThrow(/^Expected one of "web-search", .* for task but received the string "sts"$/);
        await expect(embedder.embed(["x"], { dimension: 32 } as never)).rejects.toThrow(/^Unknown option "dimension" in embed options; the known options are /);
        await expect(embedder.embed("x" as never)).rejects.toThrow("Expected an array of strings for texts but received the string \"x\"");
        await expect(embedder.embed([1 as never])).rejects.toThrow("Expected a string for texts[0] but received number 1");
        await expect(embedder.embedQuery(5 as never)).rejects.toThrow("Expected a string for text but received number 5");
        await expect(embedder.embedDocuments(["x"], { instruction: "Find it" })).rejects.toThrow(
            'embedDocuments embeds documents as raw text and takes no instruction; use embed() or embedQuery() for queries, or task "semantic-similarity" for symmetric tasks',
        );
        await expect(embedder.embedDocuments(["x"], { task: "semantic-similarity" })).resolves.toBeDefined();
        await expect(createEmbedder({} as never)).rejects.toThrow("Expected a non-empty string for model but received undefined");
        await expect(createEmbedder({ model: embedder.modelPath, normalise: true } as never)).rejects.toThrow(/^Unknown option "normalise" in createEmbedder options/);
        const error = await embedder.embed(["x"], { dimensions: 1 }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(InvalidOptionError);
    });

    it("refuses files that are not a complete Qwen3 GGUF before loading anything", async () => {
        const dir = await mkdtemp(join(tmpdir(), "qwen3-embedder-files-"));
        try {
            const text = join(dir, "notes.gguf");
            await writeFile(text, "not a model");
            await expect(createEmbedder({ model: text })).rejects.toThrow(
                `${text} is not a GGUF file (it does not start with the bytes "GGUF"); qwen3-embedding loads llama.cpp GGUF models such as Qwen/Qwen3-Embedding-0.6B-GGUF`,
            );
            const cut = join(dir, "cut.gguf");
            const whole = await readFile(embedder.modelPath);
            await writeFile(cut, whole.subarray(0, whole.length - 1000));
            await expect(createEmbedder({ model: cut })).rejects.toThrow(/is truncated: its tensors need \d+ bytes but the file has \d+; the download was probably interrupted, download it again$/);
            const bert = join(dir, "bert.gguf");
            await writeGguf(bert, { "general.architecture": kv.str("bert") }, []);
            await expect(createReranker({ model: bert })).rejects.toBeInstanceOf(UnsupportedModelError);
            await expect(createEmbedder({ model: join(dir, "absent.gguf") })).rejects.toBeInstanceOf(ModelFileError);
        } finally {
            await rm(dir, { recursive: true, force: true });
        }
    });

    it("refuses a reranker file with a message that says what to do", async () => {
        const path = await ensureFixtureModel({ kind: "reranker-rank", size: "tiny" });
        await expect(createEmbedder({ model: path })).rejects.toThrow(
            `${path} is a reranker model, not an embedding model: use it with createReranker(), and embed with a Qwen3-Embedding GGUF`,
        );
    });

    it("disposes", async () => {
        const own = await createEmbedder({ model: embedder.modelPath, batchTokens: 64 });
        own.dispose();
        await expect(own.embed(["x"])).rejects.toThrow("The embedder was disposed; create a new one");
    });
});
