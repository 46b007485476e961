import { readFileSync } from "node:fs";
import { loadEngineModel } from "../src/exports/engine.js";
const repack = process.argv[3] === "true";
const smaps = () => {
    const text = readFileSync("/proc/self/smaps_rollup", "utf8");
    const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, "m").exec(text)![1]) / 1024;
    return { rss: field("Rss"), anon: field("Anonymous"), file: field("Rss") - field("Anonymous") };
};
const base = smaps();
const model = await loadEngineModel(process.argv[2]!, { repackWeights: repack });
const context = await model.createContext({ batchTokens: 512, contextSize: 8192 });
const seqs = Array.from({ length: 8 }, (_, i) => Int32Array.from({ length: 300 }, (_, j) => 100 + ((i * 7919 + j * 31) % 50000)));
await context.embedBatch(seqs);
const t = performance.now();
await context.embedBatch(seqs);
const ms = performance.now() - t;
const after = smaps();
console.log(JSON.stringify({ repack, rssMB: Math.round(after.rss), anonMB: Math.round(after.anon - base.anon), fileMB: Math.round(after.file - base.file), tokensPerSecond: Math.round(2400 / ms * 1000) }));
await context.dispose(); await model.dispose();
