/**
 * The engine group's report: the median of each engine's trials, the ratios, whether both engines computed the same
 * embeddings, and what ran (settings, machine, model, build).
 */
import { basename } from "node:path";
import { cosineSimilarity } from "../../src/format/vector-math.js";
import { median } from "./bench-support.js";
import type { EngineKind, EngineTrial } from "./cases/engine.js";
import type { EngineWorkload } from "./engine-workload.js";
import { TARGETS } from "./registry.js";

/** A trial as the parent records it. */
export interface TrialResult extends EngineTrial {
    trial: number;
    pid: number;
    tokensPerSecond: number;
    textsPerSecond: number;
}

export interface Summary {
    engine: EngineKind;
    label: string;
    trials: number[];
    tokensPerSecond: number;
    textsPerSecond: number;
    seconds: number;
    loadSeconds: number;
    cpuPercent: number;
}

export type EmbeddingCheck = ReturnType<typeof compareEmbeddings>;

const fmt = (value: number, digits: number) => value.toFixed(digits);

/** Prints the table and what ran; returns the summaries, the ratios and the embedding check for the results file. */
export function engineReport(results: TrialResult[], workload: EngineWorkload, meta: EngineMeta, date: Date) {
    const check = compareEmbeddings(results, workload);
    const summaries = summarize(results, workload);
    const ours = summaries.find((s) => s.engine === "ours");
    const nlc = summaries.find((s) => s.engine === "node-llama-cpp");
    const upper = summaries.find((s) => s.engine === "upper-bound");
    const ratios = {
        oursOverNodeLlamaCpp: (ours?.tokensPerSecond ?? Number.NaN) / (nlc?.tokensPerSecond ?? Number.NaN),
        oursOverUpperBound: (ours?.tokensPerSecond ?? Number.NaN) / (upper?.tokensPerSecond ?? Number.NaN),
    };

    console.log("");
    printTable(summaries, ours, upper);
    console.log("");
    console.log(`ours / node-llama-cpp: ${fmt(ratios.oursOverNodeLlamaCpp, 2)}x   ours / upper bound: ${fmt(ratios.oursOverUpperBound, 2)}   (medians of tokens/s)`);
    if (check === undefined) console.log("same embeddings: not checked (it needs both ours-engine and nlc-engine)");
    else {
        console.log(
            `same embeddings: worst cosine ${check.worst.toFixed(7)} (${check.worstId}, ${check.worstTokens} tokens) over ` +
                `${check.compared} text x trial pairs, after L2 normalization; ${check.worst >= check.threshold ? `OK (>= ${check.threshold})` : `FAILED (< ${check.threshold})`}`,
        );
    }
    console.log("");
    const c = results.find((r) => r.engine === "ours")?.config;
    const n = results.find((r) => r.engine === "node-llama-cpp")?.config;
    if (c !== undefined) {
        console.log(
            `qwen3-embedding: default context (batchTokens ${String(c["batchTokens"])}, contextSize ${String(c["contextSize"])}, ` +
                `maxSequences ${String(c["maxSequences"])}, flashAttention ${String(c["flashAttention"])}, threads ${String(c["threads"])}), ${String(c["calls"])}`,
        );
    }
    if (n !== undefined) {
        console.log(
            `node-llama-cpp:  LlamaEmbeddingContext contextSize ${String(n["contextSize"])}, batchSize ${String(n["batchSize"])}, ` +
                `threads ${String(n["threads"])} (maxThreads ${String(n["maxThreads"])}), flashAttention ${String(n["flashAttention"])}, ${String(n["calls"])}`,
        );
    }
    console.log(`machine: ${meta.machine.cpu}, ${meta.machine.logicalCpus} logical CPUs, ${String(meta.machine.mathCores)} math cores, ` +
        `${fmt(meta.machine.memoryGiB, 1)} GiB RAM, ${meta.machine.os}, Node ${process.version}`);
    console.log(`model:   ${meta.model.path} (${fmt(meta.model.sizeBytes / 2 ** 20, 0)} MiB) ${meta.model.shape}`);
    console.log(`build:   node-llama-cpp ${meta.build.nodeLlamaCpp} (llama.cpp ${meta.build.llamaCppRelease}), ` +
        `libllama ${meta.build.libllama} (${String(meta.build.buildType)}, gpu ${String(meta.build.gpu)}), ` +
        `llama-headers commit ${meta.build.llamaHeadersCommit ?? "n/a"}`);
    const variants = [...new Set(results.map((r) => r.libraries.filter((l) => /ggml-cpu/.test(l)).map((l) => basename(l)).join("+")))];
    console.log(`ggml CPU variant(s) mapped in the children: ${variants.join(", ") || "n/a"}`);
    console.log(`date:    ${date.toISOString()}`);
    return { summaries, ratios, check };
}

