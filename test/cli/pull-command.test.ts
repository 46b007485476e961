/**
 * `pull` and `models` from the command line, against hosts on loopback (test/support/fake-hub.ts). Every run gets its
 * own models directory and an empty Hugging Face cache through the environment: nothing touches the user's caches.
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../support/run-cli.js";
import { closedPortUrl, startFakeHub, startSilentServer, type FakeHub } from "../support/fake-hub.js";
import { qwen3HeaderBytes, writeQwen3HeaderFile } from "../models/qwen3-header-file.js";

let dir: string;
let hub: FakeHub;
let counter = 0;

beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "qwen3-pull-cli-"));
    hub = await startFakeHub();
    hub.files.set("Qwen/Qwen3-Embedding-0.6B-GGUF/Qwen3-Embedding-0.6B-Q8_0.gguf", qwen3HeaderBytes("embedding-last", { hiddenSize: 1024, layers: 28 }));
});

afterAll(async () => {
    await hub.close();
    await rm(dir, { recursive: true, force: true });
});

/** A fresh models directory and Hugging Face cache, and the environment that points the CLI at them and at `endpoint`. */
function sandbox(endpoint: string): { modelsDir: string; hfCache: string; env: Record<string, string> } {
    const modelsDir = join(dir, `models-${counter}`);
    const hfCache = join(dir, `hf-hub-${counter++}`);
    return {
        modelsDir,
        hfCache,
        env: {
            QWEN3_EMBEDDING_MODELS_DIR: modelsDir, HF_HUB_CACHE: hfCache, HF_HOME: join(dir, "hf-home"), HF_TOKEN: "",
            HF_TOKEN_PATH: join(dir, "no-token"), HF_ENDPOINT: endpoint, QWEN3_EMBEDDING_CONNECT_TIMEOUT: "", QWEN3_EMBEDDING_STALL_TIMEOUT: "",
        },
    };
}

const FILE_PATH = "Qwen/Qwen3-Embedding-0.6B-GGUF/resolve/main/Qwen3-Embedding-0.6B-Q8_0.gguf";

describe("pull", () => {
    it("says where the file comes from and goes, then prints {path, bytes}", async () => {
        const { modelsDir, env } = sandbox(hub.url);
        const result = await runCli(["pull", "qwen3-embedding-0.6b"], { env });
        const path = join(modelsDir, "Qwen3-Embedding-0.6B-Q8_0.gguf");
        expect(result.code, result.stderr).toBe(0);
        expect(result.stderr.startsWith(`Downloading ${hub.url}/${FILE_PATH}\n  into ${path}\n`)).toBe(true);
        expect(JSON.parse(result.stdout)).toEqual({ path, bytes: expect.any(Number) });

        const again = await runCli(["pull", "qwen3-embedding-0.6b"], { env });
        expect(again.stderr).toBe(`qwen3-embedding-0.6b (Q8_0) is already downloaded: ${path}\n`);
    });

    it("fails with the message against a closed port, after saying where it was going", async () => {
        const url = await closedPortUrl();
        const { modelsDir, env } = sandbox(url);
        const started = performance.now();
        const result = await runCli(["pull", "qwen3-embedding-0.6b", "--connect-timeout", "5000"], { env });
        console.info(`pull, closed port: exited after ${Math.round(performance.now() - started)} ms`);
        const path = join(modelsDir, "Qwen3-Embedding-0.6B-Q8_0.gguf");
        expect(result.code).toBe(1);
        expect(result.stdout).toBe("");
        expect(result.stderr).toBe(
            `Downloading ${url}/${FILE_PATH}\n  into ${path}\n` +
            `qwen3-embedding: Downloading qwen3-embedding-0.6b (Q8_0) from ${url}/${FILE_PATH} failed: cannot connect to ${new URL(url).host} (ECONNREFUSED); ` +
            "check the network connection (or set HF_ENDPOINT to a mirror you can reach), then run `npx qwen3-embedding pull qwen3-embedding-0.6b --quant Q8_0` again\n",
        );
    });

    it("fails with the message against a server that never answers, after --stall-timeout", async () => {
        const silent = await startSilentServer();
        try {
            const { env } = sandbox(silent.url);
            const started = performance.now();
            const result = await runCli(["pull", "qwen3-embedding-0.6b", "--stall-timeout", "500"], { env });
            console.info(`pull, silent server: exited after ${Math.round(performance.now() - started)} ms (stall timeout 500 ms)`);
            expect(result.code).toBe(1);
            expect(result.stderr.split("\n").at(-2)).toBe(
                `qwen3-embedding: Downloading qwen3-embedding-0.6b (Q8_0) from ${silent.url}/${FILE_PATH} failed: ` +
                `${new URL(silent.url).host} accepted the connection but sent no answer within the stall timeout of 500 ms; ` +
                "run `npx qwen3-embedding pull qwen3-embedding-0.6b --quant Q8_0` again to resume, or raise the timeouts for a slow network " +
                "(QWEN3_EMBEDDING_CONNECT_TIMEOUT, QWEN3_EMBEDDING_STALL_TIMEOUT, in ms)",
            );
        } finally {
            await silent.close();
        }
    });

    it.each([
        [["--connect-timeout", "0"], "qwen3-embedding: Expected an integer between 1 and 3600000 for --connect-timeout but received number 0\n"],
        [["--stall-timeout", "2s"], 'qwen3-embedding: Expected an integer between 1 and 3600000 for --stall-timeout but received the string "2s"\n'],
    ])("refuses %j with one line", async (flags, stderr) => {
        const { env } = sandbox(hub.url);
        const result = await runCli(["pull", "qwen3-embedding-0.6b", ...flags], { env });
        expect(result.code).toBe(2);
        expect(result.stderr).toBe(stderr);
    });
});

