/**
 * The throughput benchmark of issue 4, side by side in one run: qwen3-embedding (facade → scheduler → worker pool →
 * engine), node-llama-cpp one text at a time (LlamaEmbeddingContext / LlamaRankingContext, configured as a
 * knowledgeable user would: threads = physical cores, batch >= the longest input, flash attention), and the upper
 * bound (the same llama.cpp build decoding one 512-token sequence, output at the last token only). Every engine runs
 * in a fresh child process on the same texts for its absolute figures (throughput, latency, peak RSS, cost per
 * token); the ratios and their verdicts come from one more process where all three take turns on small slices of the
 * same texts (this machine's speed drifts by 10-20% between processes). The parent prints both and writes a JSON result.
 *
 *   npm run bench -- [--quick] [--json out.json] [--verbose]
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { arch, cpus, platform, release, tmpdir, totalmem } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import type * as Library from "../src/index.js";
import { ensureFixtureModel, REPO_ROOT } from "../test/fixtures/qwen3-fixture.js";
import { benchTexts } from "./bench/bench-texts.js";
import { loadedLlamaLibraries, median, otherCpuUse, pairedRatio, peakRssMb, percentile, startClock } from "./bench/bench-support.js";

const END_OF_TEXT = 151643;
const UPPER_TOKENS = 512;
const RESULT_PREFIX = "BENCH_RESULT ";
const THIS_FILE = fileURLToPath(import.meta.url);
const COST_LENGTHS = [32, 128, 512, 2048, 8192];
const CONCURRENCY = [1, 8, 64];
// The alternating case: slices of this many e-mails (every e-mail EMAIL_PASSES times) and documents (each once), each
// arm in turn per slice.
const EMAIL_SLICE = 2;
const EMAIL_PASSES = 3;
const DOCUMENT_SLICE = 5;
const SHORT_ROUNDS = 5;
const IDLE_QUERIES = 7;

interface Workload {
    embeddingModel: string;
    rerankModel: string;
    short: string[];
    emails: string[];
    query: string;
    documents: string[];
    /** Token sequences (with <|endoftext|>) for node-llama-cpp, equal to what the facade evaluates. */
    shortTokens: number[][];
    emailTokens: number[][];
    /** A text of at least 8192 tokens, cut to each cost length. */
    longText: string;
    longTokens: number[];
    upperRepeats: number;
    costLengths: number[];
    latencyRequests: number;
}

type Case = "ours-embed" | "ours-embed-2-workers" | "nlc-embed" | "upper-embed" | "ours-rerank" | "nlc-rerank" | "upper-rerank" | "ours-cost" | "nlc-cost" | "alternating" | "ours-sweep";
const CASES: Case[] = ["ours-embed", "nlc-embed", "upper-embed", "ours-embed-2-workers", "ours-rerank", "nlc-rerank", "upper-rerank", "ours-cost", "nlc-cost", "alternating"];
/** Run with --only: how batchTokens and flash attention change throughput (how the defaults were chosen). */
const EXTRA_CASES: Case[] = ["ours-sweep"];

interface Throughput { tokens: number; texts: number; seconds: number; tokensPerSecond: number; textsPerSecond: number; cpuPercent: number }
interface Latency { concurrency: number; requests: number; p50Ms: number; p99Ms: number; tokensPerSecond: number }
type CaseResult = Record<string, unknown> & { case: Case; peakRssMb: number; libraries: string[] };

function throughput(tokens: number, texts: number, clock: { seconds: number; cpuPercent: number }): Throughput {
    return { tokens, texts, ...clock, tokensPerSecond: tokens / clock.seconds, textsPerSecond: texts / clock.seconds };
}

async function measure(tokens: number, texts: number, run: () => Promise<unknown>): Promise<Throughput> {
    const clock = startClock();
    await run();
    return throughput(tokens, texts, clock.stop());
}

/** `requests` calls of one short text each, `concurrency` callers at a time; latency of every call. */
async function latency(concurrency: number, requests: number, texts: string[], tokensOf: (i: number) => number, call: (i: number) => Promise<unknown>): Promise<Latency> {
    const times: number[] = [];
    let next = 0;
    let tokens = 0;
    const clock = startClock();
    await Promise.all(Array.from({ length: concurrency }, async () => {
        while (next < requests) {
            const i = next++ % texts.length;
            const start = performance.now();
            await call(i);
            times.push(performance.now() - start);
            tokens += tokensOf(i);
        }
    }));
    const { seconds } = clock.stop();
    return { concurrency, requests, p50Ms: percentile(times, 50), p99Ms: percentile(times, 99), tokensPerSecond: tokens / seconds };
}

type Arm = (slice: number) => Promise<{ tokens: number; texts: number }>;

/**
 * The arms run in turn on each slice, the first arm rotating from slice to slice; returns each arm's throughput on
 * every slice. This machine's speed drifts by 10-20% between processes and over tens of seconds, so a ratio is
 * only worth its margin between arms measured seconds apart.
 */
async function alternate<K extends string>(slices: number, arms: Record<K, Arm>): Promise<Record<K, Throughput[]>> {
    const names = Object.keys(arms) as K[];
    const runs = new Map<K, Throughput[]>(names.map((name) => [name, []]));
    for (let slice = 0; slice < slices; slice++) {
        for (let k = 0; k < names.length; k++) {
            const name = names[(k + slice) % names.length]!;
            const clock = startClock();
            const { tokens, texts } = await arms[name](slice);
            runs.get(name)!.push(throughput(tokens, texts, clock.stop()));
        }
    }
    return Object.fromEntries(runs) as Record<K, Throughput[]>;
}

