/**
 * The registry of official Qwen3 models: `models/manifest.json`, read on first use (never on import), checked once,
 * and looked up by id, name or Hugging Face repository.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { InvalidOptionError, ModelFileError } from "../internal/errors.js";
import { checkString } from "../internal/validation.js";

export type RegistryModelKind = "embedding" | "reranker";

/** How a reranker GGUF scores: RANK pooling over a [yes, no] classifier, or the yes/no logits of a plain causal LM. */
export type RerankerGgufFlavour = "rank" | "causal-lm";

/** One downloadable GGUF file of a model. */
export interface GgufFileSource {
    /** Hugging Face repository, "owner/name". */
    readonly repo: string;
    /** File name inside the repository (and in the models directory once pulled). */
    readonly file: string;
    /** Rerankers only: the flavour the conversion is expected to have. */
    readonly flavour?: RerankerGgufFlavour;
    readonly note?: string;
}

interface RegistryModelBase {
    /** Registry id, lower case: "qwen3-embedding-0.6b". */
    readonly id: string;
    /** Official name: "Qwen3-Embedding-0.6B". */
    readonly name: string;
    readonly kind: RegistryModelKind;
    /** The original checkpoint: "Qwen/Qwen3-Embedding-0.6B". */
    readonly baseModel: string;
    /** Parameter count as Qwen states it: "0.6B". */
    readonly parameters: string;
    readonly layers: number;
    readonly hiddenSize: number;
    readonly contextLength: number;
    readonly defaultInstruction: string;
    readonly gguf: {
        readonly defaultQuant: string;
        readonly quants: Readonly<Record<string, GgufFileSource>>;
        readonly note?: string;
    };
}

export interface EmbeddingRegistryModel extends RegistryModelBase {
    readonly kind: "embedding";
    /** Full embedding dimension. */
    readonly dimension: number;
    /** Matryoshka (MRL) dimensions accepted: [32, dimension]. */
    readonly mrlRange: readonly [number, number];
}

export interface RerankerRegistryModel extends RegistryModelBase {
    readonly kind: "reranker";
}

export type RegistryModel = EmbeddingRegistryModel | RerankerRegistryModel;

/** Where one quantization of a model is downloaded from. */
export interface ModelSource {
    /** Registry id of the model. */
    readonly id: string;
    readonly quant: string;
    readonly repo: string;
    readonly file: string;
    /** https://huggingface.co/<repo>/resolve/main/<file> */
    readonly url: string;
}

/** A model reference split into id and quantization: "qwen3-embedding-0.6b:F16" → { id, quant: "F16" }. */
export interface ModelReference {
    readonly id: string;
    readonly quant: string | undefined;
}

/** The manifest shipped with the package: models/manifest.json next to package.json (from src/models or dist/models). */
export function defaultManifestPath(): string {
    return fileURLToPath(new URL("../../models/manifest.json", import.meta.url));
}

const loadedManifests = new Map<string, readonly RegistryModel[]>();

/** Reads and checks a manifest file. Throws ModelFileError naming the file and the first problem found. */
export function loadModelManifest(path: string = defaultManifestPath()): readonly RegistryModel[] {
    const cached = loadedManifests.get(path);
    if (cached !== undefined) return cached;
    let text: string;
    try {
        text = readFileSync(path, "utf8");
    } catch (error) {
        throw new ModelFileError(
            `Cannot read the model manifest ${path}: ${(error as Error).message}; reinstall qwen3-embedding, or pass model file paths instead of ids`,
            { cause: error },
        );
    }
    let parsed: unknown;
    try {
        parsed = JSON.parse(text);
    } catch (error) {
        throw new ModelFileError(`The model manifest ${path} is not valid JSON: ${(error as Error).message}`, { cause: error });
    }
    const models = deepFreeze(checkManifest(parsed, path));
    loadedManifests.set(path, models);
    return models;
}

/** All models the registry knows, in manifest order. */
export function listModels(): readonly RegistryModel[] {
    return loadModelManifest();
}

/** The ids the registry knows, in manifest order. */
export function listModelIds(): string[] {
    return listModels().map((model) => model.id);
}

/**
 * Finds a model by registry id ("qwen3-embedding-0.6b"), official name ("Qwen3-Embedding-0.6B"), original checkpoint
 * ("Qwen/Qwen3-Embedding-0.6B") or GGUF repository ("Qwen/Qwen3-Embedding-0.6B-GGUF"), ignoring case.
 * Throws InvalidOptionError listing the known ids when nothing matches.
 */
export function findModel(id: string): RegistryModel {
    checkString("model id", id, { allowEmpty: false });
    const model = lookUpModel(id);
    if (model === undefined) {
        throw new InvalidOptionError(`Unknown model ${JSON.stringify(id)}; the known models are ${listModelIds().join(", ")}`);
    }
    return model;
}

/** Like findModel, but undefined instead of an error when nothing matches. */
export function lookUpModel(id: string): RegistryModel | undefined {
    const wanted = id.trim().toLowerCase();
    return listModels().find((model) => namesOf(model).includes(wanted));
}