describe("models", () => {
    it("prints a table with what is here and where, and JSONL with --json", async () => {
        const { modelsDir, hfCache, env } = sandbox(hub.url);
        await mkdir(modelsDir, { recursive: true });
        const downloaded = writeQwen3HeaderFile(join(modelsDir, "Qwen3-Embedding-0.6B-Q8_0.gguf"), "embedding-last", { hiddenSize: 1024, layers: 28 });
        await writeFile(join(modelsDir, "Qwen3-Embedding-4B-Q8_0.gguf.part"), Buffer.alloc(1_500_000));
        const snapshot = join(hfCache, "models--ggml-org--Qwen3-Reranker-0.6B-Q8_0-GGUF", "snapshots", "r1");
        await mkdir(snapshot, { recursive: true });
        const cached = writeQwen3HeaderFile(join(snapshot, "qwen3-reranker-0.6b-q8_0.gguf"), "reranker-rank", { hiddenSize: 1024, layers: 28 });

        const table = await runCli(["models"], { env });
        expect(table.code, table.stderr).toBe(0);
        const lines = table.stdout.split("\n");
        expect(lines[0]).toMatch(/^MODEL +KIND +DIM +QUANT +LOCAL +PATH$/);
        const row = (start: RegExp) => lines.find((line) => start.test(line));
        expect(row(/^qwen3-embedding-0\.6b /)).toMatch(new RegExp(`^qwen3-embedding-0\\.6b +embedding +1024 +Q8_0 \\* +downloaded, 0\\.0 MB +${escape(downloaded)}$`));
        expect(lines[lines.indexOf(row(/^qwen3-embedding-0\.6b /)!) + 1]).toMatch(/^ +F16 +-$/);
        expect(row(/^ +Q8_0 \* +partial/)).toMatch(new RegExp(`partial, 1\\.5 MB +${escape(join(modelsDir, "Qwen3-Embedding-4B-Q8_0.gguf.part"))}$`));
        expect(row(/^qwen3-reranker-0\.6b /)).toMatch(new RegExp(`^qwen3-reranker-0\\.6b +reranker +- +Q8_0 \\* +HF cache, 0\\.0 MB +${escape(cached)}$`));
        expect(table.stdout).toContain(`Models directory:   ${modelsDir} (--models-dir, QWEN3_EMBEDDING_MODELS_DIR)\n`);
        expect(table.stdout).toContain(`Hugging Face cache: ${hfCache} (HF_HUB_CACHE, HF_HOME), used where it is\n`);
        expect(table.stdout).not.toContain("UNVERIFIED");

        const json = (await runCli(["models", "--json"], { env })).stdout.trim().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>);
        expect(json.map((entry) => entry["id"])).toEqual([
            "qwen3-embedding-0.6b", "qwen3-embedding-4b", "qwen3-embedding-8b", "qwen3-reranker-0.6b", "qwen3-reranker-4b", "qwen3-reranker-8b",
        ]);
        expect(json[0]!["local"]).toEqual({ Q8_0: { place: "models-dir", path: downloaded, bytes: expect.any(Number) } });
        expect(json[1]!["local"]).toEqual({ Q8_0: { place: "partial", path: join(modelsDir, "Qwen3-Embedding-4B-Q8_0.gguf.part"), bytes: 1_500_000 } });
        expect(json[3]!["local"]).toEqual({ Q8_0: { place: "hf-cache", path: cached, bytes: expect.any(Number) } });
        expect(json[5]!["local"]).toEqual({});

        const elsewhere = await runCli(["models", "--models-dir", join(dir, "empty")], { env });
        expect(elsewhere.stdout).toContain(`Models directory:   ${join(dir, "empty")} (`);
        expect(elsewhere.stdout).not.toContain("downloaded,");
    });
});

function escape(text: string): string {
    return text.replace(/[\\^$.*+?()[\]{}|]/g, "\\$&");
}
