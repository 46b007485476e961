/** The upper bound alone: one 512-token sequence decoded again and again, by the embedding and the reranking model. */
import type { Library } from "../runner.js";
import { loadedLlamaLibraries, peakRssMb } from "../bench-support.js";
import { upperBound } from "../contenders.js";
import type { FacadeWorkload } from "../facade-workload.js";
import { measure } from "../measure.js";
import type { FacadeResult } from "../registry.js";

export const UPPER_TOKENS = 512;

/** The upper bound's sequence: the first UPPER_TOKENS tokens of the long text. */
export const upperTokens = (w: FacadeWorkload) => w.longTokens.slice(0, UPPER_TOKENS);

async function upperCase(name: "upper-embed" | "upper-rerank", w: FacadeWorkload, lib: Library): Promise<FacadeResult> {
    const upper = await upperBound(lib, name === "upper-embed" ? w.embeddingModel : w.rerankModel, upperTokens(w), name === "upper-embed" ? "embed" : "rank");
    await upper.decode();
    const result = await measure(UPPER_TOKENS * w.upperRepeats, w.upperRepeats, async () => {
        for (let i = 0; i < w.upperRepeats; i++) await upper.decode();
    });
    upper.dispose();
    return { case: name, upper: result, peakRssMb: peakRssMb(), libraries: loadedLlamaLibraries() };
}

export const upperEmbed = (w: FacadeWorkload, lib: Library) => upperCase("upper-embed", w, lib);
export const upperRerank = (w: FacadeWorkload, lib: Library) => upperCase("upper-rerank", w, lib);