/**
 * Where to download a model from: its `quant` (case-insensitive; default: the model's default quantization), or the
 * quantization written after a colon in `id` ("qwen3-embedding-0.6b:F16").
 */
export function resolveModelSource(id: string, quant?: string): ModelSource {
    const reference = parseModelReference(id);
    if (quant !== undefined) checkString("quant", quant, { allowEmpty: false });
    if (quant !== undefined && reference.quant !== undefined && quant.toUpperCase() !== reference.quant.toUpperCase()) {
        throw new InvalidOptionError(
            `Conflicting quantizations for ${reference.id}: ${JSON.stringify(reference.quant)} in the model id and ${JSON.stringify(quant)} in quant; give one`,
        );
    }
    const model = findModel(reference.id);
    const wanted = quant ?? reference.quant ?? model.gguf.defaultQuant;
    const key = Object.keys(model.gguf.quants).find((name) => name.toUpperCase() === wanted.toUpperCase());
    const source = key === undefined ? undefined : model.gguf.quants[key];
    if (key === undefined || source === undefined) {
        throw new InvalidOptionError(
            `Unknown quantization ${JSON.stringify(wanted)} for ${model.id}; the available quantizations are ${describeQuants(model)}`,
        );
    }
    return { id: model.id, quant: key, repo: source.repo, file: source.file, url: huggingFaceFileUrl(source.repo, source.file) };
}

/** The quantizations of a model, default marked: "Q8_0 (default), F16". */
export function describeQuants(model: RegistryModel): string {
    return Object.keys(model.gguf.quants)
        .map((name) => (name === model.gguf.defaultQuant ? `${name} (default)` : name))
        .join(", ");
}

/** Splits "id:QUANT" at its last colon; a reference without a colon has no quantization. */
export function parseModelReference(reference: string): ModelReference {
    checkString("model id", reference, { allowEmpty: false });
    const colon = reference.lastIndexOf(":");
    if (colon === -1) return { id: reference, quant: undefined };
    const id = reference.slice(0, colon);
    const quant = reference.slice(colon + 1);
    if (id.length === 0 || quant.length === 0) {
        throw new InvalidOptionError(
            `Expected "<id>" or "<id>:<quant>" (such as "qwen3-embedding-0.6b:Q8_0") for model but received ${JSON.stringify(reference)}`,
        );
    }
    return { id, quant };
}

export function huggingFaceFileUrl(repo: string, file: string): string {
    const encodedPath = (text: string): string => text.split("/").map(encodeURIComponent).join("/");
    return `https://huggingface.co/${encodedPath(repo)}/resolve/main/${encodedPath(file)}`;
}

function namesOf(model: RegistryModel): string[] {
    const repos = Object.values(model.gguf.quants).map((source) => source.repo);
    return [model.id, model.name, model.baseModel, ...repos].map((name) => name.toLowerCase());
}

// ---- manifest shape -------------------------------------------------------------------------------------------

class ManifestShape {
    constructor(private readonly path: string) {}

    fail(where: string, expected: string, value: unknown): never {
        throw new ModelFileError(
            `The model manifest ${this.path} is malformed: expected ${expected} at ${where} but found ${JSON.stringify(value) ?? "nothing"}`,
        );
    }

    object(where: string, value: unknown): Record<string, unknown> {
        if (value === null || typeof value !== "object" || Array.isArray(value)) this.fail(where, "an object", value);
        return value as Record<string, unknown>;
    }

    string(where: string, value: unknown): string {
        if (typeof value !== "string" || value.length === 0) this.fail(where, "a non-empty string", value);
        return value;
    }

    optionalString(where: string, value: unknown): string | undefined {
        return value === undefined ? undefined : this.string(where, value);
    }

    integer(where: string, value: unknown): number {
        if (typeof value !== "number" || !Number.isInteger(value) || value <= 0) this.fail(where, "a positive integer", value);
        return value;
    }

    oneOf<T extends string>(where: string, value: unknown, choices: readonly T[]): T {
        if (typeof value !== "string" || !(choices as readonly string[]).includes(value)) {
            this.fail(where, `one of ${choices.map((choice) => JSON.stringify(choice)).join(", ")}`, value);
        }
        return value as T;
    }
}