const sum = (sequences: number[][]) => sequences.reduce((total, sequence) => total + sequence.length, 0);

// ---------------------------------------------------------------------------------------------------------------
// children

/** The library as users run it: the compiled dist/ (built by the parent), or src/ through tsx with --from-src. */
async function loadLibrary(fromSource: boolean): Promise<typeof Library> {
    const entry = join(REPO_ROOT, fromSource ? "src/index.ts" : "dist/index.js");
    return (await import(pathToFileURL(entry).href)) as typeof Library;
}

async function runCase(name: Case, w: Workload, lib: typeof Library): Promise<CaseResult> {
    const { cosineSimilarity, createEmbedder, createReranker, loadEngineModel, RERANK_PREFIX, RERANK_SUFFIX, formatRerankBody, DEFAULT_INSTRUCTION } = lib;
    const shortTokens = sum(w.shortTokens);
    const emailTokens = sum(w.emailTokens);
    switch (name) {
        case "ours-embed":
        case "ours-embed-2-workers": {
            const workers = name === "ours-embed" ? 1 : 2;
            const embedder = await createEmbedder({ model: w.embeddingModel, workers });
            await embedder.embed(w.short.slice(0, 2));
            const result: Record<string, unknown> = { workers };
            if (workers === 2) {
                result["emails"] = await measure(emailTokens, w.emails.length, () => embedder.embed(w.emails));
                await embedder.close();
                return { case: name, ...result, peakRssMb: peakRssMb(), libraries: loadedLlamaLibraries() };
            }
            let checked = 0;
            result["shortOneCall"] = await measure(shortTokens, w.short.length, async () => {
                checked = (await embedder.embed(w.short)).totalTokens;
            });
            if (checked !== shortTokens) throw new Error(`the facade evaluated ${checked} tokens, the workload says ${shortTokens}`);
            result["shortConcurrent"] = await measure(shortTokens, w.short.length, () => Promise.all(w.short.map((text) => embedder.embed([text]))));
            const emails = { value: undefined as Float32Array[] | undefined };
            result["emails"] = await measure(emailTokens, w.emails.length, async () => {
                emails.value = (await embedder.embed(w.emails)).embeddings as Float32Array[];
            });
            result["latency"] = [];
            for (const concurrency of CONCURRENCY) {
                (result["latency"] as Latency[]).push(await latency(concurrency, Math.max(w.latencyRequests, concurrency * 2), w.short, (i) => w.shortTokens[i]!.length, (i) => embedder.embed([w.short[i]!])));
            }
            // Batch invariance: every e-mail and short text alone against its row in the big calls.
            let worst = 1;
            for (const [i, text] of w.emails.entries()) worst = Math.min(worst, cosineSimilarity((await embedder.embed([text])).embeddings[0] as Float32Array, emails.value![i]!));
            const shortBatch = (await embedder.embed([...w.short.slice(0, 16), ...w.emails.slice(0, 4)])).embeddings as Float32Array[];
            for (let i = 0; i < 16; i++) worst = Math.min(worst, cosineSimilarity((await embedder.embed([w.short[i]!])).embeddings[0] as Float32Array, shortBatch[i]!));
            result["batchInvarianceWorstCosine"] = worst;
            const rss = peakRssMb();
            await embedder.close();
            return { case: name, ...result, peakRssMb: rss, libraries: loadedLlamaLibraries() };
        }
        case "upper-embed":
        case "upper-rerank": {
            const upper = await upperBound(lib, w, name === "upper-embed" ? "embed" : "rank");
            await upper.decode();
            const result = await measure(UPPER_TOKENS * w.upperRepeats, w.upperRepeats, async () => {
                for (let i = 0; i < w.upperRepeats; i++) await upper.decode();
            });
            upper.dispose();
            return { case: name, upper: result, peakRssMb: peakRssMb(), libraries: loadedLlamaLibraries() };
        }
        case "ours-rerank": {
            const reranker = await createReranker({ model: w.rerankModel });
            await reranker.score([[w.query, w.documents[0]!]]);
            let out: { scores: number[]; tokens: number } = { scores: [], tokens: 0 };
            const clock = startClock();
            const ranked = await reranker.rerank(w.query, w.documents);
            const timed = clock.stop();
            out = { scores: ranked.results.sort((a, b) => a.index - b.index).map((item) => item.score), tokens: ranked.totalTokens };
            const rss = peakRssMb();
            await reranker.close();
            // llama.cpp's own RANK pooling on the official prompt (the reference formula) for the first documents.
            const model = await loadEngineModel(w.rerankModel);
            const context = await model.createContext({ batchTokens: 1024, contextSize: 1024, llamaPooling: true });
            const [prefix] = await model.tokenize([RERANK_PREFIX], { special: true });
            const [suffix] = await model.tokenize([RERANK_SUFFIX], { special: true });
            const bodies = await model.tokenize(w.documents.slice(0, 10).map((d) => formatRerankBody(DEFAULT_INSTRUCTION, w.query, d)), { special: false });
            const reference = Array.from(await context.rankBatch(bodies.map((body) => Int32Array.from([...prefix!, ...body, ...suffix!]))));
            context.dispose();
            model.dispose();
            return { case: name, rerank: throughput(out.tokens, w.documents.length, timed), scores: out.scores, referenceScores: reference, peakRssMb: rss, libraries: loadedLlamaLibraries() };
        }
        case "nlc-embed":
        case "nlc-rerank":
        case "nlc-cost":
            return nodeLlamaCppCase(name, w);
        case "alternating":
            return alternatingCase(w, lib);
        case "ours-sweep": {
            const sweep: { batchTokens: number; flashAttention: boolean; short: Throughput; emails: Throughput }[] = [];
            for (const batchTokens of [256, 512, 1024, 2048]) {
                for (const flashAttention of [true, false]) {
                    const embedder = await createEmbedder({ model: w.embeddingModel, batchTokens, flashAttention });
                    await embedder.embed(w.short.slice(0, 2));
                    const short = await measure(shortTokens, w.short.length, () => embedder.embed(w.short));
                    const emails = await measure(emailTokens, w.emails.length, () => embedder.embed(w.emails));
                    sweep.push({ batchTokens, flashAttention, short, emails });
                    await embedder.close();
                }
            }
            return { case: name, sweep, peakRssMb: peakRssMb(), libraries: loadedLlamaLibraries() };
        }
        case "ours-cost": {
            const embedder = await createEmbedder({ model: w.embeddingModel, contextSize: 8192 });
            await embedder.embed([w.short[0]!]);
            const costs: { tokens: number; msPerToken: number }[] = [];
            for (const length of w.costLengths) {
                const result = await measure(length, 1, async () => {
                    const { tokens } = await embedder.embed([w.longText], { maxTokens: length });
                    if (tokens[0] !== length) throw new Error(`expected ${length} tokens, the facade evaluated ${tokens[0]}`);
                });
                costs.push({ tokens: length, msPerToken: (result.seconds * 1000) / length });
            }
            await embedder.close();
            return { case: name, costs, peakRssMb: peakRssMb(), libraries: loadedLlamaLibraries() };
        }
    }
}

