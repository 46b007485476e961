// `npm run prebuildify`: builds this machine's prebuilt addon into prebuilds/<platform>-<arch>/ with prebuildify:
// qwen3-embedding.glibc.node or qwen3-embedding.musl.node on Linux, qwen3-embedding.node elsewhere. Node-API, so one
// binary serves every Node.js version, and the addon links nothing of llama.cpp at build time (it binds the libraries
// at run time), so the binary depends on the platform alone. The build runs in a temporary copy of the native sources:
// a checkout's build/ (the local build, which the library tries first) stays as it was. .github/workflows/prebuild.yml
// runs this on each platform the package ships; src/engine/addon-binary.ts loads the result.
// (Not named "prebuild": npm would run a script of that name before every `npm run build`.)
import { cpSync, mkdtempSync, rmSync, symlinkSync, unlinkSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const prebuildify = createRequire(import.meta.url)("prebuildify");

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
            out: root,
            napi: true,
            targets: [`node@${process.versions.node}`],
            strip: true,
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
