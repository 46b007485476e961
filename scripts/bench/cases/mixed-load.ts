/**
 * Latency under bulk load (issue 17): a service that indexes documents and answers searches at once. One embedder
 * (the facade, 1 worker, the library's defaults), three phases in one process:
 *   idle   single queries (role "query", priority interactive), one at a time, one every QUERY_INTERVAL_MS;
 *   bulk   the bulk e-mails embedded as documents in one call with priority "bulk", alone;
 *   mixed  the same bulk call, and meanwhile a single query every QUERY_INTERVAL_MS, issued on a timer and not
 *          awaited one after another (the time a query waits behind the bulk counts), until the bulk call finishes.
 * Before them, single e-mails on the idle embedder, one at a time: what one e-mail's decode costs (the time an
 * interactive query waits behind a bulk decode already running).
 */
import type { Library } from "../runner.js";
import type { BatchEvent } from "../../../src/index.js";
import { loadedLlamaLibraries, median, peakRssMb, percentile, startClock } from "../bench-support.js";
import type { FacadeWorkload } from "../facade-workload.js";
import { throughput, type Throughput } from "../measure.js";
import type { FacadeResult } from "../registry.js";

/** A query is issued this often, in the idle and the mixed phase. */
export const QUERY_INTERVAL_MS = 500;
/** The first query of the mixed phase, after the bulk call was made: the bulk has been tokenized and dispatched. */
const MIXED_FIRST_QUERY_MS = 500;
/** A pause before each single e-mail: back to back, llama.cpp's threads still spin and caches are warm. */
const IDLE_PAUSE_MS = 100;
/**
 * Queries stop being issued once the mixed phase has run this many times the bulk call's time alone. Queries come
 * first, so when they arrive faster than the machine answers them (a busy host: a decode of two threads on two shared
 * cores ran 4x slower here) the bulk call never finishes and neither would the case; the report says so.
 */
export const MIXED_LIMIT_FACTOR = 3;

export interface QueryLatency { count: number; p50Ms: number; p99Ms: number; maxMs: number; minMs: number; tokens: { min: number; max: number } }
export interface BatchSummary { batches: number; sequences: { min: number; median: number; max: number }; tokens: { min: number; median: number; max: number }; ms: { min: number; median: number; max: number } }
export interface SingleEmail { tokens: number; ms: number }
export interface MixedLoad {
    bulkEmails: number;
    bulkTokens: { total: number; min: number; median: number; max: number };
    singleEmails: SingleEmail[];
    idle: QueryLatency;
    bulkAlone: Throughput;
    bulkAloneBatches: BatchSummary;
    mixed: {
        queries: QueryLatency;
        bulk: Throughput;
        /** Bulk and query tokens together over the bulk call's time. */
        allTokensPerSecond: number;
        /** Queries stopped before the bulk call finished: it had run MIXED_LIMIT_FACTOR times its time alone. */
        stoppedEarly: boolean;
        batches: BatchSummary;
        /** In the order they were issued. */
        queryLatenciesMs: number[];
    };
}

const sleep = (ms: number) => new Promise((resolveTimer) => setTimeout(resolveTimer, ms));

function latencies(times: number[], tokens: number[]): QueryLatency {
    return {
        count: times.length,
        p50Ms: percentile(times, 50),
        p99Ms: percentile(times, 99),
        maxMs: Math.max(...times),
        minMs: Math.min(...times),
        tokens: { min: Math.min(...tokens), max: Math.max(...tokens) },
    };
}

function spread(values: number[]) {
    return { min: Math.min(...values), median: median(values), max: Math.max(...values) };
}

function batchSummary(events: BatchEvent[]): BatchSummary {
    return {
        batches: events.length,
        sequences: spread(events.map((event) => event.sequences)),
        tokens: spread(events.map((event) => event.tokens)),
        ms: spread(events.map((event) => event.durationMs)),
    };
}