/** The upper bound: the same llama.cpp build decoding one UPPER_TOKENS-token sequence, an output at its last token only. */
async function upperBound({ loadEngineModel }: typeof Library, w: Workload, kind: "embed" | "rank") {
    const model = await loadEngineModel(kind === "embed" ? w.embeddingModel : w.rerankModel);
    const context = await model.createContext({ batchTokens: UPPER_TOKENS });
    const sequence = Int32Array.from(w.longTokens.slice(0, UPPER_TOKENS));
    return {
        context,
        decode: () => (kind === "embed" ? context.embedBatch([sequence]) : context.rankBatch([sequence])),
        dispose() {
            context.dispose();
            model.dispose();
        },
    };
}

type Token = import("node-llama-cpp").Token;
const NLC_BATCH_SIZE = 2048;

/** node-llama-cpp on the CPU, configured as a knowledgeable user would: threads = physical cores, flash attention. */
async function nodeLlamaCpp() {
    const { getLlama, LlamaLogLevel } = await import("node-llama-cpp");
    const llama = await getLlama({ gpu: false, build: "never", skipDownload: true, progressLogs: false, logLevel: LlamaLogLevel.warn });
    // Its default thread cap on CPU is max(cpuMathCores, 4): more threads than this machine has cores halves throughput.
    const threads = llama.cpuMathCores;
    llama.maxThreads = threads;
    const loadModel = (modelPath: string) => llama.loadModel({ modelPath, gpuLayers: 0, defaultContextFlashAttention: true });
    return {
        config: { threads, flashAttention: true, buildType: llama.buildType, gpu: llama.gpu },
        embeddingContext: async (modelPath: string, batchSize: number) =>
            (await loadModel(modelPath)).createEmbeddingContext({ contextSize: batchSize + 256, batchSize, threads }),
        rankingContext: async (modelPath: string) =>
            (await loadModel(modelPath)).createRankingContext({ contextSize: NLC_BATCH_SIZE, batchSize: NLC_BATCH_SIZE, threads }),
    };
}

/** Tokens node-llama-cpp's ranking context evaluates for each query-document pair, summed. */
function rankInputTokens(context: import("node-llama-cpp").LlamaRankingContext, query: string, documents: string[]): number {
    return documents.reduce((total, document) => total + context.calculateInputLength(query, document), 0);
}

