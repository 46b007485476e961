import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { beforeAll, describe, expect, it } from "vitest";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
/** Inside node_modules so the emitted declarations resolve fastify, pg, ... as the published ones do. */
const OUT = join(ROOT, "node_modules", ".cache", "qwen3-embedding-declarations");

function declarationFiles(directory: string): string[] {
    return readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
        const path = join(directory, entry.name);
        if (entry.isDirectory()) return declarationFiles(path);
        return entry.name.endsWith(".d.ts") ? [path] : [];
    });
}

/** Emits the declarations exactly as `npm run build` does (tsconfig.json), into OUT. */
function emitDeclarations(): readonly ts.Diagnostic[] {
    rmSync(OUT, { recursive: true, force: true });
    const config = ts.getParsedCommandLineOfConfigFile(join(ROOT, "tsconfig.json"), { outDir: OUT, emitDeclarationOnly: true, declarationMap: false, sourceMap: false }, {
        ...ts.sys,
        onUnRecoverableConfigFileDiagnostic: (diagnostic) => {
            throw new Error(ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n"));
        },
    })!;
    return ts.createProgram(config.fileNames, config.options).emit().diagnostics;
}

describe("the published surface", () => {
    beforeAll(() => {
        expect(emitDeclarations()).toEqual([]);
    }, 120_000);

    it("the root entry exports fewer than 40 runtime names", async () => {
        const root = await import("../../src/index.js");
        expect(Object.keys(root).length).toBeLessThan(40);
    });

    it("keeps @internal declarations out of every .d.ts", () => {
        const leaking = declarationFiles(OUT).filter((file) => readFileSync(file, "utf8").includes("@internal"));
        expect(leaking.map((file) => relative(OUT, file))).toEqual([]);
    });

    it("every subpath in package.json exports points at an emitted entry", () => {
        const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { exports: Record<string, string | { types: string; default: string }> };
        const entries = Object.entries(pkg.exports).filter((entry): entry is [string, { types: string; default: string }] => typeof entry[1] === "object");
        expect(entries.map(([subpath]) => subpath).sort()).toEqual([".", "./ai-sdk", "./engine", "./evaluation", "./langchain", "./llamaindex", "./queue", "./server", "./store"]);
        for (const [, target] of entries) {
            expect(target.types.replace(/^\.\/dist\//, "")).toBe(target.default.replace(/^\.\/dist\//, "").replace(/\.js$/, ".d.ts"));
            expect(existsSync(join(OUT, target.types.replace(/^\.\/dist\//, "")))).toBe(true);
        }
    });

    it("the declarations type-check on their own, with nothing stripped still referenced", () => {
        const program = ts.createProgram(declarationFiles(OUT), {
            module: ts.ModuleKind.NodeNext,
            moduleResolution: ts.ModuleResolutionKind.NodeNext,
            target: ts.ScriptTarget.ES2022,
            lib: ["lib.es2023.d.ts", "lib.es2024.sharedmemory.d.ts"],
            types: ["node"],
            strict: true,
            noEmit: true,
        });
        const ours = ts.getPreEmitDiagnostics(program).filter((diagnostic) => diagnostic.file?.fileName.startsWith(OUT));
        expect(ours.map((diagnostic) => `${relative(OUT, diagnostic.file!.fileName)}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n")}`)).toEqual([]);
    }, 120_000);
});
