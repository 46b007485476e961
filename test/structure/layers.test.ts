import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, it } from "vitest";

/**
 * The layers of src/, lowest first (../shared/ARCHITECTURE.md draws them). A module may import from its own layer and
 * from layers below it, never from one above. exports/ holds the package's subpath entries (qwen3-embedding/server, ...);
 * src/index.ts, the root entry, stands above them all. adapters/ (LangChain, AI SDK, LlamaIndex) sits on the facade and
 * speaks HTTP to a remote serve itself: it never reaches into the server's code.
 */
const LAYERS = ["internal", "format", "models", "engine", "runtime", "scheduler", "facade", "store", "applications", "queue", "evaluation", "adapters", "server", "cli", "exports"] as const;
const ROOT_ENTRY = "index.ts";

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), "../../src");

function sourceFiles(directory: string): string[] {
    return readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
        const path = join(directory, entry.name);
        if (entry.isDirectory()) return sourceFiles(path);
        return /\.(ts|mts|mjs)$/.test(entry.name) ? [path] : [];
    });
}

/** The layer's rank, or undefined for a file outside every layer folder. */
function rankOf(file: string): number | undefined {
    const path = relative(SRC, file).split("\\").join("/");
    if (path === ROOT_ENTRY) return LAYERS.length;
    const index = (LAYERS as readonly string[]).indexOf(path.split("/")[0]!);
    return index === -1 || !path.includes("/") ? undefined : index;
}

const layerName = (rank: number) => LAYERS[rank] ?? "the root entry";

interface ImportEdge {
    from: string;
    specifier: string;
    target: string;
}

/**
 * The optional peer dependencies, by the subpath entry that may reach them: each is imported only in src/adapters/ and
 * only through its own entry, so the root entry and the other subpaths load without them.
 */
const OPTIONAL_PEERS: Record<string, RegExp> = {
    "exports/langchain.ts": /^@langchain\//,
    "exports/ai-sdk.ts": /^(@ai-sdk\/|ai$)/,
    "exports/llamaindex.ts": /^(@llamaindex\/|llamaindex$)/,
};

/** Every import of a package (not a relative path) by every module in src/, type-only ones included. */
function packageImports(): { from: string; specifier: string }[] {
    return sourceFiles(SRC).flatMap((file) =>
        ts.preProcessFile(readFileSync(file, "utf8"), true, true).importedFiles
            .filter(({ fileName }) => !fileName.startsWith("."))
            .map(({ fileName }) => ({ from: relative(SRC, file).split("\\").join("/"), specifier: fileName })),
    );
}

/** The src/ modules a module reaches through relative imports, itself included. */
function reachableFrom(entry: string): Set<string> {
    const edges = importEdges();
    const seen = new Set<string>();
    const visit = (file: string) => {
        if (seen.has(file)) return;
        seen.add(file);
        for (const edge of edges) if (edge.from === file) visit(edge.target);
    };
    visit(join(SRC, entry));
    return new Set([...seen].map((file) => relative(SRC, file).split("\\").join("/")));
}

/** Every relative import of every module in src/: static, re-exports, type-only and dynamic import() alike. */
function importEdges(): ImportEdge[] {
    return sourceFiles(SRC).flatMap((file) =>
        ts.preProcessFile(readFileSync(file, "utf8"), true, true).importedFiles
            .filter(({ fileName }) => fileName.startsWith("."))
            .map(({ fileName }) => ({ from: file, specifier: fileName, target: resolve(dirname(file), fileName).replace(/\.js$/, ".ts") })),
    );
}

describe("layering of src/", () => {
    it("every module lives in a layer folder (or is the root entry)", () => {
        const outside = sourceFiles(SRC).filter((file) => rankOf(file) === undefined).map((file) => relative(SRC, file));
        expect(outside).toEqual([]);
    });

    it("no module imports from a layer above its own", () => {
        const upward = importEdges()
            .filter(({ from, target }) => rankOf(target)! > rankOf(from)!)
            .map(({ from, specifier, target }) => `${relative(SRC, from)} (${layerName(rankOf(from)!)}) imports ${specifier} (${layerName(rankOf(target)!)})`);
        expect(upward).toEqual([]);
    });

    it("above the facade, nothing reaches past it into the scheduler, the runtime or the engine", () => {
        const facade = LAYERS.indexOf("facade");
        const hidden = new Set(["scheduler", "runtime", "engine"].map((layer) => (LAYERS as readonly string[]).indexOf(layer)));
        const past = importEdges()
            .filter(({ from, target }) => rankOf(from)! > facade && rankOf(from)! < LAYERS.indexOf("exports") && hidden.has(rankOf(target)!))
            .map(({ from, specifier }) => `${relative(SRC, from)} imports ${specifier}`);
        expect(past).toEqual([]);
    });

    it("the optional peers (LangChain, AI SDK, LlamaIndex) are imported only in src/adapters/", () => {
        const peers = Object.values(OPTIONAL_PEERS);
        const outside = packageImports()
            .filter(({ from, specifier }) => peers.some((peer) => peer.test(specifier)) && !from.startsWith("adapters/"))
            .map(({ from, specifier }) => `${from} imports ${specifier}`);
        expect(outside).toEqual([]);
    });

    it("each adapter entry reaches only its own client's packages, and no other entry reaches any", () => {
        const imports = packageImports();
        const entries = ["index.ts", ...readdirSync(join(SRC, "exports")).map((name) => `exports/${name}`)];
        const wrong = entries.flatMap((entry) => {
            const reached = reachableFrom(entry);
            const allowed = OPTIONAL_PEERS[entry];
            return imports
                .filter(({ from, specifier }) => reached.has(from) && Object.values(OPTIONAL_PEERS).some((peer) => peer.test(specifier)) && !(allowed?.test(specifier) ?? false))
                .map(({ from, specifier }) => `${entry} reaches ${specifier} (through ${from})`);
        });
        expect(wrong).toEqual([]);
        // and the check sees a peer where there is one
        expect([...reachableFrom("exports/langchain.ts")].filter((file) => imports.some(({ from, specifier }) => from === file && OPTIONAL_PEERS["exports/langchain.ts"]!.test(specifier)))).not.toEqual([]);
    });

    it("the check sees an upward import when there is one", () => {
        const engine = join(SRC, "engine", "engine-model.ts");
        const facade = join(SRC, "facade", "embedder.ts");
        expect(rankOf(facade)! > rankOf(engine)!).toBe(true);
        const edges = ts.preProcessFile('import { x } from "../facade/embedder.js"; const y = await import("../server/server-entry.js");', true, true).importedFiles;
        expect(edges.map(({ fileName }) => fileName)).toEqual(["../facade/embedder.js", "../server/server-entry.js"]);
    });
});
