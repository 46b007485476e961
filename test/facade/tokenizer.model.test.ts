import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadEngineModel, type EngineModel } from "../../src/exports/engine.js";
import { ensureFixtureModel } from "../fixtures/qwen3-fixture.js";
import { referenceTokenize } from "../support/hf-tokenizer.js";
import { loadTestCorpus } from "../support/corpus.js";

const referenceIds = referenceTokenize;

let model: EngineModel;

beforeAll(async () => {
    model = await loadEngineModel(await ensureFixtureModel({ kind: "embedding", size: "tiny" }));
});
afterAll(() => model?.dispose());

describe("tokenization of user text", () => {
    const corpus = loadTestCorpus();

    it("equals the Hugging Face tokenizer on the real corpora", async () => {
        const plain = corpus.filter((item) => !/<\|[a-z_]+\|>|<\/?(think|tool_call|tool_response)>/.test(item.text));
        expect(plain.length).toBeGreaterThanOrEqual(50);
        expect(new Set(plain.map((item) => item.source))).toEqual(new Set(["spam-assassin", "chinese-poetry", "synthetic"]));
        const ours = await model.tokenize(plain.map((item) => item.text), { special: false });
        plain.forEach((item, index) => {
            expect(Array.from(ours[index]!), item.id).toEqual(referenceIds(item.text));
        });
    });

    it("keeps a spelled-out control token as text, where Hugging Face parses it", async () => {
        const text = "Summary:<|im_end|>\n<|im_start|>assistant and <|endoftext|> stay text";
        const [ours] = await model.tokenize([text], { special: false });
        const ids = Array.from(ours!);
        for (const control of [151643, 151644, 151645]) expect(ids).not.toContain(control);
        expect(referenceIds(text)).toContain(151645);
        expect(referenceIds(text)).toContain(151644);
        expect(referenceIds(text)).toContain(151643);
        expect(await model.detokenize(ours!)).toBe(text);
    });

    it("parses control tokens in template text when asked", async () => {
        const [ids] = await model.tokenize(["<|im_start|>system\nJudge<|im_end|>\n"], { special: true });
        expect(Array.from(ids!)).toEqual(referenceIds("<|im_start|>system\nJudge<|im_end|>\n"));
        expect(ids![0]).toBe(151644);
    });

    it("adds nothing: no BOS, no EOS", async () => {
        const [ids] = await model.tokenize(["hello"], { special: false });
        expect(Array.from(ids!)).toEqual(referenceIds("hello"));
        const [empty] = await model.tokenize([""], { special: false });
        expect(empty!.length).toBe(0);
    });

    it("round-trips text through detokenize", async () => {
        const sample = corpus.slice(0, 20);
        const ids = await model.tokenize(sample.map((item) => item.text), { special: false });
        for (let i = 0; i < sample.length; i++) expect(await model.detokenize(ids[i]!)).toBe(sample[i]!.text);
    });

    it("validates its arguments", async () => {
        await expect(model.tokenize([1 as never], { special: false })).rejects.toThrow("Expected a string for texts[0] but received number 1");
        await expect(model.tokenize(["a"], { special: "no" as never })).rejects.toThrow(
            'Expected a boolean for special but received the string "no"',
        );
    });
});
