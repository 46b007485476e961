/**
 * Every benchmark case, registered once: its name (what `--only` takes), its group (the cases one report reads
 * together), what it compares, the criterion its report checks, whether the group runs it by default, and the
 * function a child process runs for it. The targets are the issue's; the reports print a verdict against each.
 */
import type { Library } from "./runner.js";
import { alternating } from "./cases/alternating.js";
import { nlcCost, oursCost } from "./cases/cost.js";
import { nlcEmbed, oursEmbed, oursEmbedTwoWorkers, oursSweep } from "./cases/embedding.js";
import { nlcEngine, oursEngine, upperEngine, type EngineKind, type EngineTrial } from "./cases/engine.js";
import { mixedLoad } from "./cases/mixed-load.js";
import { nlcRerank, oursRerank } from "./cases/rerank.js";
import { upperEmbed, upperRerank } from "./cases/upper-bound.js";
import type { EngineWorkload } from "./engine-workload.js";
import type { FacadeWorkload } from "./facade-workload.js";

/** A mistake on the command line: printed as one line, exit code 2. */
export class UsageError extends Error {}

export const TARGETS = {
    /** alternating: facade over node-llama-cpp on the short texts, one call and 64 concurrent calls. */
    shortVsNlc: 1.5,
    /** alternating: facade over node-llama-cpp on e-mails, and on reranking (against rankAll). */
    emailsVsNlc: 1.15,
    rerankVsNlc: 1.15,
    /** alternating: facade over the upper bound on e-mails and on reranking. */
    vsUpper: 0.95,
    /** alternating: one short query on an idle pool over its raw decode, at most. */
    idleVsRawDecode: 1.2,
    /** ours-embed: worst cosine of a text alone against the same text in a batch, at least. */
    batchInvariance: 0.99999,
    /** ours-embed (plain node on dist/): MB above the model file with one worker, and MB the second worker adds, at most. */
    rssOverModelMb: 300,
    rssSecondWorkerMb: 150,
    /** mixed-load: p99 of a query's latency while bulk documents are embedded, over its p50 on an idle embedder, at most. */
    mixedP99OverIdleP50: 2,
    /** mixed-load: the bulk call's tokens/s with the queries over its tokens/s alone, at least. */
    mixedBulkThroughput: 0.9,
    /** engine group: worst cosine between our embeddings and node-llama-cpp's, at least (below it the run fails). */
    sameEmbeddings: 0.999,
} as const;

export type FacadeResult = Record<string, unknown> & { case: string; peakRssMb: number; libraries: string[] };

interface CaseEntry {
    name: string;
    compares: string;
    gate?: string;
    /** Part of its group's run without --only. */
    byDefault: boolean;
}
export interface FacadeCase extends CaseEntry {
    group: "facade";
    run(workload: FacadeWorkload, lib: Library): Promise<FacadeResult>;
}
export interface EngineCase extends CaseEntry {
    group: "engine";
    /** Its name in the engine results file. */
    engine: EngineKind;
    run(workload: EngineWorkload, lib: Library): Promise<EngineTrial>;
}
export type BenchCase = FacadeCase | EngineCase;
export type GroupName = BenchCase["group"];

