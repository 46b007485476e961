/**
 * The ratio verdicts: this library, node-llama-cpp one text at a time and the upper bound in one process, in turn on
 * small slices of the same texts (every e-mail three times, every document once), so that each ratio compares throughput
 * measured seconds apart. The absolute figures of each engine in a fresh process of its own come from the other cases.
 */
import type { Library } from "../runner.js";
import { loadedLlamaLibraries, median, peakRssMb } from "../bench-support.js";
import { NLC_BATCH_SIZE, nodeLlamaCpp, rankInputTokens, upperBound, type Token } from "../contenders.js";
import type { FacadeWorkload } from "../facade-workload.js";
import { alternate, totalTokens, type Arm } from "../measure.js";
import type { FacadeResult } from "../registry.js";
import { UPPER_TOKENS, upperTokens } from "./upper-bound.js";

// Slices of this many e-mails (every e-mail EMAIL_PASSES times) and documents (each once), each arm in turn per slice.
export const EMAIL_SLICE = 2;
const EMAIL_PASSES = 3;
export const DOCUMENT_SLICE = 5;
const SHORT_ROUNDS = 5;
export const IDLE_QUERIES = 7;

export async function alternating(w: FacadeWorkload, lib: Library): Promise<FacadeResult> {
    const embedder = await lib.createEmbedder({ model: w.embeddingModel });
    const reranker = await lib.createReranker({ model: w.rerankModel });
    const nlc = await nodeLlamaCpp();
    const nlcEmbed = await nlc.embeddingContext(w.embeddingModel, NLC_BATCH_SIZE);
    const nlcRank = await nlc.rankingContext(w.rerankModel);
    const upperEmbed = await upperBound(lib, w.embeddingModel, upperTokens(w), "embed");
    const upperRank = await upperBound(lib, w.rerankModel, upperTokens(w), "rank");
    const upperArm = (upper: typeof upperEmbed): Arm => async () => {
        await upper.decode();
        return { tokens: UPPER_TOKENS, texts: 1 };
    };
    const nlcEmbedArm = (sequences: (slice: number) => number[][]): Arm => async (slice) => {
        const list = sequences(slice);
        for (const sequence of list) await nlcEmbed.getEmbeddingFor(sequence as Token[]);
        return { tokens: totalTokens(list), texts: list.length };
    };
    const sliceOf = <T>(items: T[], size: number, slice: number) => {
        const start = (slice * size) % items.length;
        return items.slice(start, start + size);
    };
    await embedder.embedDocuments(w.short.slice(0, 2));
    await reranker.rerank(w.query, w.documents.slice(0, 1));
    await nlcEmbed.getEmbeddingFor(w.shortTokens[0] as Token[]);
    await nlcRank.rank(w.query, w.documents[0]!);
    await upperEmbed.decode();
    await upperRank.decode();

    const shortTokens = totalTokens(w.shortTokens);
    const short = await alternate(SHORT_ROUNDS, {
        oursOneCall: async () => {
            const { totalTokens: tokens } = await embedder.embedDocuments(w.short);
            if (tokens !== shortTokens) throw new Error(`the facade evaluated ${tokens} tokens, the workload says ${shortTokens}`);
            return { tokens, texts: w.short.length };
        },
        oursConcurrent: async () => {
            const results = await Promise.all(w.short.map((text) => embedder.embedDocuments([text])));
            return { tokens: results.reduce((total, result) => total + result.totalTokens, 0), texts: w.short.length };
        },
        nlc: nlcEmbedArm(() => w.shortTokens),
    });
    const emails = await alternate(Math.ceil((EMAIL_PASSES * w.emails.length) / EMAIL_SLICE), {
        ours: async (slice) => {
            const texts = sliceOf(w.emails, EMAIL_SLICE, slice);
            return { tokens: (await embedder.embedDocuments(texts)).totalTokens, texts: texts.length };
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
        const facade = () => timed(idle.facade, () => embedder.embedDocuments([w.short[i]!]));
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
