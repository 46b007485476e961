/**
 * Turns a model argument into a file path: a local .gguf path as given, or a registry id into the file `pull` stored
 * in the models directory (a per-user cache, see defaultModelsDirectory), else the same file in the Hugging Face hub
 * cache. Never downloads anything.
 */
import { statSync, type Stats } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import { homedir } from "node:os";
import { isAbsolute, join, resolve } from "node:path";
import { InvalidOptionError, ModelFileError } from "../internal/errors.js";
import { userCacheDirectory } from "../internal/user-directories.js";
import { checkOptionsObject, checkString } from "../internal/validation.js";
import { findInHuggingFaceCache, huggingFaceHubCache } from "./huggingface-cache.js";
import { findModel, listModelIds, lookUpModel, resolveModelSource } from "./model-registry.js";
import { parseModelReference, type ModelSource } from "./model-source.js";
import type { RegistryModel } from "./registry-model.js";

/** Environment variable naming the directory `pull` stores models in and ids are resolved against. */
export const MODELS_DIR_ENV = "QWEN3_EMBEDDING_MODELS_DIR";

/** Suffix of the partial file a download in progress (or interrupted) writes next to its target; `pull` resumes from it. */
export const PARTIAL_DOWNLOAD_SUFFIX = ".part";

export interface ModelLocationOptions {
    /**
     * Directory holding pulled models. Default: the `QWEN3_EMBEDDING_MODELS_DIR` environment variable, else the
     * per-user cache folder (see defaultModelsDirectory).
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

/** A registry model's file found on this machine, by findLocalModel. */
export interface LocalModelFile {
    /**
     * "models-dir": complete in the models directory; "hf-cache": in the Hugging Face hub cache (used where it is);
     * "partial": only an interrupted download in the models directory, which `pull` resumes.
     */
    readonly place: "models-dir" | "hf-cache" | "partial";
    /** Absolute path of the file (for "partial", of the partial file). */
    readonly path: string;
    readonly bytes: number;
}

/**
 * The models directory when none is given: `QWEN3_EMBEDDING_MODELS_DIR` when set (relative to the working directory),
 * else the per-user cache folder, one copy for every project of the user: `$XDG_CACHE_HOME/qwen3-embedding` (else
 * `~/.cache/qwen3-embedding`) on Linux, `~/Library/Caches/qwen3-embedding` on macOS, `%LOCALAPPDATA%\qwen3-embedding`
 * on Windows. Never inside the package (an `npm ci` would wipe it).
 */
export function defaultModelsDirectory(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
    const fromEnvironment = env[MODELS_DIR_ENV];
    if (fromEnvironment !== undefined && fromEnvironment.trim() !== "") return resolve(expandHome(fromEnvironment.trim()));
    return userCacheDirectory(env, platform);
}

/**
 * Whether a model argument names a local file rather than a registry id: an absolute path, one starting with `./`,
 * `../` or `~/`, anything ending in `.gguf`, or an existing file.
 */
export function isLocalModelPath(model: string): boolean {
    if (isAbsolute(model) || /^\.\.?([/\\]|$)/.test(model) || /^~([/\\]|$)/.test(model) || model.toLowerCase().endsWith(".gguf")) {
        return true;
    }
    return statSyncOrUndefined(resolve(model))?.isFile() === true;
}

/**
 * Resolves a model argument to the absolute path of a .gguf file, without any network access:
 * - a local path (see isLocalModelPath) is made absolute and must exist as a file; the registry is not consulted;
 * - a registry id (`qwen3-embedding-0.6b`, `qwen3-embedding-0.6b:F16`, or a name such as `Qwen/Qwen3-Embedding-0.6B-GGUF`)
 *   resolves to the file `pull` stores in the models directory, else to the same file of the same repository in the
 *   Hugging Face hub cache (see findInHuggingFaceCache); when it is in neither, the ModelFileError names the
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
    const found = await findLocalModel(location);
    if (found !== undefined && found.place !== "partial") return found.path;
    throw new ModelFileError(await notDownloadedMessage(location, found));
}

/**
 * Where a registry model's file is on this machine, if anywhere: complete in the models directory (a final file with no
 * partial one beside it), else in the Hugging Face hub cache, else partly downloaded. Reads the disk only.
 */
export async function findLocalModel(location: PulledModelLocation): Promise<LocalModelFile | undefined> {
    const [file, partial] = await Promise.all([statOrUndefined(location.path), statOrUndefined(location.path + PARTIAL_DOWNLOAD_SUFFIX)]);
    if (file?.isFile() === true && partial === undefined) return { place: "models-dir", path: location.path, bytes: file.size };
    const cached = await findInHuggingFaceCache(location.source.repo, location.source.file);
    if (cached !== undefined) return { place: "hf-cache", path: cached, bytes: (await statOrUndefined(cached))?.size ?? 0 };
    if (partial?.isFile() === true) return { place: "partial", path: location.path + PARTIAL_DOWNLOAD_SUFFIX, bytes: partial.size };
    return undefined;
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

async function notDownloadedMessage(location: PulledModelLocation, found: LocalModelFile | undefined): Promise<string> {
    const { model, source, path, modelsDir } = location;
    let message = `Model ${model.id} (${source.quant}) is not downloaded: ${path} does not exist, nor does ${source.file} of ${source.repo} ` +
        `in the Hugging Face cache ${huggingFaceHubCache()}. Download it with \`${pullCommand(location)}\``;
    if (found?.place === "partial") message += `; a partial download is at ${found.path}, and that command resumes it`;
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

function statSyncOrUndefined(path: string): Stats | undefined {
    try {
        return statSync(path);
    } catch {
        return undefined;
    }
}

async function statOrUndefined(path: string): Promise<Stats | undefined> {
    try {
        return await stat(path);
    } catch {
        return undefined;
    }
}

function shellQuote(text: string): string {
    return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}
