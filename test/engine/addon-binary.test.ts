// Where the addon is looked for and the one error when it does not load (src/engine/addon-binary.ts). Loading a real
// addon is the model tests' part: every one of them loads the local build, and test/package/installed-package.model.test.ts
// the prebuilt binary of an installed tarball.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { addonCandidates, currentAddonTarget, loadAddonBinary, prebuiltName, type AddonTarget } from "../../src/engine/addon-binary.js";
import { NativeLoadError } from "../../src/internal/errors.js";

const LINUX_GLIBC: AddonTarget = { platform: "linux", arch: "x64", libc: "glibc" };
const SOLUTIONS = [
    "Possible solutions:",
    "- Install the package on the machine that runs it (node_modules copied from another platform lacks its binary): `npm install qwen3-embedding`",
    "- Build the addon from source: `npm rebuild qwen3-embedding --build-from-source` (needs git, python3, make and a C++17 compiler; under a minute)",
    "- In a checkout of qwen3-embedding: `npm run build:native`",
];

const roots: string[] = [];
afterEach(() => {
    for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

/** A package root holding `files` (path relative to the root: content). */
function packageRoot(files: Record<string, string>): string {
    const root = mkdtempSync(join(tmpdir(), "qwen3-addon-binary-"));
    roots.push(root);
    for (const [path, content] of Object.entries(files)) {
        mkdirSync(join(root, path, ".."), { recursive: true });
        writeFileSync(join(root, path), content);
    }
    return root;
}

function loadError(root: string, target: AddonTarget): NativeLoadError {
    try {
        loadAddonBinary(root, target);
    } catch (error) {
        expect(error).toBeInstanceOf(NativeLoadError);
        expect((error as NativeLoadError).code).toBe("ERR_NATIVE_LOAD");
        return error as NativeLoadError;
    }
    throw new Error("loadAddonBinary did not throw");
}

describe("the addon binary", () => {
    it("is looked for as a local build first, then as the prebuilt binary prebuildify names for the platform", () => {
        const root = join(tmpdir(), "pkg");
        expect(addonCandidates(root, LINUX_GLIBC)).toEqual([
            { path: join(root, "build", "Release", "qwen3_embedding.node"), kind: "local build" },
            { path: join(root, "prebuilds", "linux-x64", "qwen3-embedding.glibc.node"), kind: "prebuilt binary for linux-x64 (glibc)" },
        ]);
        expect(prebuiltName({ platform: "linux", arch: "x64", libc: "musl" })).toBe("qwen3-embedding.musl.node");
        expect(prebuiltName({ platform: "darwin", arch: "arm64", libc: undefined })).toBe("qwen3-embedding.node");
        expect(prebuiltName({ platform: "win32", arch: "x64", libc: undefined })).toBe("qwen3-embedding.node");
    });

    it("is for this host's platform, arch and (on Linux) C library", () => {
        const target = currentAddonTarget();
        expect(target.platform).toBe(process.platform);
        expect(target.arch).toBe(process.arch);
        // Alpine is the musl Linux the prebuilt binaries are made on (.github/workflows/prebuild.yml).
        expect(target.libc).toBe(process.platform !== "linux" ? undefined : existsSync("/etc/alpine-release") ? "musl" : "glibc");
    });

    it("missing everywhere: one error names the platform, each path tried, the binaries shipped and the fixes", () => {
        const root = packageRoot({ "package.json": "{}", "prebuilds/darwin-arm64/qwen3-embedding.node": "", "prebuilds/win32-x64/qwen3-embedding.node": "" });
        const error = loadError(root, LINUX_GLIBC);
        expect(error.message.split("\n")).toEqual([
            `Could not load the qwen3-embedding native addon for linux-x64 (glibc) on Node.js ${process.version}.`,
            "Tried, in order:",
            `- ${join(root, "build", "Release", "qwen3_embedding.node")} (local build): not there`,
            `- ${join(root, "prebuilds", "linux-x64", "qwen3-embedding.glibc.node")} (prebuilt binary for linux-x64 (glibc)): not there`,
            "Prebuilt binaries in this package: darwin-arm64/qwen3-embedding.node, win32-x64/qwen3-embedding.node",
            ...SOLUTIONS,
        ]);
        expect(error.cause).toBeUndefined();
    });

    it("there but not loadable: the error carries the loader's reason, and the cause", () => {
        const prebuilt = join("prebuilds", "linux-x64", "qwen3-embedding.glibc.node");
        const root = packageRoot({ [prebuilt]: "not a shared library", "prebuilds/linux-x64/qwen3-embedding.musl.node": "" });
        const error = loadError(root, LINUX_GLIBC);
        const reason = (error.cause as Error).message.split("\n")[0]!;
        expect(reason).not.toBe("");
        expect(error.message.split("\n")).toEqual([
            `Could not load the qwen3-embedding native addon for linux-x64 (glibc) on Node.js ${process.version}.`,
            "Tried, in order:",
            `- ${join(root, "build", "Release", "qwen3_embedding.node")} (local build): not there`,
            `- ${join(root, prebuilt)} (prebuilt binary for linux-x64 (glibc)): ${reason}`,
            "Prebuilt binaries in this package: linux-x64/qwen3-embedding.glibc.node, linux-x64/qwen3-embedding.musl.node",
            ...SOLUTIONS,
        ]);
    });

    it("a binary for another arch: glibc's 'No such file or directory' is followed by what the file is", () => {
        const root = packageRoot({});
        const local = join(root, "build", "Release", "qwen3_embedding.node");
        const header = Buffer.alloc(64); // an ELF header of a 64-bit little-endian shared object for aarch64
        header.write("\x7fELF\x02\x01\x01", "latin1");
        header.writeUInt16LE(3, 16);
        header.writeUInt16LE(183, 18);
        mkdirSync(join(local, ".."), { recursive: true });
        writeFileSync(local, header);
        const line = loadError(root, LINUX_GLIBC).message.split("\n")[2]!;
        expect(line.startsWith(`- ${local} (local build): `)).toBe(true);
        expect(line.endsWith(" (the file is there: a binary for arm64, not x64)")).toBe(true);
        writeFileSync(local, "not a shared library");
        expect(loadError(root, LINUX_GLIBC).message).not.toContain("the file is there");
    });

    it("with no prebuilds folder at all says so", () => {
        const error = loadError(packageRoot({}), { platform: "darwin", arch: "x64", libc: undefined });
        expect(error.message).toContain("(prebuilt binary for darwin-x64): not there\nPrebuilt binaries in this package: none\n");
        expect(error.message).toContain(`native addon for darwin-x64 on Node.js ${process.version}.`);
    });
});
