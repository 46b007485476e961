/**
 * Engine throughput, side by side in one run: qwen3-embedding's batched `embedBatch` against node-llama-cpp's
 * `LlamaEmbeddingContext` (one text at a time) on the same token sequences, plus an upper bound (our engine on one
 * 512-token sequence). Every trial runs in a fresh child process, engines alternate, model load is not timed, and
 * the parent checks that both engines produced the same embeddings before it reports anything.
 *
 *   npm run bench:engine -- [--tokens N] [--trials K] [--model path] [--json out.json]
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { arch, cpus, freemem, loadavg, platform, release, tmpdir, totalmem } from "node:os";
import { basename, dirname, join, relative, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { cosineSimilarity, loadEngineModel, Qwen3EmbeddingError } from "../src/index.js";
import { ensureFixtureModel, fixturePath, REPO_ROOT } from "../test/fixtures/qwen3-fixture.js";
import { benchTexts } from "./bench/bench-texts.js";
import { loadedLlamaLibraries, median, otherCpuUse, startClock } from "./bench/bench-support.js";

const END_OF_TEXT = 151643;
/** Longest sequence fed to either engine, the appended <|endoftext|> included. */
const MAX_SEQUENCE_TOKENS = 2048;
const UPPER_BOUND_TOKENS = 512;
const WARM_UP_TOKENS = 16;
const RESULT_PREFIX = "BENCH_RESULT ";
const SOURCE_BUILD_WARNING = "falling back to building from source";
const THIS_FILE = fileURLToPath(import.meta.url);

const DEFAULTS = { tokens: 6000, trials: 2, batchTexts: 64, upperRepeats: 6 } as const;

const USAGE = `Usage: npm run bench:engine -- [options]

Throughput (tokens/s, texts/s) of qwen3-embedding's embedBatch vs node-llama-cpp's LlamaEmbeddingContext
(one text at a time, same token sequences), and of an upper bound (our engine, one ${UPPER_BOUND_TOKENS}-token sequence).
Each trial runs in a fresh process; engines alternate; model load and a short warm-up are not timed.

Options:
  --tokens N         total tokens of the workload, e-mails and poems mixed (default ${DEFAULTS.tokens})
  --trials K         trials per engine (default ${DEFAULTS.trials})
  --model PATH       GGUF embedding model (default: the 0.6B-shaped Q8_0 fixture, created if missing)
  --batch-texts N    texts per embedBatch call for qwen3-embedding (default ${DEFAULTS.batchTexts})
  --upper-repeats N  timed ${UPPER_BOUND_TOKENS}-token decodes per upper-bound trial (default ${DEFAULTS.upperRepeats})
  --json PATH        where to write the results (default .bench/engine-<ISO date>.json)
  --verbose          forward the children's stderr (llama.cpp and node-llama-cpp logs)
  -h, --help         show this help
`;

type EngineKind = "ours" | "node-llama-cpp" | "upper-bound";
const ENGINE_KINDS: readonly EngineKind[] = ["ours", "node-llama-cpp", "upper-bound"];

interface CliOptions {
    tokens: number;
    trials: number;
    model: string | undefined;
    batchTexts: number;
    upperRepeats: number;
    json: string | undefined;
    verbose: boolean;
}

/** What every child needs, written once by the parent: identical token sequences for both engines. */
interface Workload {
    modelPath: string;
    /** node-llama-cpp's `gpu` for the build our engine bound (false on CPU), so both drive the same libraries. */
    gpu: string | false;
    ids: string[];
    sequences: number[][];
    upperSequence: number[];
    batchTexts: number;
    upperRepeats: number;
}

interface TrialResult {
    engine: EngineKind;
    trial: number;
    pid: number;
    texts: number;
    tokens: number;
    seconds: number;
    tokensPerSecond: number;
    textsPerSecond: number;
    loadSeconds: number;
    /** CPU time of the child over the timed part, in % of one core (about 100 x threads when nothing else competes). */
    cpuPercent: number;
    /** Per-trial settings as the engine reports them. */
    config: Record<string, unknown>;
    /** llama.cpp / ggml shared libraries mapped into the child after the run. */
    libraries: string[];
    /** Raw (not normalized) embeddings, one per workload text; absent for the upper bound. */
    embeddings?: number[][];
}

