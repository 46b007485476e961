/** The queue's commands refuse bad flags with one line (exit 2) before any model, database or Redis is touched. */
import { describe, expect, it } from "vitest";
import { runCli } from "../support/run-cli.js";

describe("index --queue, worker and queue: usage", () => {
    it("documents each command in --help", async () => {
        for (const [command, usage] of [["worker", "qwen3-embedding worker --queue <redis-url>"], ["queue", "qwen3-embedding queue status"], ["index", "qwen3-embedding index --queue <redis-url>"]] as const) {
            const help = await runCli([command, "--help"]);
            expect(help.code).toBe(0);
            expect(help.stdout).toContain(usage);
        }
    });

    it("refuses bad flags before loading anything (the model named does not exist)", async () => {
        const cases: [string[], string][] = [
            [["index", "--queue", "http://h", "--embedding-model", "nope.gguf"], 'Expected a redis:// or rediss:// URL for --queue but received the string "http://h"'],
            [["index", "--queue", "redis://h", "--queue-name", "a:b", "--embedding-model", "nope.gguf"], 'Expected 1 to 100 letters, digits, "-", "_" or "." for --queue-name but received the string "a:b"'],
            [["index", "--queue", "redis://h", "--durability", "relaxed", "--embedding-model", "nope.gguf"], "--durability is a worker's flag (qwen3-embedding worker), not the producer's, with --queue"],
            [["index", "--queue", "redis://h", "--database", "memory", "--embedding-model", "nope.gguf"],
                "Expected the workers' database (a directory or a postgres:// URL) for --database with --queue but received \"memory\", a new empty database of this process that holds nothing to skip"],
            [["index", "--queue", "redis://h", "--database", "mysql://h/db", "--embedding-model", "nope.gguf"], 'Expected a directory, "memory" or a postgres:// URL for --database but received a mysql:// URL'],
            [["index", "--detach", "--embedding-model", "nope.gguf"], "--detach needs --queue"],
            [["worker", "--queue", "redis://h", "--embedding-model", "nope.gguf", "--database", "postgres://x/y", "--token-budget", "0"], 'Expected a positive integer for --token-budget but received "0"'],
            [["worker", "--queue", "tcp://h", "--embedding-model", "nope.gguf", "--database", "postgres://x/y"], 'Expected a redis:// or rediss:// URL for --queue but received the string "tcp://h"'],
            [["queue", "stats", "--queue", "redis://h"], 'Expected "status" after queue but received "stats"'],
            [["queue", "status", "--queue", "redis://h", "--failed", "x"], 'Expected a non-negative integer for --failed but received "x"'],
        ];
        for (const [args, message] of cases) {
            const run = await runCli(args);
            expect({ args, code: run.code, stderr: run.stderr }).toEqual({ args, code: 2, stderr: `qwen3-embedding: ${message}\n` });
        }
    });
});
