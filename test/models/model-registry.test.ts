import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InvalidOptionError, ModelFileError } from "../../src/internal/errors.js";
import { defaultManifestPath, loadModelManifest } from "../../src/models/model-manifest.js";
import { findModel, listModelIds, listModels, resolveModelSource } from "../../src/models/model-registry.js";
import { huggingFaceEndpoint, huggingFaceFileUrl, quantFileInListing } from "../../src/models/huggingface-access.js";
import { parseModelReference } from "../../src/models/model-source.js";
import type { RegistryModel } from "../../src/models/registry-model.js";

const KNOWN = "qwen3-embedding-0.6b, qwen3-embedding-4b, qwen3-embedding-8b, qwen3-reranker-0.6b, qwen3-reranker-4b, qwen3-reranker-8b";
const INSTRUCTION = "Given a web search query, retrieve relevant passages that answer the query";

function thrown(action: () => unknown): Error {
    try {
        action();
    } catch (error) {
        return error as Error;
    }
    throw new Error("expected the call to throw");
}

describe("manifest content", () => {
    it("lists the six official models in order", () => {
        expect(listModelIds()).toEqual([
            "qwen3-embedding-0.6b", "qwen3-embedding-4b", "qwen3-embedding-8b",
            "qwen3-reranker-0.6b", "qwen3-reranker-4b", "qwen3-reranker-8b",
        ]);
    });

    it("gives each embedding model its dimension, MRL range, layers and context", () => {
        const shapes = listModels()
            .filter((model) => model.kind === "embedding")
            .map((model) => model.kind === "embedding" && [model.name, model.parameters, model.layers, model.dimension, model.mrlRange, model.contextLength]);
        expect(shapes).toEqual([
            ["Qwen3-Embedding-0.6B", "0.6B", 28, 1024, [32, 1024], 32768],
            ["Qwen3-Embedding-4B", "4B", 36, 2560, [32, 2560], 32768],
            ["Qwen3-Embedding-8B", "8B", 36, 4096, [32, 4096], 32768],
        ]);
    });

    it("gives each reranker its layers, hidden size and context, and no embedding dimension", () => {
        const shapes = listModels()
            .filter((model) => model.kind === "reranker")
            .map((model) => [model.name, model.parameters, model.layers, model.hiddenSize, model.contextLength, "dimension" in model]);
        expect(shapes).toEqual([
            ["Qwen3-Reranker-0.6B", "0.6B", 28, 1024, 32768, false],
            ["Qwen3-Reranker-4B", "4B", 36, 2560, 32768, false],
            ["Qwen3-Reranker-8B", "8B", 36, 4096, 32768, false],
        ]);
    });

    it("uses the default instruction everywhere", () => {
        expect(new Set(listModels().map((model) => model.defaultInstruction))).toEqual(new Set([INSTRUCTION]));
    });

    it("offers the official embedding quantizations from the Qwen repositories", () => {
        const quants = (model: RegistryModel): string[] => Object.keys(model.gguf.quants);
        expect(quants(findModel("qwen3-embedding-0.6b"))).toEqual(["Q8_0", "F16"]);
        for (const id of ["qwen3-embedding-4b", "qwen3-embedding-8b"]) {
            expect(quants(findModel(id))).toEqual(["Q4_K_M", "Q5_0", "Q5_K_M", "Q6_K", "Q8_0", "F16"]);
        }
        for (const size of ["0.6B", "4B", "8B"]) {
            const model = findModel(`qwen3-embedding-${size.toLowerCase()}`);
            for (const [quant, source] of Object.entries(model.gguf.quants)) {
                expect(source.repo).toBe(`Qwen/Qwen3-Embedding-${size}-GGUF`);
                expect(source.file).toBe(`Qwen3-Embedding-${size}-${quant === "F16" ? "f16" : quant}.gguf`);
            }
        }
    });

    it("takes the 0.6B reranker's Q8_0 from ggml-org and marks every reranker source with its flavour", () => {
        expect(resolveModelSource("qwen3-reranker-0.6b")).toEqual({
            id: "qwen3-reranker-0.6b",
            quant: "Q8_0",
            repo: "ggml-org/Qwen3-Reranker-0.6B-Q8_0-GGUF",
            file: "qwen3-reranker-0.6b-q8_0.gguf",
            url: "https://huggingface.co/ggml-org/Qwen3-Reranker-0.6B-Q8_0-GGUF/resolve/main/qwen3-reranker-0.6b-q8_0.gguf",
        });
        for (const model of listModels().filter((entry) => entry.kind === "reranker")) {
            for (const source of Object.values(model.gguf.quants)) expect(["rank", "causal-lm"]).toContain(source.flavour);
            expect(model.gguf.note).toMatch(/RANK/);
        }
    });

    it("has a default quantization for every model, present among its quantizations", () => {
        for (const model of listModels()) expect(Object.keys(model.gguf.quants)).toContain(model.gguf.defaultQuant);
    });

    it("builds well-formed Hugging Face URLs for every source", () => {
        for (const model of listModels()) {
            for (const quant of Object.keys(model.gguf.quants)) {
                const source = resolveModelSource(model.id, quant);
                const url = new URL(source.url);
                expect(url.origin).toBe("https://huggingface.co");
                expect(url.pathname).toBe(`/${source.repo}/resolve/main/${source.file}`);
                expect(source.file).toMatch(/^[\w.-]+\.gguf$/);
                expect(source.repo).toMatch(/^[\w.-]+\/[\w.-]+$/);
            }
        }
    });

    it("stores every file under its own name", () => {
        const files = listModels().flatMap((model) => Object.values(model.gguf.quants).map((source) => source.file.toLowerCase()));
        expect(new Set(files).size).toBe(files.length);
    });

    it("is frozen", () => {
        const model = findModel("qwen3-embedding-0.6b");
        expect(Object.isFrozen(model)).toBe(true);
        expect(Object.isFrozen(model.gguf.quants)).toBe(true);
    });

    it("lives in models/manifest.json", () => {
        expect(defaultManifestPath().replace(/\\/g, "/")).toMatch(/\/models\/manifest\.json$/);
    });
});

