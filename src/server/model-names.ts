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
    /**
     * Names that also fix the role of the inputs (embedding models only): `<id>:query` embeds them as queries with the
     * default instruction, `<id>:document` as documents. Any accepted name takes the same suffixes.
     */
    roleAliases: readonly string[];
}

/** The role a `:query` / `:document` model alias gives the inputs. */
export type ModelRole = "query" | "document";

const ROLE_SUFFIXES: readonly ModelRole[] = ["query", "document"];

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
    const id = accepted[0]!;
    return { kind, id, accepted, roleAliases: kind === "embedding" ? ROLE_SUFFIXES.map((role) => `${id}:${role}`) : [] };
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

/** The model a request names: the name to answer with, and the role its `:query` / `:document` suffix fixes, if any. */
export interface RequestedModel {
    name: string;
    role: ModelRole | undefined;
}

/**
 * The model a request's `model` field names, checked against the names of the route's model: undefined or a match
 * answers with the model's id (or the name as sent); anything else is a 404 that lists what this route accepts.
 */
export function checkRequestedModel(requested: string | undefined, names: ModelNames, other: ModelNames | undefined): string {
    return resolveRequestedModel(requested, names, other, false).name;
}

/**
 * Like checkRequestedModel, and for an embedding model also reads the role suffixes (`name:query`,
 * `name:document`, after any accepted name). With `acceptAnyName` (the server's acceptAnyModelName) an unknown name
 * is taken as this model's when the server serves no other model; with another model served it stays a 404.
 */
export function resolveRequestedModel(requested: string | undefined, names: ModelNames, other: ModelNames | undefined, acceptAnyName: boolean): RequestedModel {
    if (requested === undefined) return { name: names.id, role: undefined };
    const wanted = requested.trim().toLowerCase();
    const matches = (name: string) => names.accepted.some((accepted) => accepted.toLowerCase() === name);
    if (matches(wanted)) return { name: requested, role: undefined };
    if (names.kind === "embedding") {
        const role = ROLE_SUFFIXES.find((suffix) => wanted.endsWith(`:${suffix}`));
        const stem = role === undefined ? undefined : wanted.slice(0, -(role.length + 1));
        if (role !== undefined && stem !== undefined && (matches(stem) || (acceptAnyName && other === undefined && stem.length > 0))) {
            return { name: requested, role };
        }
    }
    const isOther = other?.accepted.some((name) => name.toLowerCase() === wanted) === true;
    if (acceptAnyName && other === undefined && wanted.length > 0) return { name: requested, role: undefined };
    const route = names.kind === "embedding" ? "embeddings" : "reranking";
    const hint = isOther ? ` ${JSON.stringify(requested)} is this server's ${other!.kind} model, which does not do ${route}.` : "";
    const listed = [...names.accepted, ...names.roleAliases].map((name) => JSON.stringify(name)).join(", ");
    const anyHint = acceptAnyName && other !== undefined ? " (acceptAnyModelName applies only while the server serves one model)" : "";
    throw new HttpError(
        404,
        `The model ${JSON.stringify(requested)} is not served for ${route}.${hint} Accepted names: ${listed}${anyHint}`,
        { code: "model_not_found", param: "model" },
    );
}
