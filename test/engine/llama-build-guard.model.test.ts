// The ABI guard on real libraries (src/engine/llama-build-guard.ts, native/llama-api.cc): a libllama recorded as
// another llama.cpp build, or built from another ggml, is refused before anything binds, and binding can then still
// succeed; a libllama something else loaded first is refused unless libraryPath names it; a second GPU type or
// library in a bound process is an error. The messages themselves: test/engine/llama-build-guard.test.ts.
import { execFile, execFileSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bindLlamaLibrary } from "../../src/engine/llama-library.js";
import { loadNativeAddon } from "../../src/engine/native-addon.js";
import { addonLlamaBuild, loadEngineModel } from "../../src/exports/engine.js";
import { NativeLoadError } from "../../src/index.js";
import { ensureFixtureModel, REPO_ROOT } from "../fixtures/qwen3-fixture.js";
import { RESOLVED_LIBRARY_ENV } from "../support/llama-library-setup.js";

// The global setup's pick (node-llama-cpp's prebuilt CPU build); this file binds by itself.
const realLibrary = process.env[RESOLVED_LIBRARY_ENV] ?? process.env["QWEN3_EMBEDDING_LLAMA_LIBRARY"]!;
delete process.env["QWEN3_EMBEDDING_LLAMA_LIBRARY"];
const realFolder = dirname(realLibrary);