type EngineMeta = Awaited<ReturnType<typeof import("./engine-workload.js").prepareEngineWorkload>>["meta"];

/** Trials where the child got less CPU than its threads could use: other processes competed for the cores. */
export function starvedTrials(results: TrialResult[]): string | undefined {
    const starved = results.filter((r) => typeof r.config["threads"] === "number" && r.cpuPercent < 85 * (r.config["threads"] as number));
    if (starved.length === 0) return undefined;
    return `WARNING: ${starved.map((r) => `${r.engine} trial ${r.trial} (${fmt(r.cpuPercent, 0)}% CPU for ${String(r.config["threads"])} threads)`).join(", ")} ` +
        "got less CPU than its threads could use: other processes competed for the cores; rerun on a quiet machine.";
}

/** Our embeddings against node-llama-cpp's, trial by trial; undefined when either engine did not run. */
function compareEmbeddings(results: TrialResult[], workload: EngineWorkload) {
    const ours = results.filter((r) => r.engine === "ours");
    const theirs = results.filter((r) => r.engine === "node-llama-cpp");
    if (ours.length === 0 || theirs.length === 0) return undefined;
    let worst = Infinity;
    let worstIndex = -1;
    let compared = 0;
    for (let t = 0; t < Math.min(ours.length, theirs.length); t++) {
        const a = ours[t]!.embeddings!;
        const b = theirs[t]!.embeddings!;
        if (a.length !== workload.sequences.length || b.length !== workload.sequences.length) {
            throw new Error(`trial ${t + 1}: expected ${workload.sequences.length} embeddings, got ${a.length} (ours) and ${b.length} (node-llama-cpp)`);
        }
        for (let i = 0; i < a.length; i++) {
            const value = a[i]!.length === b[i]!.length && a[i]!.length > 0 ? cosineSimilarity(a[i]!, b[i]!) : Number.NaN;
            compared++;
            if (!(value >= worst)) {
                worst = value;
                worstIndex = i;
            }
        }
    }
    return {
        worst: Number.isNaN(worst) ? 0 : worst,
        worstId: workload.ids[worstIndex] ?? "n/a",
        worstTokens: workload.sequences[worstIndex]?.length ?? 0,
        compared,
        threshold: TARGETS.sameEmbeddings,
    };
}

function summarize(results: TrialResult[], workload: EngineWorkload): Summary[] {
    const labels: Record<EngineKind, string> = {
        ours: `qwen3-embedding embedBatch (${workload.batchTexts}/call)`,
        "node-llama-cpp": "node-llama-cpp getEmbeddingFor, 1 by 1",
        "upper-bound": `upper bound: ours, 1 x ${workload.upperSequence.length} tokens`,
    };
    const engines = (Object.keys(labels) as EngineKind[]).filter((engine) => results.some((r) => r.engine === engine));
    return engines.map((engine) => {
        const mine = results.filter((r) => r.engine === engine);
        return {
            engine,
            label: labels[engine],
            trials: mine.map((r) => r.tokensPerSecond),
            tokensPerSecond: median(mine.map((r) => r.tokensPerSecond)),
            textsPerSecond: median(mine.map((r) => r.textsPerSecond)),
            seconds: median(mine.map((r) => r.seconds)),
            loadSeconds: median(mine.map((r) => r.loadSeconds)),
            cpuPercent: median(mine.map((r) => r.cpuPercent)),
        };
    });
}

function printTable(summaries: Summary[], ours: Summary | undefined, upper: Summary | undefined): void {
    const header = ["engine", "tok/s", "trials tok/s", "texts/s", "s timed", "CPU %", "ours/this", "this/upper"];
    const rows = summaries.map((s) => [
        s.label,
        fmt(s.tokensPerSecond, 1),
        s.trials.map((v) => fmt(v, 1)).join(", "),
        fmt(s.textsPerSecond, 2),
        fmt(s.seconds, 1),
        fmt(s.cpuPercent, 0),
        s === ours ? "1.00x" : `${fmt((ours?.tokensPerSecond ?? Number.NaN) / s.tokensPerSecond, 2)}x`,
        fmt(s.tokensPerSecond / (upper?.tokensPerSecond ?? Number.NaN), 2),
    ]);
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    const line = (cells: string[]) => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join("  ");
    console.log(line(header));
    console.log(widths.map((w) => "-".repeat(w)).join("  "));
    for (const row of rows) console.log(line(row));
}
