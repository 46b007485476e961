import { createHash } from "node:crypto";
import { stat } from "node:fs/promises";
import { basename } from "node:path";
import type { FastifyInstance } from "fastify";
import { packageVersion } from "../internal/package-version.js";
import { listModels } from "../models/model-registry.js";
import { OLLAMA_TAGS_RESPONSE, OLLAMA_VERSION_RESPONSE } from "./response-docs.js";
import { plainRoute } from "./route-docs.js";
import type { RouteContext } from "./route-context.js";

/** A served model as Ollama's `GET /api/tags` lists one (ollama docs/api.md, "List Local Models"). */
interface OllamaModel {
    name: string;
    model: string;
    modified_at: string;
    size: number;
    digest: string;
    details: {
        parent_model: string;
        format: string;
        family: string;
        families: string[];
        parameter_size: string;
        quantization_level: string;
    };
}

/** The quantization a GGUF file name states (`…-Q8_0.gguf`, `…-f16.gguf`), as Ollama writes it; "" when none. */
function quantizationIn(file: string): string {
    const match = /(?:^|[-_.])(IQ\d_[A-Z]+|Q\d_K(?:_[SML])?|Q\d_\d|BF16|F16|F32)(?=[-_.])/i.exec(file);
    return match === null ? "" : match[1]!.toUpperCase();
}

/** The registry's parameter count ("0.6B") and quantization of a GGUF file it knows by name. */
function registryFacts(file: string): { parameters: string; quantization: string } | undefined {
    for (const model of listModels()) {
        for (const [quant, source] of Object.entries(model.gguf.quants)) {
            if (source.file.toLowerCase() === file.toLowerCase()) return { parameters: model.parameters, quantization: quant.toUpperCase() };
        }
    }
    return undefined;
}

/**
 * Ollama's `GET /api/tags` and `GET /api/version` (ollama docs/api.md, "List Local Models" and "Version"), so that
 * `ollama.list()` and `ollama.version()` work against this server:
 * - `/api/tags` → `{ models: [{ name, model, modified_at, size, digest, details: { parent_model, format, family,
 *   families, parameter_size, quantization_level } }] }`, one entry per served model: `name` and `model` its id (what
 *   requests send in `model`), `modified_at` and `size` its GGUF file's, `format` "gguf", `family` "qwen3",
 *   `parameter_size` and `quantization_level` the registry's for its official files (else the quantization the file
 *   name states, or ""). `digest` is a SHA-256 of the file's path, size and modification time: it changes when the
 *   file does, without reading gigabytes to hash their content. 503 until the models are loaded, as /v1/models.
 * - `/api/version` → `{ version }`, this package's version.
 * Errors take Ollama's shape `{ error }`.
 */
export function registerOllamaModelRoutes(app: FastifyInstance, context: RouteContext): void {
    app.get("/api/tags", plainRoute({ summary: "List the served models (Ollama)", tags: ["Ollama"], responses: { 200: OLLAMA_TAGS_RESPONSE } }, "ollama"), async () => {
        const unavailable = context.models.unavailable();
        if (unavailable !== undefined) throw unavailable;
        const models = await Promise.all(context.models.list().map(async (entry): Promise<OllamaModel> => {
            const path = entry.served.modelPath;
            const file = basename(path);
            const info = await stat(path).catch(() => undefined);
            const facts = registryFacts(file);
            return {
                name: entry.names.id,
                model: entry.names.id,
                modified_at: (info?.mtime ?? new Date(0)).toISOString(),
                size: info?.size ?? 0,
                digest: createHash("sha256").update([path, info?.size ?? 0, info?.mtimeMs ?? 0].join("\0")).digest("hex"),
                details: {
                    parent_model: "",
                    format: "gguf",
                    family: "qwen3",
                    families: ["qwen3"],
                    parameter_size: facts?.parameters ?? "",
                    quantization_level: facts?.quantization ?? quantizationIn(file),
                },
            };
        }));
        return { models };
    });

    app.get("/api/version", plainRoute({ summary: "This server's version (Ollama)", tags: ["Ollama"], responses: { 200: OLLAMA_VERSION_RESPONSE } }, "ollama"), async () => ({
        version: packageVersion() ?? "0.0.0",
    }));
}
