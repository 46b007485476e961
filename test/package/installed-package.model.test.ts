// The package as a consumer gets it: `npm pack` (which builds dist/), then the tarball installed into a scratch project
// in a temp folder with `--ignore-scripts` and a PATH holding only node and npm (no cc, c++, make or python3): the
// prebuilt addon has to load from what the tarball holds. The scratch project embeds with the tiny fixture model from
// ESM and from CommonJS (require of the ESM package), and type-checks a strict TypeScript consumer against the
// installed declarations. The prebuilt binary for this host is made first when prebuilds/ lacks it or is older than
// the native sources or the llama.cpp build they are compiled for (`npm run prebuildify`, under a minute). npm takes dependencies from its cache (--prefer-offline) and the registry otherwise.
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { currentAddonTarget, prebuiltName } from "../../src/engine/addon-binary.js";
import { ensureFixtureModel, FIXTURE_SHAPES, REPO_ROOT } from "../fixtures/qwen3-fixture.js";
import { PACKAGE_FILE_RULES, type PackedPackage } from "../support/package-files.js";

const TIMEOUT = 300_000;
const execFileAsync = promisify(execFile);

let work: string;
let app: string;
let tools: string;
let modelPath: string;
let packed: PackedPackage;
const prebuilt = `prebuilds/${process.platform}-${process.arch}/${prebuiltName(currentAddonTarget())}`;

async function run(file: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv }): Promise<string> {
    try {
        const { stdout } = await execFileAsync(file, args, { ...options, maxBuffer: 256 << 20 });
        return stdout;
    } catch (error) {
        const failed = error as Error & { stdout?: string; stderr?: string };
        throw new Error(`${[file, ...args].join(" ")} failed in ${options.cwd}: ${failed.message}\n${failed.stdout ?? ""}\n${failed.stderr ?? ""}`);
    }
}

/** The JSON its last line of output holds. */
function lastLine(stdout: string): number[][] {
    return JSON.parse(stdout.trim().split("\n").at(-1)!) as number[][];
}

/** The full path of `name` on this process's PATH. */
function onPath(name: string): string {
    for (const folder of (process.env["PATH"] ?? "").split(delimiter)) {
        if (folder !== "" && existsSync(join(folder, name))) return join(folder, name);
    }
    throw new Error(`${name} is not on PATH`);
}

/** The consumer's environment: PATH is a folder with links to node and npm only; no npm_* of the running npm, no pinned llama.cpp. */
function consumerEnv(): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {};
    for (const [key, value] of Object.entries(process.env)) {
        if (!/^npm_/i.test(key) && key !== "QWEN3_EMBEDDING_LLAMA_LIBRARY" && key !== "QWEN3_EMBEDDING_TEST_RESOLVED_LIBRARY") env[key] = value;
    }
    env["PATH"] = tools;
    return env;
}

/** What both the ESM and the CommonJS consumer run: embed two texts, print the vectors as JSON. */
const EMBED = `const embedder = await createEmbedder({ model: process.argv[2] });
const { embeddings } = await embedder.embedDocuments(["The capital of China is Beijing.", "Gravity is a force."]);
console.log(JSON.stringify(embeddings.map((vector) => Array.from(vector))));
await embedder.dispose();
`;

const SCRIPTS: Record<string, string> = {
    "esm.mjs": `import { createEmbedder } from "qwen3-embedding";\n${EMBED}`,
    "cjs.cjs": `const { createEmbedder } = require("qwen3-embedding");
(async () => {
${EMBED}})().catch((error) => {
    console.error(error);
    process.exitCode = 1;
});
`,
    "consumer.mts": `import { createEmbedder, createReranker, NativeLoadError, type EmbeddingResult, type RerankResult } from "qwen3-embedding";
import { createServer, type ServerOptions } from "qwen3-embedding/server";
import { openStore } from "qwen3-embedding/store";
import { verifyAgainstReference } from "qwen3-embedding/evaluation";
import { bindLlamaLibrary, type LlamaLibrary } from "qwen3-embedding/engine";

export async function consume(model: string): Promise<number> {
    await using embedder = await createEmbedder({ model });
    const result = await embedder.embedDocuments(["a"]); // float32 by default: typed Float32Array
    const first: Float32Array | undefined = result.embeddings[0];
    const bits: EmbeddingResult<Int8Array> = await embedder.embedDocuments(["a"], { outputType: "binary" });
    const reranked: RerankResult = await (await createReranker({ model })).rerank("q", ["d"]);
    const library: LlamaLibrary = await bindLlamaLibrary();
    const options: Partial<ServerOptions> = {};
    void [createServer, openStore, verifyAgainstReference, options, library, reranked, bits];
    return first?.length ?? (new NativeLoadError("x").code === "ERR_NATIVE_LOAD" ? 0 : -1);
}
`,
    "consumer.cts": `import qwen3 = require("qwen3-embedding");

export function dimensionsOf(result: qwen3.EmbeddingResult): number {
    return result.embeddings[0]?.length ?? 0;
}
`,
    "tsconfig.json": JSON.stringify({
        compilerOptions: { strict: true, noEmit: true, module: "nodenext", moduleResolution: "nodenext", target: "es2022", types: ["node"], skipLibCheck: false },
        files: ["consumer.mts", "consumer.cts"],
    }),
};