export async function mixedLoad(w: FacadeWorkload, { createEmbedder }: Library): Promise<FacadeResult> {
    const embedder = await createEmbedder({ model: w.embeddingModel, workers: 1 });
    const bulk = w.bulkEmails;
    const queries = w.short;
    const query = (i: number) => embedder.embedQuery(queries[i % queries.length]!);
    const embedBulk = () => embedder.embedDocuments(bulk, { priority: "bulk" });
    const events: BatchEvent[] = [];
    embedder.onBatch((event) => events.push(event));
    await embedder.embedDocuments(w.short.slice(0, 2));
    await query(0);

    // One e-mail at a time on the idle embedder: ms per e-mail and its tokens.
    const singleEmails: SingleEmail[] = [];
    for (const text of bulk.slice(0, w.singleEmails)) {
        await sleep(IDLE_PAUSE_MS);
        const start = performance.now();
        const { tokens } = await embedder.embedDocuments([text], { priority: "bulk" });
        singleEmails.push({ tokens: tokens[0]!, ms: performance.now() - start });
    }

    // Idle: one query at a time, each at the next tick of the same timer the mixed phase uses.
    const idleTimes: number[] = [];
    const idleTokens: number[] = [];
    for (let i = 0; i < w.idleQueries; i++) {
        await sleep(QUERY_INTERVAL_MS);
        const start = performance.now();
        const { tokens } = await query(i);
        idleTimes.push(performance.now() - start);
        idleTokens.push(tokens);
    }

    // Bulk alone.
    events.length = 0;
    let clock = startClock();
    const alone = await embedBulk();
    const bulkAlone = throughput(alone.totalTokens, bulk.length, clock.stop());
    const bulkAloneBatches = batchSummary(events);

    // Mixed: the same bulk call, a query every QUERY_INTERVAL_MS until it finishes.
    await sleep(QUERY_INTERVAL_MS);
    events.length = 0;
    const mixedTimes: number[] = [];
    const mixedTokens: number[] = [];
    const inFlight: Promise<void>[] = [];
    let bulkDone = false;
    let stoppedEarly = false;
    const limitMs = MIXED_LIMIT_FACTOR * bulkAlone.seconds * 1000;
    const mixedStart = performance.now();
    clock = startClock();
    const bulkCall = embedBulk().finally(() => (bulkDone = true));
    let timer: NodeJS.Timeout | undefined;
    const issue = () => {
        if (bulkDone || stoppedEarly) return;
        if (performance.now() - mixedStart > limitMs) {
            stoppedEarly = true;
            return;
        }
        const index = mixedTimes.length;
        const start = performance.now();
        mixedTimes.push(Number.NaN);
        mixedTokens.push(Number.NaN);
        inFlight.push(query(index).then(({ tokens }) => {
            mixedTimes[index] = performance.now() - start;
            mixedTokens[index] = tokens;
        }));
    };
    const started = setTimeout(() => {
        issue();
        timer = setInterval(issue, QUERY_INTERVAL_MS);
    }, MIXED_FIRST_QUERY_MS);
    const mixedResult = await bulkCall;
    const bulkClock = clock.stop();
    const bulkEvents = [...events];
    clearTimeout(started);
    clearInterval(timer);
    await Promise.all(inFlight);
    const mixedBulk = throughput(mixedResult.totalTokens, bulk.length, bulkClock);
    const mixedBatches = batchSummary(bulkEvents);
    const answeredDuringBulk = bulkEvents.reduce((sum, event) => sum + event.tokens, 0) - mixedResult.totalTokens;

    const rss = peakRssMb();
    await embedder.close();
    const result: MixedLoad = {
        bulkEmails: bulk.length,
        bulkTokens: { total: alone.totalTokens, ...spread(alone.tokens) },
        singleEmails,
        idle: latencies(idleTimes, idleTokens),
        bulkAlone,
        bulkAloneBatches,
        mixed: {
            queries: latencies(mixedTimes, mixedTokens),
            bulk: mixedBulk,
            allTokensPerSecond: (mixedResult.totalTokens + answeredDuringBulk) / bulkClock.seconds,
            stoppedEarly,
            batches: mixedBatches,
            queryLatenciesMs: mixedTimes,
        },
    };
    return { case: "mixed-load", workers: 1, queryIntervalMs: QUERY_INTERVAL_MS, ...result, peakRssMb: rss, libraries: loadedLlamaLibraries() };
}
