/**
 * Where a registry model's file is downloaded from: references written "id:QUANT", the choice of quantization, and
 * Hugging Face download URLs.
 */
import { InvalidOptionError } from "../internal/errors.js";
import { checkString } from "../internal/validation.js";
import { huggingFaceFileUrl } from "./huggingface-access.js";
import type { RegistryModel } from "./registry-model.js";

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

/**
 * The quantization asked for: `quant`, or the one written after a colon in the reference (both: they must agree,
 * ignoring case); undefined when neither names one (the model's default).
 */
export function requestedQuant(reference: ModelReference, quant: string | undefined): string | undefined {
    if (quant !== undefined) checkString("quant", quant, { allowEmpty: false });
    if (quant !== undefined && reference.quant !== undefined && quant.toUpperCase() !== reference.quant.toUpperCase()) {
        throw new InvalidOptionError(
            `Conflicting quantizations for ${reference.id}: ${JSON.stringify(reference.quant)} in the model id and ${JSON.stringify(quant)} in quant; give one`,
        );
    }
    return quant ?? reference.quant;
}

/** Where a quantization of the model (case-insensitive; default: the model's default) is downloaded from. */
export function modelSource(model: RegistryModel, quant: string | undefined): ModelSource {
    const wanted = quant ?? model.gguf.defaultQuant;
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
function describeQuants(model: RegistryModel): string {
    return Object.keys(model.gguf.quants)
        .map((name) => (name === model.gguf.defaultQuant ? `${name} (default)` : name))
        .join(", ");
}
