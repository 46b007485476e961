/**
 * What durability costs the embedded store: upserts of batches of 256 items (fixed vectors, no model) with
 * durability "full" (each commit's write-ahead log fsynced before the upsert resolves) and "relaxed" (nothing
 * fsynced until close, which fsyncs the whole directory), side by side in one run. Two cases: the namespace keeps its
 * HNSW index (incremental writes, as the memory routes make them) or has it dropped (a bulk load, as `index` makes
 * it). Every trial is a fresh process on a fresh copy of one empty database; the settings alternate, which goes first
 * alternates too.
 *
 *   npm run bench:durability -- [--reps N] [--batches B] [--dimensions D] [--json out.json]
 */
import { execFileSync, spawn } from "node:child_process";
import fs, { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire, syncBuiltinESMExports } from "node:module";
import { cpus, platform, release, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { openStore, type Durability } from "../src/exports/store.js";
import { REPO_ROOT } from "../test/fixtures/qwen3-fixture.js";
import { median, otherCpuUse } from "./bench/bench-support.js";

const USAGE = `Usage: npm run bench:durability -- [options]

Times upserts of batches of 256 items into an embedded store with durability "full" and "relaxed", with the
namespace's HNSW index kept and dropped; a fresh process per trial, settings alternating.

Options:
  --reps N        trials per setting and case (default 5)
  --batches B     timed batches per trial, after one untimed warm-up batch (default 8)
  --dimensions D  vector dimensions (default 1024, Qwen3-Embedding-0.6B's)
  --json PATH     where to write the results (default .bench/durability-<ISO date>.json)
  -h, --help      show this help
`;

const BATCH = 256;
const CASES = ["index kept", "index dropped"] as const;
type Case = (typeof CASES)[number];

interface TrialResult {
    batchMs: number[];
    /** Of each batch's time, the time spent inside fsync calls, and how many there were. */
    fsyncMs: number[];
    fsyncCalls: number[];
    closeMs: number;
}

/** Counts and times every fsync this process makes from now on (node:fs wrapped, named imports included). */
function timeFsyncs(): { calls: number; ms: number } {
    const totals = { calls: 0, ms: 0 };
    const fsyncSync = fs.fsyncSync;
    fs.fsyncSync = (fd: number) => {
        const started = performance.now();
        try {
            fsyncSync(fd);
        } finally {
            totals.calls++;
            totals.ms += performance.now() - started;
        }
    };
    syncBuiltinESMExports();
    return totals;
}

/** Unit vectors that depend only on (item, dimensions): the same in every trial. */
function fixedVector(item: number, dimensions: number): Float32Array {
    const vector = Float32Array.from({ length: dimensions }, (_, index) => Math.sin(item * 12.9898 + index * 78.233) * 43758.5453 % 1);
    const norm = Math.hypot(...vector);
    return vector.map((value) => value / norm);
}

/** One trial, in this process: open, warm up, time `batches` upserts of BATCH new items, time close. */
async function runTrial(database: string, durability: Durability, trialCase: Case, batches: number, dimensions: number): Promise<TrialResult> {
    const fsyncs = timeFsyncs();
    const store = await openStore({ database, durability });
    await store.ensureNamespace("bench", { model: "bench-model", dimensions });
    if (trialCase === "index dropped") await store.dropVectorIndex("bench");
    const batchMs: number[] = [];
    const fsyncMs: number[] = [];
    const fsyncCalls: number[] = [];
    for (let batch = 0; batch <= batches; batch++) {
        const records = Array.from({ length: BATCH }, (_, index) => {
            const item = batch * BATCH + index;
            return { id: `item-${item}`, text: `item ${item}`, embedding: fixedVector(item, dimensions) };
        });
        const before = { ...fsyncs };
        const started = performance.now();
        await store.upsert("bench", records);
        if (batch === 0) continue; // warm-up
        batchMs.push(performance.now() - started);
        fsyncMs.push(fsyncs.ms - before.ms);
        fsyncCalls.push(fsyncs.calls - before.calls);
    }
    const closing = performance.now();
    await store.close();
    return { batchMs, fsyncMs, fsyncCalls, closeMs: performance.now() - closing };
}

function spawnTrial(database: string, durability: Durability, trialCase: Case, batches: number, dimensions: number): Promise<TrialResult> {
    return new Promise((resolvePromise, reject) => {
        const args = ["--import", "tsx", join(REPO_ROOT, "scripts", "bench-durability.ts"), "--trial", durability, "--case", trialCase, "--database", database, "--batches", String(batches), "--dimensions", String(dimensions)];
        const child = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (data: Buffer) => (stdout += data.toString()));
        child.stderr.on("data", (data: Buffer) => (stderr += data.toString()));
        child.on("close", (code) => {
            if (code !== 0) return reject(new Error(`the ${durability} trial exited with ${code}: ${stderr.trim()}`));
            resolvePromise(JSON.parse(stdout.trim().split("\n").at(-1)!) as TrialResult);
        });
    });
}

function filesystemOf(path: string): string {
    try {
        return execFileSync("findmnt", ["-n", "-o", "FSTYPE,SOURCE", "--target", path], { encoding: "utf8" }).trim().replace(/\s+/, " on ");
    } catch {
        return "unknown";
    }
}

function pgliteVersion(): string {
    const entry = createRequire(import.meta.url).resolve("@electric-sql/pglite");
    return (JSON.parse(readFileSync(join(dirname(entry), "..", "package.json"), "utf8")) as { version: string }).version;
}

