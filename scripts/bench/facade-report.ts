/** The facade group's report: each engine's absolute figures, the ratios with their verdicts, latency, peak RSS, cost per token. */
import { median, pairedRatio } from "./bench-support.js";
import { DOCUMENT_SLICE, EMAIL_SLICE, IDLE_QUERIES } from "./cases/alternating.js";
import type { Cost } from "./cases/cost.js";
import { CONCURRENCY, type SweepEntry } from "./cases/embedding.js";
import { MIXED_LIMIT_FACTOR, QUERY_INTERVAL_MS, type MixedLoad } from "./cases/mixed-load.js";
import { COST_LENGTHS } from "./facade-workload.js";
import type { Latency, Throughput } from "./measure.js";
import { TARGETS as T, type FacadeResult } from "./registry.js";

const f = (value: number, digits = 1) => value.toFixed(digits);

function verdict(ok: boolean): string {
    return ok ? "ok" : "MISSED";
}

/** Prints the tables of whichever cases ran and returns the figures for the results file. */
export function facadeReport(
    r: Partial<Record<string, FacadeResult>>,
    modelMb: { embedding: number; reranker: number },
    libraryRss: { oneWorker: number; twoWorkers: number },
): Record<string, unknown> {
    const tps = (result: FacadeResult | undefined, key: string) => (result?.[key] as Throughput | undefined)?.tokensPerSecond ?? Number.NaN;
    const report: Record<string, unknown> = {};
    const ours = r["ours-embed"], nlc = r["nlc-embed"], upper = r["upper-embed"];
    // Only the tables of the cases that ran (`--only` picks some).
    const ran = (...names: string[]) => names.some((name) => r[name] !== undefined);
    if (ran("ours-embed", "nlc-embed", "upper-embed", "ours-rerank", "nlc-rerank", "upper-rerank")) {
        console.log("\nthroughput, tokens/s (texts/s)            qwen3-embedding   node-llama-cpp   upper bound   ratios");
        const row = (label: string, a: number, b: number, u: number, texts: [number, number], notes: string) =>
            console.log(`  ${label.padEnd(40)} ${f(a).padStart(7)} (${f(texts[0])})  ${f(b).padStart(7)} (${f(texts[1])})  ${f(u).padStart(9)}     ${notes}`);
        const texts = (result: FacadeResult | undefined, key: string) => (result?.[key] as Throughput | undefined)?.textsPerSecond ?? Number.NaN;
        const upperTps = tps(upper, "upper");
        const shortOne = tps(ours, "shortOneCall"), shortConc = tps(ours, "shortConcurrent"), shortNlc = tps(nlc, "shortOneCall");
        row("64 short texts, one call", shortOne, shortNlc, upperTps, [texts(ours, "shortOneCall"), texts(nlc, "shortOneCall")], `${f(shortOne / shortNlc, 2)}x nlc`);
        row("64 short texts, 64 concurrent calls", shortConc, shortNlc, upperTps, [texts(ours, "shortConcurrent"), texts(nlc, "shortOneCall")], `${f(shortConc / shortNlc, 2)}x nlc`);
        const emails = tps(ours, "emails"), emailsNlc = tps(nlc, "emails");
        row("e-mails of 200-400 tokens, one call", emails, emailsNlc, upperTps, [texts(ours, "emails"), texts(nlc, "emails")], `${f(emails / emailsNlc, 2)}x nlc, ${f(emails / upperTps, 2)}x bound`);
        const rr = tps(r["ours-rerank"], "rerank"), rrNlc = tps(r["nlc-rerank"], "rerank"), rrUpper = tps(r["upper-rerank"], "upper");
        row("rerank 1 query x documents", rr, rrNlc, rrUpper, [texts(r["ours-rerank"], "rerank"), texts(r["nlc-rerank"], "rerank")], `${f(rr / rrNlc, 2)}x nlc rankAll, ${f(rr / rrUpper, 2)}x bound`);
        report["acrossProcesses"] = { shortOneCallVsNlc: shortOne / shortNlc, shortConcurrentVsNlc: shortConc / shortNlc, emailsVsUpper: emails / upperTps, emailsVsNlc: emails / emailsNlc, rerankVsUpper: rr / rrUpper, rerankVsNlc: rr / rrNlc };
    }

    // The verdicts: between processes this machine's speed drifts by 10-20%, more than the margins measured.
    const alt = r["alternating"] as (FacadeResult & Record<"short" | "emails" | "rerank", Record<string, Throughput[]>>) | undefined;
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
        line("shortOneCallVsNlc", "64 short texts, one call", alt.short["oursOneCall"]!, alt.short["nlc"]!, "nlc", T.shortVsNlc);
        line("shortConcurrentVsNlc", "64 short texts, 64 concurrent calls", alt.short["oursConcurrent"]!, alt.short["nlc"]!, "nlc", T.shortVsNlc);
        line("emailsVsNlc", `e-mails, ${EMAIL_SLICE} per call`, alt.emails["ours"]!, alt.emails["nlc"]!, "nlc", T.emailsVsNlc);
        line("emailsVsUpper", `e-mails, ${EMAIL_SLICE} per call`, alt.emails["ours"]!, alt.emails["upper"]!, "bound", T.vsUpper);
        line("rerankVsNlc", `rerank, ${DOCUMENT_SLICE} documents per call`, alt.rerank["ours"]!, alt.rerank["nlc"]!, "nlc rankAll", T.rerankVsNlc);
        line("rerankVsUpper", `rerank, ${DOCUMENT_SLICE} documents per call`, alt.rerank["ours"]!, alt.rerank["upper"]!, "bound", T.vsUpper);
        const idle = alt["idleQuery"] as { facadeMs: number; rawDecodeMs: number; ratio: number };
        report["idleQueryVsRawDecode"] = idle.ratio;
        console.log(`  one short query, idle pool (median of ${IDLE_QUERIES}): ${f(idle.facadeMs)} ms vs raw decode ${f(idle.rawDecodeMs)} ms = ${f(idle.ratio, 2)}x (<= ${T.idleVsRawDecode}: ${verdict(idle.ratio <= T.idleVsRawDecode)})`);
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

    if (ours || nlc) {
        console.log("\nlatency of one short text per call (p50 / p99 ms, tokens/s)");
        for (const [i, concurrency] of CONCURRENCY.entries()) {
            const a = (ours?.["latency"] as Latency[] | undefined)?.[i];
            const b = (nlc?.["latency"] as Latency[] | undefined)?.[i];
            const cell = (l: Latency | undefined) => (l === undefined ? "n/a" : `${f(l.p50Ms, 0)} / ${f(l.p99Ms, 0)} ms, ${f(l.tokensPerSecond)} tok/s`);
            console.log(`  concurrency ${String(concurrency).padStart(2)}: qwen3-embedding ${cell(a).padEnd(30)} node-llama-cpp ${cell(b)}`);
        }
        const invariance = ours?.["batchInvarianceWorstCosine"] as number | undefined;
        if (invariance !== undefined) console.log(`  batch invariance: worst cosine alone vs in a batch ${invariance.toFixed(7)} (>= ${T.batchInvariance}: ${verdict(invariance >= T.batchInvariance)})`);
    }

    const mixed = r["mixed-load"] as (FacadeResult & MixedLoad) | undefined;
    if (mixed) report["mixedLoad"] = mixedLoadReport(mixed);

    if (ran("ours-embed", "ours-embed-2-workers", "nlc-embed", "ours-rerank", "nlc-rerank") || Number.isFinite(libraryRss.oneWorker)) {
        console.log("\npeak RSS (MB)");
        const { oneWorker: rss1, twoWorkers: rss2 } = libraryRss;
        console.log(`  qwen3-embedding in plain node, 1 worker: ${f(rss1, 0)} = model file ${f(modelMb.embedding, 0)} + ${f(rss1 - modelMb.embedding, 0)} (<= +${T.rssOverModelMb}: ${verdict(rss1 - modelMb.embedding <= T.rssOverModelMb)})`);
        console.log(`  qwen3-embedding in plain node, 2 workers: ${f(rss2, 0)}: the second worker adds ${f(rss2 - rss1, 0)} (<= ${T.rssSecondWorkerMb}: ${verdict(rss2 - rss1 <= T.rssSecondWorkerMb)})`);
        const harness = (name: string) => f(r[name]?.peakRssMb ?? Number.NaN, 0);
        console.log(`  in the benchmark's tsx processes (+~37 MB of tsx): embedding ours ${harness("ours-embed")} (2 workers ${harness("ours-embed-2-workers")}), node-llama-cpp ${harness("nlc-embed")}; reranking ours ${harness("ours-rerank")}, node-llama-cpp ${harness("nlc-rerank")}`);
        report["peakRssMb"] = { oneWorker: rss1, twoWorkers: rss2, modelFile: modelMb.embedding, harness: { ours: r["ours-embed"]?.peakRssMb, nlc: nlc?.peakRssMb } };
    }

    const sweep = r["ours-sweep"]?.["sweep"] as SweepEntry[] | undefined;
    if (sweep) {
        console.log("\nbatchTokens x flash attention (qwen3-embedding, tokens/s): short texts / e-mails");
        for (const entry of sweep) console.log(`  batchTokens ${String(entry.batchTokens).padStart(4)}, flash attention ${entry.flashAttention ? "on " : "off"}: ${f(entry.short.tokensPerSecond)} / ${f(entry.emails.tokensPerSecond)}`);
    }
    const costOurs = r["ours-cost"]?.["costs"] as Cost[] | undefined;
    const costNlc = r["nlc-cost"]?.["costs"] as Cost[] | undefined;
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

/** Latency under bulk load (issue 17): the mixed-load case's figures and its two verdicts. */
function mixedLoadReport(m: MixedLoad): Record<string, number> {
    const { idle, bulkAlone, mixed } = m;
    const latencyRatio = mixed.queries.p99Ms / idle.p50Ms;
    const bulkRatio = mixed.bulk.tokensPerSecond / bulkAlone.tokensPerSecond;
    const ms = (value: number) => `${f(value, 0)} ms`;
    const batches = (b: MixedLoad["bulkAloneBatches"]) =>
        `${b.batches} batches of ${b.sequences.min}-${b.sequences.max} sequences, ${b.tokens.min}-${b.tokens.max} tokens, ${ms(b.ms.median)} median, ${ms(b.ms.max)} max`;
    const single = m.singleEmails;
    console.log(`\nlatency under bulk load (1 worker; ${m.bulkEmails} e-mails of ${m.bulkTokens.min}-${m.bulkTokens.max} tokens, ${m.bulkTokens.total} in all, as one bulk call; a query every ${QUERY_INTERVAL_MS} ms)`);
    console.log(`  one e-mail at a time on the idle embedder: ${single.map((s) => `${f(s.ms, 0)} ms/${s.tokens} tok`).join(", ")} (median ${ms(median(single.map((s) => s.ms)))})`);
    console.log(`  idle, one query at a time (${idle.count}, ${idle.tokens.min}-${idle.tokens.max} tokens): p50 ${ms(idle.p50Ms)}, p99 ${ms(idle.p99Ms)}`);
    console.log(`  bulk alone: ${f(bulkAlone.tokensPerSecond)} tok/s (${f(bulkAlone.seconds)} s); ${batches(m.bulkAloneBatches)}`);
    console.log(`  mixed, ${mixed.queries.count} queries: p50 ${ms(mixed.queries.p50Ms)}, p99 ${ms(mixed.queries.p99Ms)} (max ${ms(mixed.queries.maxMs)}); bulk ${f(mixed.bulk.tokensPerSecond)} tok/s ` +
        `(${f(mixed.bulk.seconds)} s; with the queries' tokens ${f(mixed.allTokensPerSecond)} tok/s); ${batches(mixed.batches)}`);
    if (mixed.stoppedEarly) {
        console.log(`  queries stopped before the bulk call finished, at ${MIXED_LIMIT_FACTOR}x its time alone (queries are served first, and this host answered them slower than they came); ` +
            `the bulk call took ${f(mixed.bulk.seconds / bulkAlone.seconds, 1)}x its time alone`);
    }
    console.log(`  mixed p99 / idle p50 = ${f(latencyRatio, 2)}x (<= ${T.mixedP99OverIdleP50}: ${verdict(latencyRatio <= T.mixedP99OverIdleP50)}); ` +
        `bulk throughput mixed / alone = ${f(bulkRatio, 2)}x (>= ${T.mixedBulkThroughput}: ${verdict(bulkRatio >= T.mixedBulkThroughput)})`);
    // What the host leaves the bulk: the queries' tokens, decoded at the bulk's own rate alone, take this share of the phase.
    const queryShare = (mixed.allTokensPerSecond - mixed.bulk.tokensPerSecond) / bulkAlone.tokensPerSecond;
    const keptRatio = mixed.allTokensPerSecond / bulkAlone.tokensPerSecond;
    console.log(`  mixed p99 / idle p99 = ${f(mixed.queries.p99Ms / idle.p99Ms, 2)}x; the queries' tokens at the bulk's rate alone take ${f(queryShare * 100, 0)}% of the mixed phase, ` +
        `so the bulk can keep at most ${f(1 - queryShare, 2)}x; all tokens mixed / bulk alone = ${f(keptRatio, 2)}x`);
    return {
        idleP50Ms: idle.p50Ms, idleP99Ms: idle.p99Ms, mixedP50Ms: mixed.queries.p50Ms, mixedP99Ms: mixed.queries.p99Ms,
        mixedP99OverIdleP50: latencyRatio, bulkAloneTokensPerSecond: bulkAlone.tokensPerSecond,
        bulkMixedTokensPerSecond: mixed.bulk.tokensPerSecond, bulkMixedOverAlone: bulkRatio, allTokensPerSecondMixed: mixed.allTokensPerSecond,
        queriesStoppedEarly: mixed.stoppedEarly ? 1 : 0, mixedP99OverIdleP99: mixed.queries.p99Ms / idle.p99Ms,
        allTokensMixedOverBulkAlone: mixed.allTokensPerSecond / bulkAlone.tokensPerSecond,
    };
}