class UsageError extends Error {}

// ---------------------------------------------------------------------------------------------------------------
// command line

function parseCli(argv: string[]): { trial: EngineKind; workload: string } | { help: true } | CliOptions {
    let parsed;
    try {
        parsed = parseArgs({
            args: argv,
            strict: true,
            allowPositionals: false,
            options: {
                tokens: { type: "string" },
                trials: { type: "string" },
                model: { type: "string" },
                "batch-texts": { type: "string" },
                "upper-repeats": { type: "string" },
                json: { type: "string" },
                verbose: { type: "boolean" },
                help: { type: "boolean", short: "h" },
                trial: { type: "string" },
                workload: { type: "string" },
            },
        });
    } catch (error) {
        throw new UsageError((error as Error).message);
    }
    const v = parsed.values;
    if (v.help) return { help: true };
    if (v.trial !== undefined) {
        if (!(ENGINE_KINDS as readonly string[]).includes(v.trial)) {
            throw new UsageError(`Expected one of ${ENGINE_KINDS.join(", ")} for --trial but received ${JSON.stringify(v.trial)}`);
        }
        if (v.workload === undefined) throw new UsageError("--trial needs --workload (it is an internal flag of the parent process)");
        return { trial: v.trial as EngineKind, workload: v.workload };
    }
    if (v.workload !== undefined) throw new UsageError("--workload is internal; it is only valid with --trial");
    if (v.model !== undefined && v.model === "") throw new UsageError("Expected a GGUF file path for --model but received an empty string");
    if (v.json !== undefined && v.json === "") throw new UsageError("Expected a file path for --json but received an empty string");
    return {
        tokens: integerFlag("tokens", v.tokens, DEFAULTS.tokens, 16, 10_000_000),
        trials: integerFlag("trials", v.trials, DEFAULTS.trials, 1, 100),
        model: v.model === undefined ? undefined : resolve(v.model),
        batchTexts: integerFlag("batch-texts", v["batch-texts"], DEFAULTS.batchTexts, 1, 1_000_000),
        upperRepeats: integerFlag("upper-repeats", v["upper-repeats"], DEFAULTS.upperRepeats, 1, 1000),
        json: v.json === undefined ? undefined : resolve(v.json),
        verbose: v.verbose ?? false,
    };
}

function integerFlag(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
    if (raw === undefined) return fallback;
    const value = /^\d+$/.test(raw.trim()) ? Number(raw.trim()) : Number.NaN;
    if (!Number.isSafeInteger(value) || value < min || value > max) {
        throw new UsageError(`Expected an integer between ${min} and ${max} for --${name} but received ${JSON.stringify(raw)}`);
    }
    return value;
}

// ---------------------------------------------------------------------------------------------------------------
// children: one engine, one trial

async function runTrial(kind: EngineKind, workloadPath: string): Promise<void> {
    const workload = JSON.parse(readFileSync(workloadPath, "utf8")) as Workload;
    const result = kind === "node-llama-cpp" ? await trialNodeLlamaCpp(workload) : await trialOurs(workload, kind);
    process.stdout.write(`${RESULT_PREFIX}${JSON.stringify(result)}\n`);
}

type ChildResult = Omit<TrialResult, "trial" | "pid" | "tokensPerSecond" | "textsPerSecond">;

function warmUpSequence(workload: Workload): number[] {
    return [...workload.sequences[0]!.slice(0, WARM_UP_TOKENS - 1), END_OF_TEXT];
}

