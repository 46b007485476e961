/**
 * The registry of official Qwen3 models, looked up by id, name or Hugging Face repository: the models of
 * `models/manifest.json` (read by model-manifest.ts, checked by manifest-schema.ts), and where each is downloaded from
 * (model-source.ts).
 */
import { InvalidOptionError } from "../internal/errors.js";
import { checkString } from "../internal/validation.js";
import { loadModelManifest } from "./model-manifest.js";
import { modelSource, parseModelReference, requestedQuant, type ModelSource } from "./model-source.js";
import type { RegistryModel } from "./registry-model.js";

export type { RegistryModel } from "./registry-model.js";

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
    const wanted = requestedQuant(reference, quant);
    return modelSource(findModel(reference.id), wanted);
}

function namesOf(model: RegistryModel): string[] {
    const repos = Object.values(model.gguf.quants).map((source) => source.repo);
    return [model.id, model.name, model.baseModel, ...repos].map((name) => name.toLowerCase());
}