describe("findModel", () => {
    it("finds by id, ignoring case and surrounding spaces", () => {
        expect(findModel("Qwen3-Embedding-0.6B").id).toBe("qwen3-embedding-0.6b");
        expect(findModel(" qwen3-reranker-4b ").id).toBe("qwen3-reranker-4b");
    });

    it("finds by GGUF repository and by original checkpoint", () => {
        expect(findModel("Qwen/Qwen3-Embedding-0.6B-GGUF").id).toBe("qwen3-embedding-0.6b");
        expect(findModel("qwen/qwen3-embedding-8b-gguf").id).toBe("qwen3-embedding-8b");
        expect(findModel("Qwen/Qwen3-Reranker-8B").id).toBe("qwen3-reranker-8b");
        expect(findModel("ggml-org/Qwen3-Reranker-0.6B-Q8_0-GGUF").id).toBe("qwen3-reranker-0.6b");
    });

    it("lists the known ids for an unknown one", () => {
        const error = thrown(() => findModel("qwen3-embedding-2b"));
        expect(error).toBeInstanceOf(InvalidOptionError);
        expect(error.message).toBe(`Unknown model "qwen3-embedding-2b"; the known models are ${KNOWN}`);
    });

    it("refuses what is not a non-empty string", () => {
        expect(thrown(() => findModel("")).message).toBe('Expected a non-empty string for model id but received the string ""');
        expect(thrown(() => findModel(42 as unknown as string)).message).toBe("Expected a non-empty string for model id but received number 42");
    });
});