async function trialOurs(workload: Workload, kind: "ours" | "upper-bound"): Promise<ChildResult> {
    const loadStart = performance.now();
    const model = await loadEngineModel(workload.modelPath);
    const context = await model.createContext();
    await context.embedBatch([Int32Array.from(warmUpSequence(workload))]);
    const loadSeconds = (performance.now() - loadStart) / 1000;
    const config = { ...context.info, threads: model.library.mathCores ?? "llama.cpp default", gpu: model.library.gpu };

    if (kind === "upper-bound") {
        const sequence = Int32Array.from(workload.upperSequence);
        const clock = startClock();
        for (let i = 0; i < workload.upperRepeats; i++) await context.embedBatch([sequence]);
        const { seconds, cpuPercent } = clock.stop();
        context.dispose();
        model.dispose();
        return {
            engine: kind,
            texts: workload.upperRepeats,
            tokens: workload.upperRepeats * sequence.length,
            seconds,
            cpuPercent,
            loadSeconds,
            config: { ...config, calls: `${workload.upperRepeats} x embedBatch([one ${sequence.length}-token sequence])` },
            libraries: loadedLlamaLibraries(),
        };
    }

    const sequences = workload.sequences.map((sequence) => Int32Array.from(sequence));
    const width = context.embeddingSize;
    const embeddings: number[][] = [];
    const outputs: Float32Array[] = [];
    const clock = startClock();
    for (let at = 0; at < sequences.length; at += workload.batchTexts) {
        outputs.push(await context.embedBatch(sequences.slice(at, at + workload.batchTexts)));
    }
    const { seconds, cpuPercent } = clock.stop();
    for (const output of outputs) {
        for (let row = 0; row < output.length / width; row++) embeddings.push(Array.from(output.subarray(row * width, (row + 1) * width)));
    }
    context.dispose();
    model.dispose();
    return {
        engine: kind,
        texts: sequences.length,
        tokens: totalTokens(workload.sequences),
        seconds,
        cpuPercent,
        loadSeconds,
        config: { ...config, calls: `${Math.ceil(sequences.length / workload.batchTexts)} embedBatch call(s) of up to ${workload.batchTexts} texts` },
        libraries: loadedLlamaLibraries(),
        embeddings,
    };
}

async function trialNodeLlamaCpp(workload: Workload): Promise<ChildResult> {
    const { getLlama, LlamaLogLevel } = await import("node-llama-cpp");
    type Token = import("node-llama-cpp").Token;
    const loadStart = performance.now();
    const llama = await getLlama({
        gpu: workload.gpu === false ? false : (workload.gpu as "cuda" | "vulkan" | "metal"),
        build: "never",
        skipDownload: true,
        progressLogs: false,
        logLevel: LlamaLogLevel.warn,
    });
    // Its default thread cap on CPU is max(cpuMathCores, 4): more threads than this machine has cores halves throughput.
    const threads = llama.cpuMathCores;
    llama.maxThreads = threads;
    const longest = Math.max(...workload.sequences.map((sequence) => sequence.length));
    const model = await llama.loadModel({
        modelPath: workload.modelPath,
        gpuLayers: workload.gpu === false ? 0 : "max",
        defaultContextFlashAttention: true,
    });
    // getEmbeddingFor needs input length < contextSize; a batch as long as the longest text decodes each text at once.
    const batchSize = Math.max(MAX_SEQUENCE_TOKENS, longest);
    const context = await model.createEmbeddingContext({ contextSize: batchSize + 256, batchSize, threads });
    const inputs = workload.sequences.map((sequence) => sequence as Token[]);
    await context.getEmbeddingFor(warmUpSequence(workload) as Token[]);
    const loadSeconds = (performance.now() - loadStart) / 1000;

    const vectors: (readonly number[])[] = [];
    const clock = startClock();
    for (const input of inputs) vectors.push((await context.getEmbeddingFor(input)).vector);
    const { seconds, cpuPercent } = clock.stop();

    // LlamaEmbeddingContext keeps its LlamaContext private; its public getters tell what was really configured.
    const inner = (context as unknown as { _llamaContext?: { contextSize: number; batchSize: number; idealThreads: number; flashAttention: unknown } })._llamaContext;
    const config = {
        contextSize: inner?.contextSize,
        batchSize: inner?.batchSize,
        threads: inner?.idealThreads,
        maxThreads: llama.maxThreads,
        flashAttention: inner?.flashAttention,
        gpu: llama.gpu,
        buildType: llama.buildType,
        llamaCppRelease: llama.llamaCppRelease.release,
        calls: `${inputs.length} x getEmbeddingFor(tokens), one text at a time`,
    };
    await context.dispose();
    await model.dispose();
    const libraries = loadedLlamaLibraries();
    await llama.dispose();
    return {
        engine: "node-llama-cpp",
        texts: inputs.length,
        tokens: totalTokens(workload.sequences),
        seconds,
        cpuPercent,
        loadSeconds,
        config,
        libraries,
        embeddings: vectors.map((vector) => [...vector]),
    };
}