let scratch: string;
beforeAll(() => {
    scratch = mkdtempSync(join(tmpdir(), "qwen3-llama-build-guard-"));
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A copy of node-llama-cpp's build folder (libraries only), with `record` as its _nlcBuildMetadata.json if given. */
function copyOfBuild(name: string, record: object | undefined): string {
    const folder = join(scratch, name);
    execFileSync("mkdir", ["-p", folder]);
    for (const file of readdirSync(realFolder)) {
        if (file.endsWith(".so") || file.endsWith(".dylib") || file.endsWith(".dll")) copyFileSync(join(realFolder, file), join(folder, file));
    }
    if (record !== undefined) writeFileSync(join(folder, "_nlcBuildMetadata.json"), JSON.stringify(record));
    return join(folder, basename(realLibrary));
}

function recordOf(release: string) {
    const real = JSON.parse(readFileSync(join(realFolder, "_nlcBuildMetadata.json"), "utf8")) as { buildOptions: { llamaCpp: object } };
    return { buildOptions: { ...real.buildOptions, llamaCpp: { ...real.buildOptions.llamaCpp, release } } };
}

/** Whether a file from `folder` is mapped into this process (what the dynamic loader loaded). */
function loadedFrom(folder: string): boolean {
    return readFileSync("/proc/self/maps", "utf8").includes(folder);
}

describe.runIf(process.platform === "linux")("the llama.cpp build guard, in one process", () => {
    const addon = loadNativeAddon();

    it("refuses a libllama that node-llama-cpp recorded as another llama.cpp release, before loading it", async () => {
        const other = copyOfBuild("recorded-v0.4.0", recordOf("v0.4.0"));
        const error = await bindLlamaLibrary({ libraryPath: other }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(NativeLoadError);
        const message = (error as Error).message;
        expect(message).toContain(`${other} is a build of llama.cpp v0.4.0 (${join(dirname(other), "_nlcBuildMetadata.json")})`);
        expect(message).toContain(`compiled for llama.cpp ${addon.builtFor.llamaCppRelease} (node-llama-cpp ${addon.builtFor.nodeLlamaCppVersion})`);
        expect(message).toContain("npm rebuild qwen3-embedding --build-from-source");
        expect(message).toContain(`npm install node-llama-cpp@${addon.builtFor.nodeLlamaCppVersion}`);
        // No native call: nothing bound, and the dynamic loader never opened the library.
        expect(addon.boundLibraryPath()).toBe("");
        expect(loadedFrom(dirname(other))).toBe(false);
    });

    it("refuses a libllama built from another ggml (no record beside it), and unloads it", async () => {
        const folder = join(scratch, "other-ggml");
        execFileSync("mkdir", ["-p", folder]);
        writeFileSync(join(folder, "fake.c"), 'const char * ggml_version(void) { return "0.24.0"; }\n');
        execFileSync(process.env["CC"] ?? "cc", ["-shared", "-fPIC", "-o", join(folder, "libllama.so"), join(folder, "fake.c")]);
        const error = await bindLlamaLibrary({ libraryPath: join(folder, "libllama.so") }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(NativeLoadError);
        expect((error as Error).message).toContain(
            `${join(folder, "libllama.so")} is built from ggml 0.24.0, but this addon was compiled for ggml ${addon.builtFor.ggmlVersion}`,
        );
        expect(addon.boundLibraryPath()).toBe("");
        expect(loadedFrom(folder)).toBe(false);
    });

    it("binds the right library after those refusals: a refused bind leaves nothing behind", async () => {
        const library = await bindLlamaLibrary({ libraryPath: realLibrary });
        expect(library.libraryPath).toBe(realLibrary);
        expect(library.gpu).toBe(false);
        expect(addon.boundLibraryPath()).toBe(realLibrary);
        expect(addonLlamaBuild()).toEqual(addon.builtFor);
    });

    it("refuses a second GPU type or another library once bound, and takes the same build again", async () => {
        for (const gpu of ["cuda", "vulkan", "metal"] as const) {
            await expect(bindLlamaLibrary({ gpu })).rejects.toThrow(
                `gpu: "${gpu}" asks for another llama.cpp build than the one this process is bound to: ${realLibrary} (CPU build)`,
            );
        }
        const other = copyOfBuild("another-copy", recordOf(addon.builtFor.llamaCppRelease));
        await expect(bindLlamaLibrary({ libraryPath: other })).rejects.toThrow(`libraryPath: ${JSON.stringify(other)} asks for another llama.cpp build`);
        expect((await bindLlamaLibrary({ gpu: false })).libraryPath).toBe(realLibrary);
        expect((await bindLlamaLibrary({ gpu: "auto", libraryPath: realLibrary })).libraryPath).toBe(realLibrary);
        // Through the public API, before the model is read.
        const model = await ensureFixtureModel({ kind: "embedding", size: "tiny" });
        await expect(loadEngineModel(model, { gpu: "cuda" })).rejects.toThrow(/gpu: "cuda" asks for another llama.cpp build[^]*Run the models that need/);
        expect(addon.liveModelCount()).toBe(0);
    });
});

describe.runIf(process.platform === "linux")("a libllama something else loaded first", () => {
    /** Binds in a new process with `preload` loaded before anything else, trying each option set in turn. */
    async function bindAfterPreload(preload: string, ...attempts: object[]) {
        const env: NodeJS.ProcessEnv = { ...process.env, LD_PRELOAD: preload };
        delete env["QWEN3_EMBEDDING_LLAMA_LIBRARY"];
        const script = join(REPO_ROOT, "test", "support", "print-llama-library.ts");
        const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", script, ...attempts.map((a) => JSON.stringify(a))], {
            cwd: REPO_ROOT,
            env,
        });
        return stdout.trim().split("\n").map((line) => JSON.parse(line) as { code?: string; message?: string; libraryPath?: string; boundLibraryPath?: string });
    }

    it("is refused when nothing says which llama.cpp it is, and bound when libraryPath names it", async () => {
        const foreign = copyOfBuild("foreign", undefined);
        const [refused, named] = await bindAfterPreload(foreign, {}, { libraryPath: foreign });
        expect(refused!.code).toBe("ERR_NATIVE_LOAD");
        expect(refused!.message).toContain(
            `Another llama.cpp library is already loaded in this process: ${foreign} (no _nlcBuildMetadata.json beside it says which llama.cpp it is)`,
        );
        expect(refused!.message).toContain(`name it: libraryPath: ${JSON.stringify(foreign)}`);
        expect(refused!.boundLibraryPath).toBe("");
        expect(named!.libraryPath).toBe(foreign);
    });

    it("is refused when its record says another llama.cpp release, even when named", async () => {
        const foreign = copyOfBuild("foreign-v0.4.0", recordOf("v0.4.0"));
        const [refused, named] = await bindAfterPreload(foreign, {}, { libraryPath: foreign });
        expect(refused!.message).toContain(`${join(dirname(foreign), "_nlcBuildMetadata.json")} records llama.cpp v0.4.0`);
        expect(named!.message).toContain(`${foreign} is a build of llama.cpp v0.4.0`);
        expect(named!.boundLibraryPath).toBe("");
    });

    it("is bound when it is node-llama-cpp's own build of the same release (the host application's node-llama-cpp)", async () => {
        const [bound] = await bindAfterPreload(realLibrary, {});
        expect(bound!.libraryPath).toBe(realLibrary);
    });
});
