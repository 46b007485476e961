/**
 * The store at scale, the way a user runs it: `qwen3-embedding index` over N short texts (default 100,000) into a
 * new embedded database, then search latency at top-10 and the size on disk, then the same `index` command again
 * (everything already indexed: skipped without the model), and optionally into a second namespace (every vector
 * from the embedding cache, everything written and indexed again). Each index run is a fresh CLI process, timed
 * from spawn to exit.
 *
 *   npm run bench:store -- [--count N] [--queries Q] [--model path] [--from-cache] [--keep] [--json out.json]
 */
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { cpus, loadavg, platform, release, tmpdir, totalmem } from "node:os";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { createEmbedder, DEFAULT_INSTRUCTION } from "../src/index.js";
import { createSearchIndex, documentId, openStore } from "../src/exports/store.js";
import { ensureFixtureModel, REPO_ROOT } from "../test/fixtures/qwen3-fixture.js";
import { otherCpuUse, percentile } from "./bench/bench-support.js";

const USAGE = `Usage: npm run bench:store -- [options]

Indexes N short synthetic texts with \`qwen3-embedding index\` into a new embedded (PGlite + pgvector) database,
measures search latency at top-10 (vector search alone, and end to end with the query embedding), the size on
disk, and a second index run of the same input.

Options:
  --count N       texts to index (default 100000)
  --queries Q     timed searches (default 300; 20 more warm up)
  --model PATH    embedding GGUF (default: the tiny fixture, created if missing)
  --from-cache    also index the same texts into a second namespace (all vectors from the cache; slow: writes and
                  builds the HNSW graph again)
  --keep          keep the database directory (printed) instead of deleting it
  --json PATH     where to write the results (default .bench/store-<ISO date>.json)
  -h, --help      show this help
`;

const SUBJECTS = ["the courier", "a gardener", "our neighbour", "the pilot", "my sister", "the baker", "a student", "the mayor", "an engineer", "the old fisherman", "a nurse", "the museum guide"];
const VERBS = ["delivers", "paints", "repairs", "photographs", "describes", "orders", "forgets", "sells", "borrows", "studies", "plants", "cleans"];
const OBJECTS = ["fresh bread", "a blue bicycle", "the harbour lights", "winter boots", "a chess set", "the train timetable", "spicy noodles", "a jazz record", "the garden fence", "lemon tea", "a paper kite", "the village map"];
const WHEN = ["on monday", "before dawn", "after the storm", "every weekend", "during the festival", "in late autumn", "at noon", "next spring"];

/** Distinct short texts (about 15-20 tokens each), the same for a given count. */
function syntheticTexts(count: number): string[] {
    const texts: string[] = [];
    for (let index = 0; index < count; index++) {
        const pick = <T>(items: readonly T[], salt: number) => items[Math.floor(index / salt) % items.length]!;
        texts.push(`${pick(SUBJECTS, 1)} ${pick(VERBS, 7)} ${pick(OBJECTS, 37)} ${pick(WHEN, 331)} (note ${index})`);
    }
    return texts;
}

interface RunResult {
    seconds: number;
    summary: Record<string, unknown>;
}