async function nodeLlamaCppCase(name: "nlc-embed" | "nlc-rerank" | "nlc-cost", w: Workload): Promise<CaseResult> {
    const nlc = await nodeLlamaCpp();
    if (name === "nlc-rerank") {
        const context = await nlc.rankingContext(w.rerankModel);
        await context.rank(w.query, w.documents[0]!);
        let scores: number[] = [];
        const tokens = rankInputTokens(context, w.query, w.documents);
        const result = await measure(tokens, w.documents.length, async () => {
            scores = await context.rankAll(w.query, w.documents);
        });
        const rss = peakRssMb();
        await context.dispose();
        return { case: name, rerank: result, scores, config: { ...nlc.config, batchSize: NLC_BATCH_SIZE }, peakRssMb: rss, libraries: loadedLlamaLibraries() };
    }
    const batchSize = name === "nlc-cost" ? 8192 : NLC_BATCH_SIZE;
    const context = await nlc.embeddingContext(w.embeddingModel, batchSize);
    await context.getEmbeddingFor(w.shortTokens[0] as Token[]);
    if (name === "nlc-cost") {
        const costs: { tokens: number; msPerToken: number }[] = [];
        for (const length of w.costLengths) {
            const input = [...w.longTokens.slice(0, length - 1), END_OF_TEXT] as Token[];
            const result = await measure(length, 1, () => context.getEmbeddingFor(input));
            costs.push({ tokens: length, msPerToken: (result.seconds * 1000) / length });
        }
        await context.dispose();
        return { case: name, costs, config: { ...nlc.config, batchSize }, peakRssMb: peakRssMb(), libraries: loadedLlamaLibraries() };
    }
    const oneAtATime = (sequences: number[][]) => async () => {
        for (const sequence of sequences) await context.getEmbeddingFor(sequence as Token[]);
    };
    const result: Record<string, unknown> = { config: { ...nlc.config, batchSize } };
    result["shortOneCall"] = await measure(sum(w.shortTokens), w.short.length, oneAtATime(w.shortTokens));
    result["emails"] = await measure(sum(w.emailTokens), w.emails.length, oneAtATime(w.emailTokens));
    result["latency"] = [];
    for (const concurrency of CONCURRENCY) {
        (result["latency"] as Latency[]).push(await latency(concurrency, Math.max(w.latencyRequests, concurrency * 2), w.short, (i) => w.shortTokens[i]!.length, (i) => context.getEmbeddingFor(w.shortTokens[i]! as Token[])));
    }
    const rss = peakRssMb();
    await context.dispose();
    return { case: name, ...result, peakRssMb: rss, libraries: loadedLlamaLibraries() };
}

/**
 * The ratio verdicts: this library, node-llama-cpp one text at a time and the upper bound in one process, in turn on
 * small slices of the same texts (every e-mail three times, every document once), so that each ratio compares throughput
 * measured seconds apart. The absolute figures of each engine in a fresh process of its own come from the other cases.
 */
async function alternatingCase(w: Workload, lib: typeof Library): Promise<CaseResult> {
    const embedder = await lib.createEmbedder({ model: w.embeddingModel });
    const reranker = await lib.createReranker({ model: w.rerankModel });
    const nlc = await nodeLlamaCpp();
    const nlcEmbed = await nlc.embeddingContext(w.embeddingModel, NLC_BATCH_SIZE);
    const nlcRank = await nlc.rankingContext(w.rerankModel);
    const upperEmbed = await upperBound(lib, w, "embed");
    const upperRank = await upperBound(lib, w, "rank");
    const upperArm = (upper: typeof upperEmbed): Arm => async () => {
        await upper.decode();
        return { tokens: UPPER_TOKENS, texts: 1 };
    };
    const nlcEmbedArm = (sequences: (slice: number) => number[][]): Arm => async (slice) => {
        const list = sequences(slice);
        for (const sequence of list) await nlcEmbed.getEmbeddingFor(sequence as Token[]);
        return { tokens: sum(list), texts: list.length };
    };
    const sliceOf = <T>(items: T[], size: number, slice: number) => {
        const start = (slice * size) % items.length;
        return items.slice(start, start + size);
    };
    await embedder.embed(w.short.slice(0, 2));
    await reranker.rerank(w.query, w.documents.slice(0, 1));
    await nlcEmbed.getEmbeddingFor(w.shortTokens[0] as Token[]);
    await nlcRank.rank(w.query, w.documents[0]!);
    await upperEmbed.decode();
    await upperRank.decode();

    const shortTokens = sum(w.shortTokens);
    const short = await alternate(SHORT_ROUNDS, {
        oursOneCall: async () => {
            const { totalTokens } = await embedder.embed(w.short);
            if (totalTokens !== shortTokens) throw new Error(`the facade evaluated ${totalTokens} tokens, the workload says ${shortTokens}`);
            return { tokens: totalTokens, texts: w.short.length };
        },
        oursConcurrent: async () => {
            const results = await Promise.all(w.short.map((text) => embedder.embed([text])));
            return { tokens: results.reduce((total, result) => total + result.totalTokens, 0), texts: w.short.length };
        },
        nlc: nlcEmbedArm(() => w.shortTokens),
    });
    const emails = await alternate(Math.ceil((EMAIL_PASSES * w.emails.length) / EMAIL_SLICE), {
        ours: async (slice) => {
            const texts = sliceOf(w.emails, EMAIL_SLICE, slice);
            return { tokens: (await embedder.embed(texts)).totalTokens, texts: texts.length };
        },
        nlc: nlcEmbedArm((slice) => sliceOf(w.emailTokens, EMAIL_SLICE, slice)),
        upper: upperArm(upperEmbed),
    });
    const rerank = await alternate(Math.ceil(w.documents.length / DOCUMENT_SLICE), {
        ours: async (slice) => {
            const documents = sliceOf(w.documents, DOCUMENT_SLICE, slice);
            return { tokens: (await reranker.rerank(w.query, documents)).totalTokens, texts: documents.length };
        },
        nlc: async (slice) => {
            const documents = sliceOf(w.documents, DOCUMENT_SLICE, slice);
            await nlcRank.rankAll(w.query, documents);
            return { tokens: rankInputTokens(nlcRank, w.query, documents), texts: documents.length };
        },
        upper: upperArm(upperRank),
    });
    // One short query on an idle pool against the raw decode of the same tokens, in turn, each after 100 ms idle:
    // back to back, llama.cpp's threads are still spinning and its caches warm (~20% faster).
    const idle = { facade: [] as number[], raw: [] as number[] };
    const timed = async (list: number[], run: () => Promise<unknown>) => {
        await new Promise((resolveTimer) => setTimeout(resolveTimer, 100));
        const start = performance.now();
        await run();
        list.push(performance.now() - start);
    };
    for (let i = 0; i < IDLE_QUERIES; i++) {
        const facade = () => timed(idle.facade, () => embedder.embed([w.short[i]!]));
        const raw = () => timed(idle.raw, () => upperEmbed.context.embedBatch([Int32Array.from(w.shortTokens[i]!)]));
        if (i % 2 === 0) await facade().then(raw);
        else await raw().then(facade);
    }
    const idleQuery = { facadeMs: median(idle.facade), rawDecodeMs: median(idle.raw), ratio: median(idle.facade) / median(idle.raw) };

    await embedder.close();
    await reranker.close();
    upperEmbed.dispose();
    upperRank.dispose();
    await nlcEmbed.dispose();
    await nlcRank.dispose();
    return { case: "alternating", short, emails, rerank, idleQuery, nlcConfig: { ...nlc.config, batchSize: NLC_BATCH_SIZE }, peakRssMb: peakRssMb(), libraries: loadedLlamaLibraries() };
}

