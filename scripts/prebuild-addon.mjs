// Builds a prebuilt addon into prebuilds/<platform>-<arch>/ with prebuildify: qwen3-embedding.glibc.node or
// qwen3-embedding.musl.node on Linux, qwen3-embedding.node elsewhere. Node-API, so one binary serves every Node.js
// version, and the addon links nothing of llama.cpp at build time (it binds the libraries at run time), so the binary
// depends on the platform alone. The build runs in a temporary copy of the native sources: a checkout's build/ (the
// local build, which the library tries first) stays as it was. Used by scripts/prebuildify.mjs (this machine's
// binary) and scripts/cross-build-linux-arm64.mjs (linux-arm64 with Debian's cross toolchain).
import { cpSync, mkdtempSync, rmSync, symlinkSync, unlinkSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const prebuildify = createRequire(import.meta.url)("prebuildify");

/**
 * Builds and strips the addon into `<out>/prebuilds/<platform>-<arch>/` (`out`: this checkout by default). `arch`
 * (default: this machine's) is passed to node-gyp as `--arch`; for a cross build, the compilers come from CC, CXX,
 * LINK and AR in process.env (prebuildify hands its own environment to node-gyp), and `stripBin` is the target's strip.
 */
export async function prebuildAddon({ arch = process.arch, stripBin = "strip", out = root } = {}) {
    const staging = mkdtempSync(join(tmpdir(), "qwen3-embedding-prebuild-"));
    const stagedModules = join(staging, "node_modules");
    try {
        for (const path of ["package.json", "binding.gyp", "native", join("scripts", "extract-llama-headers.mjs")]) {
            cpSync(join(root, path), join(staging, path), { recursive: true });
        }
        // binding.gyp (node-addon-api) and the header script (node-llama-cpp's llama.cpp bundle) resolve from here.
        symlinkSync(join(root, "node_modules"), stagedModules, "junction");
        await new Promise((resolve, reject) => {
            const options = {
                cwd: staging,
                out,
                arch,
                napi: true,
                targets: [`node@${process.versions.node}`],
                strip: true,
                stripBin,
                tagLibc: process.platform === "linux",
                preinstall: "node scripts/extract-llama-headers.mjs",
            };
            prebuildify(options, (error) => (error ? reject(error) : resolve()));
        });
    } finally {
        try {
            unlinkSync(stagedModules); // the link only, before the folder goes
        } catch {}
        rmSync(staging, { recursive: true, force: true });
    }
}