function checkManifest(value: unknown, path: string): RegistryModel[] {
    const shape: ManifestShape = new ManifestShape(path);
    const root = shape.object("the top level", value);
    if (root["schemaVersion"] !== 1) shape.fail("schemaVersion", "1", root["schemaVersion"]);
    const list = root["models"];
    if (!Array.isArray(list) || list.length === 0) shape.fail("models", "a non-empty array", list);
    const models = list.map((entry, index) => checkModel(shape, `models[${index}]`, entry));

    const seenNames = new Map<string, string>();
    const seenFiles = new Map<string, string>();
    for (const model of models) {
        const repos = new Set(Object.values(model.gguf.quants).map((source) => source.repo));
        for (const name of [model.id, model.name, model.baseModel, ...repos]) {
            const owner = seenNames.get(name.toLowerCase());
            if (owner !== undefined && owner !== model.id) shape.fail(`model ${model.id}`, `a name no other model uses (${owner} uses it)`, name);
            seenNames.set(name.toLowerCase(), model.id);
        }
        for (const [quant, source] of Object.entries(model.gguf.quants)) {
            // Pulled files share one directory; names that differ only in case collide on macOS and Windows.
            const owner = seenFiles.get(source.file.toLowerCase());
            if (owner !== undefined) shape.fail(`${model.id} ${quant}`, `a file name no other source uses (${owner} uses it)`, source.file);
            seenFiles.set(source.file.toLowerCase(), `${model.id} ${quant}`);
        }
    }
    return models;
}

function checkModel(shape: ManifestShape, where: string, value: unknown): RegistryModel {
    const entry = shape.object(where, value);
    const id = shape.string(`${where}.id`, entry["id"]);
    if (id !== id.toLowerCase() || id.includes(":")) shape.fail(`${where}.id`, "a lower-case id without colons", id);
    const at = `models[${JSON.stringify(id)}]`;
    const kind = shape.oneOf(`${at}.kind`, entry["kind"], ["embedding", "reranker"] as const);
    const hiddenSize = shape.integer(`${at}.hiddenSize`, entry["hiddenSize"]);
    const base = {
        id,
        name: shape.string(`${at}.name`, entry["name"]),
        baseModel: shape.string(`${at}.baseModel`, entry["baseModel"]),
        parameters: shape.string(`${at}.parameters`, entry["parameters"]),
        layers: shape.integer(`${at}.layers`, entry["layers"]),
        hiddenSize,
        contextLength: shape.integer(`${at}.contextLength`, entry["contextLength"]),
        defaultInstruction: shape.string(`${at}.defaultInstruction`, entry["defaultInstruction"]),
        gguf: checkGguf(shape, `${at}.gguf`, entry["gguf"], kind),
    };
    if (kind === "reranker") return { ...base, kind };

    const dimension = shape.integer(`${at}.dimension`, entry["dimension"]);
    if (dimension !== hiddenSize) shape.fail(`${at}.dimension`, `the hidden size ${hiddenSize}`, dimension);
    const range = entry["mrlRange"];
    if (!Array.isArray(range) || range.length !== 2 || range[0] !== 32 || range[1] !== dimension) {
        shape.fail(`${at}.mrlRange`, `[32, ${dimension}]`, range);
    }
    return { ...base, kind, dimension, mrlRange: [32, dimension] };
}

function checkGguf(shape: ManifestShape, where: string, value: unknown, kind: RegistryModelKind): RegistryModel["gguf"] {
    const gguf = shape.object(where, value);
    const quantsObject = shape.object(`${where}.quants`, gguf["quants"]);
    const quants: Record<string, GgufFileSource> = {};
    for (const [name, sourceValue] of Object.entries(quantsObject)) {
        const at = `${where}.quants.${name}`;
        if (name !== name.toUpperCase() || !/^[A-Z0-9_]+$/.test(name)) shape.fail(at, "a quantization named in upper case (Q8_0, F16)", name);
        const source = shape.object(at, sourceValue);
        const repo = shape.string(`${at}.repo`, source["repo"]);
        if (!/^[\w.-]+\/[\w.-]+$/.test(repo)) shape.fail(`${at}.repo`, 'a Hugging Face repository "owner/name"', repo);
        const file = shape.string(`${at}.file`, source["file"]);
        if (!file.endsWith(".gguf") || /[/\\]/.test(file)) shape.fail(`${at}.file`, "a .gguf file name without directories", file);
        const flavour = source["flavour"] === undefined
            ? undefined
            : shape.oneOf(`${at}.flavour`, source["flavour"], ["rank", "causal-lm"] as const);
        if (flavour !== undefined && kind !== "reranker") shape.fail(`${at}.flavour`, "no flavour on an embedding model", flavour);
        const note = shape.optionalString(`${at}.note`, source["note"]);
        quants[name] = { repo, file, ...(flavour !== undefined ? { flavour } : {}), ...(note !== undefined ? { note } : {}) };
    }
    if (Object.keys(quants).length === 0) shape.fail(`${where}.quants`, "at least one quantization", quantsObject);
    const defaultQuant = shape.string(`${where}.defaultQuant`, gguf["defaultQuant"]);
    if (quants[defaultQuant] === undefined) shape.fail(`${where}.defaultQuant`, `one of ${Object.keys(quants).join(", ")}`, defaultQuant);
    const note = shape.optionalString(`${where}.note`, gguf["note"]);
    return { defaultQuant, quants, ...(note !== undefined ? { note } : {}) };
}

function deepFreeze<T>(value: T): T {
    if (value !== null && typeof value === "object") {
        for (const child of Object.values(value)) deepFreeze(child);
        Object.freeze(value);
    }
    return value;
}
