/** Cost per token of one input as it grows from 32 to 8192 tokens: the facade and node-llama-cpp. */
import type { Library } from "../runner.js";
import { END_OF_TEXT_TOKEN } from "../../../src/format/embedding-input.js";
import { loadedLlamaLibraries, peakRssMb } from "../bench-support.js";
import { nodeLlamaCpp, type Token } from "../contenders.js";
import type { FacadeWorkload } from "../facade-workload.js";
import { measure } from "../measure.js";
import type { FacadeResult } from "../registry.js";

export interface Cost { tokens: number; msPerToken: number }

export async function oursCost(w: FacadeWorkload, { createEmbedder }: Library): Promise<FacadeResult> {
    const embedder = await createEmbedder({ model: w.embeddingModel, contextSize: 8192 });
    await embedder.embedDocuments([w.short[0]!]);
    const costs: Cost[] = [];
    for (const length of w.costLengths) {
        const result = await measure(length, 1, async () => {
            const { tokens } = await embedder.embedDocuments([w.longText], { maxTokens: length });
            if (tokens[0] !== length) throw new Error(`expected ${length} tokens, the facade evaluated ${tokens[0]}`);
        });
        costs.push({ tokens: length, msPerToken: (result.seconds * 1000) / length });
    }
    await embedder.close();
    return { case: "ours-cost", costs, peakRssMb: peakRssMb(), libraries: loadedLlamaLibraries() };
}

export async function nlcCost(w: FacadeWorkload): Promise<FacadeResult> {
    const nlc = await nodeLlamaCpp();
    const batchSize = 8192;
    const context = await nlc.embeddingContext(w.embeddingModel, batchSize);
    await context.getEmbeddingFor(w.shortTokens[0] as Token[]);
    const costs: Cost[] = [];
    for (const length of w.costLengths) {
        const input = [...w.longTokens.slice(0, length - 1), END_OF_TEXT_TOKEN] as Token[];
        const result = await measure(length, 1, () => context.getEmbeddingFor(input));
        costs.push({ tokens: length, msPerToken: (result.seconds * 1000) / length });
    }
    await context.dispose();
    return { case: "nlc-cost", costs, config: { ...nlc.config, batchSize }, peakRssMb: peakRssMb(), libraries: loadedLlamaLibraries() };
}