/** Runs the CLI from source in a fresh process; resolves with its wall time and its summary line. */
function runCli(args: string[]): Promise<RunResult> {
    return new Promise((resolvePromise, reject) => {
        const started = performance.now();
        const child = spawn(process.execPath, ["--import", "tsx", join(REPO_ROOT, "src", "cli", "main.ts"), ...args], { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (data: Buffer) => (stdout += data.toString()));
        child.stderr.on("data", (data: Buffer) => {
            stderr += data.toString();
            process.stderr.write(data); // progress lines, as the user sees them
        });
        child.on("exit", (code) => {
            const seconds = (performance.now() - started) / 1000;
            if (code !== 0) return reject(new Error(`index exited with ${code}: ${stderr.trim().split("\n").at(-1)}`));
            resolvePromise({ seconds, summary: JSON.parse(stdout.trim().split("\n").at(-1)!) as Record<string, unknown> });
        });
    });
}

function directoryBytes(path: string): number {
    let total = 0;
    for (const entry of readdirSync(path, { withFileTypes: true })) {
        const child = join(path, entry.name);
        total += entry.isDirectory() ? directoryBytes(child) : statSync(child).size;
    }
    return total;
}

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
const ms = (value: number) => `${value.toFixed(2)} ms`;

async function main(): Promise<void> {
    const { values } = parseArgs({
        options: {
            count: { type: "string" }, queries: { type: "string" }, model: { type: "string" }, "from-cache": { type: "boolean" },
            keep: { type: "boolean" }, json: { type: "string" }, help: { type: "boolean", short: "h" },
        },
        strict: true,
    });
    if (values.help) {
        process.stdout.write(USAGE);
        return;
    }
    const count = Number(values.count ?? 100_000);
    const queries = Number(values.queries ?? 300);
    if (!Number.isInteger(count) || count < 1 || !Number.isInteger(queries) || queries < 1) throw new Error("--count and --queries take positive integers");
    const model = values.model === undefined ? await ensureFixtureModel({ kind: "embedding", size: "tiny" }) : resolve(values.model);
    const work = mkdtempSync(join(tmpdir(), "qwen3-bench-store-"));
    const database = join(work, "store");
    const input = join(work, "texts.txt");
    const texts = syntheticTexts(count);
    writeFileSync(input, texts.join("\n") + "\n");
    const busy = await otherCpuUse();
    console.error(`bench:store: ${count} texts, model ${model}, database ${database}; other processes: ${busy.how}`);

    try {
        // 1. The first index run: embeds everything, writes in batches, builds the HNSW graph at the end.
        const first = await runCli(["index", "--embedding-model", model, "--input", input, "--namespace", "bench", "--database", database]);
        // 2. The same command again: every text is already indexed unchanged.
        const second = await runCli(["index", "--embedding-model", model, "--input", input, "--namespace", "bench", "--database", database]);
        // 3. Search latency and size, in this process (then closed: one process at a time opens the database).
        let store = await openStore({ database });
        const embedder = await createEmbedder({ model });
        try {
            const index = await createSearchIndex({ embedder, store, namespace: "bench", create: false });
            const queryTexts = syntheticTexts(count + queries + 20).slice(count).map((text) => `what does ${text.split(" (")[0]}`);
            const vectors = (await embedder.embed(queryTexts, { instruction: DEFAULT_INSTRUCTION })).embeddings as Float32Array[];
            for (let warm = 0; warm < 20; warm++) await store.search("bench", vectors[warm]!, { topK: 10 });
            const vectorSearch: number[] = [];
            for (let query = 20; query < vectors.length; query++) {
                const started = performance.now();
                const hits = await store.search("bench", vectors[query]!, { topK: 10 });
                vectorSearch.push(performance.now() - started);
                if (hits.length !== 10) throw new Error(`a search returned ${hits.length} hits`);
            }
            const endToEnd: number[] = [];
            for (let query = 20; query < queryTexts.length; query++) {
                const started = performance.now();
                await index.search(queryTexts[query]!, { topK: 10 });
                endToEnd.push(performance.now() - started);
            }
            // Recall of the HNSW search against an exact scan, on a sample of the queries.
            const sample = vectors.slice(20, 70);
            const exact = await exactTop10(store, texts, sample);
            let found = 0;
            for (const [position, vector] of sample.entries()) {
                const approximate = new Set((await store.search("bench", vector, { topK: 10 })).map((hit) => hit.id));
                found += exact[position]!.filter((id) => approximate.has(id)).length;
            }
            const stats = await store.stats();
            const bench = stats.namespaces.find((ns) => ns.name === "bench")!;
            const walBytes = directoryBytes(join(database, "pgdata", "pg_wal"));
            await store.close();

            // 4. Optionally: the same texts into another namespace; every vector comes from the embedding cache.
            const fromCache = values["from-cache"] === true
                ? await runCli(["index", "--embedding-model", model, "--input", input, "--namespace", "bench-copy", "--database", database])
                : undefined;
            store = await openStore({ database });
            const results = {
                date: new Date().toISOString(),
                machine: { cpu: cpus()[0]?.model ?? "?", cpus: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), platform: `${platform()} ${release()}`, node: process.version, loadAverage: loadavg()[0], otherCpuBefore: busy.how },
                model,
                count,
                firstIndex: { seconds: first.seconds, textsPerSecond: count / first.seconds, summary: first.summary },
                secondIndex: { seconds: second.seconds, speedup: first.seconds / second.seconds, summary: second.summary },
                ...(fromCache === undefined ? {} : { fromCacheIndex: { seconds: fromCache.seconds, speedup: first.seconds / fromCache.seconds, summary: fromCache.summary } }),
                searchTop10: {
                    queries: vectorSearch.length,
                    vectorSearchMs: { p50: percentile(vectorSearch, 50), p99: percentile(vectorSearch, 99) },
                    endToEndMs: { p50: percentile(endToEnd, 50), p99: percentile(endToEnd, 99) },
                    recallAt10: found / (sample.length * 10),
                },
                size: { dataDirectory: stats.sizeOnDisk, writeAheadLog: walBytes, itemsTableWithIndexes: stats.itemsBytes, hnswIndex: bench.vectorIndexBytes, embeddingCache: stats.cacheBytes, cacheEntries: stats.cacheEntries },
            };
            const lines = [
                "",
                `qwen3-embedding store benchmark, ${results.date}`,
                `machine: ${results.machine.cpu}, ${results.machine.cpus} CPUs, ${results.machine.platform}, node ${results.machine.node}; before the run: ${busy.how}`,
                `model: ${model}; database: embedded PGlite + pgvector (HNSW m=16, ef_construction=64, ef_search=100)`,
                `index ${count} texts (first run):   ${first.seconds.toFixed(1)} s  (${results.firstIndex.textsPerSecond.toFixed(0)} texts/s)  ${JSON.stringify(first.summary)}`,
                `index again (all unchanged):   ${second.seconds.toFixed(1)} s  = ${results.secondIndex.speedup.toFixed(1)}x faster  ${JSON.stringify(second.summary)}`,
                ...(fromCache === undefined ? [] : [`index into a new namespace (vectors from the cache): ${fromCache.seconds.toFixed(1)} s = ${(first.seconds / fromCache.seconds).toFixed(1)}x faster  ${JSON.stringify(fromCache.summary)}`]),
                `search top-10, vector search only:           p50 ${ms(results.searchTop10.vectorSearchMs.p50)}  p99 ${ms(results.searchTop10.vectorSearchMs.p99)}  (${vectorSearch.length} queries; recall@10 vs exact scan ${results.searchTop10.recallAt10.toFixed(3)})`,
                `search top-10, with embedding the query:     p50 ${ms(results.searchTop10.endToEndMs.p50)}  p99 ${ms(results.searchTop10.endToEndMs.p99)}`,
                `size on disk: data directory ${mib(stats.sizeOnDisk)} (write-ahead log ${mib(walBytes)}); items table with its indexes ${mib(stats.itemsBytes)} (HNSW graph ${mib(bench.vectorIndexBytes)}); embedding cache ${mib(stats.cacheBytes)} (${stats.cacheEntries} vectors)`,
            ];
            console.log(lines.join("\n"));
            const jsonPath = values.json ?? join(REPO_ROOT, ".bench", `store-${results.date.replace(/[:.]/g, "-")}.json`);
            mkdirSync(resolve(jsonPath, ".."), { recursive: true });
            writeFileSync(jsonPath, JSON.stringify(results, null, 2) + "\n");
            console.log(`results: ${jsonPath}`);
        } finally {
            embedder.dispose();
            await store.close();
        }
    } finally {
        if (values.keep === true) console.log(`database kept: ${database}`);
        else rmSync(work, { recursive: true, force: true });
    }
}

/** The exact top-10 ids for each query: brute-force cosine over every stored vector (read back from the store). */
async function exactTop10(store: Awaited<ReturnType<typeof openStore>>, texts: readonly string[], queries: readonly Float32Array[]): Promise<string[][]> {
    const ids = texts.map((text) => documentId(text));
    const stored: { id: string; embedding: Float32Array }[] = [];
    for (let start = 0; start < ids.length; start += 10_000) {
        for (const item of await store.get("bench", ids.slice(start, start + 10_000), { withEmbeddings: true })) stored.push({ id: item.id, embedding: item.embedding! });
    }
    return queries.map((query) => {
        const scored = stored.map((item) => {
            let dot = 0;
            for (let index = 0; index < query.length; index++) dot += query[index]! * item.embedding[index]!;
            return { id: item.id, dot };
        });
        return scored.sort((a, b) => b.dot - a.dot).slice(0, 10).map((entry) => entry.id);
    });
}

main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
});
