// Runs the CLI from source (the same code the bin runs from dist/) in a child process.
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { REPO_ROOT } from "../fixtures/qwen3-fixture.js";

const run = promisify(execFile);
const CLI = join(REPO_ROOT, "src", "cli", "main.ts");

export interface CliRun {
    code: number;
    stdout: string;
    stderr: string;
}

/** `qwen3-embedding ...args` with `input` on stdin (closed when absent) and extra environment variables. */
export async function runCli(args: string[], { input, env }: { input?: string; env?: Record<string, string> } = {}): Promise<CliRun> {
    const child = run(process.execPath, ["--import", "tsx", CLI, ...args], {
        cwd: REPO_ROOT,
        maxBuffer: 64 << 20,
        ...(env === undefined ? {} : { env: { ...process.env, ...env } }),
    });
    child.child.stdin!.end(input);
    try {
        const { stdout, stderr } = await child;
        return { code: 0, stdout, stderr };
    } catch (error) {
        const failed = error as { code: number; stdout: string; stderr: string };
        return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
    }
}
