import { NativeLoadError } from "../internal/errors.js";
import { runInShortLivedThread } from "../internal/short-lived-thread.js";
import { loadNativeAddon, nativeAddonPath } from "./native-addon.js";

/** Which llama.cpp backend build to bind: node-llama-cpp picks the best available for "auto". */
export type GpuOption = "auto" | "cuda" | "vulkan" | "metal" | false;

export interface LlamaLibrary {
    /** The libllama shared library the engine drives. */
    libraryPath: string;
    /** The GPU type of that build, or false for CPU only; undefined when bound to a library given by path. */
    gpu: string | false | undefined;
    /** "prebuilt" or "localBuild" (node-llama-cpp's own source build); undefined when bound by path. */
    buildType: string | undefined;
    gpuOffloadSupported: boolean;
    /** Cores worth one compute thread each, as llama.cpp sees them (physical cores on CPU). */
    mathCores: number | undefined;
}

let bound: Promise<LlamaLibrary> | undefined;

/**
 * Binds the addon to one llama.cpp build for the whole process. The first call decides: an explicit
 * `libraryPath` (or QWEN3_EMBEDDING_LLAMA_LIBRARY), a library already loaded in this process, or the build that
 * node-llama-cpp resolves for `gpu` (its prebuilt binaries or its local source build; never a compile here).
 */
export function bindLlamaLibrary(options: { gpu?: GpuOption; libraryPath?: string } = {}): Promise<LlamaLibrary> {
    bound ??= bind(options).catch((error: unknown) => {
        bound = undefined;
        throw error;
    });
    return bound;
}

async function bind({ gpu = "auto", libraryPath }: { gpu?: GpuOption; libraryPath?: string }): Promise<LlamaLibrary> {
    const addon = loadNativeAddon();
    const explicitPath = libraryPath ?? process.env["QWEN3_EMBEDDING_LLAMA_LIBRARY"];
    if (explicitPath !== undefined && explicitPath !== "") {
        const result = initAddon(() => addon.init(explicitPath));
        return { ...result, gpu: undefined, buildType: undefined, mathCores: undefined };
    }
    // Another thread of this process (a pool worker) or the host application may already have bound one.
    if (addon.findLoadedLibrary("libllama.") !== "" || addon.findLoadedLibrary("llama.") !== "") {
        const result = initAddon(() => addon.init());
        return { ...result, gpu: undefined, buildType: undefined, mathCores: undefined };
    }

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
    const result = initAddon(() => addon.init(llama.libraryPath));
    return { ...result, gpu: llama.gpu, buildType: llama.buildType, mathCores: llama.cpuMathCores };
}

function initAddon(init: () => { libraryPath: string; gpuOffloadSupported: boolean }) {
    try {
        return init();
    } catch (error) {
        throw new NativeLoadError(`Could not bind to the llama.cpp library: ${(error as Error).message}`, { cause: error });
    }
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
    const body = `async ({ gpu, addonPath }, importModule) => {
        const { getLlama, LlamaLogLevel } = await importModule("node-llama-cpp");
        const llama = await getLlama({ gpu, build: "never", progressLogs: false, skipDownload: true, logLevel: LlamaLogLevel.error });
        const { findLoadedLibrary } = require(addonPath);
        const libraryPath = findLoadedLibrary("libllama.") || findLoadedLibrary("llama.");
        if (libraryPath === "") throw new Error("getLlama returned, but no libllama is loaded in the process");
        return { gpu: llama.gpu, buildType: llama.buildType, cpuMathCores: llama.cpuMathCores, libraryPath };
    }`;
    return runInShortLivedThread(body, { gpu, addonPath: nativeAddonPath() }, ["node-llama-cpp"]);
}
