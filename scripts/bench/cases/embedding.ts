/** Embedding throughput and latency, each engine in a process of its own: the facade, node-llama-cpp, the batchTokens sweep. */
import type { Library } from "../runner.js";
import { loadedLlamaLibraries, peakRssMb } from "../bench-support.js";
import { NLC_BATCH_SIZE, nodeLlamaCpp, type Token } from "../contenders.js";
import type { FacadeWorkload } from "../facade-workload.js";
import { latency, measure, totalTokens, type Latency, type Throughput } from "../measure.js";
import type { FacadeResult } from "../registry.js";

/** Callers at a time in the latency runs. */
export const CONCURRENCY = [1, 8, 64];

/** The short texts in one call and as concurrent calls, the e-mails in one call, latency, and batch invariance. */
export async function oursEmbed(w: FacadeWorkload, { createEmbedder, cosineSimilarity }: Library): Promise<FacadeResult> {
    const shortTokens = totalTokens(w.shortTokens);
    const embedder = await createEmbedder({ model: w.embeddingModel, workers: 1 });
    await embedder.embedDocuments(w.short.slice(0, 2));
    const result: Record<string, unknown> = { workers: 1 };
    let checked = 0;
    result["shortOneCall"] = await measure(shortTokens, w.short.length, async () => {
        checked = (await embedder.embedDocuments(w.short)).totalTokens;
    });
    if (checked !== shortTokens) throw new Error(`the facade evaluated ${checked} tokens, the workload says ${shortTokens}`);
    result["shortConcurrent"] = await measure(shortTokens, w.short.length, () => Promise.all(w.short.map((text) => embedder.embedDocuments([text]))));
    const emails = { value: undefined as Float32Array[] | undefined };
    result["emails"] = await measure(totalTokens(w.emailTokens), w.emails.length, async () => {
        emails.value = (await embedder.embedDocuments(w.emails)).embeddings as Float32Array[];
    });
    result["latency"] = [];
    for (const concurrency of CONCURRENCY) {
        (result["latency"] as Latency[]).push(await latency(concurrency, Math.max(w.latencyRequests, concurrency * 2), w.short, (i) => w.shortTokens[i]!.length, (i) => embedder.embedDocuments([w.short[i]!])));
    }
    // Batch invariance: every e-mail and short text alone against its row in the big calls.
    let worst = 1;
    for (const [i, text] of w.emails.entries()) worst = Math.min(worst, cosineSimilarity((await embedder.embedDocuments([text])).embeddings[0] as Float32Array, emails.value![i]!));
    const shortBatch = (await embedder.embedDocuments([...w.short.slice(0, 16), ...w.emails.slice(0, 4)])).embeddings as Float32Array[];
    for (let i = 0; i < 16; i++) worst = Math.min(worst, cosineSimilarity((await embedder.embedDocuments([w.short[i]!])).embeddings[0] as Float32Array, shortBatch[i]!));
    result["batchInvarianceWorstCosine"] = worst;
    const rss = peakRssMb();
    await embedder.close();
    return { case: "ours-embed", ...result, peakRssMb: rss, libraries: loadedLlamaLibraries() };
}

/** The e-mails in one call on a pool of two workers (its peak RSS is what the case is for). */
export async function oursEmbedTwoWorkers(w: FacadeWorkload, { createEmbedder }: Library): Promise<FacadeResult> {
    const embedder = await createEmbedder({ model: w.embeddingModel, workers: 2 });
    await embedder.embedDocuments(w.short.slice(0, 2));
    const emails = await measure(totalTokens(w.emailTokens), w.emails.length, () => embedder.embedDocuments(w.emails));
    await embedder.close();
    return { case: "ours-embed-2-workers", workers: 2, emails, peakRssMb: peakRssMb(), libraries: loadedLlamaLibraries() };
}

/** node-llama-cpp one text at a time: the short texts, the e-mails, and latency. */
export async function nlcEmbed(w: FacadeWorkload): Promise<FacadeResult> {
    const nlc = await nodeLlamaCpp();
    const context = await nlc.embeddingContext(w.embeddingModel, NLC_BATCH_SIZE);
    await context.getEmbeddingFor(w.shortTokens[0] as Token[]);
    const oneAtATime = (sequences: number[][]) => async () => {
        for (const sequence of sequences) await context.getEmbeddingFor(sequence as Token[]);
    };
    const result: Record<string, unknown> = { config: { ...nlc.config, batchSize: NLC_BATCH_SIZE } };
    result["shortOneCall"] = await measure(totalTokens(w.shortTokens), w.short.length, oneAtATime(w.shortTokens));
    result["emails"] = await measure(totalTokens(w.emailTokens), w.emails.length, oneAtATime(w.emailTokens));
    result["latency"] = [];
    for (const concurrency of CONCURRENCY) {
        (result["latency"] as Latency[]).push(await latency(concurrency, Math.max(w.latencyRequests, concurrency * 2), w.short, (i) => w.shortTokens[i]!.length, (i) => context.getEmbeddingFor(w.shortTokens[i]! as Token[])));
    }
    const rss = peakRssMb();
    await context.dispose();
    return { case: "nlc-embed", ...result, peakRssMb: rss, libraries: loadedLlamaLibraries() };
}

export interface SweepEntry { batchTokens: number; flashAttention: boolean; short: Throughput; emails: Throughput }

/** How batchTokens and flash attention change throughput (how the defaults were chosen). */
export async function oursSweep(w: FacadeWorkload, { createEmbedder }: Library): Promise<FacadeResult> {
    const sweep: SweepEntry[] = [];
    for (const batchTokens of [256, 512, 1024, 2048]) {
        for (const flashAttention of [true, false]) {
            const embedder = await createEmbedder({ model: w.embeddingModel, batchTokens, flashAttention });
            await embedder.embedDocuments(w.short.slice(0, 2));
            const short = await measure(totalTokens(w.shortTokens), w.short.length, () => embedder.embedDocuments(w.short));
            const emails = await measure(totalTokens(w.emailTokens), w.emails.length, () => embedder.embedDocuments(w.emails));
            sweep.push({ batchTokens, flashAttention, short, emails });
            await embedder.close();
        }
    }
    return { case: "ours-sweep", sweep, peakRssMb: peakRssMb(), libraries: loadedLlamaLibraries() };
}
