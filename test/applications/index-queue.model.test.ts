/**
 * Indexing across processes on a BullMQ queue: a real redis-server on 127.0.0.1, PostgreSQL over the wire (PGlite
 * served with pglite-socket), the producer (`index --queue`) and three `worker` processes, all from source. One worker
 * is SIGKILLed while it holds a job, another stopped with SIGTERM while it holds one (it finishes it), and Redis is SIGKILLed and restarted from its append-only file mid-run; every text
 * must still be stored exactly once with the vector the library gives it. A poison job (a document no worker can store)
 * is moved aside with its reason while the rest is indexed. And a PostgreSQL outage: jobs fail, back off and resume.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Queue } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEmbedder } from "../../src/index.js";
import { documentId, openStore } from "../../src/exports/store.js";
import { ensureFixtureModel, REPO_ROOT } from "../fixtures/qwen3-fixture.js";
import { loadTangPoems } from "../support/corpus.js";
import { until } from "../support/until.js";
import { runCli } from "../support/run-cli.js";
import { freePort, startRedisServer, type RedisServer } from "./support/redis-server.js";
import { startPgliteServer, temporaryDirectory, type PgliteServer } from "./support/store-backends.js";

const CLI = join(REPO_ROOT, "src", "cli", "main.ts");
const NAMESPACE = "kb";
const STALL_MS = 3000;

interface Child {
    process: ChildProcess;
    lines: Record<string, unknown>[];
    exited: Promise<number | null>;
    stdout: string;
    stderr: string;
}

/** `qwen3-embedding ...args` from source; stderr's JSON lines collected as they come. */
function startCli(args: string[]): Child {
    const child = spawn(process.execPath, ["--import", "tsx", CLI, ...args], { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"] });
    const result: Child = { process: child, lines: [], stdout: "", stderr: "", exited: new Promise((resolve) => child.once("close", (code) => resolve(code))) };
    let pending = "";
    child.stdout!.on("data", (chunk: Buffer) => (result.stdout += chunk.toString()));
    child.stderr!.on("data", (chunk: Buffer) => {
        result.stderr += chunk.toString();
        pending += chunk.toString();
        const parts = pending.split("\n");
        pending = parts.pop()!;
        for (const line of parts) {
            if (line.startsWith("{")) result.lines.push(JSON.parse(line) as Record<string, unknown>);
        }
    });
    return result;
}

const parent = temporaryDirectory("qwen3-queue-test-");
let redis: RedisServer;
let postgres: PgliteServer;
let modelPath: string;
const workers: Child[] = [];

beforeAll(async () => {
    modelPath = await ensureFixtureModel({ kind: "embedding", size: "tiny" });
    redis = await startRedisServer(parent);
    postgres = await startPgliteServer(parent, "served");
});

afterAll(async () => {
    for (const worker of workers) worker.process.kill("SIGKILL");
    await Promise.all(workers.map((worker) => worker.exited));
    await postgres?.stop();
    await redis?.stop();
    rmSync(parent, { recursive: true, force: true });
});

/**
 * One worker on queue `name` over a fresh PostgreSQL (served over the wire), with `texts` written to an input file
 * for the producer; stopped (SIGTERM) and the database closed after `body`.
 */
async function withOneWorker(name: string, texts: readonly string[], workerArgs: string[], body: (run: { input: string; served: PgliteServer; worker: Child }) => Promise<void>): Promise<void> {
    const input = join(parent, `${name}.jsonl`);
    writeFileSync(input, texts.map((text) => JSON.stringify({ text })).join("\n") + "\n");
    const served = await startPgliteServer(parent, name);
    const worker = startCli(["worker", "--queue", redis.url, "--queue-name", name, "--embedding-model", modelPath, "--database", served.url, ...workerArgs]);
    workers.push(worker);
    try {
        await until(() => worker.lines.some((line) => line["event"] === "ready"), "the worker to be ready");
        await body({ input, served, worker });
    } finally {
        worker.process.kill("SIGTERM");
        await worker.exited;
        await served.stop();
    }
}

describe("index --queue with three worker processes", () => {
    it("indexes 2,000 poems exactly once through a SIGKILLed worker, a Redis restart and a SIGTERMed worker, and moves a poison job aside", async () => {
        const started = Date.now();
        const poems = loadTangPoems(2001);
        const texts = poems.slice(0, 2000);
        const extra = poems[2000]!;
        const input = join(parent, "poems.jsonl");
        writeFileSync(input, texts.map((text) => JSON.stringify({ text })).join("\n") + "\n");

        const metricsPort = await freePort();
        for (let index = 0; index < 3; index++) {
            workers.push(startCli([
                "worker", "--queue", redis.url, "--embedding-model", modelPath, "--database", postgres.url,
                "--stall-interval-ms", String(STALL_MS), "--job-tokens", "256", "--token-budget", "512", "--name", `w${index}`,
                ...(index === 1 ? ["--metrics-port", String(metricsPort)] : []),
            ]));
        }
        for (const worker of workers) await until(() => worker.lines.some((line) => line["event"] === "ready"), "a worker to be ready");

        // A client that skipped the producer's checks: a document with a NUL, which PostgreSQL cannot store, beside a good one.
        const queue = new Queue("qwen3-embedding-index", { connection: { url: redis.url, maxRetriesPerRequest: null } });
        queue.on("error", () => undefined);
        await queue.add("index", { namespace: NAMESPACE, documents: [{ text: extra }, { text: "poison\u0000document" }], tokens: 100 }, {
            jobId: "poison", attempts: 3, backoff: { type: "fixed", delay: 200 },
        });

        const producer = startCli(["index", "--queue", redis.url, "--embedding-model", modelPath, "--namespace", NAMESPACE, "--input", input, "--job-tokens", "256"]);
        const completed = () => workers.reduce((sum, worker) => sum + worker.lines.filter((line) => line["event"] === "completed").length, 0);

        // SIGKILL worker 0 while it holds a job, once the run is under way.
        await until(() => completed() >= 10, "10 jobs to complete", 170_000);
        const victim = workers[0]!;
        const activeBefore = victim.lines.length;
        await until(() => victim.lines.slice(activeBefore).some((line) => line["event"] === "active"), "worker 0 to take a job");
        victim.process.kill("SIGKILL");
        await victim.exited; // "close": every line it wrote has been read
        const killedHeld = new Set(victim.lines.filter((line) => line["event"] === "active").map((line) => line["job"] as string));
        for (const line of victim.lines) if (line["event"] === "completed" || line["event"] === "failed") killedHeld.delete(line["job"] as string);
        expect(killedHeld.size).toBeGreaterThan(0);

        // Kill Redis and bring it back from its append-only file while the others work.
        const completedAtRestart = completed();
        await until(() => completed() >= completedAtRestart + 5, "5 more jobs to complete");
        await redis.restart();
        const afterRestart = completed();
        const restarted = workers[2]!.lines.length;

        // SIGTERM worker 2 while it holds a job: it takes no more, finishes what it holds, and exits 0.
        const leaving = workers[2]!;
        const seen = leaving.lines.length;
        await until(() => leaving.lines.slice(seen).some((line) => line["event"] === "active"), "worker 2 to take a job");
        const signalled = leaving.lines.length;
        leaving.process.kill("SIGTERM");
        expect(await leaving.exited).toBe(0);
        const jobsOf = (lines: Record<string, unknown>[], ...events: string[]) => new Set(lines.filter((line) => events.includes(line["event"] as string)).map((line) => line["job"] as string));
        const finished = jobsOf(leaving.lines, "completed", "failed");
        // Every job it took after Redis came back and still held when signalled, it finished.
        const finishedBefore = jobsOf(leaving.lines.slice(0, signalled), "completed", "failed");
        const held = [...jobsOf(leaving.lines.slice(restarted, signalled), "active")].filter((id) => !finishedBefore.has(id));
        for (const id of held) expect(finished, `worker 2 held ${id} when signalled`).toContain(id);
        // A job it took before the restart may have had its result refused after it (a result resent after the reconnect
        // finds the job finished, or the lock ran out; test/applications/index-worker-refused.model.test.ts): such a job
        // must be completed in the end, by this worker or another.
        const refused = [...jobsOf(leaving.lines, "active")].filter((id) => !finished.has(id));
        expect(leaving.lines.at(-1)).toMatchObject({ event: "stopped" });

        expect(await producer.exited).toBe(0);
        const summary = JSON.parse(producer.stdout.trim().split("\n").at(-1)!) as Record<string, unknown>;
        expect(summary).toMatchObject({ namespace: NAMESPACE, documents: 2000, jobsFailed: 0 });
        expect(completed()).toBeGreaterThan(afterRestart); // jobs completed after the restart too
        // The jobs worker 0 held were finished by another worker after the stall interval.
        for (const id of killedHeld) {
            const job = await queue.getJob(id);
            expect(await job!.getState()).toBe("completed");
            expect(["w1", "w2"]).toContain(job!.processedBy);
            expect(job!.returnvalue).toMatchObject({ total: expect.any(Number) });
        }
        for (const id of refused.filter((id) => id !== "poison")) expect(await (await queue.getJob(id))!.getState(), `job ${id}`).toBe("completed");

        // The poison job: tried 3 times, then moved aside with its reason; `queue status` reports it.
        await until(() => workers.some((worker) => worker.lines.some((line) => line["event"] === "failed" && line["job"] === "poison" && line["final"] === true)), "the poison job to fail for good", 60_000);
        const status = await runCli(["queue", "status", "--queue", redis.url]);
        expect(status.code).toBe(0);
        const report = JSON.parse(status.stdout) as { counts: { failed: number; waiting: number; active: number }; failed: { id: string; reason: string; attempts: number }[] };
        expect(report.counts).toMatchObject({ failed: 1, waiting: 0, active: 0 });
        expect(report.failed).toEqual([expect.objectContaining({ id: "poison", attempts: 3 })]);
        expect(report.failed[0]!.reason).toContain("1 of 2 documents of job poison cannot be indexed (the other 1 were): documents[1]");
        expect(report.failed[0]!.reason).toContain("NUL");
        await queue.close();

        // Worker 1's /metrics: its jobs and the queue's depth.
        const metrics = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
        const value = (name: string) => Number(new RegExp(`^${name.replace(/[{}"]/g, "\\$&")} (\\S+)$`, "m").exec(metrics)?.[1]);
        expect(value("qwen3_queue_worker_jobs_completed_total")).toBe(workers[1]!.lines.filter((line) => line["event"] === "completed").length);
        expect(value("qwen3_queue_worker_jobs_completed_total")).toBeGreaterThan(0);
        expect(value('qwen3_queue_jobs{state="failed"}')).toBe(1);
        expect(value('qwen3_queue_jobs{state="waiting"}')).toBe(0);

        // Exactly once: 2,001 rows (the poems and the poison job's good document), their ids, never rewritten.
        const store = await openStore({ database: postgres.url, poolSize: 2 });
        try {
            const all = [...texts, extra];
            const ids = all.map((text) => documentId(text));
            expect(await store.count(NAMESPACE)).toBe(2001);
            const rows = await postgres.db.query<{ rewritten: number }>("SELECT count(*)::int AS rewritten FROM q3e_items WHERE updated_at <> created_at");
            expect(rows.rows[0]!.rewritten).toBe(0);
            const stored = await store.get(NAMESPACE, ids, { withEmbeddings: true });
            expect(stored.map((item) => item.id)).toEqual(ids);
            expect(stored.map((item) => item.text)).toEqual(all);

            // Every vector equals the library's embedDocuments for its text (across processes and batchings: a tolerance).
            const embedder = await createEmbedder({ model: modelPath });
            try {
                const expected = await embedder.embedDocuments(all);
                let worst = 0;
                stored.forEach((item, index) => {
                    const want = expected.embeddings[index]!;
                    item.embedding!.forEach((value, dimension) => (worst = Math.max(worst, Math.abs(value - want[dimension]!))));
                });
                console.log(`queue test: worst |stored - embedDocuments| ${worst.toExponential(2)}, ${((Date.now() - started) / 1000).toFixed(1)} s`);
                expect(worst).toBeLessThan(1e-4);
            } finally {
                await embedder.dispose();
            }
        } finally {
            await store.close();
        }
    }, 300_000);

    it("rides out a PostgreSQL outage: jobs fail, back off and resume, and every text is indexed once", async () => {
        const texts = loadTangPoems(2300).slice(2100);
        await withOneWorker("outage", texts, ["--job-tokens", "256", "--token-budget", "512"], async ({ input, served, worker }) => {
            const producer = startCli(["index", "--queue", redis.url, "--queue-name", "outage", "--embedding-model", modelPath, "--namespace", "kb2", "--input", input, "--job-tokens", "256"]);
            await until(() => worker.lines.filter((line) => line["event"] === "completed").length >= 3, "3 jobs to complete");
            await served.outage(3000);
            expect(await producer.exited).toBe(0);
            expect(JSON.parse(producer.stdout.trim().split("\n").at(-1)!)).toMatchObject({ documents: 200, jobsFailed: 0 });
            // Jobs failed while the server was down, and were retried after their backoff.
            expect(worker.lines.some((line) => line["event"] === "failed" && line["final"] === false)).toBe(true);
            const store = await openStore({ database: served.url, poolSize: 1 });
            try {
                expect(await store.count("kb2")).toBe(200);
                const stored = await store.get("kb2", texts.map((text) => documentId(text)));
                expect(stored.map((item) => item.text)).toEqual(texts);
                const rows = await served.db.query<{ rewritten: number }>("SELECT count(*)::int AS rewritten FROM q3e_items WHERE updated_at <> created_at");
                expect(rows.rows[0]!.rewritten).toBe(0);
            } finally {
                await store.close();
            }
        });
    }, 180_000);

    it("--priority: a run with a lower number is taken before a waiting bulk run on the same queue", async () => {
        const name = "prioritized";
        const write = (file: string, texts: readonly string[]) => {
            writeFileSync(join(parent, file), texts.map((text) => JSON.stringify({ text })).join("\n") + "\n");
            return join(parent, file);
        };
        const poems = loadTangPoems(2420).slice(2380); // 40 poems; with --job-tokens 16 each is a job of its own
        const bulk = write(`${name}-bulk.jsonl`, poems.slice(0, 30));
        const urgent = write(`${name}-urgent.jsonl`, poems.slice(30));
        // Both runs are queued before any worker: the bulk one first, the urgent one behind it.
        for (const [input, priority] of [[bulk, "10"], [urgent, "1"]] as const) {
            const producer = startCli(["index", "--queue", redis.url, "--queue-name", name, "--embedding-model", modelPath, "--namespace", "kb4",
                "--input", input, "--job-tokens", "16", "--priority", priority, "--detach"]);
            expect(await producer.exited, producer.stderr).toBe(0);
        }
        const queue = new Queue(name, { connection: { url: redis.url, maxRetriesPerRequest: null } });
        try {
            const priorities = new Map((await queue.getJobs(["prioritized", "waiting"])).map((job) => [job.id!, job.opts.priority ?? 0]));
            expect([...priorities.values()].filter((p) => p === 10)).toHaveLength(30);
            expect([...priorities.values()].filter((p) => p === 1)).toHaveLength(10);
            // One job at a time, so the order the worker takes them in is the order they start.
            await withOneWorker(name, [], ["--job-tokens", "16", "--token-budget", "16"], async () => {
                const deadline = Date.now() + 90_000;
                while ((await queue.getCompletedCount()) < 40) {
                    if (Date.now() > deadline) throw new Error("the 40 jobs did not complete in 90 s");
                    await new Promise((resolve) => setTimeout(resolve, 100));
                }
            });
            const order = (await queue.getCompleted(0, -1)).sort((a, b) => a.processedOn! - b.processedOn!).map((job) => priorities.get(job.id!));
            expect(order).toEqual([...Array<number>(10).fill(1), ...Array<number>(30).fill(10)]);
        } finally {
            await queue.close();
        }
    }, 180_000);

    it("--max-jobs-per-second: BullMQ's rate limiter spaces the jobs' starts", async () => {
        const texts = loadTangPoems(2320).slice(2300); // 20 poems; with --job-tokens 16 each is a job of its own
        await withOneWorker("limited", texts, ["--job-tokens", "16", "--token-budget", "128", "--max-jobs-per-second", "5"], async ({ input }) => {
            const producer = startCli(["index", "--queue", redis.url, "--queue-name", "limited", "--embedding-model", modelPath, "--namespace", "kb3", "--input", input, "--job-tokens", "16"]);
            expect(await producer.exited).toBe(0);
            const summary = JSON.parse(producer.stdout.trim().split("\n").at(-1)!) as { jobs: number; jobsFailed: number };
            expect(summary).toMatchObject({ jobs: 20, jobsFailed: 0 });
            const queue = new Queue("limited", { connection: { url: redis.url, maxRetriesPerRequest: null } });
            try {
                const starts = (await queue.getCompleted(0, -1)).map((job) => job.processedOn!).sort((a, b) => a - b);
                expect(starts).toHaveLength(20);
                // 20 jobs at 5 a second: four windows of a second, so at least 3 s from the first start to the last.
                expect(starts.at(-1)! - starts[0]!).toBeGreaterThanOrEqual(2900);
            } finally {
                await queue.close();
            }
        });
    }, 120_000);
});