const ms = (value: number) => `${value.toFixed(1)} ms`;

async function main(): Promise<void> {
    const { values } = parseArgs({
        options: {
            reps: { type: "string" }, batches: { type: "string" }, dimensions: { type: "string" }, json: { type: "string" }, help: { type: "boolean", short: "h" },
            trial: { type: "string" }, case: { type: "string" }, database: { type: "string" },
        },
        strict: true,
    });
    if (values.help) {
        process.stdout.write(USAGE);
        return;
    }
    const reps = Number(values.reps ?? 5);
    const batches = Number(values.batches ?? 8);
    const dimensions = Number(values.dimensions ?? 1024);
    for (const [flag, value] of [["reps", reps], ["batches", batches], ["dimensions", dimensions]] as const) {
        if (!Number.isInteger(value) || value < 1) throw new Error(`Expected a positive integer for --${flag} but received ${value}`);
    }
    if (values.trial !== undefined) {
        const result = await runTrial(values.database!, values.trial as Durability, values.case as Case, batches, dimensions);
        process.stdout.write(JSON.stringify(result) + "\n");
        return;
    }

    const work = mkdtempSync(join(tmpdir(), "qwen3-bench-durability-"));
    try {
        const template = join(work, "template");
        await (await openStore({ database: template, durability: "relaxed" })).close(); // initdb and migrations, once
        const busy = await otherCpuUse();
        console.error(`bench:durability: ${reps} trials per setting and case, ${batches} batches of ${BATCH} at ${dimensions} dimensions; other processes: ${busy.how}`);
        const trials: Record<Case, Record<Durability, TrialResult[]>> = {
            "index kept": { full: [], relaxed: [] },
            "index dropped": { full: [], relaxed: [] },
        };
        for (let rep = 0; rep < reps; rep++) {
            for (const trialCase of CASES) {
                const order: Durability[] = rep % 2 === 0 ? ["full", "relaxed"] : ["relaxed", "full"];
                for (const durability of order) {
                    const database = join(work, "trial");
                    cpSync(template, database, { recursive: true });
                    const result = await spawnTrial(database, durability, trialCase, batches, dimensions);
                    rmSync(database, { recursive: true, force: true });
                    trials[trialCase][durability].push(result);
                    console.error(`  ${trialCase}, ${durability}, trial ${rep + 1}: median ${ms(median(result.batchMs))} per batch, of which fsync ${ms(median(result.fsyncMs))}; close ${ms(result.closeMs)}`);
                }
            }
        }

        const summarize = (results: TrialResult[]) => ({
            medianBatchMs: median(results.flatMap((result) => result.batchMs)),
            medianFsyncMs: median(results.flatMap((result) => result.fsyncMs)),
            medianFsyncCalls: median(results.flatMap((result) => result.fsyncCalls)),
            trialMedianBatchMs: results.map((result) => median(result.batchMs)),
            medianCloseMs: median(results.map((result) => result.closeMs)),
        });
        const date = new Date().toISOString();
        const results = {
            date,
            machine: { cpu: cpus()[0]?.model ?? "?", cpus: cpus().length, platform: `${platform()} ${release()}`, node: process.version, filesystem: filesystemOf(work), pglite: pgliteVersion(), otherCpuBefore: busy.how },
            batch: BATCH,
            batches,
            dimensions,
            reps,
            cases: Object.fromEntries(CASES.map((trialCase) => [trialCase, { full: summarize(trials[trialCase].full), relaxed: summarize(trials[trialCase].relaxed) }])),
        };
        const lines = [
            "",
            `qwen3-embedding durability benchmark, ${date}`,
            `machine: ${results.machine.cpu}, ${results.machine.cpus} CPUs, ${results.machine.platform}, node ${results.machine.node}, ${results.machine.filesystem} (${tmpdir()}), PGlite ${results.machine.pglite}; before the run: ${busy.how}`,
            `upsert of ${BATCH} items at ${dimensions} dimensions: median over ${reps} trials x ${batches} batches per setting (one fresh process per trial)`,
            ...CASES.map((trialCase) => {
                const { full, relaxed } = results.cases[trialCase]!;
                const difference = full.medianBatchMs - relaxed.medianBatchMs;
                return `${trialCase.padEnd(14)} full ${ms(full.medianBatchMs)} (in fsync ${ms(full.medianFsyncMs)}, ${full.medianFsyncCalls} calls), ` +
                    `relaxed ${ms(relaxed.medianBatchMs)} (in fsync ${ms(relaxed.medianFsyncMs)}): ${difference >= 0 ? "+" : ""}${ms(difference)} per batch ` +
                    `(${(full.medianBatchMs / relaxed.medianBatchMs).toFixed(2)}x); trial medians full [${full.trialMedianBatchMs.map((value) => value.toFixed(0)).join(", ")}], ` +
                    `relaxed [${relaxed.trialMedianBatchMs.map((value) => value.toFixed(0)).join(", ")}]; close full ${ms(full.medianCloseMs)}, relaxed ${ms(relaxed.medianCloseMs)}`;
            }),
        ];
        console.log(lines.join("\n"));
        const jsonPath = values.json ?? join(REPO_ROOT, ".bench", `durability-${date.replace(/[:.]/g, "-")}.json`);
        mkdirSync(resolve(jsonPath, ".."), { recursive: true });
        writeFileSync(jsonPath, JSON.stringify(results, null, 2) + "\n");
        console.log(`results: ${jsonPath}`);
    } finally {
        rmSync(work, { recursive: true, force: true });
    }
}

main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
});