// ---------------------------------------------------------------------------------------------------------------
// parent

async function prepareWorkload(quick: boolean, { loadEngineModel }: typeof Library): Promise<Workload> {
    const embeddingModel = await ensureFixtureModel({ kind: "embedding", size: "0.6b" });
    const rerankModel = await ensureFixtureModel({ kind: "reranker-rank", size: "0.6b" });
    const tokenizer = await loadEngineModel(await ensureFixtureModel({ kind: "embedding", size: "tiny" }));
    const short: string[] = [];
    const emails: string[] = [];
    const documents: string[] = [];
    const longParts: string[] = [];
    const counts = { short: 64, emails: quick ? 8 : 16, documents: quick ? 30 : 100 };
    for (const item of benchTexts()) {
        const [ids] = await tokenizer.tokenize([item.text], { special: false });
        const n = ids!.length;
        // Short queries: a line of a poem or the first sentence of an e-mail, at most 31 tokens (+ <|endoftext|>).
        const line = item.text.split(/\n|(?<=[.!?。！？])\s*/).map((part) => part.trim()).find((part) => part.length >= 12);
        if (short.length < counts.short && line !== undefined) {
            const [lineIds] = await tokenizer.tokenize([line], { special: false });
            if (lineIds!.length >= 6 && lineIds!.length <= 31) short.push(line);
        }
        if (item.source === "spam-assassin" && n >= 199 && n <= 399 && emails.length < counts.emails) emails.push(item.text);
        else if (n >= 100 && n <= 400 && documents.length < counts.documents) documents.push(item.text);
        if (longParts.join("\n").length < 60_000) longParts.push(item.text);
        if (short.length >= counts.short && emails.length >= counts.emails && documents.length >= counts.documents && longParts.join("\n").length >= 60_000) break;
    }
    const withEnd = async (texts: string[]) => (await tokenizer.tokenize(texts, { special: false })).map((ids) => [...ids, END_OF_TEXT]);
    const longText = longParts.join("\n");
    const [longIds] = await tokenizer.tokenize([longText], { special: false });
    if (longIds!.length < 8192) throw new Error(`the long text has only ${longIds!.length} tokens`);
    const workload: Workload = {
        embeddingModel,
        rerankModel,
        short,
        emails,
        query: short[1]!,
        documents,
        shortTokens: await withEnd(short),
        emailTokens: await withEnd(emails),
        longText,
        longTokens: Array.from(longIds!),
        upperRepeats: quick ? 3 : 6,
        costLengths: quick ? COST_LENGTHS.slice(0, 4) : COST_LENGTHS,
        latencyRequests: quick ? 16 : 32,
    };
    tokenizer.dispose();
    return workload;
}

function spawnCase(name: Case, workloadPath: string, verbose: boolean, fromSource: boolean): Promise<CaseResult> {
    return spawnChild(name, ["--import", "tsx", THIS_FILE, "--child", name, "--workload", workloadPath, ...(fromSource ? ["--from-src"] : [])], verbose);
}

/** The library's peak RSS in a plain node process on dist/ (scripts/bench/peak-rss.mjs), without the harness's tsx. */
async function spawnPeakRss(workloadPath: string, workers: number, verbose: boolean): Promise<number> {
    const script = join(REPO_ROOT, "scripts", "bench", "peak-rss.mjs");
    const result = await spawnChild(`peak RSS, ${workers} worker(s)`, [script, workloadPath, String(workers), join(REPO_ROOT, "dist", "index.js")], verbose);
    return result.peakRssMb;
}

function spawnChild<T extends { peakRssMb: number }>(name: string, args: string[], verbose: boolean): Promise<T> {
    return new Promise((resolvePromise, reject) => {
        const child = spawn(process.execPath, args, {
            cwd: REPO_ROOT,
            stdio: ["ignore", "pipe", verbose ? "inherit" : "pipe"],
        });
        let stdout = "";
        let stderr = "";
        child.stdout!.on("data", (chunk) => (stdout += chunk));
        child.stderr?.on("data", (chunk) => (stderr += chunk));
        child.on("error", reject);
        child.on("close", (code) => {
            const line = stdout.split("\n").find((entry) => entry.startsWith(RESULT_PREFIX));
            if (code !== 0 || line === undefined) {
                reject(new Error(`${name} failed (exit ${code}): ${stderr.trim().slice(-2000)}`));
                return;
            }
            if (stderr.includes("falling back to building from source")) reject(new Error(`${name}: node-llama-cpp tried to build llama.cpp from source`));
            resolvePromise(JSON.parse(line.slice(RESULT_PREFIX.length)) as T);
        });
    });
}

