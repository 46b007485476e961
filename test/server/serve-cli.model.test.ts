import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../fixtures/qwen3-fixture.js";
import { fixturePaths, postJson } from "./server-fixture.js";

const CLI = join(REPO_ROOT, "src", "cli", "main.ts");

/** Environment without any QWEN3_EMBEDDING_* variable of the test runner, plus `extra`. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("QWEN3_EMBEDDING_")));
    return { ...env, ...extra };
}

interface Served {
    child: ChildProcess;
    /** JSON log lines so far. */
    lines: Record<string, unknown>[];
    stdout: () => string;
    stderr: () => string;
    /** Resolves with the first log line (past or future) that matches. */
    logged(match: (line: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
    exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `qwen3-embedding serve` from source; stdout is parsed as JSON log lines. */
function serve(args: string[], env: NodeJS.ProcessEnv = cleanEnv()): Served {
    const child = spawn(process.execPath, ["--import", "tsx", CLI, "serve", ...args], { cwd: REPO_ROOT, env, stdio: ["ignore", "pipe", "pipe"] });
    const lines: Record<string, unknown>[] = [];
    const waiting: { match: (line: Record<string, unknown>) => boolean; resolve: (line: Record<string, unknown>) => void }[] = [];
    let pending = "";
    let stdout = "";
    let stderr = "";
    child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
        stdout += chunk;
        pending += chunk;
        const complete = pending.split("\n");
        pending = complete.pop()!;
        for (const text of complete) {
            if (!text.startsWith("{")) continue; // --help text
            const line = JSON.parse(text) as Record<string, unknown>;
            lines.push(line);
            for (const waiter of waiting.filter((entry) => entry.match(line))) {
                waiting.splice(waiting.indexOf(waiter), 1);
                waiter.resolve(line);
            }
        }
    });
    child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
    return {
        child,
        lines,
        stdout: () => stdout,
        stderr: () => stderr,
        logged: (match) => {
            const found = lines.find(match);
            return found !== undefined ? Promise.resolve(found) : new Promise((resolve) => waiting.push({ match, resolve }));
        },
        exited,
    };
}

let paths: { embedding: string; reranker: string };

beforeAll(async () => {
    paths = await fixturePaths();
});

describe("qwen3-embedding serve: flags and environment", () => {
    it("--help lists every flag with its environment variable", async () => {
        const run = serve(["--help"]);
        expect((await run.exited).code).toBe(0);
        const help = run.stdout();
        for (const [flag, env] of [
            ["--embedding-model", "QWEN3_EMBEDDING_EMBEDDING_MODEL"], ["--host", "QWEN3_EMBEDDING_HOST"], ["--api-key", "QWEN3_EMBEDDING_API_KEY"],
            ["--max-body-size", "QWEN3_EMBEDDING_MAX_BODY_SIZE"], ["--max-tokens-per-input", "QWEN3_EMBEDDING_MAX_TOKENS_PER_INPUT"],
            ["--request-timeout", "QWEN3_EMBEDDING_REQUEST_TIMEOUT"], ["--cors-origin", "QWEN3_EMBEDDING_CORS_ORIGIN"],
        ]) {
            expect(help).toContain(flag);
            expect(help).toContain(env);
        }
    });

    it("bad flags and variables: one line naming the flag or variable, exit code 2", async () => {
        const cases: [string[], Record<string, string>, string][] = [
            [[], {}, "--embedding-model or --reranker-model (or QWEN3_EMBEDDING_EMBEDDING_MODEL / QWEN3_EMBEDDING_RERANKER_MODEL) is required"],
            [["--embedding-model", "x.gguf", "--port", "abc"], {}, 'Expected a non-negative integer for --port but received "abc"'],
            [["--embedding-model", "x.gguf"], { QWEN3_EMBEDDING_MAX_INPUTS: "lots" }, 'Expected a non-negative integer for QWEN3_EMBEDDING_MAX_INPUTS but received "lots"'],
            [["--embedding-model", "x.gguf"], { QWEN3_EMBEDDING_TRUNCATE: "maybe" }, 'Expected true or false for QWEN3_EMBEDDING_TRUNCATE but received "maybe"'],
            [["--embedding-model", "x.gguf", "--max-body-size", "12 parsecs"], {}, 'Expected a size in bytes such as 16MB, 512KB or 1048576 for --max-body-size but received "12 parsecs"'],
            [["--embedding-model", "x.gguf", "--log-level", "loud"], {}, 'Expected one of fatal, error, warn, info, debug, trace, silent for --log-level but received "loud"'],
            [["--embedding-model", "x.gguf", "--prot", "1"], {}, "run `qwen3-embedding serve --help` for the options"],
            [["--embedding-model", "x.gguf", "--api-key-file", "/nonexistent/keys"], {}, "Cannot read the API key file /nonexistent/keys (--api-key-file)"],
        ];
        for (const [args, env, message] of cases) {
            const run = serve(args, cleanEnv(env));
            const { code } = await run.exited;
            expect(run.stderr(), args.join(" ")).toContain(message);
            expect(run.stderr().trim().split("\n")).toHaveLength(1);
            expect(code).toBe(2);
        }
    });

    it("a model that cannot load: exit code 1 with the reason", async () => {
        const run = serve(["--embedding-model", "/nonexistent/model.gguf", "--port", "0", "--log-level", "silent"]);
        const { code } = await run.exited;
        expect(code).toBe(1);
        expect(run.stderr()).toMatch(/^qwen3-embedding: Model file not found: \/nonexistent\/model\.gguf/);
    });
});

