import { NativeLoadError } from "../internal/errors.js";
import { runInShortLivedThread } from "../internal/short-lived-thread.js";
import { checkOneOf, checkOptionsObject, checkString } from "../internal/validation.js";
import {
    checkInstalledNodeLlamaCpp,
    checkLibraryRecord,
    checkLoadedLibrary,
    checkSameBinding,
    installedNodeLlamaCpp,
    readLibraryBuildRecord,
    type LibraryBuildRecord,
    type LlamaBuild,
} from "./llama-build-guard.js";
import { loadNativeAddon, nativeAddonPath, type NativeAddon } from "./native-addon.js";

/** The GPU backends node-llama-cpp builds llama.cpp for; "auto" picks the best available. */
export const GPU_CHOICES = ["auto", "cuda", "vulkan", "metal"] as const;

/** Which llama.cpp backend build to bind: node-llama-cpp picks the best available for "auto"; false: the CPU build. */
export type GpuOption = (typeof GPU_CHOICES)[number] | false;

export interface LlamaLibrary {
    /** The libllama shared library the engine drives. */
    libraryPath: string;
    /** The GPU type of that build, or false for CPU only (as node-llama-cpp recorded it); undefined when unrecorded. */
    gpu: string | false | undefined;
    /** "prebuilt" or "localBuild" (node-llama-cpp's own source build); undefined when bound by path. */
    buildType: string | undefined;
    gpuOffloadSupported: boolean;
    /** Cores worth one compute thread each, as llama.cpp sees them (physical cores on CPU). */
    mathCores: number | undefined;
}

let bound: Promise<LlamaLibrary> | undefined;

/** The llama.cpp build this package's addon was compiled for; only a library of that build is bound. */
export function addonLlamaBuild(): LlamaBuild {
    return { ...loadNativeAddon().builtFor };
}

/**
 * Binds the addon to one llama.cpp build for the whole process. The first call decides: an explicit
 * `libraryPath` (or QWEN3_EMBEDDING_LLAMA_LIBRARY), a library already loaded in this process, or the build that
 * node-llama-cpp resolves for `gpu` (its prebuilt binaries or its local source build; never a compile here). Each is
 * held to the build the addon was compiled for first (llama-build-guard.ts). A later call that asks for another
 * library or GPU type is refused: the binding cannot change while the process runs.
 */
export async function bindLlamaLibrary(options: { gpu?: GpuOption; libraryPath?: string } = {}): Promise<LlamaLibrary> {
    const opts = checkOptionsObject<{ gpu?: GpuOption; libraryPath?: string }>("bindLlamaLibrary options", options, ["gpu", "libraryPath"]);
    if (opts.gpu !== undefined && opts.gpu !== false) checkOneOf("gpu", opts.gpu, GPU_CHOICES);
    if (opts.libraryPath !== undefined) checkString("libraryPath", opts.libraryPath, { allowEmpty: false });
    bound ??= bind(options).catch((error: unknown) => {
        bound = undefined;
        throw error;
    });
    const library = await bound;
    checkSameBinding(library, { libraryPath: options.libraryPath, gpu: options.gpu ?? "auto" });
    return library;
}

