import { basename } from "node:path";
import { listModels } from "../models/model-registry.js";
import { HttpError } from "./error-responses.js";
import type { ServedModelName } from "./server-options.js";

export type ServedKind = "embedding" | "reranker";

/** The names a served model answers to in a request's `model` field. */
export interface ModelNames {
    kind: ServedKind;
    /** The name responses and /v1/models use: the first served name, else the registry id, else the file name without .gguf. */
    id: string;
    /** Every accepted name, in the order listed in error messages; matched ignoring case. */
    accepted: readonly string[];
}

/**
 * Accepted names of a model: the served names given for it, the registry's names when the file is a registry model's
 * (id, `id:QUANT`, official name, original checkpoint, GGUF repository), the argument it was loaded from when that is
 * not a path, and the file name with and without `.gguf`.
 */
export function modelNames(kind: ServedKind, path: string, argument: string | undefined, served: readonly ServedModelName[]): ModelNames {
    const file = basename(path);
    const stem = file.replace(/\.gguf$/i, "");
    const names: string[] = served.filter((entry) => entry.kind === undefined || entry.kind === kind).map((entry) => entry.name);
    const registry = registryNames(file);
    names.push(...registry);
    if (argument !== undefined && !/[/\\]/.test(argument) && !argument.toLowerCase().endsWith(".gguf")) names.push(argument);
    names.push(stem, file);
    const accepted = dedupe(names);
    return { kind, id: accepted[0]!, accepted };
}

/** The registry names of the model whose GGUF file is called `file`, or none. */
function registryNames(file: string): string[] {
    for (const model of listModels()) {
        for (const [quant, source] of Object.entries(model.gguf.quants)) {
            if (source.file.toLowerCase() === file.toLowerCase()) {
                const repos = Object.values(model.gguf.quants).map((entry) => entry.repo);
                return [model.id, `${model.id}:${quant}`, model.name, model.baseModel, ...repos];
            }
        }
    }
    return [];
}

function dedupe(names: readonly string[]): string[] {
    const seen = new Set<string>();
    return names.filter((name) => {
        const key = name.toLowerCase();
        if (seen.has(key)) return false;
        seen.add(key);
        return true;
    });
}

/**
 * The model a request's `model` field names, checked against the names of the route's model: undefined or a match
 * answers with the model's id (or the name as sent); anything else is a 404 that lists what this route accepts.
 */
export function checkRequestedModel(requested: string | undefined, names: ModelNames, other: ModelNames | undefined): string {
    if (requested === undefined) return names.id;
    const wanted = requested.trim().toLowerCase();
    if (names.accepted.some((name) => name.toLowerCase() === wanted)) return requested;
    const route = names.kind === "embedding" ? "embeddings" : "reranking";
    const isOther = other?.accepted.some((name) => name.toLowerCase() === wanted) === true;
    const hint = isOther ? ` ${JSON.stringify(requested)} is this server's ${other!.kind} model, which does not do ${route}.` : "";
    throw new HttpError(
        404,
        `The model ${JSON.stringify(requested)} is not served for ${route}.${hint} Accepted names: ${names.accepted.map((name) => JSON.stringify(name)).join(", ")}`,
        { code: "model_not_found", param: "model" },
    );
}
