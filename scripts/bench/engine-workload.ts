/**
 * The engine group's workload, written once by the parent for every trial: identical token sequences (e-mails and
 * poems mixed, <|endoftext|> appended) for both engines, a 512-token sequence for the upper bound, and what the
 * results were measured on.
 */
import { statSync } from "node:fs";
import { arch, cpus, freemem, loadavg, platform, release, totalmem } from "node:os";
import { join } from "node:path";
import type { Library } from "./runner.js";
import { END_OF_TEXT_TOKEN } from "../../src/format/embedding-input.js";
import { ensureFixtureModel, fixturePath, REPO_ROOT } from "../../test/fixtures/qwen3-fixture.js";
import { benchTexts } from "./bench-texts.js";
import { UsageError } from "./registry.js";
import { installedNodeLlamaCpp } from "../../src/engine/llama-build-guard.js";
import { cpuModel, readOptional } from "./machine.js";

/** Longest sequence fed to either engine, the appended <|endoftext|> included. */
export const MAX_SEQUENCE_TOKENS = 2048;
const UPPER_BOUND_TOKENS = 512;

export const ENGINE_DEFAULTS = { tokens: 6000, trials: 2, batchTexts: 64, upperRepeats: 6 } as const;
/** --quick: a workload and a number of trials for checking that the group runs, not for figures. */
export const ENGINE_QUICK = { tokens: 1500, trials: 1, batchTexts: 64, upperRepeats: 3 } as const;

export interface EngineOptions {
    tokens: number;
    trials: number;
    model: string | undefined;
    batchTexts: number;
    upperRepeats: number;
}

export interface EngineWorkload {
    modelPath: string;
    /** node-llama-cpp's `gpu` for the build our engine bound (false on CPU), so both drive the same libraries. */
    gpu: string | false;
    ids: string[];
    sequences: number[][];
    upperSequence: number[];
    batchTexts: number;
    upperRepeats: number;
}

export async function defaultEngineModel(): Promise<string> {
    const spec = { kind: "embedding", size: "0.6b" } as const;
    try {
        statSync(fixturePath(spec));
    } catch {
        console.log(`creating the 0.6B-shaped Q8_0 fixture ${fixturePath(spec)} (about 650 MB) ...`);
    }
    return ensureFixtureModel(spec);
}

export async function prepareEngineWorkload(modelPath: string, options: EngineOptions, { loadEngineModel }: Library) {
    const model = await loadEngineModel(modelPath);
    try {
        const ids: string[] = [];
        const sequences: number[][] = [];
        let emails = 0;
        let poems = 0;
        let total = 0;
        let lastCut: string | undefined;
        const texts = benchTexts();
        while (total < options.tokens) {
            const chunk = [];
            for (let next = texts.next(); !next.done; next = texts.next()) {
                chunk.push(next.value);
                if (chunk.length === 16) break;
            }
            if (chunk.length === 0) throw new UsageError(`--tokens ${options.tokens} is more text than the data packages hold (${total} tokens)`);
            const tokenized = await model.tokenize(chunk.map((item) => item.text), { special: false });
            for (const [i, item] of chunk.entries()) {
                if (total >= options.tokens) break;
                const textIds = tokenized[i]!;
                if (textIds.length === 0) continue;
                // The last text is cut so that the workload holds --tokens tokens, not a long e-mail more.
                const keep = Math.min(textIds.length, MAX_SEQUENCE_TOKENS - 1, Math.max(1, options.tokens - total - 1));
                if (keep < textIds.length && keep < MAX_SEQUENCE_TOKENS - 1) lastCut = `${item.id} cut to ${keep + 1} tokens`;
                const sequence = [...textIds.subarray(0, keep), END_OF_TEXT_TOKEN];
                ids.push(item.id);
                sequences.push(sequence);
                total += sequence.length;
                if (item.source === "spam-assassin") emails++;
                else poems++;
            }
        }
        // The upper bound's sequence: the workload's own text, 511 tokens of it, then <|endoftext|>.
        const stream = sequences.flatMap((sequence) => sequence.slice(0, -1));
        const upperSequence: number[] = [];
        for (let i = 0; upperSequence.length < UPPER_BOUND_TOKENS - 1; i++) upperSequence.push(stream[i % stream.length]!);
        upperSequence.push(END_OF_TEXT_TOKEN);

        const lengths = sequences.map((sequence) => sequence.length).sort((a, b) => a - b);
        const inspection = model.inspection;
        const library = model.library;
        const nodeLlamaCpp = installedNodeLlamaCpp();
        const workload: EngineWorkload = {
            modelPath,
            gpu: typeof library.gpu === "string" ? library.gpu : false,
            ids,
            sequences,
            upperSequence,
            batchTexts: options.batchTexts,
            upperRepeats: options.upperRepeats,
        };
        const meta = {
            machine: {
                cpu: cpuModel(),
                logicalCpus: cpus().length,
                mathCores: library.mathCores,
                memoryGiB: totalmem() / 2 ** 30,
                loadAverageAtStart: loadavg(),
                busyBeforeStart: undefined as { percent: number; how: string } | undefined,
                freeMemoryGiB: freemem() / 2 ** 30,
                os: `${platform()} ${release()} ${arch()}`,
                node: process.version,
            },
            model: {
                path: modelPath,
                sizeBytes: inspection.fileSizeBytes,
                name: inspection.name,
                shape:
                    `${inspection.architecture}, ${(model.info.parameters / 1e6).toFixed(0)}M parameters, ${inspection.layers} layers, ` +
                    `hidden ${inspection.embeddingSize}, vocabulary ${inspection.vocabularySize}, pooling ${inspection.pooling}, ${model.info.description}`,
            },
            build: {
                nodeLlamaCpp: nodeLlamaCpp.version,
                llamaCppRelease: nodeLlamaCpp.llamaCppRelease,
                libllama: library.libraryPath,
                buildType: library.buildType,
                gpu: library.gpu,
                llamaHeadersCommit: readOptional(join(REPO_ROOT, "native", "llama-headers", "SOURCE_COMMIT")),
            },
        };
        return {
            workload,
            meta,
            emails,
            poems,
            lastCut,
            shortest: lengths[0]!,
            longest: lengths.at(-1)!,
            median: lengths[Math.floor(lengths.length / 2)]!,
        };
    } finally {
        model.dispose();
    }
}