const f = (value: number, digits = 1) => value.toFixed(digits);

function verdict(ok: boolean): string {
    return ok ? "ok" : "MISSED";
}

async function main(): Promise<number> {
    const { values } = parseArgs({
        args: process.argv.slice(2),
        strict: true,
        options: {
            quick: { type: "boolean" }, json: { type: "string" }, verbose: { type: "boolean" }, help: { type: "boolean", short: "h" },
            child: { type: "string" }, workload: { type: "string" }, only: { type: "string" }, "from-src": { type: "boolean" },
        },
    });
    if (values.help) {
        console.log("Usage: npm run bench -- [--quick] [--only case,case] [--from-src] [--json out.json] [--verbose]\n" +
            "The library runs from dist/ (built first), as users run it; --from-src runs src/ through tsx.\nCases: " + CASES.join(", ") + "; with --only also: " + EXTRA_CASES.join(", "));
        return 0;
    }
    const fromSource = values["from-src"] === true;
    if (values.child !== undefined) {
        const workload = JSON.parse(readFileSync(values.workload!, "utf8")) as Workload;
        const result = await runCase(values.child as Case, workload, await loadLibrary(fromSource));
        process.stdout.write(`${RESULT_PREFIX}${JSON.stringify(result)}\n`);
        return 0;
    }
    const only = values.only?.split(",") as Case[] | undefined;
    for (const name of only ?? []) if (![...CASES, ...EXTRA_CASES].includes(name)) throw new Error(`unknown case ${name}; cases: ${[...CASES, ...EXTRA_CASES].join(", ")}`);
    const date = new Date();
    if (!fromSource) {
        const build = spawnSync("npm", ["run", "build"], { cwd: REPO_ROOT, encoding: "utf8" });
        if (build.status !== 0 || !existsSync(join(REPO_ROOT, "dist", "index.js"))) throw new Error(`npm run build failed: ${build.stderr}${build.stdout}`);
    }
    const workload = await prepareWorkload(values.quick === true, await loadLibrary(fromSource));
    const dir = mkdtempSync(join(tmpdir(), "qwen3-bench-"));
    const workloadPath = join(dir, "workload.json");
    writeFileSync(workloadPath, JSON.stringify(workload));
    const busy = await otherCpuUse();
    const machine = { cpu: cpus()[0]?.model, logicalCpus: cpus().length, memoryGiB: totalmem() / 2 ** 30, os: `${platform()} ${release()} ${arch()}`, node: process.version, busyBeforeStart: busy.how };
    const modelMb = { embedding: statSync(workload.embeddingModel).size / 2 ** 20, reranker: statSync(workload.rerankModel).size / 2 ** 20 };
    console.log(`qwen3-embedding benchmark, ${date.toISOString()}; library from ${fromSource ? "src/ (tsx)" : "dist/"}`);
    console.log(`machine: ${machine.cpu}, ${machine.logicalCpus} CPUs, ${f(machine.memoryGiB)} GiB, ${machine.os}, node ${machine.node}; ${busy.how}`);
    console.log(`models: ${relative(REPO_ROOT, workload.embeddingModel)} (${f(modelMb.embedding, 0)} MB), ${relative(REPO_ROOT, workload.rerankModel)} (${f(modelMb.reranker, 0)} MB)`);
    console.log(`texts: ${workload.short.length} short (${sum(workload.shortTokens)} tokens), ${workload.emails.length} e-mails of 200-400 tokens (${sum(workload.emailTokens)} tokens), 1 query x ${workload.documents.length} documents of 100-400 tokens`);
    const results: Partial<Record<Case, CaseResult>> = {};
    const libraryRss = { oneWorker: Number.NaN, twoWorkers: Number.NaN };
    try {
        for (const name of only ?? CASES) {
            process.stdout.write(`  running ${name} ...`);
            const started = performance.now();
            results[name] = await spawnCase(name, workloadPath, values.verbose === true, fromSource);
            process.stdout.write(` ${f((performance.now() - started) / 1000)} s\n`);
        }
        if (!fromSource && (only === undefined || only.includes("ours-embed"))) {
            process.stdout.write("  running peak RSS, plain node ...");
            const started = performance.now();
            libraryRss.oneWorker = await spawnPeakRss(workloadPath, 1, values.verbose === true);
            libraryRss.twoWorkers = await spawnPeakRss(workloadPath, 2, values.verbose === true);
            process.stdout.write(` ${f((performance.now() - started) / 1000)} s\n`);
        }
    } finally {
        rmSync(dir, { recursive: true, force: true });
    }
    const report = summarize(results, modelMb, libraryRss);
    const out = values.json ?? join(REPO_ROOT, ".bench", `bench-${date.toISOString().replace(/[:.]/g, "-")}.json`);
    mkdirSync(join(out, ".."), { recursive: true });
    writeFileSync(out, JSON.stringify({ date: date.toISOString(), machine, models: modelMb, build: results["ours-embed"]?.libraries, workload: { short: workload.short.length, emails: workload.emails.length, documents: workload.documents.length }, results, report }, null, 2));
    console.log(`\nresult file: ${relative(process.cwd(), out)}`);
    return 0;
}