const T = TARGETS;
/** In the order they run. */
export const CASES: readonly BenchCase[] = [
    { name: "ours-embed", group: "facade", byDefault: true, run: oursEmbed,
        compares: "qwen3-embedding, 1 worker: short texts in one call and as concurrent calls, e-mails in one call, latency at 1/8/64 callers; then peak RSS in plain node",
        gate: `batch invariance >= ${T.batchInvariance}; peak RSS <= model file + ${T.rssOverModelMb} MB, second worker <= +${T.rssSecondWorkerMb} MB` },
    { name: "nlc-embed", group: "facade", byDefault: true, run: nlcEmbed,
        compares: "node-llama-cpp getEmbeddingFor one text at a time: the same short texts and e-mails, latency" },
    { name: "upper-embed", group: "facade", byDefault: true, run: upperEmbed,
        compares: "upper bound: the embedding model decoding one 512-token sequence" },
    { name: "ours-embed-2-workers", group: "facade", byDefault: true, run: oursEmbedTwoWorkers,
        compares: "qwen3-embedding, 2 workers: e-mails in one call (peak RSS)" },
    { name: "ours-rerank", group: "facade", byDefault: true, run: oursRerank,
        compares: "qwen3-embedding reranker: 1 query x every document in one call; scores against llama.cpp's RANK pooling" },
    { name: "nlc-rerank", group: "facade", byDefault: true, run: nlcRerank,
        compares: "node-llama-cpp rankAll on the same query and documents" },
    { name: "upper-rerank", group: "facade", byDefault: true, run: upperRerank,
        compares: "upper bound: the reranking model decoding one 512-token sequence" },
    { name: "ours-cost", group: "facade", byDefault: true, run: oursCost,
        compares: "qwen3-embedding: ms per token of one input of 32..8192 tokens" },
    { name: "nlc-cost", group: "facade", byDefault: true, run: nlcCost,
        compares: "node-llama-cpp: ms per token of one input of 32..8192 tokens" },
    { name: "alternating", group: "facade", byDefault: true, run: alternating,
        compares: "qwen3-embedding, node-llama-cpp and the upper bound in turn in one process on slices of the same texts (the ratios)",
        gate: `short texts >= ${T.shortVsNlc}x nlc; e-mails >= ${T.emailsVsNlc}x nlc; rerank >= ${T.rerankVsNlc}x nlc; e-mails and rerank >= ${T.vsUpper}x the bound; idle query <= ${T.idleVsRawDecode}x its raw decode` },
    { name: "mixed-load", group: "facade", byDefault: true, run: mixedLoad,
        compares: "qwen3-embedding, 1 worker: single queries on an idle embedder; e-mails embedded as bulk documents alone; the same bulk with a query every 0.5 s (latency under bulk load)",
        gate: `query p99 under bulk load <= ${T.mixedP99OverIdleP50}x its idle p50; bulk tokens/s with the queries >= ${T.mixedBulkThroughput}x alone` },
    { name: "ours-sweep", group: "facade", byDefault: false, run: oursSweep,
        compares: "qwen3-embedding: batchTokens 256..2048 x flash attention on/off (how the defaults were chosen)" },
    { name: "ours-engine", group: "engine", engine: "ours", byDefault: true, run: oursEngine,
        compares: "our engine's embedBatch, up to --batch-texts texts a call, on the workload's token sequences",
        gate: `same embeddings as nlc-engine: worst cosine >= ${T.sameEmbeddings}` },
    { name: "nlc-engine", group: "engine", engine: "node-llama-cpp", byDefault: true, run: nlcEngine,
        compares: "node-llama-cpp LlamaEmbeddingContext.getEmbeddingFor, one sequence at a time" },
    { name: "upper-engine", group: "engine", engine: "upper-bound", byDefault: true, run: upperEngine,
        compares: "upper bound: our engine decoding one 512-token sequence of the workload's text" },
];

export const GROUPS: readonly GroupName[] = ["facade", "engine"];

/**
 * The cases `--only` names (a case's name, or a group's name for its default cases), in the order named; without
 * --only, the facade group's default cases.
 */
export function selectCases(only: string | undefined): BenchCase[] {
    const names = only === undefined ? ["facade"] : only.split(",").map((name) => name.trim()).filter((name) => name !== "");
    if (names.length === 0) throw new UsageError("Expected case names for --only but received an empty list");
    const selected = new Set<BenchCase>();
    for (const name of names) {
        const group = GROUPS.find((g) => g === name);
        const matches = group !== undefined ? CASES.filter((c) => c.group === group && c.byDefault) : CASES.filter((c) => c.name === name);
        if (matches.length === 0) throw new UsageError(`unknown case ${name}; cases: ${CASES.map((c) => c.name).join(", ")}; groups: ${GROUPS.join(", ")}`);
        for (const match of matches) selected.add(match);
    }
    // The order the names were given in, as before; a group's cases in registry order.
    return [...selected];
}

export function findCase(name: string): BenchCase {
    const found = CASES.find((c) => c.name === name);
    if (found === undefined) throw new UsageError(`unknown case ${name}`);
    return found;
}