// ---------------------------------------------------------------------------------------------------------------
// parent

interface Summary {
    engine: EngineKind;
    label: string;
    trials: number[];
    tokensPerSecond: number;
    textsPerSecond: number;
    seconds: number;
    loadSeconds: number;
    cpuPercent: number;
}

async function runParent(options: CliOptions): Promise<number> {
    const date = new Date();
    const modelPath = options.model ?? (await defaultModel());
    const prepared = await prepareWorkload(modelPath, options);
    const { workload, meta } = prepared;

    const dir = mkdtempSync(join(tmpdir(), "qwen3-bench-"));
    const workloadPath = join(dir, "workload.json");
    writeFileSync(workloadPath, JSON.stringify(workload));

    const tokens = totalTokens(workload.sequences);
    console.log(`qwen3-embedding engine benchmark, ${date.toISOString()}`);
    console.log(
        `workload: ${workload.sequences.length} texts (${prepared.emails} e-mails, ${prepared.poems} poems), ${tokens} tokens ` +
            `(<|endoftext|> appended, truncated to ${MAX_SEQUENCE_TOKENS}), lengths ${prepared.shortest}..${prepared.longest}, ` +
            `median ${prepared.median}${prepared.lastCut === undefined ? "" : ` (${prepared.lastCut} to fit --tokens)`}`,
    );
    console.log(`${options.trials} trial(s) per engine, each in a fresh process; engines alternate`);
    const busy = await otherCpuUse();
    meta.machine.busyBeforeStart = busy;
    if (busy.percent > 10) {
        console.log(
            `WARNING: the machine is busy before the benchmark starts (${busy.how}); other processes compete for the cores ` +
                "and lower every figure. Check the CPU % column.",
        );
    }
    console.log("");

    const results: TrialResult[] = [];
    try {
        for (let trial = 1; trial <= options.trials; trial++) {
            // Rotate the order so that no engine always runs first (or right after another's page-cache warm-up).
            const order = ENGINE_KINDS.map((_, i) => ENGINE_KINDS[(i + trial - 1) % ENGINE_KINDS.length]!);
            for (const engine of order) {
                const child = await spawnTrial(engine, workloadPath, options.verbose);
                const result: TrialResult = {
                    ...child,
                    trial,
                    tokensPerSecond: child.tokens / child.seconds,
                    textsPerSecond: child.texts / child.seconds,
                };
                results.push(result);
                console.log(
                    `  trial ${trial}/${options.trials}  ${pad(engine, 15)} ${fmt(result.tokensPerSecond, 1).padStart(7)} tok/s  ` +
                        `${fmt(result.seconds, 1).padStart(6)} s timed, CPU ${fmt(result.cpuPercent, 0)}%, ` +
                        `${fmt(result.loadSeconds, 1)} s load + warm-up (pid ${result.pid})`,
                );
            }
        }
    } finally {
        rmSync(dir, { recursive: true, force: true });
    }

    const check = compareEmbeddings(results, workload);
    const summaries = summarize(results, workload);
    const ours = summaries.find((s) => s.engine === "ours")!;
    const nlc = summaries.find((s) => s.engine === "node-llama-cpp")!;
    const upper = summaries.find((s) => s.engine === "upper-bound")!;

    console.log("");
    printTable(summaries, ours, upper);
    console.log("");
    console.log(
        `ours / node-llama-cpp: ${fmt(ours.tokensPerSecond / nlc.tokensPerSecond, 2)}x   ` +
            `ours / upper bound: ${fmt(ours.tokensPerSecond / upper.tokensPerSecond, 2)}   (medians of tokens/s)`,
    );
    console.log(
        `same embeddings: worst cosine ${check.worst.toFixed(7)} (${check.worstId}, ${check.worstTokens} tokens) over ` +
            `${check.compared} text x trial pairs, after L2 normalization; ${check.worst >= 0.999 ? "OK (>= 0.999)" : "FAILED (< 0.999)"}`,
    );
    console.log("");
    const c = results.find((r) => r.engine === "ours")!.config;
    const n = results.find((r) => r.engine === "node-llama-cpp")!.config;
    console.log(
        `qwen3-embedding: default context (batchTokens ${String(c["batchTokens"])}, contextSize ${String(c["contextSize"])}, ` +
            `maxSequences ${String(c["maxSequences"])}, flashAttention ${String(c["flashAttention"])}, threads ${String(c["threads"])}), ${String(c["calls"])}`,
    );
    console.log(
        `node-llama-cpp:  LlamaEmbeddingContext contextSize ${String(n["contextSize"])}, batchSize ${String(n["batchSize"])}, ` +
            `threads ${String(n["threads"])} (maxThreads ${String(n["maxThreads"])}), flashAttention ${String(n["flashAttention"])}, ${String(n["calls"])}`,
    );
    console.log(`machine: ${meta.machine.cpu}, ${meta.machine.logicalCpus} logical CPUs, ${String(meta.machine.mathCores)} math cores, ` +
        `${fmt(meta.machine.memoryGiB, 1)} GiB RAM, ${meta.machine.os}, Node ${process.version}`);
    console.log(`model:   ${meta.model.path} (${fmt(meta.model.sizeBytes / 2 ** 20, 0)} MiB) ${meta.model.shape}`);
    console.log(`build:   node-llama-cpp ${meta.build.nodeLlamaCpp} (llama.cpp ${meta.build.llamaCppRelease}), ` +
        `libllama ${meta.build.libllama} (${String(meta.build.buildType)}, gpu ${String(meta.build.gpu)}), ` +
        `llama-headers commit ${meta.build.llamaHeadersCommit ?? "n/a"}`);
    const variants = [...new Set(results.map((r) => r.libraries.filter((l) => /ggml-cpu/.test(l)).map((l) => basename(l)).join("+")))];
    console.log(`ggml CPU variant(s) mapped in the children: ${variants.join(", ") || "n/a"}`);
    console.log(`date:    ${date.toISOString()}`);

    const jsonPath = options.json ?? join(REPO_ROOT, ".bench", `engine-${date.toISOString().replace(/[:.]/g, "-")}.json`);
    mkdirSync(dirname(jsonPath), { recursive: true });
    writeFileSync(
        jsonPath,
        `${JSON.stringify(
            {
                date: date.toISOString(),
                command: `npm run bench:engine -- ${process.argv.slice(2).join(" ")}`.trim(),
                ...meta,
                workload: {
                    texts: workload.sequences.length,
                    tokens,
                    targetTokens: options.tokens,
                    lastTextCut: prepared.lastCut ?? null,
                    batchTexts: workload.batchTexts,
                    upperBoundTokens: workload.upperSequence.length,
                    upperRepeats: workload.upperRepeats,
                    items: workload.ids.map((id, i) => ({ id, tokens: workload.sequences[i]!.length })),
                },
                summary: summaries,
                ratios: {
                    oursOverNodeLlamaCpp: ours.tokensPerSecond / nlc.tokensPerSecond,
                    oursOverUpperBound: ours.tokensPerSecond / upper.tokensPerSecond,
                },
                embeddingsMatch: check,
                trials: results.map(({ embeddings: _embeddings, ...rest }) => rest),
            },
            null,
            2,
        )}\n`,
    );
    const starved = results.filter((r) => typeof r.config["threads"] === "number" && r.cpuPercent < 85 * (r.config["threads"] as number));
    if (starved.length > 0) {
        console.log(
            `WARNING: ${starved.map((r) => `${r.engine} trial ${r.trial} (${fmt(r.cpuPercent, 0)}% CPU for ${String(r.config["threads"])} threads)`).join(", ")} ` +
                "got less CPU than its threads could use: other processes competed for the cores; rerun on a quiet machine.",
        );
    }
    const shown = relative(process.cwd(), jsonPath);
    console.log(`results: ${shown.startsWith("..") ? jsonPath : shown}`);
    if (check.worst < 0.999) {
        console.error("\nThe engines computed different embeddings (cosine < 0.999): these throughput figures are not comparable.");
        return 1;
    }
    return 0;
}