function summarize(
    r: Partial<Record<Case, CaseResult>>,
    modelMb: { embedding: number; reranker: number },
    libraryRss: { oneWorker: number; twoWorkers: number },
): Record<string, unknown> {
    const tps = (result: CaseResult | undefined, key: string) => (result?.[key] as Throughput | undefined)?.tokensPerSecond ?? Number.NaN;
    const report: Record<string, unknown> = {};
    const ours = r["ours-embed"], nlc = r["nlc-embed"], upper = r["upper-embed"];
    console.log("\nthroughput, tokens/s (texts/s)            qwen3-embedding   node-llama-cpp   upper bound   ratios");
    const row = (label: string, a: number, b: number, u: number, texts: [number, number], notes: string) =>
        console.log(`  ${label.padEnd(40)} ${f(a).padStart(7)} (${f(texts[0])})  ${f(b).padStart(7)} (${f(texts[1])})  ${f(u).padStart(9)}     ${notes}`);
    const texts = (result: CaseResult | undefined, key: string) => (result?.[key] as Throughput | undefined)?.textsPerSecond ?? Number.NaN;
    const upperTps = tps(upper, "upper");
    const shortOne = tps(ours, "shortOneCall"), shortConc = tps(ours, "shortConcurrent"), shortNlc = tps(nlc, "shortOneCall");
    row("64 short texts, one call", shortOne, shortNlc, upperTps, [texts(ours, "shortOneCall"), texts(nlc, "shortOneCall")], `${f(shortOne / shortNlc, 2)}x nlc`);
    row("64 short texts, 64 concurrent calls", shortConc, shortNlc, upperTps, [texts(ours, "shortConcurrent"), texts(nlc, "shortOneCall")], `${f(shortConc / shortNlc, 2)}x nlc`);
    const emails = tps(ours, "emails"), emailsNlc = tps(nlc, "emails");
    row("e-mails of 200-400 tokens, one call", emails, emailsNlc, upperTps, [texts(ours, "emails"), texts(nlc, "emails")], `${f(emails / emailsNlc, 2)}x nlc, ${f(emails / upperTps, 2)}x bound`);
    const rr = tps(r["ours-rerank"], "rerank"), rrNlc = tps(r["nlc-rerank"], "rerank"), rrUpper = tps(r["upper-rerank"], "upper");
    row("rerank 1 query x documents", rr, rrNlc, rrUpper, [texts(r["ours-rerank"], "rerank"), texts(r["nlc-rerank"], "rerank")], `${f(rr / rrNlc, 2)}x nlc rankAll, ${f(rr / rrUpper, 2)}x bound`);
    report["acrossProcesses"] = { shortOneCallVsNlc: shortOne / shortNlc, shortConcurrentVsNlc: shortConc / shortNlc, emailsVsUpper: emails / upperTps, emailsVsNlc: emails / emailsNlc, rerankVsUpper: rr / rrUpper, rerankVsNlc: rr / rrNlc };

    // The verdicts: between processes this machine's speed drifts by 10-20%, more than the margins measured.
    const alt = r["alternating"] as (CaseResult & Record<"short" | "emails" | "rerank", Record<string, Throughput[]>>) | undefined;
    if (alt) {
        console.log("\nratios, every engine in turn in one process on slices of the same texts: median slices, tokens/s (texts/s);");
        console.log("90% interval; ratio of the totals");
        const ratios: Record<string, ReturnType<typeof pairedRatio>> = {};
        const line = (key: string, label: string, a: Throughput[], b: Throughput[], versus: string, target: number) => {
            const result = pairedRatio(a, b);
            ratios[key] = result;
            const medians = (slices: Throughput[]) => `${f(median(slices.map((t) => t.tokensPerSecond)))} (${f(median(slices.map((t) => t.textsPerSecond)))})`;
            console.log(`  ${label.padEnd(36)} ${medians(a).padStart(12)} vs ${versus} ${medians(b)} = ${f(result.ratio, 2)}x (>= ${target}: ${verdict(result.ratio >= target)}); ` +
                `[${f(result.interval[0], 2)}, ${f(result.interval[1], 2)}]; totals ${f(result.ratioOfTotals, 2)}x`);
        };
        line("shortOneCallVsNlc", "64 short texts, one call", alt.short["oursOneCall"]!, alt.short["nlc"]!, "nlc", 1.5);
        line("shortConcurrentVsNlc", "64 short texts, 64 concurrent calls", alt.short["oursConcurrent"]!, alt.short["nlc"]!, "nlc", 1.5);
        line("emailsVsNlc", `e-mails, ${EMAIL_SLICE} per call`, alt.emails["ours"]!, alt.emails["nlc"]!, "nlc", 1.15);
        line("emailsVsUpper", `e-mails, ${EMAIL_SLICE} per call`, alt.emails["ours"]!, alt.emails["upper"]!, "bound", 0.95);
        line("rerankVsNlc", `rerank, ${DOCUMENT_SLICE} documents per call`, alt.rerank["ours"]!, alt.rerank["nlc"]!, "nlc rankAll", 1.15);
        line("rerankVsUpper", `rerank, ${DOCUMENT_SLICE} documents per call`, alt.rerank["ours"]!, alt.rerank["upper"]!, "bound", 0.95);
        const idle = alt["idleQuery"] as { facadeMs: number; rawDecodeMs: number; ratio: number };
        report["idleQueryVsRawDecode"] = idle.ratio;
        console.log(`  one short query, idle pool (median of ${IDLE_QUERIES}): ${f(idle.facadeMs)} ms vs raw decode ${f(idle.rawDecodeMs)} ms = ${f(idle.ratio, 2)}x (<= 1.2: ${verdict(idle.ratio <= 1.2)})`);
        report["ratios"] = ratios;
    }

    const oursScores = r["ours-rerank"]?.["scores"] as number[] | undefined;
    const reference = r["ours-rerank"]?.["referenceScores"] as number[] | undefined;
    const nlcScores = r["nlc-rerank"]?.["scores"] as number[] | undefined;
    if (oursScores && reference) {
        const diff = (scores: number[]) => Math.max(...reference.map((value, i) => Math.abs(value - scores[i]!)));
        const oursDiff = diff(oursScores);
        const nlcDiff = nlcScores ? diff(nlcScores) : Number.NaN;
        console.log(`  rerank scores vs llama.cpp's RANK pooling on the official prompt (first ${reference.length} documents): ours max |diff| ${oursDiff.toExponential(2)}, node-llama-cpp ${nlcDiff.toExponential(2)}`);
        report["rerankScoreDiff"] = { ours: oursDiff, nodeLlamaCpp: nlcDiff };
    }

    console.log("\nlatency of one short text per call (p50 / p99 ms, tokens/s)");
    for (const [i, concurrency] of CONCURRENCY.entries()) {
        const a = (ours?.["latency"] as Latency[] | undefined)?.[i];
        const b = (nlc?.["latency"] as Latency[] | undefined)?.[i];
        const cell = (l: Latency | undefined) => (l === undefined ? "n/a" : `${f(l.p50Ms, 0)} / ${f(l.p99Ms, 0)} ms, ${f(l.tokensPerSecond)} tok/s`);
        console.log(`  concurrency ${String(concurrency).padStart(2)}: qwen3-embedding ${cell(a).padEnd(30)} node-llama-cpp ${cell(b)}`);
    }
    const invariance = ours?.["batchInvarianceWorstCosine"] as number | undefined;
    if (invariance !== undefined) console.log(`  batch invariance: worst cosine alone vs in a batch ${invariance.toFixed(7)} (>= 0.99999: ${verdict(invariance >= 0.99999)})`);

    console.log("\npeak RSS (MB)");
    const { oneWorker: rss1, twoWorkers: rss2 } = libraryRss;
    console.log(`  qwen3-embedding in plain node, 1 worker: ${f(rss1, 0)} = model file ${f(modelMb.embedding, 0)} + ${f(rss1 - modelMb.embedding, 0)} (<= +300: ${verdict(rss1 - modelMb.embedding <= 300)})`);
    console.log(`  qwen3-embedding in plain node, 2 workers: ${f(rss2, 0)}: the second worker adds ${f(rss2 - rss1, 0)} (<= 150: ${verdict(rss2 - rss1 <= 150)})`);
    const harness = (name: Case) => f(r[name]?.peakRssMb ?? Number.NaN, 0);
    console.log(`  in the benchmark's tsx processes (+~37 MB of tsx): embedding ours ${harness("ours-embed")} (2 workers ${harness("ours-embed-2-workers")}), node-llama-cpp ${harness("nlc-embed")}; reranking ours ${harness("ours-rerank")}, node-llama-cpp ${harness("nlc-rerank")}`);
    report["peakRssMb"] = { oneWorker: rss1, twoWorkers: rss2, modelFile: modelMb.embedding, harness: { ours: r["ours-embed"]?.peakRssMb, nlc: nlc?.peakRssMb } };

    const sweep = r["ours-sweep"]?.["sweep"] as { batchTokens: number; flashAttention: boolean; short: Throughput; emails: Throughput }[] | undefined;
    if (sweep) {
        console.log("\nbatchTokens x flash attention (qwen3-embedding, tokens/s): short texts / e-mails");
        for (const entry of sweep) console.log(`  batchTokens ${String(entry.batchTokens).padStart(4)}, flash attention ${entry.flashAttention ? "on " : "off"}: ${f(entry.short.tokensPerSecond)} / ${f(entry.emails.tokensPerSecond)}`);
    }
    const costOurs = r["ours-cost"]?.["costs"] as { tokens: number; msPerToken: number }[] | undefined;
    const costNlc = r["nlc-cost"]?.["costs"] as { tokens: number; msPerToken: number }[] | undefined;
    if (costOurs || costNlc) {
        console.log("\ncost per token of one input (ms/token)");
        for (const [i, length] of COST_LENGTHS.entries()) {
            const a = costOurs?.[i], b = costNlc?.[i];
            if (a === undefined && b === undefined) continue;
            console.log(`  ${String(length).padStart(5)} tokens: qwen3-embedding ${a ? f(a.msPerToken, 2) : "n/a"}   node-llama-cpp ${b ? f(b.msPerToken, 2) : "n/a"}`);
        }
    }
    return report;
}

main().then((code) => (process.exitCode = code), (error: unknown) => {
    // A mistake on the command line is one line; anything else keeps its stack for the report.
    const usage = error instanceof Error && (String((error as { code?: unknown }).code).startsWith("ERR_PARSE_ARGS") || error.message.startsWith("unknown case"));
    console.error(`bench: ${usage ? (error as Error).message : ((error as Error)?.stack ?? error)}`);
    process.exitCode = 1;
});
