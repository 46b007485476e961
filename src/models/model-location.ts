/**
 * Turns a model argument into a file path: a local .gguf path as given, or a registry id into the file `pull` stored.
 * Never downloads anything.
 */
import { existsSync, statSync, type Stats } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { InvalidOptionError, ModelFileError } from "../internal/errors.js";
import { checkOptionsObject, checkString } from "../internal/validation.js";
import { defaultManifestPath } from "./model-manifest.js";
import { findModel, listModelIds, lookUpModel, resolveModelSource } from "./model-registry.js";
import { parseModelReference, type ModelSource } from "./model-source.js";
import type { RegistryModel } from "./registry-model.js";

/** Environment variable naming the directory `pull` stores models in and ids are resolved against. */
export const MODELS_DIR_ENV = "QWEN3_EMBEDDING_MODELS_DIR";

/** Suffix of the partial file a download in progress (or interrupted) writes next to its target; `pull` resumes from it. */
export const PARTIAL_DOWNLOAD_SUFFIX = ".ipull";

export interface ModelLocationOptions {
    /**
     * Directory holding pulled models.
     * Default: the `QWEN3_EMBEDDING_MODELS_DIR` environment variable, else the package's own `models/` directory.
     */
    modelsDir?: string;
}

/** Where a registry model's file lives once pulled. */
export interface PulledModelLocation {
    readonly model: RegistryModel;
    readonly source: ModelSource;
    readonly modelsDir: string;
    /** Absolute path of the file. */
    readonly path: string;
}

const LOCATION_OPTIONS = ["modelsDir"] as const;

/** `QWEN3_EMBEDDING_MODELS_DIR` when set (relative to the working directory), else `models/` next to package.json. */
export function defaultModelsDirectory(): string {
    const fromEnvironment = process.env[MODELS_DIR_ENV];
    if (fromEnvironment !== undefined && fromEnvironment.trim() !== "") return resolve(expandHome(fromEnvironment.trim()));
    return dirname(defaultManifestPath());
}

/**
 * Whether a model argument names a local file rather than a registry id: an absolute path, one starting with `./`,
 * `../` or `~/`, anything ending in `.gguf`, or an existing file.
 */
export function isLocalModelPath(model: string): boolean {
    if (isAbsolute(model) || /^\.\.?([/\\]|$)/.test(model) || /^~([/\\]|$)/.test(model) || model.toLowerCase().endsWith(".gguf")) {
        return true;
    }
    return statOrUndefined(resolve(model))?.isFile() === true;
}

/**
 * Resolves a model argument to the absolute path of a .gguf file, without any network access:
 * - a local path (see isLocalModelPath) is made absolute and must exist as a file; the registry is not consulted;
 * - a registry id (`qwen3-embedding-0.6b`, `qwen3-embedding-0.6b:F16`, or a name such as `Qwen/Qwen3-Embedding-0.6B-GGUF`)
 *   resolves to the file `pull` stores in the models directory; when it is not there, the ModelFileError names the
 *   `npx qwen3-embedding pull` command that downloads it.
 */
export async function resolveModelPath(model: string, options?: ModelLocationOptions): Promise<string> {
    checkString("model", model, { allowEmpty: false });
    const opts = checkOptionsObject<ModelLocationOptions>("resolveModelPath options", options, [...LOCATION_OPTIONS]);
    if (isLocalModelPath(model)) return checkLocalModelFile(model);

    const reference = parseModelReference(model);
    if (lookUpModel(reference.id) === undefined) {
        throw new InvalidOptionError(
            `Unknown model ${JSON.stringify(model)}: no file exists at ${resolve(model)}, and it is not a known model id; ` +
            `pass the path of a .gguf file or one of ${listModelIds().join(", ")}`,
        );
    }
    const location = locatePulledModel(model, { modelsDir: opts.modelsDir });
    if ((await statOrUndefinedAsync(location.path))?.isFile() === true) return location.path;
    throw new ModelFileError(await notDownloadedMessage(location));
}

/**
 * Where `pull` stores (or stored) a registry model: `<modelsDir>/<file of the quantization>`. `quant` may also be
 * written after a colon in `model`. Throws InvalidOptionError for an unknown id or quantization. Does not touch the disk.
 */
export function locatePulledModel(model: string, options: { quant?: string; modelsDir?: string | undefined } = {}): PulledModelLocation {
    const source = resolveModelSource(model, options.quant);
    const modelsDir = options.modelsDir === undefined
        ? defaultModelsDirectory()
        : resolve(expandHome(checkString("modelsDir", options.modelsDir, { allowEmpty: false })));
    return { model: findModel(source.id), source, modelsDir, path: join(modelsDir, source.file) };
}

/** The command that downloads a registry model into a models directory, for messages. */
export function pullCommand(location: Pick<PulledModelLocation, "source" | "modelsDir">): string {
    const command = `npx qwen3-embedding pull ${location.source.id} --quant ${location.source.quant}`;
    return resolve(location.modelsDir) === resolve(defaultModelsDirectory())
        ? command
        : `${MODELS_DIR_ENV}=${shellQuote(location.modelsDir)} ${command}`;
}

async function checkLocalModelFile(model: string): Promise<string> {
    const path = resolve(expandHome(model));
    let info: Stats;
    try {
        info = await stat(path);
    } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === "ENOENT" || code === "ENOTDIR") {
            throw new ModelFileError(
                `Model file not found: ${path}. Pass the path of an existing .gguf file, or a registry id such as qwen3-embedding-0.6b ` +
                "once downloaded with `npx qwen3-embedding pull qwen3-embedding-0.6b`",
            );
        }
        throw new ModelFileError(`Cannot read the model file ${path}: ${(error as Error).message}`, { cause: error });
    }
    if (!info.isFile()) throw new ModelFileError(`${path} is not a file; pass the path of a .gguf model file`);
    return path;
}

async function notDownloadedMessage(location: PulledModelLocation): Promise<string> {
    const { model, source, path, modelsDir } = location;
    let message = `Model ${model.id} (${source.quant}) is not downloaded: ${path} does not exist. Download it with \`${pullCommand(location)}\``;
    if (existsSync(path + PARTIAL_DOWNLOAD_SUFFIX)) {
        message += `; a partial download is at ${path + PARTIAL_DOWNLOAD_SUFFIX}, and that command resumes it`;
    }
    const present = new Set(await readdir(modelsDir).catch(() => [] as string[]));
    const others = Object.entries(model.gguf.quants)
        .filter(([quant, other]) => quant !== source.quant && present.has(other.file))
        .map(([quant]) => `"${model.id}:${quant}"`);
    if (others.length > 0) message += `; already downloaded: ${others.join(", ")}`;
    return message;
}

function expandHome(path: string): string {
    return /^~([/\\]|$)/.test(path) ? join(homedir(), path.slice(1)) : path;
}

function statOrUndefined(path: string): Stats | undefined {
    try {
        return statSync(path);
    } catch {
        return undefined;
    }
}

async function statOrUndefinedAsync(path: string): Promise<Stats | undefined> {
    try {
        return await stat(path);
    } catch {
        return undefined;
    }
}

function shellQuote(text: string): string {
    return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}
