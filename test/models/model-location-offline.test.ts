/**
 * A local path resolves with no network and without the registry: node-llama-cpp and the registry are replaced by
 * modules that fail when used, and fetch by a stub that records calls.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterAll, beforeAll, expect, it, vi } from "vitest";

const used = vi.hoisted(() => ({ nodeLlamaCpp: false, registry: [] as string[] }));

vi.mock("node-llama-cpp", () => {
    used.nodeLlamaCpp = true;
    throw new Error("node-llama-cpp must not be imported to resolve a local path");
});

const refuse = vi.hoisted(() => (name: string) => () => {
    used.registry.push(name);
    throw new Error(`the registry (${name}) must not be consulted for a local path`);
});

vi.mock("../../src/models/model-manifest.js", () => ({
    defaultManifestPath: refuse("defaultManifestPath"),
}));

vi.mock("../../src/models/model-registry.js", () => ({
    findModel: refuse("findModel"),
    listModelIds: refuse("listModelIds"),
    lookUpModel: refuse("lookUpModel"),
    resolveModelSource: refuse("resolveModelSource"),
}));

vi.mock("../../src/models/model-source.js", () => ({
    parseModelReference: refuse("parseModelReference"),
}));

const { resolveModelPath } = await import("../../src/models/model-location.js");
const { ModelFileError } = await import("../../src/internal/errors.js");

let dir: string;
let file: string;
const fetchStub = vi.fn(() => {
    throw new Error("no network access expected");
});

beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "qwen3-offline-"));
    file = join(dir, "Qwen3-Embedding-0.6B-Q8_0.gguf");
    await writeFile(file, "GGUF");
    vi.stubGlobal("fetch", fetchStub);
});

afterAll(async () => {
    vi.unstubAllGlobals();
    await rm(dir, { recursive: true, force: true });
});

it("resolves absolute and relative paths without fetch, node-llama-cpp or the registry", async () => {
    expect(await resolveModelPath(file)).toBe(file);
    expect(await resolveModelPath(relative(process.cwd(), file))).toBe(file);
    expect(await resolveModelPath(file, { modelsDir: join(dir, "elsewhere") })).toBe(file);
    expect(fetchStub).not.toHaveBeenCalled();
    expect(used.nodeLlamaCpp).toBe(false);
    expect(used.registry).toEqual([]);
});

it("reports a missing local file without fetch, node-llama-cpp or the registry", async () => {
    const missing = join(dir, "missing.gguf");
    await expect(resolveModelPath(missing)).rejects.toBeInstanceOf(ModelFileError);
    await expect(resolveModelPath(missing)).rejects.toThrow(`Model file not found: ${missing}.`);
    expect(fetchStub).not.toHaveBeenCalled();
    expect(used.nodeLlamaCpp).toBe(false);
    expect(used.registry).toEqual([]);
});
