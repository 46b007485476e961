// Peak RSS of the library as an application sees it: plain node on dist/ (the benchmark's own cases run under
// tsx, whose loader thread and transpiler add ~37 MB to a process). Runs the embedding workload of the "ours-embed"
// case: one call of the short texts, the same as concurrent calls, the e-mails, 64 concurrent single-text calls.
// Usage: node scripts/bench/peak-rss.mjs <workload.json> <workers> <library entry (dist/index.js)>
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";

const [workloadPath, workersArg, entry] = process.argv.slice(2);
const workload = JSON.parse(readFileSync(workloadPath, "utf8"));
const { createEmbedder } = await import(pathToFileURL(entry).href);
const embedder = await createEmbedder({ model: workload.embeddingModel, workers: Number(workersArg) });
await embedder.embed(workload.short);
await Promise.all(workload.short.map((text) => embedder.embed([text])));
await embedder.embed(workload.emails);
await Promise.all(Array.from({ length: 128 }, (_, i) => embedder.embed([workload.short[i % workload.short.length]])));
const peakKb = Number(readFileSync("/proc/self/status", "utf8").match(/VmHWM:\s+(\d+)\s+kB/)[1]);
await embedder.close();
process.stdout.write(`BENCH_RESULT ${JSON.stringify({ peakRssMb: peakKb / 1024 })}\n`);
