// The guard's decisions and messages (src/engine/llama-build-guard.ts), with builds recorded by hand. On real
// libraries, in real processes: llama-build-guard.model.test.ts.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
    checkInstalledNodeLlamaCpp,
    checkLibraryRecord,
    checkLoadedLibrary,
    checkSameBinding,
    installedNodeLlamaCpp,
    readLibraryBuildRecord,
    type LlamaBuild,
} from "../../src/engine/llama-build-guard.js";
import { NativeLoadError } from "../../src/index.js";

const builtFor: LlamaBuild = { nodeLlamaCppVersion: "3.22.1", llamaCppRelease: "v0.5.0", llamaCppCommit: "de3ff81", ggmlVersion: "0.25.1" };
const scratch = mkdtempSync(join(tmpdir(), "qwen3-guard-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("node-llama-cpp's record beside a library", () => {
    const at = (record: string | undefined) => {
        const folder = mkdtempSync(join(scratch, "build-"));
        if (record !== undefined) writeFileSync(join(folder, "_nlcBuildMetadata.json"), record);
        return join(folder, "libllama.so");
    };

    it("reads the llama.cpp release and GPU type, or nothing when there is no record", () => {
        const library = at(JSON.stringify({ buildOptions: { gpu: "cuda", llamaCpp: { repo: "ggml-org/llama.cpp", release: "v0.5.0" } } }));
        expect(readLibraryBuildRecord(library)).toEqual({ recordPath: join(library, "..", "_nlcBuildMetadata.json"), llamaCppRelease: "v0.5.0", gpu: "cuda" });
        expect(readLibraryBuildRecord(at(undefined))).toBeUndefined();
    });

    it("throws a NativeLoadError for a record that is not JSON or lacks the fields", () => {
        expect(() => readLibraryBuildRecord(at("{"))).toThrow(/_nlcBuildMetadata.json cannot be read as JSON .*; reinstall with `npm ci`/);
        expect(() => readLibraryBuildRecord(at(JSON.stringify({ buildOptions: { gpu: false } })))).toThrow(
            /_nlcBuildMetadata.json has no buildOptions.llamaCpp.release or buildOptions.gpu; reinstall with `npm ci`/,
        );
    });
});

