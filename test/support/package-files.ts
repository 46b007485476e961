// What the published package may hold (package.json "files", plus what npm always adds), for
// test/structure/package-contents.test.ts (the list npm would pack) and test/package/installed-package.model.test.ts
// (a real tarball).
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { REPO_ROOT } from "../fixtures/qwen3-fixture.js";

/** One entry of `npm pack --json`. */
export interface PackedPackage {
    filename: string;
    size: number;
    unpackedSize: number;
    entryCount: number;
    files: { path: string; size: number }[];
}

/**
 * Each file of the package matches one of these: the compiled library (no source maps: their sources are not shipped),
 * the prebuilt addons, what a fallback source build needs (native sources, binding.gyp, the header-extraction
 * script), the model manifest the runtime reads, and npm's own README / LICENSE / package.json.
 */
export const PACKAGE_FILE_RULES: readonly RegExp[] = [
    /^dist\/.+\.(js|d\.ts)$/,
    /^prebuilds\/[a-z0-9]+-[a-z0-9+]+\/qwen3-embedding(\.[a-z0-9]+)*\.node$/,
    /^native\/[a-z0-9-]+\.(cc|h)$/,
    /^binding\.gyp$/,
    /^scripts\/extract-llama-headers\.mjs$/,
    /^models\/manifest\.json$/,
    /^(package\.json|README\.md|LICENSE)$/,
];

/** What `npm pack` would put in the tarball now, without running prepare (dist/ as it is on disk, if at all). */
export async function dryRunPack(): Promise<PackedPackage> {
    const npm = process.platform === "win32" ? "npm.cmd" : "npm";
    const { stdout } = await promisify(execFile)(npm, ["pack", "--dry-run", "--json", "--ignore-scripts"], {
        cwd: REPO_ROOT,
        maxBuffer: 64 << 20,
        shell: process.platform === "win32",
    });
    return (JSON.parse(stdout.slice(stdout.indexOf("["))) as PackedPackage[])[0]!;
}