/** Whether prebuilds/ lacks this host's binary, or it predates a native source or the recorded llama.cpp build. */
function prebuiltIsStale(): boolean {
    const binary = join(REPO_ROOT, prebuilt);
    if (!existsSync(binary)) return true;
    const sources = [
        "binding.gyp",
        ...readdirSync(join(REPO_ROOT, "native")).filter((name) => /\.(cc|h)$/.test(name)).map((name) => join("native", name)),
        join("native", "llama-headers", "llama-build.h"),
    ];
    const built = statSync(binary).mtimeMs;
    return sources.some((path) => !existsSync(join(REPO_ROOT, path)) || statSync(join(REPO_ROOT, path)).mtimeMs > built);
}

beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), "qwen3-installed-package-"));
    modelPath = await ensureFixtureModel({ kind: "embedding", size: "tiny" });
    if (prebuiltIsStale()) await run(onPath("npm"), ["run", "prebuildify"], { cwd: REPO_ROOT });
    // `npm pack` runs prepare: dist/ is built from the sources as they are now.
    const output = await run(onPath("npm"), ["pack", "--json", "--pack-destination", work], { cwd: REPO_ROOT });
    packed = (JSON.parse(output.slice(output.indexOf("["))) as PackedPackage[])[0]!;

    tools = join(work, "bin");
    mkdirSync(tools);
    symlinkSync(process.execPath, join(tools, "node"));
    symlinkSync(onPath("npm"), join(tools, "npm"));
    app = join(work, "app");
    mkdirSync(app);
    writeFileSync(join(app, "package.json"), JSON.stringify({ name: "qwen3-embedding-consumer", version: "1.0.0", private: true }));
    for (const [name, content] of Object.entries(SCRIPTS)) writeFileSync(join(app, name), content);
    const types = `@types/node@${(JSON.parse(readFileSync(join(REPO_ROOT, "node_modules", "@types", "node", "package.json"), "utf8")) as { version: string }).version}`;
    await run(join(tools, "npm"), ["install", join(work, packed.filename), types, "--ignore-scripts", "--prefer-offline", "--no-audit", "--no-fund"], {
        cwd: app,
        env: consumerEnv(),
    });
}, TIMEOUT);

afterAll(() => {
    if (work !== undefined) rmSync(work, { recursive: true, force: true });
});

describe("the packed package, installed with no compiler and no install scripts", () => {
    it("holds dist/, the prebuilt binary for this host and the sources of a fallback build, and nothing else", () => {
        const paths = packed.files.map((file) => file.path);
        for (const required of ["package.json", "README.md", "dist/index.js", "dist/index.d.ts", "dist/cli/main.js", "dist/runtime/engine-worker.js", prebuilt]) {
            expect(paths).toContain(required);
        }
        expect(paths.filter((path) => !PACKAGE_FILE_RULES.some((rule) => rule.test(path)))).toEqual([]);
        console.log(`${packed.filename}: ${packed.entryCount} files, ${packed.size} bytes packed, ${packed.unpackedSize} unpacked`);
    });

    it("has no compiler to fall back on and no local build: only the prebuilt binary can load", () => {
        expect(readdirSync(tools).sort()).toEqual(["node", "npm"]);
        const installed = join(app, "node_modules", "qwen3-embedding");
        expect(existsSync(join(installed, prebuilt))).toBe(true);
        expect(existsSync(join(installed, "build"))).toBe(false);
    });

    let esmVectors: number[][];
    it("embeds from ESM (import)", async () => {
        esmVectors = lastLine(await run(join(tools, "node"), ["esm.mjs", modelPath], { cwd: app, env: consumerEnv() }));
        expect(esmVectors).toHaveLength(2);
        for (const vector of esmVectors) {
            expect(vector).toHaveLength(FIXTURE_SHAPES.tiny.hidden);
            expect(Math.hypot(...vector)).toBeCloseTo(1, 5);
        }
    }, TIMEOUT);

    it("embeds from CommonJS (require), the same vectors", async () => {
        const vectors = lastLine(await run(join(tools, "node"), ["cjs.cjs", modelPath], { cwd: app, env: consumerEnv() }));
        expect(vectors).toHaveLength(2);
        vectors.forEach((vector, i) => vector.forEach((value, j) => expect(value).toBeCloseTo(esmVectors[i]![j]!, 6)));
    }, TIMEOUT);

    it("type-checks a strict TypeScript consumer (ESM and CommonJS) against the installed declarations", async () => {
        await run(join(tools, "node"), [join(REPO_ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.json"], { cwd: app, env: consumerEnv() });
    }, TIMEOUT);
});
