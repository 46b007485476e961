import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from "vitest";
import {
    createEmbedder,
    createTokenizer,
    DEFAULT_INSTRUCTION,
    DisposedError,
    InvalidOptionError,
    type Embedder,
    type EmbeddingResult,
} from "../../src/index.js";
import { referenceTokenize } from "../support/hf-tokenizer.js";
import { ensureFixtureModel } from "../fixtures/qwen3-fixture.js";

let path: string;
let embedder: Embedder;

beforeAll(async () => {
    path = await ensureFixtureModel({ kind: "embedding", size: "tiny" });
    embedder = await createEmbedder({ model: path, batchTokens: 256, contextSize: 1024 });
});
afterAll(() => embedder?.dispose());

describe("embed() says what the texts are", () => {
    it('role "query" formats with the default instruction, exactly as embedQuery', async () => {
        const [viaRole, viaQuery, viaInstruction] = await Promise.all([
            embedder.embed(["what is BM25?"], { role: "query" }),
            embedder.embedQuery("what is BM25?"),
            embedder.embed(["what is BM25?"], { instruction: DEFAULT_INSTRUCTION }),
        ]);
        // Batched together, so equal up to batch invariance (README: worst cosine 1.0000000), not bit for bit.
        expect(viaRole.tokens[0]).toBe(viaQuery.tokens);
        expect(viaRole.tokens[0]).toBe(viaInstruction.tokens[0]);
        expect(embedder.similarity(viaRole.embeddings[0]!, viaQuery.embedding)).toBeGreaterThan(0.99999);
        expect(embedder.similarity(viaRole.embeddings[0]!, viaInstruction.embeddings[0]!)).toBeGreaterThan(0.99999);
        const document = await embedder.embed(["what is BM25?"], { role: "document" });
        expect(viaRole.tokens[0]).toBeGreaterThan(document.tokens[0]! + 10);
    });

    it('role "document" embeds the raw text, exactly as embedDocuments, and refuses an instruction', async () => {
        const [viaRole, viaDocuments] = await Promise.all([
            embedder.embed(["BM25 ranks documents"], { role: "document" }),
            embedder.embedDocuments(["BM25 ranks documents"]),
        ]);
        expect(viaRole.tokens).toEqual(viaDocuments.tokens);
        expect(embedder.similarity(viaRole.embeddings[0]!, viaDocuments.embeddings[0]!)).toBeGreaterThan(0.99999);
        await expect(embedder.embed(["x"], { role: "document", instruction: "Find it" })).rejects.toThrow(/takes no instruction/);
        await expect(embedder.embedDocuments(["x"], { role: "query" })).rejects.toThrow(InvalidOptionError);
    });

    it("an unknown role is an InvalidOptionError naming it", async () => {
        await expect(embedder.embed(["x"], { role: "passage" as "query" })).rejects.toThrow(/for role but received the string "passage"/);
    });

    it("without a role, documents are embedded and one warning says how to choose", async () => {
        const warnings: Error[] = [];
        const listen = (warning: Error) => warnings.push(warning);
        process.on("warning", listen);
        try {
            await embedder.embed(["no role given"]);
            await embedder.embed(["no role given again"]);
            await new Promise((resolve) => setImmediate(resolve)); // warnings are emitted on the next tick
        } finally {
            process.off("warning", listen);
        }
        const ours = warnings.filter((warning) => (warning as Error & { code?: string }).code === "QWEN3_EMBEDDING_ROLE");
        expect(ours).toHaveLength(1);
        expect(ours[0]!.message).toContain('{ role: "query" }');
    });
});

