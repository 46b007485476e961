/**
 * The facade group (issue 4's benchmark): each engine in a fresh process on the same texts for its absolute figures,
 * the ratios from the alternating case, then the report and `.bench/bench-<date>.json`.
 */
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { arch, cpus, platform, release, tmpdir, totalmem } from "node:os";
import { join, relative } from "node:path";
import { REPO_ROOT } from "../../test/fixtures/qwen3-fixture.js";
import { otherCpuUse } from "./bench-support.js";
import { facadeReport } from "./facade-report.js";
import { prepareFacadeWorkload } from "./facade-workload.js";
import { cpuModel } from "./machine.js";
import { totalTokens } from "./measure.js";
import type { FacadeCase, FacadeResult } from "./registry.js";
import { buildDist, loadLibrary, spawnCase, spawnChild } from "./runner.js";

export interface FacadeOptions { quick: boolean; json: string | undefined; verbose: boolean; fromSource: boolean }

const f = (value: number, digits = 1) => value.toFixed(digits);

export async function runFacadeGroup(cases: FacadeCase[], options: FacadeOptions): Promise<number> {
    const { fromSource, verbose } = options;
    const date = new Date();
    if (!fromSource) buildDist();
    const workload = await prepareFacadeWorkload(options.quick, await loadLibrary(fromSource));
    const dir = mkdtempSync(join(tmpdir(), "qwen3-bench-"));
    const workloadPath = join(dir, "workload.json");
    writeFileSync(workloadPath, JSON.stringify(workload));
    const busy = await otherCpuUse();
    const machine = { cpu: cpuModel(), logicalCpus: cpus().length, memoryGiB: totalmem() / 2 ** 30, os: `${platform()} ${release()} ${arch()}`, node: process.version, busyBeforeStart: busy.how };
    const modelMb = { embedding: statSync(workload.embeddingModel).size / 2 ** 20, reranker: statSync(workload.rerankModel).size / 2 ** 20 };
    console.log(`qwen3-embedding benchmark, ${date.toISOString()}; library from ${fromSource ? "src/ (tsx)" : "dist/"}`);
    console.log(`machine: ${machine.cpu}, ${machine.logicalCpus} CPUs, ${f(machine.memoryGiB)} GiB, ${machine.os}, node ${machine.node}; ${busy.how}`);
    console.log(`models: ${relative(REPO_ROOT, workload.embeddingModel)} (${f(modelMb.embedding, 0)} MB), ${relative(REPO_ROOT, workload.rerankModel)} (${f(modelMb.reranker, 0)} MB)`);
    console.log(`texts: ${workload.short.length} short (${totalTokens(workload.shortTokens)} tokens), ${workload.emails.length} e-mails of 200-400 tokens (${totalTokens(workload.emailTokens)} tokens), 1 query x ${workload.documents.length} documents of 100-400 tokens; mixed load: ${workload.bulkEmails.length} e-mails as bulk`);
    const results: Partial<Record<string, FacadeResult>> = {};
    const libraryRss = { oneWorker: Number.NaN, twoWorkers: Number.NaN };
    try {
        for (const { name } of cases) {
            process.stdout.write(`  running ${name} ...`);
            const started = performance.now();
            const { pid: _pid, ...result } = await spawnCase<FacadeResult>(name, workloadPath, { verbose, fromSource });
            results[name] = result;
            process.stdout.write(` ${f((performance.now() - started) / 1000)} s\n`);
        }
        if (!fromSource && cases.some((c) => c.name === "ours-embed")) {
            process.stdout.write("  running peak RSS, plain node ...");
            const started = performance.now();
            libraryRss.oneWorker = await spawnPeakRss(workloadPath, 1, verbose);
            libraryRss.twoWorkers = await spawnPeakRss(workloadPath, 2, verbose);
            process.stdout.write(` ${f((performance.now() - started) / 1000)} s\n`);
        }
    } finally {
        rmSync(dir, { recursive: true, force: true });
    }
    const report = facadeReport(results, modelMb, libraryRss);
    const out = options.json ?? join(REPO_ROOT, ".bench", `bench-${date.toISOString().replace(/[:.]/g, "-")}.json`);
    mkdirSync(join(out, ".."), { recursive: true });
    writeFileSync(out, JSON.stringify({ date: date.toISOString(), machine, models: modelMb, build: results["ours-embed"]?.libraries, workload: { short: workload.short.length, emails: workload.emails.length, bulkEmails: workload.bulkEmails.length, documents: workload.documents.length }, results, report }, null, 2));
    console.log(`\nresult file: ${relative(process.cwd(), out)}`);
    return 0;
}

/** The library's peak RSS in a plain node process on dist/ (scripts/bench/peak-rss.mjs), without the harness's tsx. */
async function spawnPeakRss(workloadPath: string, workers: number, verbose: boolean): Promise<number> {
    const script = join(REPO_ROOT, "scripts", "bench", "peak-rss.mjs");
    const result = await spawnChild<{ peakRssMb: number }>(`peak RSS, ${workers} worker(s)`, [script, workloadPath, String(workers), join(REPO_ROOT, "dist", "index.js")], verbose);
    return result.peakRssMb;
}
