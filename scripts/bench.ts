/**
 * The benchmarks, side by side in one run: every case (scripts/bench/registry.ts) runs in a fresh child process of
 * this program on the same workload, and its group's report prints the figures, the verdicts and the machine, and
 * writes a JSON result under .bench/. Two groups:
 *   facade  qwen3-embedding (facade → scheduler → worker pool → engine) against node-llama-cpp one text at a time and
 *           the upper bound, with the issue's targets (the default run; .bench/bench-<date>.json)
 *   engine  the raw engine's embedBatch against node-llama-cpp's LlamaEmbeddingContext on the same token sequences,
 *           in alternating trials (npm run bench:engine; .bench/engine-<date>.json)
 *
 *   npm run bench -- [--quick] [--only case,group,...] [--from-src] [--json out.json] [--verbose]
 *   npm run bench:engine -- [--tokens N] [--trials K] [--model path] [--batch-texts N] [--upper-repeats N]
 */
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { ENGINE_DEFAULTS, ENGINE_QUICK } from "./bench/engine-workload.js";
import { runEngineGroup } from "./bench/engine-group.js";
import { runFacadeGroup } from "./bench/facade-group.js";
import { CASES, GROUPS, selectCases, UsageError, type EngineCase, type FacadeCase } from "./bench/registry.js";
import { runChild } from "./bench/runner.js";

const ENGINE_FLAGS = ["tokens", "trials", "model", "batch-texts", "upper-repeats"] as const;

function usage(): string {
    const cases = CASES.map((c) => `  ${c.name.padEnd(21)} ${c.group.padEnd(7)} ${c.byDefault ? "" : "(only with --only) "}${c.compares}${c.gate === undefined ? "" : `\n${" ".repeat(32)}target: ${c.gate}`}`);
    return `Usage: npm run bench -- [options]

Runs each case in a fresh process on the same workload and prints its group's report; without --only, the facade group.

Options:
  --only a,b,...     cases or groups (${GROUPS.join(", ")}) to run, in that order
  --quick            a smaller workload (engine group: --tokens ${ENGINE_QUICK.tokens}, --trials ${ENGINE_QUICK.trials}, --upper-repeats ${ENGINE_QUICK.upperRepeats})
  --from-src         facade group: run src/ through tsx instead of the built dist/ (the engine group always runs src/)
  --json PATH        where to write the results (default .bench/bench-<date>.json, engine group .bench/engine-<date>.json)
  --verbose          forward the children's stderr (llama.cpp and node-llama-cpp logs)
  -h, --help         show this help
Engine group (npm run bench:engine, the same as --only engine):
  --tokens N         total tokens of the workload, e-mails and poems mixed (default ${ENGINE_DEFAULTS.tokens})
  --trials K         trials per engine (default ${ENGINE_DEFAULTS.trials})
  --model PATH       GGUF embedding model (default: the 0.6B-shaped Q8_0 fixture, created if missing)
  --batch-texts N    texts per embedBatch call for qwen3-embedding (default ${ENGINE_DEFAULTS.batchTexts})
  --upper-repeats N  timed 512-token decodes per upper-bound trial (default ${ENGINE_DEFAULTS.upperRepeats})

Cases (name, group, what it compares):
${cases.join("\n")}
`;
}

function integerFlag(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
    if (raw === undefined) return fallback;
    const value = /^\d+$/.test(raw.trim()) ? Number(raw.trim()) : Number.NaN;
    if (!Number.isSafeInteger(value) || value < min || value > max) {
        throw new UsageError(`Expected an integer between ${min} and ${max} for --${name} but received ${JSON.stringify(raw)}`);
    }
    return value;
}

function parseCli(argv: string[]) {
    try {
        return parseArgs({
            args: argv,
            strict: true,
            options: {
                quick: { type: "boolean" }, json: { type: "string" }, verbose: { type: "boolean" }, help: { type: "boolean", short: "h" },
                only: { type: "string" }, "from-src": { type: "boolean" }, child: { type: "string" }, workload: { type: "string" },
                tokens: { type: "string" }, trials: { type: "string" }, model: { type: "string" }, "batch-texts": { type: "string" }, "upper-repeats": { type: "string" },
            },
        }).values;
    } catch (error) {
        throw new UsageError((error as Error).message);
    }
}

async function main(): Promise<number> {
    const argv = process.argv.slice(2);
    const v = parseCli(argv);
    if (v.help) {
        console.log(usage());
        return 0;
    }
    const fromSource = v["from-src"] === true;
    if (v.child !== undefined) {
        if (v.workload === undefined) throw new UsageError("--child needs --workload (they are internal flags of the parent process)");
        await runChild(v.child, v.workload, fromSource);
        return 0;
    }
    if (v.workload !== undefined) throw new UsageError("--workload is internal; it is only valid with --child");
    const selected = selectCases(v.only);
    const facade = selected.filter((c): c is FacadeCase => c.group === "facade");
    const engine = selected.filter((c): c is EngineCase => c.group === "engine");
    const misplaced = ENGINE_FLAGS.filter((flag) => v[flag] !== undefined);
    if (engine.length === 0 && misplaced.length > 0) throw new UsageError(`--${misplaced[0]} is an option of the engine group; add --only engine (or run npm run bench:engine)`);
    if (facade.length > 0 && engine.length > 0 && v.json !== undefined) throw new UsageError("--json names one results file; run the facade and the engine cases apart to choose both");
    if (v.model === "") throw new UsageError("Expected a GGUF file path for --model but received an empty string");
    if (v.json === "") throw new UsageError("Expected a file path for --json but received an empty string");
    const json = v.json === undefined ? undefined : resolve(v.json);
    const verbose = v.verbose === true;
    const defaults = v.quick === true ? ENGINE_QUICK : ENGINE_DEFAULTS;
    const engineOptions = {
        tokens: integerFlag("tokens", v.tokens, defaults.tokens, 16, 10_000_000),
        trials: integerFlag("trials", v.trials, defaults.trials, 1, 100),
        model: v.model === undefined ? undefined : resolve(v.model),
        batchTexts: integerFlag("batch-texts", v["batch-texts"], defaults.batchTexts, 1, 1_000_000),
        upperRepeats: integerFlag("upper-repeats", v["upper-repeats"], defaults.upperRepeats, 1, 1000),
    };
    let code = 0;
    if (facade.length > 0) code = Math.max(code, await runFacadeGroup(facade, { quick: v.quick === true, json, verbose, fromSource }));
    if (engine.length > 0) {
        if (facade.length > 0) console.log("");
        code = Math.max(code, await runEngineGroup(engine, { ...engineOptions, json, verbose, command: `npm run bench -- ${argv.join(" ")}`.trim() }));
    }
    return code;
}

main().then((code) => (process.exitCode = code), (error: unknown) => {
    // A mistake on the command line is one line; a library error its message; anything else keeps its stack.
    if (error instanceof UsageError) {
        console.error(`bench: ${error.message} (npm run bench -- --help lists the options and cases)`);
        process.exitCode = 2;
        return;
    }
    const coded = error instanceof Error && typeof (error as { code?: unknown }).code === "string";
    console.error(`bench: ${coded ? (error as Error).message : ((error as Error)?.stack ?? error)}`);
    process.exitCode = 1;
});