describe("types follow the options", () => {
    it("the default output is Float32Array; int8 is Int8Array; ubinary is Uint8Array", async () => {
        const floats = await embedder.embed(["typed"], { role: "document" });
        const int8 = await embedder.embed(["typed"], { role: "document", outputType: "int8" });
        const ubinary = await embedder.embed(["typed"], { role: "document", outputType: "ubinary" });
        expectTypeOf(floats.embeddings).toEqualTypeOf<Float32Array[]>();
        expectTypeOf(int8.embeddings).toEqualTypeOf<Int8Array[]>();
        expectTypeOf(ubinary.embeddings).toEqualTypeOf<Uint8Array[]>();
        expectTypeOf(await embedder.embedQuery("q")).toMatchTypeOf<{ embedding: Float32Array }>();
        expect(floats.embeddings[0]).toBeInstanceOf(Float32Array);
        expect(int8.embeddings[0]).toBeInstanceOf(Int8Array);
        expect(ubinary.embeddings[0]).toBeInstanceOf(Uint8Array);
        expectTypeOf(floats).toMatchTypeOf<EmbeddingResult>();
    });

    it("similarity takes what embed returns, on the cosine scale for every output type", async () => {
        const texts = ["the cat sat on the mat", "a cat was sitting on a mat", "quarterly revenue grew 4%"];
        const floats = (await embedder.embed(texts, { role: "document" })).embeddings;
        const int8 = (await embedder.embed(texts, { role: "document", outputType: "int8" })).embeddings;
        const binary = (await embedder.embed(texts, { role: "document", outputType: "binary" })).embeddings;
        const cosine = embedder.similarity(floats[0]!, floats[1]!);
        expect(cosine).toBeGreaterThan(-1);
        expect(Math.abs(embedder.similarity(int8[0]!, int8[1]!) - cosine)).toBeLessThan(0.02);
        expect(embedder.similarity(binary[0]!, binary[0]!, "binary")).toBe(1);
        const signAgreement = embedder.similarity(binary[0]!, binary[2]!, "binary");
        expect(signAgreement).toBeGreaterThanOrEqual(-1);
        expect(signAgreement).toBeLessThan(1);
        expect(() => embedder.similarity(floats[0]!, int8[0]! as never)).toThrow(/Expected a Float32Array for b/);
    });
});

describe("the facade's own tokenizer", () => {
    it("embedder.tokenize / detokenize match the Hugging Face tokenizer and round-trip", async () => {
        const text = "Tokenize me: <|im_end|> stays text, and 東京 too";
        const [ids] = await embedder.tokenize([text]);
        expect(Array.from(ids!)).not.toContain(151645);
        expect(await embedder.detokenize(ids!)).toBe(text);
        const plain = "plain words, nothing special";
        expect(Array.from((await embedder.tokenize([plain]))[0]!)).toEqual(referenceTokenize(plain));
        expect(embedder.vocabularySize).toBeGreaterThan(151643);
        await expect(embedder.detokenize([embedder.vocabularySize])).rejects.toThrow(/for ids\[0\]/);
    });

    it("createTokenizer loads no context, gives the same ids, and has the one lifecycle", async () => {
        const tokenizer = await createTokenizer({ model: path });
        expect(tokenizer.disposed).toBe(false);
        expect(Array.from((await tokenizer.tokenize(["same ids"]))[0]!)).toEqual(Array.from((await embedder.tokenize(["same ids"]))[0]!));
        await tokenizer.dispose();
        expect(tokenizer.disposed).toBe(true);
        await tokenizer.dispose();
        await expect(tokenizer.tokenize(["x"])).rejects.toThrow(DisposedError);
    });
});

describe("one lifecycle: dispose(), disposed, Symbol.asyncDispose", () => {
    it("an embedder disposes once, reports it, and refuses calls after", async () => {
        const own = await createEmbedder({ model: path, batchTokens: 256, contextSize: 512, workers: 0 });
        expect(own.disposed).toBe(false);
        const disposing = own.dispose();
        expect(disposing).toBeInstanceOf(Promise);
        await disposing;
        expect(own.disposed).toBe(true);
        await own.dispose();
        await own.close();
        await expect(own.embed(["x"], { role: "document" })).rejects.toThrow(DisposedError);
    });

    it("Symbol.asyncDispose disposes", async () => {
        const own = await createEmbedder({ model: path, batchTokens: 256, contextSize: 512, workers: 0 });
        await own[Symbol.asyncDispose]();
        expect(own.disposed).toBe(true);
    });
});
