/**
 * What llama.cpp's CPU weight repacking (its "extra buffer types", our load option repackWeights) costs in memory and
 * buys in speed, measured on this machine with the 0.6B-shaped synthetic fixture written with Q4_0 matrices (the type
 * ggml-cpu repacks on every AVX2 / AVX-512 / ARM CPU, AMX or not) and, for comparison, the Q8_0 fixture.
 *
 *   tsx scripts/memory-repack.ts write [--out DIR] [--force]
 *       writes DIR/embedding-0.6b-s1-q4_0.gguf (default DIR models/q4)
 *   tsx scripts/memory-repack.ts probe --model FILE --repack true|false [--rounds N] [--threads T] [--sequences S] [--mmap true|false]
 *       one load in this process: memory (smaps_rollup and smaps) before the load, after it, after a context and
 *       after embedding S sequences of 300 tokens; tokens/s of N timed calls. Prints one JSON line.
 *   tsx scripts/memory-repack.ts alternate --model FILE [--rounds N] [--threads T] [--sequences S] [--mmap true|false]
 *       both loads (repack true and false: separate registry entries) in this process, timed calls alternating
 *       between them, and how far their embeddings differ. Prints one JSON line.
 *   tsx scripts/memory-repack.ts compare [--model FILE]... [--processes K] [--probe-rounds M] [--rounds N] [--threads T] [--sequences S] [--mmap true|false]
 *       for each model (default: the Q4_0 fixture, written if missing, and models/fixtures/embedding-0.6b-s1.gguf):
 *       K fresh `probe` processes per setting (M timed calls each), alternating true/false, with
 *       QWEN3_EMBEDDING_LLAMA_LOG=debug (their buffer-type and repack lines are quoted, the "repack tensor" lines
 *       counted), then one `alternate` process (N timed calls per setting);
 *       prints a table of medians and writes the raw results to .bench/memory-repack.json.
 *   tsx scripts/memory-repack.ts layout-check
 *       end-to-end check of the Q4_0 writer through llama.cpp, on the tiny fixture (seconds): an F32 file whose
 *       matrices hold the Q4_0 round trip of the weights (our quantizer, then our dequantizer) must embed like the
 *       Q4_0 file (up to llama.cpp's Q8_0 quantization of activations in Q4_0 products), repacked or not, while the
 *       original F32 weights embed differently (the Q4_0 error). Prints cosines per sequence.
 *   Defaults: S = 3 sequences of 300 tokens per call, N = 3, M = 1, K = 2, T = the library's default, --mmap true
 *   (loadEngineModel's useMmap).
 *
 * Memory is Linux only (/proc/self/smaps*). "file-backed" is Rss - Anonymous of smaps_rollup: mostly the model file's
 * mapping (listed separately from the smaps of the mapping whose path is the model) and the shared libraries.
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync, realpathSync } from "node:fs";
import { mkdir, stat, writeFile } from "node:fs/promises";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import { bindLlamaLibrary, loadEngineModel, type EngineContext, type EngineModel } from "../src/exports/engine.js";
import { GgmlType, dequantizeRowQ4_0, quantizeRowQ4_0, rowByteSize, writeGguf } from "../test/fixtures/gguf-writer.js";
import { FIXTURE_DIR, QWEN3_TOKENS, REPO_ROOT, buildFixtureMetadata, buildFixtureTensors, writeFixtureModel } from "../test/fixtures/qwen3-fixture.js";

const Q4_SPEC = { kind: "embedding", size: "0.6b", matrixType: "q4_0" } as const;
const DEFAULT_Q4_DIR = join(REPO_ROOT, "models", "q4");
const Q4_NAME = "embedding-0.6b-s1-q4_0.gguf";
const Q8_FIXTURE = join(FIXTURE_DIR, "embedding-0.6b-s1.gguf");
const SEQUENCE_TOKENS = 300;
const MiB = 1024 * 1024;

// ---------------------------------------------------------------------------------------------
// memory

interface Rollup {
    rssMiB: number;
    anonMiB: number;
    /** Rss - Anonymous */
    fileMiB: number;
}

function rollup(): Rollup {
    const text = readFileSync("/proc/self/smaps_rollup", "utf8");
    const kb = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(text)?.[1] ?? NaN);
    const rss = kb("Rss");
    const anon = kb("Anonymous");
    return { rssMiB: rss / 1024, anonMiB: anon / 1024, fileMiB: (rss - anon) / 1024 };
}

