/**
 * Raw engine throughput on the same token sequences: our engine's batched embedBatch, node-llama-cpp's
 * LlamaEmbeddingContext one text at a time, and the upper bound (our engine on one 512-token sequence). Model load
 * and a short warm-up are not timed; both engines return their raw embeddings for the parent to compare.
 */
import type { Library } from "../runner.js";
import { END_OF_TEXT_TOKEN } from "../../../src/format/embedding-input.js";
import { loadedLlamaLibraries, startClock } from "../bench-support.js";
import { nodeLlamaCpp, type Token } from "../contenders.js";
import { MAX_SEQUENCE_TOKENS, type EngineWorkload } from "../engine-workload.js";
import { totalTokens } from "../measure.js";

export type EngineKind = "ours" | "node-llama-cpp" | "upper-bound";

const WARM_UP_TOKENS = 16;

/** One trial as the child reports it; the parent adds the trial number, the pid and the rates. */
export interface EngineTrial {
    engine: EngineKind;
    texts: number;
    tokens: number;
    seconds: number;
    loadSeconds: number;
    /** CPU time of the child over the timed part, in % of one core (about 100 x threads when nothing else competes). */
    cpuPercent: number;
    /** Per-trial settings as the engine reports them. */
    config: Record<string, unknown>;
    /** llama.cpp / ggml shared libraries mapped into the child after the run. */
    libraries: string[];
    /** Raw (not normalized) embeddings, one per workload text; absent for the upper bound. */
    embeddings?: number[][];
}

function warmUpSequence(workload: EngineWorkload): number[] {
    return [...workload.sequences[0]!.slice(0, WARM_UP_TOKENS - 1), END_OF_TEXT_TOKEN];
}

async function ourEngine(workload: EngineWorkload, { loadEngineModel }: Library) {
    const loadStart = performance.now();
    const model = await loadEngineModel(workload.modelPath);
    const context = await model.createContext();
    await context.embedBatch([Int32Array.from(warmUpSequence(workload))]);
    const loadSeconds = (performance.now() - loadStart) / 1000;
    const config = { ...context.info, threads: model.library.mathCores ?? "llama.cpp default", gpu: model.library.gpu };
    return {
        context,
        loadSeconds,
        config,
        dispose() {
            context.dispose();
            model.dispose();
        },
    };
}

/** The workload's sequences through embedBatch, up to batchTexts per call. */
export async function oursEngine(workload: EngineWorkload, lib: Library): Promise<EngineTrial> {
    const { context, loadSeconds, config, dispose } = await ourEngine(workload, lib);
    const sequences = workload.sequences.map((sequence) => Int32Array.from(sequence));
    const width = context.embeddingSize;
    const embeddings: number[][] = [];
    const outputs: Float32Array[] = [];
    const clock = startClock();
    for (let at = 0; at < sequences.length; at += workload.batchTexts) {
        outputs.push(await context.embedBatch(sequences.slice(at, at + workload.batchTexts)));
    }
    const { seconds, cpuPercent } = clock.stop();
    for (const output of outputs) {
        for (let row = 0; row < output.length / width; row++) embeddings.push(Array.from(output.subarray(row * width, (row + 1) * width)));
    }
    dispose();
    return {
        engine: "ours",
        texts: sequences.length,
        tokens: totalTokens(workload.sequences),
        seconds,
        cpuPercent,
        loadSeconds,
        config: { ...config, calls: `${Math.ceil(sequences.length / workload.batchTexts)} embedBatch call(s) of up to ${workload.batchTexts} texts` },
        libraries: loadedLlamaLibraries(),
        embeddings,
    };
}

/** The upper bound: upperRepeats decodes of one 512-token sequence in our engine's default context. */
export async function upperEngine(workload: EngineWorkload, lib: Library): Promise<EngineTrial> {
    const { context, loadSeconds, config, dispose } = await ourEngine(workload, lib);
    const sequence = Int32Array.from(workload.upperSequence);
    const clock = startClock();
    for (let i = 0; i < workload.upperRepeats; i++) await context.embedBatch([sequence]);
    const { seconds, cpuPercent } = clock.stop();
    dispose();
    return {
        engine: "upper-bound",
        texts: workload.upperRepeats,
        tokens: workload.upperRepeats * sequence.length,
        seconds,
        cpuPercent,
        loadSeconds,
        config: { ...config, calls: `${workload.upperRepeats} x embedBatch([one ${sequence.length}-token sequence])` },
        libraries: loadedLlamaLibraries(),
    };
}

/** node-llama-cpp's getEmbeddingFor on each sequence in turn, with a batch as long as the longest text. */
export async function nlcEngine(workload: EngineWorkload): Promise<EngineTrial> {
    const loadStart = performance.now();
    const nlc = await nodeLlamaCpp(workload.gpu);
    const longest = Math.max(...workload.sequences.map((sequence) => sequence.length));
    const context = await nlc.embeddingContext(workload.modelPath, Math.max(MAX_SEQUENCE_TOKENS, longest));
    const inputs = workload.sequences.map((sequence) => sequence as Token[]);
    await context.getEmbeddingFor(warmUpSequence(workload) as Token[]);
    const loadSeconds = (performance.now() - loadStart) / 1000;

    const vectors: (readonly number[])[] = [];
    const clock = startClock();
    for (const input of inputs) vectors.push((await context.getEmbeddingFor(input)).vector);
    const { seconds, cpuPercent } = clock.stop();

    // LlamaEmbeddingContext keeps its LlamaContext private; its public getters tell what was really configured.
    const inner = (context as unknown as { _llamaContext?: { contextSize: number; batchSize: number; idealThreads: number; flashAttention: unknown } })._llamaContext;
    const { llama } = nlc;
    const config = {
        contextSize: inner?.contextSize,
        batchSize: inner?.batchSize,
        threads: inner?.idealThreads,
        maxThreads: llama.maxThreads,
        flashAttention: inner?.flashAttention,
        gpu: llama.gpu,
        buildType: llama.buildType,
        llamaCppRelease: llama.llamaCppRelease.release,
        calls: `${inputs.length} x getEmbeddingFor(tokens), one text at a time`,
    };
    await context.dispose();
    await context.model.dispose();
    const libraries = loadedLlamaLibraries();
    await llama.dispose();
    return {
        engine: "node-llama-cpp",
        texts: inputs.length,
        tokens: totalTokens(workload.sequences),
        seconds,
        cpuPercent,
        loadSeconds,
        config,
        libraries,
        embeddings: vectors.map((vector) => [...vector]),
    };
}