async function defaultModel(): Promise<string> {
    const spec = { kind: "embedding", size: "0.6b" } as const;
    try {
        statSync(fixturePath(spec));
    } catch {
        console.log(`creating the 0.6B-shaped Q8_0 fixture ${fixturePath(spec)} (about 650 MB) ...`);
    }
    return ensureFixtureModel(spec);
}

async function prepareWorkload(modelPath: string, options: CliOptions) {
    const model = await loadEngineModel(modelPath);
    try {
        const ids: string[] = [];
        const sequences: number[][] = [];
        let emails = 0;
        let poems = 0;
        let total = 0;
        let lastCut: string | undefined;
        const texts = benchTexts();
        while (total < options.tokens) {
            const chunk = [];
            for (let next = texts.next(); !next.done; next = texts.next()) {
                chunk.push(next.value);
                if (chunk.length === 16) break;
            }
            if (chunk.length === 0) throw new UsageError(`--tokens ${options.tokens} is more text than the data packages hold (${total} tokens)`);
            const tokenized = await model.tokenize(chunk.map((item) => item.text), { special: false });
            for (const [i, item] of chunk.entries()) {
                if (total >= options.tokens) break;
                const textIds = tokenized[i]!;
                if (textIds.length === 0) continue;
                // The last text is cut so that the workload holds --tokens tokens, not a long e-mail more.
                const keep = Math.min(textIds.length, MAX_SEQUENCE_TOKENS - 1, Math.max(1, options.tokens - total - 1));
                if (keep < textIds.length && keep < MAX_SEQUENCE_TOKENS - 1) lastCut = `${item.id} cut to ${keep + 1} tokens`;
                const sequence = [...textIds.subarray(0, keep), END_OF_TEXT];
                ids.push(item.id);
                sequences.push(sequence);
                total += sequence.length;
                if (item.source === "spam-assassin") emails++;
                else poems++;
            }
        }
        // The upper bound's sequence: the workload's own text, 511 tokens of it, then <|endoftext|>.
        const stream = sequences.flatMap((sequence) => sequence.slice(0, -1));
        const upperSequence: number[] = [];
        for (let i = 0; upperSequence.length < UPPER_BOUND_TOKENS - 1; i++) upperSequence.push(stream[i % stream.length]!);
        upperSequence.push(END_OF_TEXT);

        const lengths = sequences.map((sequence) => sequence.length).sort((a, b) => a - b);
        const inspection = model.inspection;
        const library = model.library;
        const workload: Workload = {
            modelPath,
            gpu: typeof library.gpu === "string" ? library.gpu : false,
            ids,
            sequences,
            upperSequence,
            batchTexts: options.batchTexts,
            upperRepeats: options.upperRepeats,
        };
        const meta = {
            machine: {
                cpu: cpuModel(),
                logicalCpus: cpus().length,
                mathCores: library.mathCores,
                memoryGiB: totalmem() / 2 ** 30,
                loadAverageAtStart: loadavg(),
                busyBeforeStart: undefined as { percent: number; how: string } | undefined,
                freeMemoryGiB: freemem() / 2 ** 30,
                os: `${platform()} ${release()} ${arch()}`,
                node: process.version,
            },
            model: {
                path: modelPath,
                sizeBytes: inspection.fileSizeBytes,
                name: inspection.name,
                shape:
                    `${inspection.architecture}, ${(model.info.parameters / 1e6).toFixed(0)}M parameters, ${inspection.layers} layers, ` +
                    `hidden ${inspection.embeddingSize}, vocabulary ${inspection.vocabularySize}, pooling ${inspection.pooling}, ${model.info.description}`,
            },
            build: {
                nodeLlamaCpp: nodeLlamaCppVersion(),
                llamaCppRelease: llamaCppRelease(),
                libllama: library.libraryPath,
                buildType: library.buildType,
                gpu: library.gpu,
                llamaHeadersCommit: readOptional(join(REPO_ROOT, "native", "llama-headers", "SOURCE_COMMIT")),
            },
        };
        return {
            workload,
            meta,
            emails,
            poems,
            lastCut,
            shortest: lengths[0]!,
            longest: lengths.at(-1)!,
            median: lengths[Math.floor(lengths.length / 2)]!,
        };
    } finally {
        model.dispose();
    }
}