interface Mapping {
    start: string;
    end: string;
    perms: string;
    path: string;
    sizeMiB: number;
    rssMiB: number;
    anonMiB: number;
}

function mappings(): Mapping[] {
    const out: Mapping[] = [];
    let cur: Mapping | undefined;
    for (const line of readFileSync("/proc/self/smaps", "utf8").split("\n")) {
        const head = /^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s*(.*)$/.exec(line);
        if (head) {
            cur = {
                start: head[1]!,
                end: head[2]!,
                perms: head[3]!,
                path: head[4]!,
                sizeMiB: Number(BigInt(`0x${head[2]!}`) - BigInt(`0x${head[1]!}`)) / MiB,
                rssMiB: 0,
                anonMiB: 0,
            };
            out.push(cur);
        } else if (cur && line.startsWith("Rss:")) cur.rssMiB = Number(line.split(/\s+/)[1]) / 1024;
        else if (cur && line.startsWith("Anonymous:")) cur.anonMiB = Number(line.split(/\s+/)[1]) / 1024;
    }
    return out;
}

interface Split {
    /** Rss of the mapping(s) of the model file */
    modelFileMiB: number;
    /** Rss of every other file-backed mapping (libraries, node, ...) */
    otherFileMiB: number;
    /** Rss of anonymous mappings ([heap], [stack], unnamed) */
    anonMappingsMiB: number;
}

function split(maps: Mapping[], modelPath: string): Split {
    const s: Split = { modelFileMiB: 0, otherFileMiB: 0, anonMappingsMiB: 0 };
    for (const m of maps) {
        if (m.path === modelPath) s.modelFileMiB += m.rssMiB;
        else if (m.path.startsWith("/")) s.otherFileMiB += m.rssMiB - m.anonMiB;
        else s.anonMappingsMiB += m.rssMiB;
        if (m.path.startsWith("/") && m.path !== modelPath) s.anonMappingsMiB += m.anonMiB; // COW pages of libraries
    }
    return s;
}

/**
 * Mappings whose Rss grew by at least 4 MiB since `before`. The kernel merges adjacent anonymous mappings (a new
 * buffer next to an old one shows as one bigger mapping), so the growth of a mapping is its Rss less the Rss of the
 * earlier mappings of the same path that lie inside it.
 */
function grown(before: Mapping[], after: Mapping[]): { mapping: string; sizeMiB: number; rssMiB: number; grewMiB: number }[] {
    const range = (m: Mapping): [bigint, bigint] => [BigInt(`0x${m.start}`), BigInt(`0x${m.end}`)];
    return after
        .map((m) => {
            const [start, end] = range(m);
            let earlier = 0;
            for (const o of before) {
                const [os, oe] = range(o);
                if (o.path === m.path && os >= start && oe <= end) earlier += o.rssMiB;
            }
            return {
                mapping: `${m.start}-${m.end} ${m.perms} ${m.path === "" ? "[anonymous]" : m.path}`,
                sizeMiB: round(m.sizeMiB),
                rssMiB: round(m.rssMiB),
                grewMiB: round(m.rssMiB - earlier),
            };
        })
        .filter((m) => m.grewMiB >= 4)
        .sort((a, b) => b.grewMiB - a.grewMiB);
}

interface Snapshot extends Rollup, Split {}

function snapshot(modelPath: string): { snap: Snapshot; maps: Mapping[] } {
    const maps = mappings();
    const r = rollup();
    const s = split(maps, modelPath);
    const snap = Object.fromEntries(Object.entries({ ...r, ...s }).map(([k, v]) => [k, round(v)])) as unknown as Snapshot;
    return { snap, maps };
}

const round = (x: number, digits = 1): number => Math.round(x * 10 ** digits) / 10 ** digits;

