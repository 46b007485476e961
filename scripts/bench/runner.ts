/**
 * The parent-child protocol: every case runs in a fresh child process (this program again, with --child), which
 * reads the workload the parent wrote and prints its result as one line; the parent builds dist/ first when the
 * library runs from there, as users run it.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type * as RootEntry from "../../src/index.js";
import type * as EngineEntry from "../../src/exports/engine.js";
import { REPO_ROOT } from "../../test/fixtures/qwen3-fixture.js";
import { findCase } from "./registry.js";

const RESULT_PREFIX = "BENCH_RESULT ";
const SOURCE_BUILD_WARNING = "falling back to building from source";
const ENTRY = fileURLToPath(new URL("../bench.ts", import.meta.url));

/** What the cases use of the package: its root entry (the facade) and qwen3-embedding/engine. */
export type Library = typeof RootEntry & typeof EngineEntry;

/** The library as users run it: the compiled dist/, or src/ through tsx with fromSource. */
export async function loadLibrary(fromSource: boolean): Promise<Library> {
    const load = async <T>(source: string, compiled: string) => (await import(pathToFileURL(join(REPO_ROOT, fromSource ? source : compiled)).href)) as T;
    const [root, engine] = await Promise.all([
        load<typeof RootEntry>("src/index.ts", "dist/index.js"),
        load<typeof EngineEntry>("src/exports/engine.ts", "dist/exports/engine.js"),
    ]);
    return { ...root, ...engine };
}

export function buildDist(): void {
    const build = spawnSync("npm", ["run", "build"], { cwd: REPO_ROOT, encoding: "utf8" });
    if (build.status !== 0 || !existsSync(join(REPO_ROOT, "dist", "index.js"))) throw new Error(`npm run build failed: ${build.stderr}${build.stdout}`);
}

/** In the child: run one case on the parent's workload and print its result. */
export async function runChild(name: string, workloadPath: string, fromSource: boolean): Promise<void> {
    const workload = JSON.parse(readFileSync(workloadPath, "utf8")) as never;
    const result = await findCase(name).run(workload, await loadLibrary(fromSource));
    process.stdout.write(`${RESULT_PREFIX}${JSON.stringify(result)}\n`);
}

/** In the parent: one case in a fresh process; its result and the child's pid. */
export function spawnCase<T>(name: string, workloadPath: string, options: { verbose: boolean; fromSource: boolean }): Promise<T & { pid: number }> {
    // tsx as an --import loader of a plain node process: the child runs from a file (node-llama-cpp checks its
    // prebuilt binary by forking with the parent's execArgv, which breaks under `node -e`).
    const args = ["--import", import.meta.resolve("tsx"), ENTRY, "--child", name, "--workload", workloadPath, ...(options.fromSource ? ["--from-src"] : [])];
    return spawnChild(name, args, options.verbose);
}

/** A node process that prints one result line; fails on a non-zero exit, and stops one where node-llama-cpp starts building llama.cpp. */
export function spawnChild<T>(name: string, args: string[], verbose: boolean): Promise<T & { pid: number }> {
    return new Promise((resolvePromise, reject) => {
        const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"], cwd: REPO_ROOT });
        let stdout = "";
        let stderr = "";
        child.stdout.setEncoding("utf8").on("data", (data: string) => (stdout += data));
        child.stderr.setEncoding("utf8").on("data", (data: string) => {
            stderr += data;
            if (verbose) process.stderr.write(data);
            if (stderr.includes(SOURCE_BUILD_WARNING)) child.kill("SIGKILL");
        });
        child.on("error", reject);
        child.on("close", (code, signal) => {
            const output = `${stdout}\n${stderr}`;
            if (output.includes(SOURCE_BUILD_WARNING)) {
                reject(new Error(`${name} printed "${SOURCE_BUILD_WARNING}": node-llama-cpp could not use its prebuilt binary. Stopped.`));
                return;
            }
            const line = stdout.split("\n").find((l) => l.startsWith(RESULT_PREFIX));
            if (code !== 0 || line === undefined) {
                reject(new Error(`${name} (pid ${child.pid}) failed (exit ${code ?? signal}):\n${tail(output, 4000)}`));
                return;
            }
            resolvePromise({ ...(JSON.parse(line.slice(RESULT_PREFIX.length)) as T), pid: child.pid ?? -1 });
        });
    });
}

function tail(text: string, chars: number): string {
    const trimmed = text.trim();
    return trimmed.length <= chars ? trimmed : `...${trimmed.slice(-chars)}`;
}
