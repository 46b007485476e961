/**
 * The queue's cost, side by side in one run: the in-process `index` vs one `worker` vs two workers with one thread
 * each, indexing the same Tang poems from a fresh database each time (PGlite served over the wire on 127.0.0.1; a
 * redis-server of its own on loopback), tokens/s from the producer's start to the queue drained; then the queue's
 * own overhead per job on an idle queue (BullMQ's enqueue timestamp to the worker's start, and to its finish).
 * Every trial is a fresh process (CLI from source).
 *
 *   npm run bench:queue -- [--count N] [--model path] [--jobs J]
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { Queue } from "bullmq";
import { ensureFixtureModel, REPO_ROOT } from "../test/fixtures/qwen3-fixture.js";
import { loadTangPoems } from "../test/support/corpus.js";
import { startRedisServer } from "../test/applications/support/redis-server.js";
import { startPgliteServer } from "../test/applications/support/store-backends.js";
import { median, otherCpuUse } from "./bench/bench-support.js";

const CLI = join(REPO_ROOT, "src", "cli", "main.ts");

function cli(args: string[], env: Record<string, string> = {}): { child: ChildProcess; done: Promise<string>; stderr: () => string } {
    const child = spawn(process.execPath, ["--import", "tsx", CLI, ...args], { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env } });
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (data: Buffer) => (stdout += data.toString()));
    child.stderr!.on("data", (data: Buffer) => (stderr += data.toString()));
    const done = new Promise<string>((resolvePromise, reject) => child.once("exit", (code, signal) => {
        if (code === 0 || signal === "SIGTERM") resolvePromise(stdout);
        else reject(new Error(`${args[0]} exited with ${code}: ${stderr.trim().split("\n").at(-1)}`));
    }));
    return { child, done, stderr: () => stderr };
}

async function until(condition: () => boolean): Promise<void> {
    while (!condition()) await new Promise((resolvePromise) => setTimeout(resolvePromise, 20));
}

async function main(): Promise<void> {
    const { values } = parseArgs({ options: { count: { type: "string" }, model: { type: "string" }, jobs: { type: "string" } }, strict: true });
    const count = Number(values.count ?? 2000);
    const overheadJobs = Number(values.jobs ?? 30);
    const model = values.model === undefined ? await ensureFixtureModel({ kind: "embedding", size: "tiny" }) : resolve(values.model);
    const work = mkdtempSync(join(tmpdir(), "qwen3-bench-queue-"));
    const input = join(work, "poems.jsonl");
    writeFileSync(input, loadTangPoems(count).map((text) => JSON.stringify({ text })).join("\n") + "\n");
    const cores = cpus().length;
    const busy = await otherCpuUse();
    console.log(`bench:queue ${new Date().toISOString()} ${cpus()[0]?.model} x${cores}, model ${model}, ${count} poems; other processes: ${busy.how}`);
    const redis = await startRedisServer(work);
    const rows: { path: string; seconds: number; tokens: number; jobs?: number }[] = [];
    try {
        // 1. In process: `index --database` (threads = cores).
        {
            const postgres = await startPgliteServer(work, "local");
            const started = performance.now();
            const summary = JSON.parse((await cli(["index", "--embedding-model", model, "--input", input, "--namespace", "kb", "--database", postgres.url]).done).trim().split("\n").at(-1)!);
            const seconds = (performance.now() - started) / 1000;
            await postgres.stop();
            rows.push({ path: "in-process index", seconds, tokens: Number.NaN });
            console.error(`in-process: ${JSON.stringify(summary)} ${seconds.toFixed(1)} s`);
        }
        // 2. One worker (threads = cores), then two with one thread each; the producer's tokens/s until drained.
        for (const [path, workers, threads] of [["1 worker", 1, cores], ["2 workers x 1 thread", 2, 1]] as const) {
            const postgres = await startPgliteServer(work, path.replace(/\W+/g, "-"));
            const queueName = `bench-${rows.length}`;
            const started = Array.from({ length: workers }, (_, index) => cli(
                ["worker", "--queue", redis.url, "--queue-name", queueName, "--embedding-model", model, "--database", postgres.url, "--name", `w${index}`],
                { QWEN3_EMBEDDING_THREADS: String(threads) },
            ));
            for (const worker of started) await until(() => worker.stderr().includes('"event":"ready"'));
            const begin = performance.now();
            const summary = JSON.parse((await cli(["index", "--queue", redis.url, "--queue-name", queueName, "--embedding-model", model, "--input", input, "--namespace", "kb"]).done).trim().split("\n").at(-1)!);
            const seconds = (performance.now() - begin) / 1000;
            rows.push({ path, seconds, tokens: summary.tokens, jobs: summary.jobs });
            for (const worker of started) worker.child.kill("SIGTERM");
            await Promise.all(started.map((worker) => worker.done));
            await postgres.stop();
        }
        const tokens = rows.find((row) => Number.isFinite(row.tokens))!.tokens;
        console.log(`${tokens} tokens (the producer's count)`);
        console.log("| path | wall s | tokens/s | jobs |\n|---|---|---|---|");
        for (const row of rows) console.log(`| ${row.path} | ${row.seconds.toFixed(1)} | ${(tokens / row.seconds).toFixed(0)} | ${row.jobs ?? "-"} |`);

        // 3. Overhead per job on an idle queue: one worker, one one-document job at a time.
        const postgres = await startPgliteServer(work, "overhead");
        const queueName = "bench-overhead";
        const worker = cli(["worker", "--queue", redis.url, "--queue-name", queueName, "--embedding-model", model, "--database", postgres.url]);
        await until(() => worker.stderr().includes('"event":"ready"'));
        const queue = new Queue(queueName, { connection: { url: redis.url, maxRetriesPerRequest: null } });
        const toStart: number[] = [];
        const toFinish: number[] = [];
        for (let index = 0; index < overheadJobs; index++) {
            await new Promise((resolvePromise) => setTimeout(resolvePromise, 200)); // idle: the worker waits in its blocking pop
            const job = await queue.add("index", { namespace: "kb", documents: [{ text: `idle-queue probe ${index}` }], tokens: 8 }, { jobId: `probe-${index}` });
            let state = await job.getState();
            while (state !== "completed" && state !== "failed") {
                await new Promise((resolvePromise) => setTimeout(resolvePromise, 5));
                state = await job.getState();
            }
            const finished = (await queue.getJob(job.id!))!;
            toStart.push(finished.processedOn! - finished.timestamp);
            toFinish.push(finished.finishedOn! - finished.timestamp);
        }
        await queue.close();
        worker.child.kill("SIGTERM");
        await worker.done;
        await postgres.stop();
        console.log(`overhead per job on an idle queue (${overheadJobs} one-document jobs, ms, median/max): enqueue to start ${median(toStart)}/${Math.max(...toStart)}, enqueue to finished ${median(toFinish)}/${Math.max(...toFinish)}`);
    } finally {
        await redis.stop();
        rmSync(work, { recursive: true, force: true });
    }
}

await main();
