// The file list of the published package (package.json "files"): everything a consumer needs and nothing else (no
// tests, benchmarks, fixtures, local builds or extracted headers). dist/ and prebuilds/ are built, so whether they are
// in it is test/package/installed-package.model.test.ts's part, which packs for real.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../fixtures/qwen3-fixture.js";
import { dryRunPack, PACKAGE_FILE_RULES, type PackedPackage } from "../support/package-files.js";

let packed: PackedPackage;
let paths: string[];
beforeAll(async () => {
    packed = await dryRunPack();
    paths = packed.files.map((file) => file.path);
}, 60_000);

describe("the package's file list (npm pack --dry-run)", () => {
    it("holds only the compiled library, prebuilt addons, the fallback build's sources, the manifest, README, LICENSE and package.json", () => {
        expect(paths.filter((path) => !PACKAGE_FILE_RULES.some((rule) => rule.test(path)))).toEqual([]);
    });

    it("holds the license package.json names, every source a fallback build compiles, binding.gyp and the header-extraction script its install step runs", () => {
        const native = readdirSync(join(REPO_ROOT, "native")).filter((name) => /\.(cc|h)$/.test(name)).map((name) => `native/${name}`);
        const gyp = JSON.parse(readFileSync(join(REPO_ROOT, "binding.gyp"), "utf8").replace(/^#.*$/gm, "")) as { targets: { sources: string[] }[] };
        const pkg = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> };
        expect(pkg.scripts["install"]).toBe('node-gyp-build "node scripts/extract-llama-headers.mjs"');
        for (const required of ["package.json", "README.md", "LICENSE", "binding.gyp", "scripts/extract-llama-headers.mjs", "models/manifest.json", ...native, ...gyp.targets[0]!.sources]) {
            expect(paths).toContain(required);
        }
    });
});
