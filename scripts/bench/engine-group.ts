/**
 * The engine group: every engine on the same token sequences, each trial in a fresh process, the engines in a
 * rotating order; then the report and `.bench/engine-<date>.json`. Fails when the engines' embeddings differ.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { REPO_ROOT } from "../../test/fixtures/qwen3-fixture.js";
import { otherCpuUse } from "./bench-support.js";
import type { EngineTrial } from "./cases/engine.js";
import { engineReport, starvedTrials, type TrialResult } from "./engine-report.js";
import { defaultEngineModel, MAX_SEQUENCE_TOKENS, prepareEngineWorkload, type EngineOptions } from "./engine-workload.js";
import { totalTokens } from "./measure.js";
import type { EngineCase } from "./registry.js";
import { loadLibrary, spawnCase } from "./runner.js";

export interface EngineGroupOptions extends EngineOptions { json: string | undefined; verbose: boolean; command: string }

const fmt = (value: number, digits: number) => value.toFixed(digits);

export async function runEngineGroup(cases: EngineCase[], options: EngineGroupOptions): Promise<number> {
    const date = new Date();
    const modelPath = options.model ?? (await defaultEngineModel());
    // The engine group measures the engine itself: the library from src/, whatever --from-src says.
    const prepared = await prepareEngineWorkload(modelPath, options, await loadLibrary(true));
    const { workload, meta } = prepared;

    const dir = mkdtempSync(join(tmpdir(), "qwen3-bench-"));
    const workloadPath = join(dir, "workload.json");
    writeFileSync(workloadPath, JSON.stringify(workload));

    const tokens = totalTokens(workload.sequences);
    console.log(`qwen3-embedding engine benchmark, ${date.toISOString()}`);
    console.log(
        `workload: ${workload.sequences.length} texts (${prepared.emails} e-mails, ${prepared.poems} poems), ${tokens} tokens ` +
            `(<|endoftext|> appended, truncated to ${MAX_SEQUENCE_TOKENS}), lengths ${prepared.shortest}..${prepared.longest}, ` +
            `median ${prepared.median}${prepared.lastCut === undefined ? "" : ` (${prepared.lastCut} to fit --tokens)`}`,
    );
    console.log(`${options.trials} trial(s) per engine, each in a fresh process; engines alternate`);
    const busy = await otherCpuUse();
    meta.machine.busyBeforeStart = busy;
    if (busy.percent > 10) {
        console.log(
            `WARNING: the machine is busy before the benchmark starts (${busy.how}); other processes compete for the cores ` +
                "and lower every figure. Check the CPU % column.",
        );
    }
    console.log("");

    const results: TrialResult[] = [];
    try {
        for (let trial = 1; trial <= options.trials; trial++) {
            // Rotate the order so that no engine always runs first (or right after another's page-cache warm-up).
            const order = cases.map((_, i) => cases[(i + trial - 1) % cases.length]!);
            for (const { name, engine } of order) {
                const child = await spawnCase<EngineTrial>(name, workloadPath, { verbose: options.verbose, fromSource: true });
                const result: TrialResult = { ...child, trial, tokensPerSecond: child.tokens / child.seconds, textsPerSecond: child.texts / child.seconds };
                results.push(result);
                console.log(
                    `  trial ${trial}/${options.trials}  ${engine.padEnd(15)} ${fmt(result.tokensPerSecond, 1).padStart(7)} tok/s  ` +
                        `${fmt(result.seconds, 1).padStart(6)} s timed, CPU ${fmt(result.cpuPercent, 0)}%, ` +
                        `${fmt(result.loadSeconds, 1)} s load + warm-up (pid ${result.pid})`,
                );
            }
        }
    } finally {
        rmSync(dir, { recursive: true, force: true });
    }

    const { summaries, ratios, check } = engineReport(results, workload, meta, date);
    const jsonPath = options.json ?? join(REPO_ROOT, ".bench", `engine-${date.toISOString().replace(/[:.]/g, "-")}.json`);
    mkdirSync(dirname(jsonPath), { recursive: true });
    writeFileSync(
        jsonPath,
        `${JSON.stringify(
            {
                date: date.toISOString(),
                command: options.command,
                ...meta,
                workload: {
                    texts: workload.sequences.length,
                    tokens,
                    targetTokens: options.tokens,
                    lastTextCut: prepared.lastCut ?? null,
                    batchTexts: workload.batchTexts,
                    upperBoundTokens: workload.upperSequence.length,
                    upperRepeats: workload.upperRepeats,
                    items: workload.ids.map((id, i) => ({ id, tokens: workload.sequences[i]!.length })),
                },
                summary: summaries,
                ratios,
                embeddingsMatch: check,
                trials: results.map(({ embeddings: _embeddings, ...rest }) => rest),
            },
            null,
            2,
        )}\n`,
    );
    const starved = starvedTrials(results);
    if (starved !== undefined) console.log(starved);
    const shown = relative(process.cwd(), jsonPath);
    console.log(`results: ${shown.startsWith("..") ? jsonPath : shown}`);
    if (check !== undefined && check.worst < check.threshold) {
        console.error(`\nThe engines computed different embeddings (cosine < ${check.threshold}): these throughput figures are not comparable.`);
        return 1;
    }
    return 0;
}