describe("qwen3-embedding serve: a real server", () => {
    it("--exact serves both models with the f32 KV cache, and says so in GET /v1/models and the ready log line", async () => {
        const run = serve(["--embedding-model", paths.embedding, "--reranker-model", paths.reranker, "--port", "0", "--batch-tokens", "256", "--context-size", "4096", "--exact"]);
        try {
            const listening = await run.logged((line) => String(line["msg"]).startsWith("Server listening at "));
            const url = String(listening["msg"]).slice("Server listening at ".length);
            const ready = await run.logged((line) => line["msg"] === "models loaded; ready");
            expect(ready["modes"]).toEqual({ embedding: "exact (f32 KV cache)", reranker: "exact (f32 KV cache)" });
            const models = (await (await fetch(`${url}/v1/models`)).json()) as { data: Record<string, unknown>[] };
            expect(models.data.map((model) => [model["kind"], model["kv_cache_type"], model["mode"]])).toEqual([["embedding", "f32", "exact"], ["reranker", "f32", "exact"]]);
            run.child.kill("SIGTERM");
            expect(await run.exited).toEqual({ code: 0, signal: null });
        } finally {
            run.child.kill("SIGKILL");
        }
    });

    it("flags and QWEN3_EMBEDDING_* variables configure it; SIGTERM drains the request in progress and exits 0", async () => {
        const keys = ["cli-key-one-7f3a", "cli-key-two-9b2c"];
        const run = serve(
            ["--reranker-model", paths.reranker, "--port", "0", "--batch-tokens", "256", "--context-size", "4096", "--served-model-name", "embedding=my-embedder"],
            cleanEnv({ QWEN3_EMBEDDING_EMBEDDING_MODEL: paths.embedding, QWEN3_EMBEDDING_API_KEY: keys.join(","), QWEN3_EMBEDDING_MAX_INPUTS: "8" }),
        );
        try {
            const listening = await run.logged((line) => String(line["msg"]).startsWith("Server listening at "));
            const url = String(listening["msg"]).slice("Server listening at ".length);
            expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/); // loopback unless told otherwise
            await run.logged((line) => line["msg"] === "models loaded; ready");
            const endpoint = `${url}/v1/embeddings`;
            const auth = { authorization: `Bearer ${keys[1]}` };

            expect((await postJson(endpoint, { input: "a" })).status).toBe(401);
            const ok = await postJson(endpoint, { model: "my-embedder", input: "a" }, auth);
            expect(ok.status).toBe(200);
            expect(ok.body.model).toBe("my-embedder");
            expect((await postJson(endpoint, { input: Array(9).fill("a") }, auth)).status).toBe(413);
            const rerank = await postJson(`${url}/v1/rerank`, { query: "q", documents: ["a", "b"] }, { authorization: `Bearer ${keys[0]}` });
            expect(rerank.status).toBe(200);

            // A request still running when SIGTERM arrives is answered in full; then the process exits 0.
            const long = Array.from({ length: 8 }, (_, index) => `${index} ${"word ".repeat(2000)}`);
            const inProgress = postJson(endpoint, { input: long, truncate: true }, { ...auth, "x-request-id": "drain-me" });
            await run.logged((line) => line["reqId"] === "drain-me" && line["msg"] === "incoming request");
            run.child.kill("SIGTERM");
            const response = await inProgress;
            expect(response.status).toBe(200);
            expect(response.body.data).toHaveLength(8);
            expect(await run.exited).toEqual({ code: 0, signal: null });
            const draining = run.lines.find((line) => String(line["msg"]).startsWith("draining"))!;
            expect(draining["signal"]).toBe("SIGTERM");
            expect(draining["inFlight"]).toBe(1);
            const completed = run.lines.findIndex((line) => line["reqId"] === "drain-me" && line["msg"] === "request completed");
            expect(run.lines.indexOf(draining)).toBeLessThan(completed);
            expect(run.lines.at(-1)!["msg"]).toBe("stopped");
            await expect(fetch(`${url}/health`)).rejects.toThrow();
            const log = run.lines.map((line) => JSON.stringify(line)).join("\n");
            for (const key of keys) expect(log).not.toContain(key);
        } finally {
            run.child.kill("SIGKILL");
        }
    });
});