async function bind({ gpu = "auto", libraryPath }: { gpu?: GpuOption; libraryPath?: string }): Promise<LlamaLibrary> {
    const addon = loadNativeAddon();
    const builtFor = addon.builtFor;
    // Bound already by another thread of this process (a pool worker): that binding, if it is the one asked for.
    const boundPath = addon.boundLibraryPath();
    if (boundPath !== "") return byPath(boundPath, { gpu, libraryPath }, () => addon.init());

    const explicitPath = libraryPath ?? process.env["QWEN3_EMBEDDING_LLAMA_LIBRARY"];
    if (explicitPath !== undefined && explicitPath !== "") {
        return byPath(explicitPath, { gpu, libraryPath }, (record) => {
            checkLibraryRecord(builtFor, explicitPath, record);
            return addon.init(explicitPath);
        });
    }
    // The host application (its own node-llama-cpp) or a pool worker's node-llama-cpp may have loaded one.
    const loadedPath = findLoadedLlama(addon);
    if (loadedPath !== "") {
        return byPath(loadedPath, { gpu, libraryPath }, (record) => {
            checkLoadedLibrary(builtFor, loadedPath, record);
            return addon.init();
        });
    }

    checkInstalledNodeLlamaCpp(builtFor, installedNodeLlamaCpp());
    let llama: ResolvedBuild;
    try {
        llama = await resolveBuildInShortLivedThread(gpu);
    } catch (error) {
        throw new NativeLoadError(
            [
                `node-llama-cpp could not provide a llama.cpp build for gpu: ${JSON.stringify(gpu)}.`,
                `Failed: ${(error as Error).message}`,
                "Possible solutions:",
                '- Use gpu: "auto" or gpu: false to fall back to the prebuilt CPU build',
                "- Reinstall with `npm ci` so node-llama-cpp's prebuilt binaries for this platform are present",
                "- Build llama.cpp for this machine once with `npx --no node-llama-cpp source build`",
            ].join("\n"),
            { cause: error },
        );
    }
    const resolvedPath = llama.libraryPath;
    const library = byPath(resolvedPath, { gpu, libraryPath }, (record) => {
        checkLibraryRecord(builtFor, resolvedPath, record);
        return addon.init(resolvedPath);
    });
    return { ...library, buildType: llama.buildType, mathCores: llama.cpuMathCores };
}

/** Binds (or takes the binding of) the library at `path` after `init` checked it; its GPU type from its record. */
function byPath(
    path: string,
    wanted: { gpu: GpuOption; libraryPath: string | undefined },
    init: (record: LibraryBuildRecord | undefined) => { libraryPath: string; gpuOffloadSupported: boolean },
): LlamaLibrary {
    const record = readLibraryBuildRecord(path);
    checkSameBinding({ libraryPath: path, gpu: record?.gpu }, wanted);
    let result: { libraryPath: string; gpuOffloadSupported: boolean };
    try {
        result = init(record);
    } catch (error) {
        if (error instanceof NativeLoadError) throw error;
        throw new NativeLoadError(`Could not bind to the llama.cpp library: ${(error as Error).message}`, { cause: error });
    }
    return { ...result, gpu: record?.gpu, buildType: undefined, mathCores: undefined };
}

/** How libllama's file name starts: libllama.so / .dylib, llama.dll. */
const LIBLLAMA_PREFIXES = ["libllama.", "llama."] as const;

function findLoadedLlama(addon: NativeAddon): string {
    return LIBLLAMA_PREFIXES.map((prefix) => addon.findLoadedLibrary(prefix)).find((path) => path !== "") ?? "";
}

interface ResolvedBuild {
    gpu: string | false;
    buildType: string;
    cpuMathCores: number;
    /** The libllama that getLlama loaded, as our addon found it loaded in the thread. */
    libraryPath: string;
}

/**
 * node-llama-cpp picks and loads the build (its getLlama) in a thread that then ends, and its module graph (~30 MB of
 * heap) leaves with the thread. The libraries it loaded may leave too: Node.js unloads a thread's addons when the
 * thread ends, and node-llama-cpp's linux-x64 libraries stay only because their GNU-unique symbols keep glibc from
 * unloading them; its linux-arm64 ones have none and were gone once the thread ended (seen under qemu-user,
 * test/package/linux-arm64-emulated.model.test.ts). So the thread names the libllama it loaded, found by our addon
 * (loaded there too, from the same file), and the addon binds that file by path.
 */
function resolveBuildInShortLivedThread(gpu: GpuOption): Promise<ResolvedBuild> {
    const body = `async ({ gpu, addonPath, prefixes }, importModule) => {
        const { getLlama, LlamaLogLevel } = await importModule("node-llama-cpp");
        const llama = await getLlama({ gpu, build: "never", progressLogs: false, skipDownload: true, logLevel: LlamaLogLevel.error });
        const { findLoadedLibrary } = require(addonPath);
        const libraryPath = prefixes.map((prefix) => findLoadedLibrary(prefix)).find((path) => path !== "");
        if (libraryPath === undefined) throw new Error("getLlama returned, but no libllama is loaded in the process");
        return { gpu: llama.gpu, buildType: llama.buildType, cpuMathCores: llama.cpuMathCores, libraryPath };
    }`;
    return runInShortLivedThread(body, { gpu, addonPath: nativeAddonPath(), prefixes: LIBLLAMA_PREFIXES }, ["node-llama-cpp"]);
}
