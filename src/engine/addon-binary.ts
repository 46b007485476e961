/**
 * Where the compiled addon (native/*.cc) is, and loading it. Two places, tried in this order:
 *  1. `build/Release/qwen3_embedding.node`, a local build: made only on purpose, by `npm run build:native` in a
 *     checkout, or by the install script when no prebuilt binary loaded (node-gyp-build's fallback). It comes first so
 *     that a build of edited sources is never shadowed by an older prebuilt binary (node-gyp-build's order too).
 *  2. `prebuilds/<platform>-<arch>/qwen3-embedding[.glibc|.musl].node`, the prebuilt binary the package ships
 *     (scripts/prebuildify.mjs: Node-API, so one binary serves every Node.js version; the addon links nothing of
 *     llama.cpp at build time, it binds the libraries at run time).
 * When neither loads, ONE error says for which platform, what was tried and what failed, and the commands that fix it.
 */
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { NativeLoadError } from "../internal/errors.js";

/** The platform a binary is for, as prebuilds/ names it: prebuildify's `<platform>-<arch>` folder and libc tag. */
export interface AddonTarget {
    platform: NodeJS.Platform;
    arch: string;
    /** "glibc" or "musl" on Linux (the prebuilt binaries differ), undefined elsewhere. */
    libc: "glibc" | "musl" | undefined;
}

export function currentAddonTarget(): AddonTarget {
    return { platform: process.platform, arch: process.arch, libc: process.platform === "linux" ? linuxLibc() : undefined };
}

/**
 * The C library this Linux runs programs with, read the way detect-libc reads it: /usr/bin/ldd is a script of glibc's
 * or of musl's. (Not process.report: a report waits on every worker thread, and omits glibc for a static build.)
 */
function linuxLibc(): "glibc" | "musl" {
    try {
        return readFileSync("/usr/bin/ldd", "latin1").includes("musl") ? "musl" : "glibc";
    } catch {
        return existsSync("/etc/alpine-release") ? "musl" : "glibc";
    }
}

/** The name prebuildify (6) gives a Node-API binary for `target`: the package's name, then the libc tag on Linux. */
export function prebuiltName(target: AddonTarget): string {
    return ["qwen3-embedding", ...(target.libc === undefined ? [] : [target.libc]), "node"].join(".");
}

/** Where the addon may be under the package root `root`, in the order they are tried. */
export function addonCandidates(root: string, target: AddonTarget): { path: string; kind: string }[] {
    const tuple = `${target.platform}-${target.arch}`;
    return [
        { path: join(root, "build", "Release", "qwen3_embedding.node"), kind: "local build" },
        { path: join(root, "prebuilds", tuple, prebuiltName(target)), kind: `prebuilt binary for ${describeTarget(target)}` },
    ];
}

/**
 * Loads the first candidate that loads and says which file it was; throws one NativeLoadError naming each one tried
 * and why it failed.
 */
export function loadAddonBinary(root: string, target: AddonTarget = currentAddonTarget()): { path: string; exports: unknown } {
    const require = createRequire(join(root, "package.json"));
    const tried: string[] = [];
    let cause: unknown;
    for (const { path, kind } of addonCandidates(root, target)) {
        if (!existsSync(path)) {
            tried.push(`- ${path} (${kind}): not there`);
            continue;
        }
        try {
            return { path, exports: require(path) };
        } catch (error) {
            cause ??= error;
            tried.push(`- ${path} (${kind}): ${firstLine(error)}${archMismatch(path, target)}`);
        }
    }
    throw new NativeLoadError(
        [
            `Could not load the qwen3-embedding native addon for ${describeTarget(target)} on Node.js ${process.version}.`,
            "Tried, in order:",
            ...tried,
            `Prebuilt binaries in this package: ${shippedPrebuilds(root).join(", ") || "none"}`,
            "Possible solutions:",
            "- Install the package on the machine that runs it (node_modules copied from another platform lacks its binary): `npm install qwen3-embedding`",
            "- Build the addon from source: `npm rebuild qwen3-embedding --build-from-source` (needs git, python3, make and a C++17 compiler; under a minute)",
            "- In a checkout of qwen3-embedding: `npm run build:native`",
        ].join("\n"),
        { cause },
    );
}

function describeTarget(target: AddonTarget): string {
    return `${target.platform}-${target.arch}${target.libc === undefined ? "" : ` (${target.libc})`}`;
}

/** prebuilds/<tuple>/<file> for every binary the package has, e.g. "linux-x64/qwen3-embedding.glibc.node". */
function shippedPrebuilds(root: string): string[] {
    const folder = join(root, "prebuilds");
    const list = (path: string) => {
        try {
            return readdirSync(path, { withFileTypes: true });
        } catch {
            return [];
        }
    };
    return list(folder)
        .filter((entry) => entry.isDirectory())
        .flatMap((entry) => list(join(folder, entry.name)).filter((file) => file.name.endsWith(".node")).map((file) => `${entry.name}/${file.name}`))
        .sort();
}

/** process.arch names of ELF e_machine values. */
const ELF_MACHINES: Record<number, string> = { 3: "ia32", 40: "arm", 62: "x64", 183: "arm64", 243: "riscv64", 21: "ppc64", 22: "s390x" };

/**
 * Says so when `path` is an ELF binary for another arch: glibc refuses one with "cannot open shared object file: No
 * such file or directory" (an x64 build/ in a checkout run by an arm64 Node.js), which reads as if it were not there.
 */
function archMismatch(path: string, target: AddonTarget): string {
    const header = Buffer.alloc(20);
    try {
        const fd = openSync(path, "r");
        try {
            if (readSync(fd, header, 0, header.length, 0) < header.length) return "";
        } finally {
            closeSync(fd);
        }
    } catch {
        return "";
    }
    if (header.readUInt32BE(0) !== 0x7f454c46) return ""; // "\x7fELF"
    const machine = header[5] === 2 ? header.readUInt16BE(18) : header.readUInt16LE(18);
    const arch = ELF_MACHINES[machine] ?? `ELF machine ${machine}`;
    return arch === target.arch ? "" : ` (the file is there: a binary for ${arch}, not ${target.arch})`;
}

function firstLine(error: unknown): string {
    return (error instanceof Error ? error.message : String(error)).split("\n")[0]!;
}
