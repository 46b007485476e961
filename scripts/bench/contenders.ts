/**
 * The engines the cases compare, set up once for every case: node-llama-cpp as a knowledgeable user would configure
 * it, and the upper bound (the same llama.cpp build decoding one long sequence, an output at its last token only).
 */
import type { Library } from "./runner.js";

export type Token = import("node-llama-cpp").Token;
/** node-llama-cpp's batch (and ranking context) size: at least the longest input, so each text decodes at once. */
export const NLC_BATCH_SIZE = 2048;

/**
 * node-llama-cpp with threads = physical cores and flash attention, on the CPU or on `gpu` (node-llama-cpp's name
 * for the build our engine bound), from its prebuilt binaries only.
 */
export async function nodeLlamaCpp(gpu: string | false = false) {
    const { getLlama, LlamaLogLevel } = await import("node-llama-cpp");
    const llama = await getLlama({
        gpu: gpu === false ? false : (gpu as "cuda" | "vulkan" | "metal"),
        build: "never",
        skipDownload: true,
        progressLogs: false,
        logLevel: LlamaLogLevel.warn,
    });
    // Its default thread cap on CPU is max(cpuMathCores, 4): more threads than this machine has cores halves throughput.
    const threads = llama.cpuMathCores;
    llama.maxThreads = threads;
    const loadModel = (modelPath: string) => llama.loadModel({ modelPath, gpuLayers: gpu === false ? 0 : "max", defaultContextFlashAttention: true });
    return {
        llama,
        config: { threads, flashAttention: true, buildType: llama.buildType, gpu: llama.gpu },
        // getEmbeddingFor needs input length < contextSize.
        embeddingContext: async (modelPath: string, batchSize: number) =>
            (await loadModel(modelPath)).createEmbeddingContext({ contextSize: batchSize + 256, batchSize, threads }),
        rankingContext: async (modelPath: string) =>
            (await loadModel(modelPath)).createRankingContext({ contextSize: NLC_BATCH_SIZE, batchSize: NLC_BATCH_SIZE, threads }),
    };
}

/** Tokens node-llama-cpp's ranking context evaluates for each query-document pair, summed. */
export function rankInputTokens(context: import("node-llama-cpp").LlamaRankingContext, query: string, documents: string[]): number {
    return documents.reduce((total, document) => total + context.calculateInputLength(query, document), 0);
}

/** The upper bound: our engine decoding `tokens` as one sequence in a context of that size, an output at its last token only. */
export async function upperBound({ loadEngineModel }: Library, modelPath: string, tokens: readonly number[], kind: "embed" | "rank") {
    const model = await loadEngineModel(modelPath);
    const context = await model.createContext({ batchTokens: tokens.length });
    const sequence = Int32Array.from(tokens);
    return {
        context,
        decode: () => (kind === "embed" ? context.embedBatch([sequence]) : context.rankBatch([sequence])),
        dispose() {
            context.dispose();
            model.dispose();
        },
    };
}
