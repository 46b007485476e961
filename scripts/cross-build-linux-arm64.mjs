// `npm run prebuildify:linux-arm64 [-- --out <folder>]`: cross-compiles the prebuilt addon for linux-arm64 (glibc) on
// a Linux host with Debian's cross toolchain (`apt-get install crossbuild-essential-arm64`: aarch64-linux-gnu-gcc,
// -g++, -ar, -strip) into prebuilds/linux-arm64/qwen3-embedding.glibc.node (under <folder> when given, else this
// checkout), built the way `npm run prebuildify` builds this machine's (scripts/prebuild-addon.mjs: prebuildify with
// arch arm64, so node-gyp --arch=arm64, then the target's strip). Prints the binary's path.
// test/package/linux-arm64-emulated.model.test.ts runs the result under qemu-user; the binary the package ships is
// built natively on an arm runner by .github/workflows/prebuild.yml.
import { spawnSync } from "node:child_process";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { prebuildAddon, root } from "./prebuild-addon.mjs";

const PREFIX = "aarch64-linux-gnu-";
const TOOLS = { CC: `${PREFIX}gcc`, CXX: `${PREFIX}g++`, LINK: `${PREFIX}g++`, AR: `${PREFIX}ar` };
const STRIP = `${PREFIX}strip`;

const { values } = parseArgs({ options: { out: { type: "string" } } });
const out = values.out === undefined ? root : resolve(values.out);

const missing = [...new Set([...Object.values(TOOLS), STRIP])].filter((tool) => spawnSync(tool, ["--version"], { stdio: "ignore" }).error !== undefined);
if (process.platform !== "linux") {
    console.error(`Cross-building linux-arm64 needs a Linux host (this is ${process.platform}).`);
    process.exitCode = 1;
} else if (missing.length > 0) {
    console.error(`Cross-building linux-arm64 needs Debian's arm64 cross toolchain; not on PATH: ${missing.join(", ")}.`);
    console.error("Install it with: apt-get install crossbuild-essential-arm64");
    process.exitCode = 1;
} else {
    Object.assign(process.env, TOOLS); // prebuildify runs node-gyp with this process's environment
    await prebuildAddon({ arch: "arm64", stripBin: STRIP, out });
    console.log(join(out, "prebuilds", "linux-arm64", "qwen3-embedding.glibc.node"));
}