function spawnTrial(engine: EngineKind, workloadPath: string, verbose: boolean): Promise<ChildResult & { pid: number }> {
    // tsx as an --import loader of a plain node process: the child runs from a file (node-llama-cpp checks its
    // prebuilt binary by forking with the parent's execArgv, which breaks under `node -e`).
    const args = ["--import", import.meta.resolve("tsx"), THIS_FILE, "--trial", engine, "--workload", workloadPath];
    return new Promise((resolvePromise, reject) => {
        const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"], cwd: REPO_ROOT });
        let stdout = "";
        let stderr = "";
        child.stdout.setEncoding("utf8").on("data", (data: string) => (stdout += data));
        child.stderr.setEncoding("utf8").on("data", (data: string) => {
            stderr += data;
            if (verbose) process.stderr.write(data);
            if (stderr.includes(SOURCE_BUILD_WARNING)) child.kill("SIGKILL");
        });
        child.on("error", reject);
        child.on("close", (code, signal) => {
            const output = `${stdout}\n${stderr}`;
            if (output.includes(SOURCE_BUILD_WARNING)) {
                reject(new Error(`The ${engine} trial printed "${SOURCE_BUILD_WARNING}": node-llama-cpp could not use its prebuilt binary. Stopped.`));
                return;
            }
            const line = stdout.split("\n").find((l) => l.startsWith(RESULT_PREFIX));
            if (code !== 0 || line === undefined) {
                reject(new Error(`The ${engine} trial (pid ${child.pid}) failed (exit ${code ?? signal}):\n${tail(output, 4000)}`));
                return;
            }
            resolvePromise({ ...(JSON.parse(line.slice(RESULT_PREFIX.length)) as ChildResult), pid: child.pid ?? -1 });
        });
    });
}

