import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { defineConfig } from "vitest/config";

// Two projects, told apart by file name:
// - "model": test/**/*.model.test.ts, the tests that load a model (the tiny fixture GGUFs, `npm run fixtures`) or
//   start the engine, a server or a CLI that does; and test/**/*.store.test.ts, the database tests (PGlite and
//   PostgreSQL on disk, fsyncs, writers killed mid-commit), which load no model but take minutes too.
// - "fast": every other test/**/*.test.ts. They load no model, start no engine and open no database: seconds, and
//   they need neither the fixture models nor the native addon. Its setup file makes both throw, so a model test
//   without the .model suffix fails at once, with a message that says to rename it.
// `npm test` runs both; `npm run test:fast`, `npm run test:model` one (see README, "Tests").
// Two test files at a time on two cores (vitest's default there is one): while one decodes, the other often waits on
// child processes, the disk and HTTP. Half the cores on larger machines.
const maxWorkers = Math.max(2, Math.floor(availableParallelism() / 2));

// No test reads or writes the user's model caches: a pull or a model id that a test does not point elsewhere itself
// lands in (or is looked up in) these folders under the temporary directory, never ~/.cache/qwen3-embedding or the
// Hugging Face cache. Tests that pull set their own folders on top.
const CACHE_SANDBOX = {
    QWEN3_EMBEDDING_MODELS_DIR: join(tmpdir(), "qwen3-embedding-tests", "models"),
    HF_HUB_CACHE: join(tmpdir(), "qwen3-embedding-tests", "hf-hub"),
};

export default defineConfig({
    test: {
        // Native addon + llama.cpp: separate processes keep one test file's engine state from another's.
        pool: "forks",
        maxWorkers,
        testTimeout: 120_000,
        hookTimeout: 300_000,
        reporters: ["default", "./test/support/closing-line-reporter.ts"],
        projects: [
            {
                extends: true,
                test: {
                    name: "fast",
                    include: ["test/**/*.test.ts"],
                    exclude: ["test/**/*.model.test.ts", "test/**/*.store.test.ts"],
                    env: { QWEN3_EMBEDDING_TEST_PROJECT: "fast", ...CACHE_SANDBOX },
                    setupFiles: ["./test/support/fast-project-guard.mjs"],
                },
            },
            {
                extends: true,
                test: {
                    name: "model",
                    globalSetup: ["./test/support/llama-library-setup.ts"],
                    // Each file's decodes get their share of the cores, not all of them: llama.cpp's threads spin while
                    // they wait for each other, and two files each running one thread a core spent half the suite's CPU
                    // time spinning (engine-oracle with verify-oracle: 61 s each, 19 s with this).
                    env: { QWEN3_EMBEDDING_THREADS: String(Math.max(1, Math.floor(availableParallelism() / maxWorkers))), ...CACHE_SANDBOX },
                    include: ["test/**/*.model.test.ts", "test/**/*.store.test.ts"],
                },
            },
        ],
    },
});