describe("resolveModelSource", () => {
    it("uses the default quantization when none is given", () => {
        expect(resolveModelSource("qwen3-embedding-0.6b")).toEqual({
            id: "qwen3-embedding-0.6b",
            quant: "Q8_0",
            repo: "Qwen/Qwen3-Embedding-0.6B-GGUF",
            file: "Qwen3-Embedding-0.6B-Q8_0.gguf",
            url: "https://huggingface.co/Qwen/Qwen3-Embedding-0.6B-GGUF/resolve/main/Qwen3-Embedding-0.6B-Q8_0.gguf",
        });
    });

    it("matches quantizations ignoring case, given apart or after a colon", () => {
        const expected = {
            id: "qwen3-embedding-4b",
            quant: "Q4_K_M",
            repo: "Qwen/Qwen3-Embedding-4B-GGUF",
            file: "Qwen3-Embedding-4B-Q4_K_M.gguf",
            url: "https://huggingface.co/Qwen/Qwen3-Embedding-4B-GGUF/resolve/main/Qwen3-Embedding-4B-Q4_K_M.gguf",
        };
        expect(resolveModelSource("qwen3-embedding-4b", "q4_k_m")).toEqual(expected);
        expect(resolveModelSource("qwen3-embedding-4b:Q4_K_M")).toEqual(expected);
        expect(resolveModelSource("Qwen/Qwen3-Embedding-4B-GGUF:q4_k_m", "Q4_K_M")).toEqual(expected);
        expect(resolveModelSource("qwen3-embedding-8b", "f16").file).toBe("Qwen3-Embedding-8B-f16.gguf");
    });

    it("lists the available quantizations for an unknown one", () => {
        const error = thrown(() => resolveModelSource("qwen3-embedding-0.6b", "Q4_K_M"));
        expect(error).toBeInstanceOf(InvalidOptionError);
        expect(error.message).toBe('Unknown quantization "Q4_K_M" for qwen3-embedding-0.6b; the available quantizations are Q8_0 (default), F16');
        expect(thrown(() => resolveModelSource("qwen3-embedding-8b:Q2_K")).message).toBe(
            'Unknown quantization "Q2_K" for qwen3-embedding-8b; the available quantizations are Q4_K_M, Q5_0, Q5_K_M, Q6_K, Q8_0 (default), F16',
        );
    });

    it("lists the known ids for an unknown model", () => {
        expect(thrown(() => resolveModelSource("bge-m3", "Q8_0")).message).toBe(`Unknown model "bge-m3"; the known models are ${KNOWN}`);
    });

    it("refuses two different quantizations", () => {
        expect(thrown(() => resolveModelSource("qwen3-embedding-0.6b:F16", "Q8_0")).message).toBe(
            'Conflicting quantizations for qwen3-embedding-0.6b: "F16" in the model id and "Q8_0" in quant; give one',
        );
    });

    it("refuses an empty quantization", () => {
        expect(thrown(() => resolveModelSource("qwen3-embedding-0.6b", "")).message).toBe(
            'Expected a non-empty string for quant but received the string ""',
        );
    });
});

describe("parseModelReference", () => {
    it("splits at the last colon", () => {
        expect(parseModelReference("qwen3-embedding-0.6b")).toEqual({ id: "qwen3-embedding-0.6b", quant: undefined });
        expect(parseModelReference("qwen3-embedding-0.6b:F16")).toEqual({ id: "qwen3-embedding-0.6b", quant: "F16" });
    });

    it("refuses an empty half", () => {
        expect(thrown(() => parseModelReference("qwen3-embedding-0.6b:")).message).toBe(
            'Expected "<id>" or "<id>:<quant>" (such as "qwen3-embedding-0.6b:Q8_0") for model but received "qwen3-embedding-0.6b:"',
        );
    });
});

