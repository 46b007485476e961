/** Reranking throughput and scores, each engine in a process of its own: the facade and node-llama-cpp's rankAll. */
import type { Library } from "../runner.js";
import { loadedLlamaLibraries, peakRssMb, startClock } from "../bench-support.js";
import { NLC_BATCH_SIZE, nodeLlamaCpp, rankInputTokens } from "../contenders.js";
import type { FacadeWorkload } from "../facade-workload.js";
import { measure, throughput } from "../measure.js";
import type { FacadeResult } from "../registry.js";

/** One query against every document in one call; then llama.cpp's RANK pooling on the official prompt, the reference scores. */
export async function oursRerank(w: FacadeWorkload, lib: Library): Promise<FacadeResult> {
    const { createReranker, loadEngineModel, RERANK_PREFIX, RERANK_SUFFIX, formatRerankBody, DEFAULT_INSTRUCTION } = lib;
    const reranker = await createReranker({ model: w.rerankModel });
    await reranker.score([[w.query, w.documents[0]!]]);
    const clock = startClock();
    const ranked = await reranker.rerank(w.query, w.documents);
    const timed = clock.stop();
    const scores = ranked.results.sort((a, b) => a.index - b.index).map((item) => item.score);
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
    return { case: "ours-rerank", rerank: throughput(ranked.totalTokens, w.documents.length, timed), scores, referenceScores: reference, peakRssMb: rss, libraries: loadedLlamaLibraries() };
}

/** node-llama-cpp's LlamaRankingContext.rankAll on the same query and documents. */
export async function nlcRerank(w: FacadeWorkload): Promise<FacadeResult> {
    const nlc = await nodeLlamaCpp();
    const context = await nlc.rankingContext(w.rerankModel);
    await context.rank(w.query, w.documents[0]!);
    let scores: number[] = [];
    const tokens = rankInputTokens(context, w.query, w.documents);
    const result = await measure(tokens, w.documents.length, async () => {
        scores = await context.rankAll(w.query, w.documents);
    });
    const rss = peakRssMb();
    await context.dispose();
    return { case: "nlc-rerank", rerank: result, scores, config: { ...nlc.config, batchSize: NLC_BATCH_SIZE }, peakRssMb: rss, libraries: loadedLlamaLibraries() };
}