function median(xs: number[]): number {
    const s = [...xs].sort((a, b) => a - b);
    const m = s.length >> 1;
    return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

// ---------------------------------------------------------------------------------------------
// workload: S sequences of 299 pseudo-random ordinary tokens + <|endoftext|> (the embedder's suffix)

function sequences(count: number, salt: number): Int32Array[] {
    return Array.from({ length: count }, (_, i) => {
        const seq = new Int32Array(SEQUENCE_TOKENS);
        let s = (0x9e3779b9 * (i + 1 + 1000 * salt)) >>> 0;
        for (let j = 0; j < SEQUENCE_TOKENS - 1; j++) {
            s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
            seq[j] = 100 + (s % 150_000);
        }
        seq[SEQUENCE_TOKENS - 1] = QWEN3_TOKENS.endOfText;
        return seq;
    });
}

/**
 * Wall-clock tokens/s, and tokens per CPU second of this process: on a machine shared with other work the second is
 * the steadier measure of the kernels (with one thread; with more, threads waiting for each other spin and count).
 */
async function timedEmbed(
    context: EngineContext,
    seqs: Int32Array[],
): Promise<{ tokensPerSecond: number; tokensPerCpuSecond: number; cpuPercent: number; out: Float32Array }> {
    const cpu = process.cpuUsage();
    const t0 = performance.now();
    const out = await context.embedBatch(seqs);
    const seconds = (performance.now() - t0) / 1000;
    const used = process.cpuUsage(cpu);
    const cpuSeconds = (used.user + used.system) / 1e6;
    const tokens = seqs.length * SEQUENCE_TOKENS;
    return { tokensPerSecond: tokens / seconds, tokensPerCpuSecond: tokens / cpuSeconds, cpuPercent: (cpuSeconds / seconds) * 100, out };
}

interface CommonOptions {
    rounds: number;
    threads: number | undefined;
    sequences: number;
    /** loadEngineModel's useMmap */
    mmap: boolean;
}

async function openModel(path: string, repack: boolean, o: CommonOptions): Promise<{ model: EngineModel; context: EngineContext }> {
    const model = await loadEngineModel(path, { repackWeights: repack, useMmap: o.mmap });
    const context = await model.createContext({ batchTokens: 512, contextSize: 8192, ...(o.threads === undefined ? {} : { threads: o.threads }) });
    return { model, context };
}

async function probe(path: string, repack: boolean, o: CommonOptions): Promise<void> {
    const modelPath = resolve(path);
    const mappedPath = realpathSync(modelPath); // what /proc/self/smaps names (models/fixtures may be a link)
    // bind the library first, so that "before" already holds the llama.cpp / ggml libraries
    const library = await bindLlamaLibrary();
    const before = snapshot(mappedPath);
    const t0 = performance.now();
    const model = await loadEngineModel(modelPath, { repackWeights: repack, useMmap: o.mmap });
    const loadSeconds = (performance.now() - t0) / 1000;
    const loaded = snapshot(mappedPath);
    const context = await model.createContext({ batchTokens: 512, contextSize: 8192, ...(o.threads === undefined ? {} : { threads: o.threads }) });
    const withContext = snapshot(mappedPath);
    await context.embedBatch(sequences(o.sequences, 0)); // warm-up
    const rates: number[] = [];
    const cpuRates: number[] = [];
    const cpu: number[] = [];
    for (let r = 0; r < o.rounds; r++) {
        const t = await timedEmbed(context, sequences(o.sequences, r + 1));
        rates.push(t.tokensPerSecond);
        cpuRates.push(t.tokensPerCpuSecond);
        cpu.push(t.cpuPercent);
    }
    const embedded = snapshot(mappedPath);
    const hwm = Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"))?.[1] ?? NaN) / 1024;
    const result = {
        model: modelPath,
        modelFileMiB: round((await stat(modelPath)).size / MiB),
        repack,
        useMmap: o.mmap,
        library: { buildType: library.buildType, mathCores: library.mathCores, variant: cpuVariant() },
        threads: o.threads ?? library.mathCores,
        loadSeconds: round(loadSeconds, 2),
        before: before.snap,
        loaded: loaded.snap,
        withContext: withContext.snap,
        embedded: embedded.snap,
        peakRssMiB: round(hwm),
        grewWhileLoading: grown(before.maps, loaded.maps),
        grewWithContextAndEmbedding: grown(loaded.maps, embedded.maps),
        tokensPerSecond: rates.map((x) => round(x)),
        tokensPerCpuSecond: cpuRates.map((x) => round(x)),
        cpuPercent: cpu.map((x) => round(x, 0)),
    };
    await context.dispose();
    await model.dispose();
    process.stdout.write(`${JSON.stringify(result)}\n`);
}

function cpuVariant(): string | undefined {
    const maps = readFileSync("/proc/self/maps", "utf8");
    return /libggml-cpu-([\w-]+)\.so/.exec(maps)?.[1];
}

async function alternate(path: string, o: CommonOptions): Promise<void> {
    const modelPath = resolve(path);
    const a = await openModel(modelPath, true, o);
    const b = await openModel(modelPath, false, o);
    const both = rollup();
    const runs = [
        { repack: true, ...a },
        { repack: false, ...b },
    ];
    for (const r of runs) await r.context.embedBatch(sequences(o.sequences, 0)); // warm-up
    const rates: Record<string, number[]> = { true: [], false: [] };
    const cpuRates: Record<string, number[]> = { true: [], false: [] };
    let maxOneMinusCos = 0;
    let maxAbsDiff = 0;
    for (let round_ = 0; round_ < o.rounds; round_++) {
        const seqs = sequences(o.sequences, round_ + 1);
        // alternate which setting goes first
        const order = round_ % 2 === 0 ? runs : [...runs].reverse();
        const outs: Record<string, Float32Array> = {};
        for (const r of order) {
            const t = await timedEmbed(r.context, seqs);
            rates[String(r.repack)]!.push(t.tokensPerSecond);
            cpuRates[String(r.repack)]!.push(t.tokensPerCpuSecond);
            outs[String(r.repack)] = t.out;
        }
        const dim = a.context.embeddingSize;
        for (let s = 0; s < seqs.length; s++) {
            const x = outs["true"]!.subarray(s * dim, (s + 1) * dim);
            const y = outs["false"]!.subarray(s * dim, (s + 1) * dim);
            let dot = 0;
            let nx = 0;
            let ny = 0;
            for (let i = 0; i < dim; i++) {
                dot += x[i]! * y[i]!;
                nx += x[i]! * x[i]!;
                ny += y[i]! * y[i]!;
                maxAbsDiff = Math.max(maxAbsDiff, Math.abs(x[i]! - y[i]!));
            }
            maxOneMinusCos = Math.max(maxOneMinusCos, 1 - dot / Math.sqrt(nx * ny));
        }
    }
    for (const r of runs) {
        await r.context.dispose();
        await r.model.dispose();
    }
    process.stdout.write(
        `${JSON.stringify({
            model: modelPath,
            threads: o.threads,
            useMmap: o.mmap,
            bothLoadedRssMiB: round(both.rssMiB),
            tokensPerSecond: { true: rates["true"]!.map((x) => round(x)), false: rates["false"]!.map((x) => round(x)) },
            median: { true: round(median(rates["true"]!)), false: round(median(rates["false"]!)) },
            tokensPerCpuSecond: { true: cpuRates["true"]!.map((x) => round(x)), false: cpuRates["false"]!.map((x) => round(x)) },
            medianPerCpuSecond: { true: round(median(cpuRates["true"]!)), false: round(median(cpuRates["false"]!)) },
            embeddings: { maxOneMinusCosine: maxOneMinusCos, maxAbsDiff },
        })}\n`,
    );
}

// ---------------------------------------------------------------------------------------------
// compare: fresh processes

interface ChildResult {
    json: Record<string, unknown>;
    logLines: string[];
    repackedTensors: number;
}

/** Log lines worth quoting: buffer types, repacking, AMX, extra buffer types. */
const LOG_PATTERN = /REPACK|repack|AMX|amx|extra|buffer type|model buffer size|CPU_Mapped|using CPU instead/;

function runChild(args: string[], log: "debug" | undefined): Promise<ChildResult> {
    return new Promise((resolveChild, reject) => {
        const env = { ...process.env };
        if (log) env["QWEN3_EMBEDDING_LLAMA_LOG"] = log;
        else delete env["QWEN3_EMBEDDING_LLAMA_LOG"];
        const child = spawn(process.execPath, [...process.execArgv, new URL(import.meta.url).pathname, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
        let stdout = "";
        let stderrTail = "";
        let pending = "";
        const logLines: string[] = [];
        let repackedTensors = 0;
        child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
        child.stderr.on("data", (d: Buffer) => {
            const text = pending + d.toString();
            const lines = text.split("\n");
            pending = lines.pop()!;
            for (const line of lines) {
                if (/repack tensor/.test(line)) {
                    repackedTensors++;
                    if (repackedTensors <= 3) logLines.push(line);
                } else if (LOG_PATTERN.test(line) && logLines.length < 40) logLines.push(line);
            }
            stderrTail = (stderrTail + d.toString()).slice(-4000);
        });
        child.on("error", reject);
        child.on("close", (code) => {
            const last = stdout.trim().split("\n").pop() ?? "";
            if (code !== 0 || !last.startsWith("{")) {
                reject(new Error(`child ${args.join(" ")} exited ${code}:\n${stderrTail}`));
                return;
            }
            if (repackedTensors > 3) logLines.push(`... (${repackedTensors} "repack tensor" lines in all)`);
            resolveChild({ json: JSON.parse(last) as Record<string, unknown>, logLines, repackedTensors });
        });
    });
}

async function ensureQ4Fixture(dir: string, force: boolean): Promise<string> {
    const path = join(dir, Q4_NAME);
    if (!force && existsSync(path)) return path;
    const t0 = performance.now();
    const { bytes } = await writeFixtureModel(Q4_SPEC, path);
    process.stderr.write(`wrote ${relative(process.cwd(), path)}: ${(bytes / MiB).toFixed(1)} MiB in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
    return path;
}

async function compare(models: string[], processes: number, probeRounds: number, o: CommonOptions): Promise<void> {
    const common = ["--sequences", String(o.sequences), "--mmap", String(o.mmap), ...(o.threads === undefined ? [] : ["--threads", String(o.threads)])];
    const report: Record<string, unknown>[] = [];
    const rows: string[] = [];
    for (const model of models) {
        const probes: Record<string, ChildResult[]> = { true: [], false: [] };
        for (let k = 0; k < processes; k++) {
            for (const repack of k % 2 === 0 ? [true, false] : [false, true]) {
                process.stderr.write(`probe ${relative(process.cwd(), model)} repack ${repack} (${k + 1}/${processes})\n`);
                probes[String(repack)]!.push(
                    await runChild(["probe", "--model", model, "--repack", String(repack), "--rounds", String(probeRounds), ...common], "debug"),
                );
            }
        }
        process.stderr.write(`alternate ${relative(process.cwd(), model)}\n`);
        const alt = (await runChild(["alternate", "--model", model, "--rounds", String(o.rounds), ...common], undefined)).json;
        report.push({ model, probes, alternate: alt });
        for (const repack of ["true", "false"]) {
            const ps = probes[repack]!;
            const med = (f: (j: Record<string, any>) => number): string => median(ps.map((p) => f(p.json))).toFixed(0);
            const altMedian = (alt["median"] as Record<string, number>)[repack]!;
            rows.push(
                [
                    relative(process.cwd(), model),
                    (ps[0]!.json["modelFileMiB"] as number).toFixed(0),
                    repack,
                    String(ps[0]!.repackedTensors),
                    med((j) => j["embedded"].rssMiB),
                    med((j) => j["embedded"].anonMiB),
                    med((j) => j["embedded"].fileMiB),
                    med((j) => j["embedded"].modelFileMiB),
                    med((j) => j["loaded"].anonMiB - j["before"].anonMiB),
                    med((j) => j["peakRssMiB"]),
                    median(ps.flatMap((p) => p.json["tokensPerSecond"] as number[])).toFixed(1),
                    altMedian.toFixed(1),
                    (alt["medianPerCpuSecond"] as Record<string, number>)[repack]!.toFixed(1),
                ].join(" | "),
            );
        }
    }
    const header =
        "model | file MiB | repack | tensors repacked | RSS MiB | anon MiB | file-backed MiB | of which model file | anon added by load | peak RSS | tok/s (fresh procs) | tok/s (one process, alternating) | tok per CPU s (same)";
    process.stdout.write(`useMmap ${o.mmap}, threads ${o.threads ?? "default"}, ${o.sequences} x ${SEQUENCE_TOKENS} tokens a call\n${header}\n${rows.join("\n")}\n`);
    await mkdir(join(REPO_ROOT, ".bench"), { recursive: true });
    const out = join(REPO_ROOT, ".bench", "memory-repack.json");
    await writeFile(out, `${JSON.stringify(report, null, 2)}\n`);
    process.stdout.write(`raw results: ${relative(process.cwd(), out)}\n`);
}

async function layoutCheck(): Promise<void> {
    const dir = await mkdtemp(join(tmpdir(), "qwen3-q4_0-layout-"));
    try {
        const spec = { kind: "embedding", size: "tiny" } as const;
        const f32 = join(dir, "f32.gguf");
        const roundTrip = join(dir, "f32-q4_0-round-trip.gguf");
        const q4 = join(dir, "q4_0.gguf");
        await writeFixtureModel(spec, f32);
        await writeFixtureModel({ ...spec, matrixType: "q4_0" }, q4);
        const tensors = buildFixtureTensors(spec).map((t) =>
            t.ne.length !== 2
                ? t
                : {
                      ...t,
                      fillRow: (r: number, out: Float32Array) => {
                          t.fillRow(r, out);
                          const bytes = new Uint8Array(rowByteSize(GgmlType.Q4_0, out.length));
                          quantizeRowQ4_0(out, bytes, 0);
                          dequantizeRowQ4_0(bytes, 0, out.length, out);
                      },
                  },
        );
        await writeGguf(roundTrip, buildFixtureMetadata(spec), tensors);
        const seqs = sequences(3, 7);
        const outs: Record<string, Float32Array> = {};
        for (const [name, path, repack] of [
            ["f32", f32, false],
            ["round trip", roundTrip, false],
            ["q4_0", q4, false],
            ["q4_0 repacked", q4, true],
        ] as const) {
            const { model, context } = await openModel(path, repack, { rounds: 0, threads: 1, sequences: 3, mmap: true });
            outs[name] = await context.embedBatch(seqs);
            await context.dispose();
            await model.dispose();
        }
        const cosines = (a: Float32Array, b: Float32Array): string => {
            const dim = a.length / seqs.length;
            return seqs
                .map((_, s) => {
                    let dot = 0;
                    let na = 0;
                    let nb = 0;
                    for (let i = s * dim; i < (s + 1) * dim; i++) {
                        dot += a[i]! * b[i]!;
                        na += a[i]! * a[i]!;
                        nb += b[i]! * b[i]!;
                    }
                    return (dot / Math.sqrt(na * nb)).toFixed(6);
                })
                .join(" ");
        };
        for (const [a, b] of [
            ["round trip", "q4_0"],
            ["round trip", "q4_0 repacked"],
            ["q4_0", "q4_0 repacked"],
            ["f32", "q4_0"],
            ["f32", "round trip"],
        ] as const) {
            process.stdout.write(`cosine ${a} vs ${b}: ${cosines(outs[a]!, outs[b]!)}\n`);
        }
    } finally {
        await rm(dir, { recursive: true, force: true });
    }
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
    const [command, ...rest] = process.argv.slice(2);
    const { values } = parseArgs({
        args: rest,
        options: {
            model: { type: "string", multiple: true },
            repack: { type: "string" },
            rounds: { type: "string" },
            threads: { type: "string" },
            mmap: { type: "string" },
            sequences: { type: "string" },
            processes: { type: "string" },
            "probe-rounds": { type: "string" },
            out: { type: "string" },
            force: { type: "boolean" },
        },
        strict: true,
        allowPositionals: false,
    });
    const int = (name: string, text: string | undefined, fallback: number | undefined): number | undefined => {
        if (text === undefined) return fallback;
        if (!/^\d+$/.test(text) || Number(text) < 1) throw new Error(`--${name} must be a positive integer`);
        return Number(text);
    };
    const o: CommonOptions = {
        rounds: int("rounds", values.rounds, 3)!,
        threads: int("threads", values.threads, undefined),
        sequences: int("sequences", values.sequences, 3)!,
        mmap: values.mmap === undefined || values.mmap === "true",
    };
    if (values.mmap !== undefined && values.mmap !== "true" && values.mmap !== "false") throw new Error("--mmap true|false");
    const model = (): string => {
        if (values.model?.length !== 1) throw new Error("give one --model");
        return values.model[0]!;
    };
    switch (command) {
        case "write":
            process.stdout.write(`${await ensureQ4Fixture(resolve(values.out ?? DEFAULT_Q4_DIR), values.force ?? false)}\n`);
            return;
        case "probe":
            if (values.repack !== "true" && values.repack !== "false") throw new Error("--repack true|false");
            return probe(model(), values.repack === "true", o);
        case "alternate":
            return alternate(model(), o);
        case "layout-check":
            return layoutCheck();
        case "compare": {
            const models = values.model ?? [await ensureQ4Fixture(DEFAULT_Q4_DIR, false), Q8_FIXTURE];
            return compare(models.map((m) => resolve(m)), int("processes", values.processes, 2)!, int("probe-rounds", values["probe-rounds"], 1)!, o);
        }
        default:
            throw new Error("usage: tsx scripts/memory-repack.ts write|probe|alternate|compare|layout-check [options] (see the comment at the top)");
    }
}

main().catch((e: unknown) => {
    process.stderr.write(`memory-repack: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
});
