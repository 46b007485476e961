/**
 * The model project's global setup: resolves the llama.cpp build once, the way the library does (node-llama-cpp's
 * getLlama, which checks its prebuilt binary in a child process: about 2.5 s of CPU), and hands its path to every test
 * process and every process they start through QWEN3_EMBEDDING_LLAMA_LIBRARY, the library's own override. Without it
 * each test file, CLI run and server start paid that check again: a quarter of the suite's CPU time on two cores.
 * test/engine/library-resolution.model.test.ts unsets it and checks the resolution itself.
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { REPO_ROOT } from "../fixtures/qwen3-fixture.js";

export const RESOLVED_LIBRARY_ENV = "QWEN3_EMBEDDING_TEST_RESOLVED_LIBRARY";

export default async function setup(): Promise<void> {
    if (process.env["QWEN3_EMBEDDING_LLAMA_LIBRARY"]) return; // the user pinned one: test that
    const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", join(REPO_ROOT, "test", "support", "print-llama-library.ts")], {
        cwd: REPO_ROOT,
    });
    const { libraryPath } = JSON.parse(stdout.trim().split("\n").at(-1)!) as { libraryPath: string };
    process.env["QWEN3_EMBEDDING_LLAMA_LIBRARY"] = libraryPath;
    process.env[RESOLVED_LIBRARY_ENV] = libraryPath;
}