function compareEmbeddings(results: TrialResult[], workload: Workload) {
    let worst = Infinity;
    let worstIndex = -1;
    let compared = 0;
    const ours = results.filter((r) => r.engine === "ours");
    const theirs = results.filter((r) => r.engine === "node-llama-cpp");
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
        threshold: 0.999,
    };
}

function summarize(results: TrialResult[], workload: Workload): Summary[] {
    const labels: Record<EngineKind, string> = {
        ours: `qwen3-embedding embedBatch (${workload.batchTexts}/call)`,
        "node-llama-cpp": "node-llama-cpp getEmbeddingFor, 1 by 1",
        "upper-bound": `upper bound: ours, 1 x ${workload.upperSequence.length} tokens`,
    };
    return ENGINE_KINDS.map((engine) => {
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

function printTable(summaries: Summary[], ours: Summary, upper: Summary): void {
    const header = ["engine", "tok/s", "trials tok/s", "texts/s", "s timed", "CPU %", "ours/this", "this/upper"];
    const rows = summaries.map((s) => [
        s.label,
        fmt(s.tokensPerSecond, 1),
        s.trials.map((v) => fmt(v, 1)).join(", "),
        fmt(s.textsPerSecond, 2),
        fmt(s.seconds, 1),
        fmt(s.cpuPercent, 0),
        s === ours ? "1.00x" : `${fmt(ours.tokensPerSecond / s.tokensPerSecond, 2)}x`,
        fmt(s.tokensPerSecond / upper.tokensPerSecond, 2),
    ]);
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    const line = (cells: string[]) => cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join("  ");
    console.log(line(header));
    console.log(widths.map((w) => "-".repeat(w)).join("  "));
    for (const row of rows) console.log(line(row));
}

// ---------------------------------------------------------------------------------------------------------------
// small helpers

function totalTokens(sequences: number[][]): number {
    return sequences.reduce((sum, sequence) => sum + sequence.length, 0);
}


function fmt(value: number, digits: number): string {
    return value.toFixed(digits);
}

function pad(text: string, width: number): string {
    return text.padEnd(width);
}

function tail(text: string, chars: number): string {
    const trimmed = text.trim();
    return trimmed.length <= chars ? trimmed : `...${trimmed.slice(-chars)}`;
}

function cpuModel(): string {
    try {
        const line = readFileSync("/proc/cpuinfo", "utf8").split("\n").find((l) => l.startsWith("model name"));
        if (line !== undefined) return line.slice(line.indexOf(":") + 1).trim();
    } catch {
        // not Linux
    }
    return cpus()[0]?.model ?? "unknown CPU";
}

/** The installed node-llama-cpp's directory (its package.json is not in its exports map). */
function nodeLlamaCppDir(): string | undefined {
    try {
        let dir = dirname(fileURLToPath(import.meta.resolve("node-llama-cpp")));
        while (dir !== dirname(dir)) {
            const manifest = readOptional(join(dir, "package.json"));
            if (manifest !== undefined && (JSON.parse(manifest) as { name?: string }).name === "node-llama-cpp") return dir;
            dir = dirname(dir);
        }
    } catch {
        // not installed
    }
    return undefined;
}

function nodeLlamaCppVersion(): string {
    const dir = nodeLlamaCppDir();
    const manifest = dir === undefined ? undefined : readOptional(join(dir, "package.json"));
    return manifest === undefined ? "unknown" : (JSON.parse(manifest) as { version: string }).version;
}

/** The llama.cpp release node-llama-cpp's prebuilt binaries were built from. */
function llamaCppRelease(): string {
    const dir = nodeLlamaCppDir();
    const info = dir === undefined ? undefined : readOptional(join(dir, "llama", "llama.cpp.info.json"));
    return info === undefined ? "unknown" : (JSON.parse(info) as { tag: string }).tag;
}

function readOptional(path: string): string | undefined {
    try {
        return readFileSync(path, "utf8").trim() || undefined;
    } catch {
        return undefined;
    }
}

// ---------------------------------------------------------------------------------------------------------------

async function main(): Promise<number> {
    let cli;
    try {
        cli = parseCli(process.argv.slice(2));
    } catch (error) {
        if (!(error instanceof UsageError)) throw error;
        console.error(`bench:engine: ${error.message}\n\n${USAGE}`);
        return 2;
    }
    if ("help" in cli) {
        console.log(USAGE);
        return 0;
    }
    if ("trial" in cli) {
        await runTrial(cli.trial, cli.workload);
        return 0;
    }
    try {
        return await runParent(cli);
    } catch (error) {
        if (error instanceof UsageError) {
            console.error(`bench:engine: ${error.message}`);
            return 2;
        }
        if (error instanceof Qwen3EmbeddingError) {
            console.error(`bench:engine: ${error.message}`);
            return 1;
        }
        throw error;
    }
}

main().then(
    (code) => {
        process.exitCode = code;
    },
    (error: unknown) => {
        console.error(error instanceof Error ? (error.stack ?? error.message) : error);
        process.exitCode = 1;
    },
);