describe("Hugging Face URLs and listings", () => {
    it("encodes each path segment", () => {
        expect(huggingFaceFileUrl("owner/repo", "dir/a b.gguf")).toBe("https://huggingface.co/owner/repo/resolve/main/dir/a%20b.gguf");
        expect(huggingFaceFileUrl("owner/repo", "a.gguf", "http://mirror:8080/hf")).toBe("http://mirror:8080/hf/owner/repo/resolve/main/a.gguf");
    });

    it("takes HF_ENDPOINT without its trailing slash", () => {
        expect(huggingFaceEndpoint({})).toBe("https://huggingface.co");
        expect(huggingFaceEndpoint({ HF_ENDPOINT: "https://hf-mirror.com/" })).toBe("https://hf-mirror.com");
        expect(thrown(() => huggingFaceEndpoint({ HF_ENDPOINT: "ftp://x" })).message).toBe(
            'Expected an http:// or https:// URL for HF_ENDPOINT but received the string "ftp://x"',
        );
    });

    it("finds the file of a quantization in a repository listing: the quantization as a word, any case, no split files", () => {
        const listing = (...names: string[]) => ({ siblings: names.map((rfilename) => ({ rfilename })) });
        expect(quantFileInListing(listing("README.md", "m-Q8_0.gguf", "m-f16.gguf"), "F16")).toBe("m-f16.gguf");
        expect(quantFileInListing(listing("m.Q4_K_M.gguf", "m.Q4_K.gguf"), "Q4_K")).toBe("m.Q4_K.gguf");
        expect(quantFileInListing(listing("m-Q8_0-00001-of-00002.gguf", "x/m-q8_0.gguf", "m-Q8_0-long.gguf"), "Q8_0")).toBe("x/m-q8_0.gguf");
        expect(quantFileInListing(listing("m-Q8_0.bin"), "Q8_0")).toBeUndefined();
        expect(quantFileInListing({ error: "Repository not found" }, "Q8_0")).toBeUndefined();
    });
});