describe("what the addon may bind", () => {
    const record = (llamaCppRelease: string) => ({ recordPath: "/x/_nlcBuildMetadata.json", llamaCppRelease, gpu: false as const });

    it("takes a library of its own release, or one with no record (ggml's version is checked in the addon)", () => {
        expect(() => checkLibraryRecord(builtFor, "/x/libllama.so", record("v0.5.0"))).not.toThrow();
        expect(() => checkLibraryRecord(builtFor, "/x/libllama.so", undefined)).not.toThrow();
    });

    it("refuses another release with one error: what was found, what was expected, and the commands that fix it", () => {
        let error: unknown;
        try {
            checkLibraryRecord(builtFor, "/x/libllama.so", record("v0.6.0"));
        } catch (e) {
            error = e;
        }
        expect(error).toBeInstanceOf(NativeLoadError);
        expect((error as NativeLoadError).code).toBe("ERR_NATIVE_LOAD");
        expect((error as Error).message).toBe(
            [
                "/x/libllama.so is a build of llama.cpp v0.6.0 (/x/_nlcBuildMetadata.json), but qwen3-embedding's addon was compiled for " +
                    "llama.cpp v0.5.0 (node-llama-cpp 3.22.1). Their structs may differ, so the library was not loaded.",
                "Possible solutions:",
                "- Rebuild the addon against the installed node-llama-cpp: `npm rebuild qwen3-embedding --build-from-source` (in a checkout " +
                    "of qwen3-embedding: `npm run build:native`)",
                "- Or install the node-llama-cpp it was compiled for: `npm install node-llama-cpp@3.22.1`",
                "- Or name a libllama of llama.cpp v0.5.0 with libraryPath (or QWEN3_EMBEDDING_LLAMA_LIBRARY)",
            ].join("\n"),
        );
    });

    it("refuses to let another node-llama-cpp version pick a build (an addon that recorded another version)", () => {
        const installed = installedNodeLlamaCpp();
        expect(installed.packageDir).toMatch(/node-llama-cpp$/);
        expect(() => checkInstalledNodeLlamaCpp({ ...builtFor, nodeLlamaCppVersion: installed.version, llamaCppRelease: installed.llamaCppRelease }, installed)).not.toThrow();
        const recordedOther = { ...builtFor, nodeLlamaCppVersion: "3.21.0", llamaCppRelease: "v0.4.0" };
        expect(() => checkInstalledNodeLlamaCpp(recordedOther, installed)).toThrow(
            `The node-llama-cpp installed at ${installed.packageDir} is ${installed.version} (llama.cpp ${installed.llamaCppRelease}), but ` +
                "qwen3-embedding's addon was compiled for node-llama-cpp 3.21.0 (llama.cpp v0.4.0). Their structs may differ, so none of its " +
                "llama.cpp builds was loaded.\nPossible solutions:\n- Rebuild the addon",
        );
        // The same release from another node-llama-cpp version is refused too: its own patches and build options.
        expect(() => checkInstalledNodeLlamaCpp({ ...recordedOther, llamaCppRelease: installed.llamaCppRelease }, installed)).toThrow(NativeLoadError);
    });

    it("refuses a loaded library it cannot identify, and says how to name it", () => {
        expect(() => checkLoadedLibrary(builtFor, "/app/libllama.so", record("v0.5.0"))).not.toThrow();
        expect(() => checkLoadedLibrary(builtFor, "/app/libllama.so", undefined)).toThrow(
            'Another llama.cpp library is already loaded in this process: /app/libllama.so (no _nlcBuildMetadata.json beside it says which ' +
                "llama.cpp it is). qwen3-embedding's addon was compiled for llama.cpp v0.5.0 (node-llama-cpp 3.22.1) and does not bind a " +
                "library it cannot identify, nor load a second llama.cpp beside it.\nPossible solutions:\n- If that library is a build of " +
                'llama.cpp v0.5.0, name it: libraryPath: "/app/libllama.so" (or QWEN3_EMBEDDING_LLAMA_LIBRARY)',
        );
        expect(() => checkLoadedLibrary(builtFor, "/app/libllama.so", record("v0.4.0"))).toThrow("(/x/_nlcBuildMetadata.json records llama.cpp v0.4.0)");
    });

    it("refuses a second GPU type or library in a bound process; gpu: auto and an unrecorded build take what is bound", () => {
        const cpu = { libraryPath: "/x/libllama.so", gpu: false as const };
        expect(() => checkSameBinding(cpu, { libraryPath: undefined, gpu: "auto" })).not.toThrow();
        expect(() => checkSameBinding(cpu, { libraryPath: "/x/libllama.so", gpu: false })).not.toThrow();
        expect(() => checkSameBinding({ ...cpu, gpu: undefined }, { libraryPath: undefined, gpu: "cuda" })).not.toThrow();
        expect(() => checkSameBinding({ ...cpu, gpu: "cuda" }, { libraryPath: undefined, gpu: false })).toThrow(
            'gpu: false asks for another llama.cpp build than the one this process is bound to: /x/libllama.so (cuda build)',
        );
        expect(() => checkSameBinding(cpu, { libraryPath: "/y/libllama.so", gpu: "auto" })).toThrow(
            'libraryPath: "/y/libllama.so" asks for another llama.cpp build than the one this process is bound to: /x/libllama.so (CPU build). ' +
                "A process binds one llama.cpp build, on its first model load, and keeps it.\nPossible solutions:\n- Load every model of " +
                'this process with the same libraryPath\n- Run the models that need libraryPath: "/y/libllama.so" in another process',
        );
    });
});
