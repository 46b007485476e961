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
    // The client adapters, run once their optional peers are installed: each query path is the library's embedQuery.
    "adapters.mjs": `import { createEmbedder } from "qwen3-embedding";
import { Qwen3Embeddings } from "qwen3-embedding/langchain";
import { createQwen3 } from "qwen3-embedding/ai-sdk";
import { Qwen3Embedding } from "qwen3-embedding/llamaindex";
import { embed } from "ai";
const embedder = await createEmbedder({ model: process.argv[2] });
const query = "What is the capital of China?";
const vectors = [
    Array.from((await embedder.embedQuery(query)).embedding),
    await new Qwen3Embeddings({ embedder }).embedQuery(query),
    (await embed({ model: createQwen3({ embedder }).embeddingModel(), value: query, providerOptions: { qwen3: { inputType: "query" } } })).embedding,
    await new Qwen3Embedding({ embedder }).getQueryEmbedding({ type: "text", text: query }),
    Array.from((await embedder.embedDocuments([query])).embeddings[0]),
];
console.log(JSON.stringify(vectors));
await embedder.dispose();
`,
    "langchain-only.mjs": `await import("qwen3-embedding/langchain");\n`,
    "adapters.mts": `import type { Embeddings } from "@langchain/core/embeddings";
import type { BaseDocumentCompressor } from "@langchain/core/retrievers/document_compressors";
import type { EmbeddingModelV3, RerankingModelV3 } from "@ai-sdk/provider";
import type { BaseEmbedding } from "@llamaindex/core/embeddings";
import { Qwen3Embeddings, Qwen3Rerank } from "qwen3-embedding/langchain";
import { createQwen3 } from "qwen3-embedding/ai-sdk";
import { Qwen3Embedding } from "qwen3-embedding/llamaindex";

const qwen3 = createQwen3({ baseUrl: "http://127.0.0.1:8080" });
export const models: [Embeddings, BaseDocumentCompressor, EmbeddingModelV3, RerankingModelV3, BaseEmbedding] = [
    new Qwen3Embeddings({ baseUrl: "http://127.0.0.1:8080", task: "web-search" }),
    new Qwen3Rerank({ baseUrl: "http://127.0.0.1:8080", topN: 2 }),
    qwen3.embeddingModel({ inputType: "query" }),
    qwen3.rerankingModel(),
    new Qwen3Embedding({ baseUrl: "http://127.0.0.1:8080" }),
];
`,
    "tsconfig.adapters.json": JSON.stringify({
        // skipLibCheck: the peers' own declarations do not compile strictly (@ai-sdk/provider 3.0.19 imports json-schema
        // without its @types; @llamaindex/core 0.6.23's agent types contradict its chat engine's). Ours are checked alone
        // by test/structure/public-surface.test.ts; here the consumer's use of them is.
        compilerOptions: { strict: true, noEmit: true, module: "nodenext", moduleResolution: "nodenext", target: "es2022", lib: ["es2023", "dom"], types: ["node"], skipLibCheck: true },
        files: ["adapters.mts"],
    }),
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

    it("without its optional peer, an adapter subpath fails on import naming the package to install; the root entry needed none", async () => {
        const failure = await run(join(tools, "node"), ["langchain-only.mjs"], { cwd: app, env: consumerEnv() })
            .then(() => "", (error: Error) => error.message);
        expect(failure).toMatch(/Cannot find package '@langchain\/core'/);
    }, TIMEOUT);

    it("with the peers installed, the LangChain, AI SDK and LlamaIndex adapters embed a query as embedQuery, and a strict consumer of them type-checks", async () => {
        const peers = ["langchain/core", "ai-sdk/provider", "llamaindex/core"].map((name) => {
            const version = (JSON.parse(readFileSync(join(REPO_ROOT, "node_modules", `@${name}`, "package.json"), "utf8")) as { version: string }).version;
            return `@${name}@${version}`;
        });
        const ai = `ai@${(JSON.parse(readFileSync(join(REPO_ROOT, "node_modules", "ai", "package.json"), "utf8")) as { version: string }).version}`;
        await run(join(tools, "npm"), ["install", ...peers, ai, "--ignore-scripts", "--prefer-offline", "--no-audit", "--no-fund"], { cwd: app, env: consumerEnv() });
        const [library, ...adapters] = lastLine(await run(join(tools, "node"), ["adapters.mjs", modelPath], { cwd: app, env: consumerEnv() }));
        const document = adapters.pop()!;
        expect(adapters).toHaveLength(3);
        for (const vector of adapters) vector.forEach((value, index) => expect(value).toBeCloseTo(library![index]!, 6));
        expect(document.some((value, index) => Math.abs(value - library![index]!) > 1e-3)).toBe(true);
        await run(join(tools, "node"), [join(REPO_ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.adapters.json"], { cwd: app, env: consumerEnv() });
    }, TIMEOUT);
});