describe("loadModelManifest checks the shape", () => {
    let dir: string;
    const valid = (): { schemaVersion: number; models: Record<string, unknown>[] } => ({
        schemaVersion: 1,
        models: [{
            id: "m-emb",
            name: "M-Emb",
            kind: "embedding",
            baseModel: "o/M-Emb",
            parameters: "1B",
            layers: 2,
            hiddenSize: 64,
            dimension: 64,
            mrlRange: [32, 64],
            contextLength: 1024,
            defaultInstruction: "x",
            gguf: { defaultQuant: "Q8_0", quants: { Q8_0: { repo: "o/M-Emb-GGUF", file: "m-emb-q8_0.gguf" } } },
        }],
    });
    let counter = 0;
    const load = async (content: unknown): Promise<{ path: string; error: Error | undefined; models?: readonly RegistryModel[] }> => {
        const path = join(dir, `manifest-${counter++}.json`);
        await writeFile(path, typeof content === "string" ? content : JSON.stringify(content));
        try {
            return { path, error: undefined, models: loadModelManifest(path) };
        } catch (error) {
            return { path, error: error as Error };
        }
    };

    beforeAll(async () => {
        dir = await mkdtemp(join(tmpdir(), "qwen3-manifest-"));
    });
    afterAll(async () => {
        await rm(dir, { recursive: true, force: true });
    });

    it("accepts a valid manifest and returns the same object on the next call", async () => {
        const { path, error, models } = await load(valid());
        expect(error).toBeUndefined();
        expect(models?.map((model) => model.id)).toEqual(["m-emb"]);
        expect(loadModelManifest(path)).toBe(models);
    });

    it("names a missing file", () => {
        const path = join(dir, "absent.json");
        const error = thrown(() => loadModelManifest(path));
        expect(error).toBeInstanceOf(ModelFileError);
        expect(error.message).toMatch(new RegExp(`^Cannot read the model manifest ${path.replace(/[\\^$.*+?()[\]{}|]/g, "\\$&")}: ENOENT`));
    });

    it("names broken JSON", async () => {
        const { path, error } = await load("{ nope");
        expect(error).toBeInstanceOf(ModelFileError);
        expect(error?.message).toMatch(new RegExp(`^The model manifest ${path.replace(/[\\^$.*+?()[\]{}|]/g, "\\$&")} is not valid JSON: `));
    });

    it.each([
        ["a wrong schema version", (m: ReturnType<typeof valid>) => { m.schemaVersion = 2; }, "expected 1 at schemaVersion but found 2"],
        ["no models", (m: ReturnType<typeof valid>) => { m.models = []; }, "expected a non-empty array at models but found []"],
        ["an upper-case id", (m: ReturnType<typeof valid>) => { m.models[0]!["id"] = "M-Emb"; }, 'expected a lower-case id without colons at models[0].id but found "M-Emb"'],
        ["an unknown kind", (m: ReturnType<typeof valid>) => { m.models[0]!["kind"] = "chat"; }, 'expected one of "embedding", "reranker" at models["m-emb"].kind but found "chat"'],
        ["a fractional layer count", (m: ReturnType<typeof valid>) => { m.models[0]!["layers"] = 2.5; }, 'expected a positive integer at models["m-emb"].layers but found 2.5'],
        ["a dimension unlike the hidden size", (m: ReturnType<typeof valid>) => { m.models[0]!["dimension"] = 32; }, 'expected the hidden size 64 at models["m-emb"].dimension but found 32'],
        ["a wrong MRL range", (m: ReturnType<typeof valid>) => { m.models[0]!["mrlRange"] = [16, 64]; }, 'expected [32, 64] at models["m-emb"].mrlRange but found [16,64]'],
        ["a default quantization not offered", (m: ReturnType<typeof valid>) => { (m.models[0]!["gguf"] as { defaultQuant: string }).defaultQuant = "F16"; }, 'expected one of Q8_0 at models["m-emb"].gguf.defaultQuant but found "F16"'],
        ["a file that is not a .gguf", (m: ReturnType<typeof valid>) => { (m.models[0]!["gguf"] as { quants: { Q8_0: { file: string } } }).quants.Q8_0.file = "x.bin"; }, 'expected a .gguf file name without directories at models["m-emb"].gguf.quants.Q8_0.file but found "x.bin"'],
        ["a repository without owner", (m: ReturnType<typeof valid>) => { (m.models[0]!["gguf"] as { quants: { Q8_0: { repo: string } } }).quants.Q8_0.repo = "repo"; }, 'expected a Hugging Face repository "owner/name" at models["m-emb"].gguf.quants.Q8_0.repo but found "repo"'],
        ["a lower-case quantization", (m: ReturnType<typeof valid>) => { const gguf = m.models[0]!["gguf"] as { quants: Record<string, unknown> }; gguf.quants = { q8_0: gguf.quants["Q8_0"] }; }, 'expected a quantization named in upper case (Q8_0, F16) at models["m-emb"].gguf.quants.q8_0 but found "q8_0"'],
        ["a flavour on an embedding model", (m: ReturnType<typeof valid>) => { (m.models[0]!["gguf"] as { quants: { Q8_0: Record<string, unknown> } }).quants.Q8_0["flavour"] = "rank"; }, 'expected no flavour on an embedding model at models["m-emb"].gguf.quants.Q8_0.flavour but found "rank"'],
        ["a missing name", (m: ReturnType<typeof valid>) => { delete m.models[0]!["name"]; }, 'expected a non-empty string at models["m-emb"].name but found nothing'],
        ["two models sharing a file", (m: ReturnType<typeof valid>) => {
            m.models.push({ ...structuredClone(m.models[0]!), id: "m-two", name: "M-Two", baseModel: "o/M-Two",
                gguf: { defaultQuant: "F16", quants: { F16: { repo: "o/M-Two-GGUF", file: "M-EMB-Q8_0.gguf" } } } });
        }, 'expected a file name no other source uses (m-emb Q8_0 uses it) at m-two F16 but found "M-EMB-Q8_0.gguf"'],
        ["two models sharing a repository", (m: ReturnType<typeof valid>) => {
            m.models.push({ ...structuredClone(m.models[0]!), id: "m-two", name: "M-Two", baseModel: "o/M-Two",
                gguf: { defaultQuant: "F16", quants: { F16: { repo: "o/M-Emb-GGUF", file: "m-two.gguf" } } } });
        }, 'expected a name no other model uses (m-emb uses it) at model m-two but found "o/M-Emb-GGUF"'],
    ])("refuses %s", async (_, change, problem) => {
        const manifest = valid();
        change(manifest);
        const { path, error } = await load(manifest);
        expect(error).toBeInstanceOf(ModelFileError);
        expect(error?.message).toBe(`The model manifest ${path} is malformed: ${problem}`);
    });
});
