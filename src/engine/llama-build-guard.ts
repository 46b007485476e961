/**
 * Which llama.cpp library the addon may bind. The addon passes llama.cpp's structs by value and reads them by field,
 * compiled against the headers of one llama.cpp build (the one the pinned node-llama-cpp ships; recorded at its build
 * in native/llama-headers/llama-build.h and reported as `builtFor`). A library of another build would not fail a
 * symbol check: it would corrupt memory. So before any call into a library (the addon's `init`), this module holds it
 * to what node-llama-cpp recorded beside it (`_nlcBuildMetadata.json`: the llama.cpp release and GPU type of each of
 * its prebuilt and local builds), and the addon then checks ggml's version inside the library (native/llama-api.cc).
 * Each refusal is ONE NativeLoadError saying what was found, what was expected and the commands that fix it.
 */
import { existsSync, readFileSync, realpathSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { NativeLoadError } from "../internal/errors.js";

/** The llama.cpp build the addon was compiled for (the addon's `builtFor`). */
export interface LlamaBuild {
    nodeLlamaCppVersion: string;
    llamaCppRelease: string;
    llamaCppCommit: string;
    ggmlVersion: string;
}

/** What node-llama-cpp recorded about the build a library belongs to. */
export interface LibraryBuildRecord {
    /** The file it was read from. */
    recordPath: string;
    /** The llama.cpp release the library was built from, e.g. "v0.5.0". */
    llamaCppRelease: string;
    /** Its GPU type ("cuda", "vulkan", "metal") or false for a CPU build. */
    gpu: string | false;
}

const RECORD_FILE = "_nlcBuildMetadata.json";

/** node-llama-cpp's record beside `libraryPath` (symbolic links followed), or undefined when there is none. */
export function readLibraryBuildRecord(libraryPath: string): LibraryBuildRecord | undefined {
    const recordPath = join(dirname(realPath(libraryPath)), RECORD_FILE);
    if (!existsSync(recordPath)) return undefined;
    let buildOptions: { llamaCpp?: { release?: unknown }; gpu?: unknown } | undefined;
    try {
        buildOptions = (JSON.parse(readFileSync(recordPath, "utf8")) as { buildOptions?: typeof buildOptions }).buildOptions;
    } catch (error) {
        throw new NativeLoadError(`${recordPath} cannot be read as JSON (${(error as Error).message}); reinstall with \`npm ci\``, { cause: error });
    }
    const release = buildOptions?.llamaCpp?.release;
    const gpu = buildOptions?.gpu;
    if (typeof release !== "string" || !(gpu === false || typeof gpu === "string")) {
        throw new NativeLoadError(`${recordPath} has no buildOptions.llamaCpp.release or buildOptions.gpu; reinstall with \`npm ci\``);
    }
    return { recordPath, llamaCppRelease: release, gpu };
}

/** Refuses a library that node-llama-cpp recorded as built from another llama.cpp release than the addon's. */
export function checkLibraryRecord(builtFor: LlamaBuild, libraryPath: string, record: LibraryBuildRecord | undefined): void {
    if (record === undefined || record.llamaCppRelease === builtFor.llamaCppRelease) return;
    throw new NativeLoadError(
        [
            `${libraryPath} is a build of llama.cpp ${record.llamaCppRelease} (${record.recordPath}), but qwen3-embedding's addon was ` +
                `compiled for llama.cpp ${builtFor.llamaCppRelease} (node-llama-cpp ${builtFor.nodeLlamaCppVersion}). Their structs may ` +
                "differ, so the library was not loaded.",
            ...rebuildSolutions(builtFor),
        ].join("\n"),
    );
}

/** The node-llama-cpp that resolves from this package, and the llama.cpp release its builds are of. */
export interface InstalledNodeLlamaCpp {
    packageDir: string;
    version: string;
    llamaCppRelease: string;
}

export function installedNodeLlamaCpp(): InstalledNodeLlamaCpp {
    // Its exports map hides package.json: walk up from its entry point.
    let packageDir = dirname(createRequire(import.meta.url).resolve("node-llama-cpp"));
    while (!existsSync(join(packageDir, "llama", "binariesGithubRelease.json")) && dirname(packageDir) !== packageDir) {
        packageDir = dirname(packageDir);
    }
    // A file that is missing or unreadable gives "unknown", which the check then refuses with its message.
    const read = (path: string): { version?: unknown; release?: unknown } => {
        try {
            return JSON.parse(readFileSync(join(packageDir, path), "utf8")) as { version?: unknown; release?: unknown };
        } catch {
            return {};
        }
    };
    const known = (value: unknown) => (typeof value === "string" ? value : "unknown");
    return { packageDir, version: known(read("package.json").version), llamaCppRelease: known(read(join("llama", "binariesGithubRelease.json")).release) };
}

/** Refuses to let node-llama-cpp pick a build when it is not the version the addon was compiled with. */
export function checkInstalledNodeLlamaCpp(builtFor: LlamaBuild, installed: InstalledNodeLlamaCpp): void {
    if (installed.version === builtFor.nodeLlamaCppVersion && installed.llamaCppRelease === builtFor.llamaCppRelease) return;
    throw new NativeLoadError(
        [
            `The node-llama-cpp installed at ${installed.packageDir} is ${installed.version} (llama.cpp ${installed.llamaCppRelease}), but ` +
                `qwen3-embedding's addon was compiled for node-llama-cpp ${builtFor.nodeLlamaCppVersion} (llama.cpp ` +
                `${builtFor.llamaCppRelease}). Their structs may differ, so none of its llama.cpp builds was loaded.`,
            ...rebuildSolutions(builtFor),
        ].join("\n"),
    );
}

/**
 * Refuses a libllama that something else loaded in this process, unless node-llama-cpp recorded it as a build of the
 * addon's llama.cpp release (node-llama-cpp itself, of the same version, in the host application or a pool worker).
 */
export function checkLoadedLibrary(builtFor: LlamaBuild, loadedPath: string, record: LibraryBuildRecord | undefined): void {
    if (record !== undefined && record.llamaCppRelease === builtFor.llamaCppRelease) return;
    const what =
        record === undefined
            ? `no ${RECORD_FILE} beside it says which llama.cpp it is`
            : `${record.recordPath} records llama.cpp ${record.llamaCppRelease}`;
    throw new NativeLoadError(
        [
            `Another llama.cpp library is already loaded in this process: ${loadedPath} (${what}). qwen3-embedding's addon was ` +
                `compiled for llama.cpp ${builtFor.llamaCppRelease} (node-llama-cpp ${builtFor.nodeLlamaCppVersion}) and does not bind a ` +
                "library it cannot identify, nor load a second llama.cpp beside it.",
            "Possible solutions:",
            `- If that library is a build of llama.cpp ${builtFor.llamaCppRelease}, name it: libraryPath: ${JSON.stringify(loadedPath)} ` +
                "(or QWEN3_EMBEDDING_LLAMA_LIBRARY)",
            "- Run qwen3-embedding in a process that does not load the other library (its worker pool's threads share this process)",
        ].join("\n"),
    );
}

/** Refuses a call that asks for another library or GPU type than the one this process is bound to. */
export function checkSameBinding(
    bound: { libraryPath: string; gpu: string | false | undefined },
    wanted: { libraryPath: string | undefined; gpu: string | false },
): void {
    const otherPath = wanted.libraryPath !== undefined && realPath(wanted.libraryPath) !== realPath(bound.libraryPath);
    const otherGpu = wanted.gpu !== "auto" && bound.gpu !== undefined && wanted.gpu !== bound.gpu;
    if (!otherPath && !otherGpu) return;
    const asked = otherPath ? `libraryPath: ${JSON.stringify(wanted.libraryPath)}` : `gpu: ${JSON.stringify(wanted.gpu)}`;
    throw new NativeLoadError(
        [
            `${asked} asks for another llama.cpp build than the one this process is bound to: ${bound.libraryPath}` +
                `${bound.gpu === undefined ? "" : ` (${describeGpu(bound.gpu)})`}. A process binds one llama.cpp build, on its ` +
                "first model load, and keeps it.",
            "Possible solutions:",
            `- Load every model of this process with the same ${otherPath ? "libraryPath" : 'gpu option (or gpu: "auto", which takes the bound build)'}`,
            `- Run the models that need ${asked} in another process`,
        ].join("\n"),
    );
}

export function describeGpu(gpu: string | false): string {
    return gpu === false ? "CPU build" : `${gpu} build`;
}

function rebuildSolutions(builtFor: LlamaBuild): string[] {
    return [
        "Possible solutions:",
        "- Rebuild the addon against the installed node-llama-cpp: `npm rebuild qwen3-embedding --build-from-source` (in a checkout of " +
            "qwen3-embedding: `npm run build:native`)",
        `- Or install the node-llama-cpp it was compiled for: \`npm install node-llama-cpp@${builtFor.nodeLlamaCppVersion}\``,
        `- Or name a libllama of llama.cpp ${builtFor.llamaCppRelease} with libraryPath (or QWEN3_EMBEDDING_LLAMA_LIBRARY)`,
    ];
}

function realPath(path: string): string {
    try {
        return realpathSync(path);
    } catch {
        return path;
    }
}
