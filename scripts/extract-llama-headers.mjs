// Extracts the llama.cpp and ggml public headers from the exact llama.cpp source that the pinned
// node-llama-cpp ships (llama/gitRelease.bundle), so the addon compiles against the same API as the
// shared libraries it drives at run time. Runs before every source build of the addon (the install script's fallback
// when no prebuilt binary loads, `npm run build:native`, `npm run prebuildify`): no network, about a second.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, renameSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const outDir = join(root, "native", "llama-headers");
const require = createRequire(import.meta.url);

function fail(message) {
    console.error(`qwen3-embedding: cannot prepare llama.cpp headers: ${message}`);
    process.exit(1);
}

let bundle;
try {
    // node-llama-cpp's exports map hides package.json: walk up from its entry point.
    let dir = dirname(require.resolve("node-llama-cpp"));
    while (!existsSync(join(dir, "llama", "gitRelease.bundle")) && dirname(dir) !== dir) dir = dirname(dir);
    bundle = join(dir, "llama", "gitRelease.bundle");
} catch {
    fail("node-llama-cpp is not installed. Run `npm install` in the project root first.");
}
if (!existsSync(bundle)) fail(`${bundle} is missing; reinstall node-llama-cpp with \`npm ci\`.`);

const git = (args, options = {}) => execFileSync("git", args, { stdio: ["ignore", "pipe", "pipe"], ...options });
let head;
try {
    head = git(["bundle", "list-heads", bundle]).toString().trim().split(/\s+/)[0];
} catch (error) {
    fail(`\`git bundle list-heads\` failed (${error.message.split("\n")[0]}). Install git and run \`npm rebuild qwen3-embedding\`.`);
}

const stamp = join(outDir, "SOURCE_COMMIT");
if (existsSync(stamp) && readFileSync(stamp, "utf8").trim() === head) process.exit(0);

const work = mkdtempSync(join(tmpdir(), "qwen3-llama-headers-"));
try {
    git(["clone", "--quiet", "--no-checkout", bundle, join(work, "src")]);
    const tar = git(["-C", join(work, "src"), "archive", "--format=tar", head, "include", "ggml/include"], { maxBuffer: 64 << 20 });
    const staging = join(work, "headers");
    mkdirSync(staging, { recursive: true });
    execFileSync("tar", ["-x", "-f", "-", "-C", staging], { input: tar }); // "-f -": stdin, whatever this tar's default device
    writeFileSync(join(staging, "SOURCE_COMMIT"), head + "\n");
    rmSync(outDir, { recursive: true, force: true });
    mkdirSync(dirname(outDir), { recursive: true });
    renameSync(staging, outDir);
} catch (error) {
    fail(error.message.split("\n")[0]);
} finally {
    rmSync(work, { recursive: true, force: true });
}
