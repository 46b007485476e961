/**
 * The checks a manifest passes before the registry uses it: the shape of every entry, names and file names that no
 * two models share. A failure is a ModelFileError naming the file, the place and what was expected there.
 */
import { ModelFileError } from "../internal/errors.js";
import type { GgufFileSource, RegistryModel, RegistryModelKind } from "./registry-model.js";

/** The models of a parsed manifest, checked; `path` names the file in messages. */
export function checkManifest(value: unknown, path: string): RegistryModel[] {
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
