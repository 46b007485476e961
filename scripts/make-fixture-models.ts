/**
 * Creates the synthetic Qwen3 GGUF fixture models used by the tests (see test/fixtures/qwen3-fixture.ts).
 *
 *   tsx scripts/make-fixture-models.ts [--size tiny|0.6b|all] [--seed N] [--force]
 *
 * Files that already exist (written by the current generator version) are kept unless --force is given.
 */
import { stat } from "node:fs/promises";
import { relative } from "node:path";
import { parseArgs } from "node:util";
import {
  FIXTURE_KINDS,
  FIXTURE_SIZES,
  REPO_ROOT,
  ensureFixtureModel,
  writeFixtureModel,
  type FixtureSize,
  type FixtureSpec,
} from "../test/fixtures/qwen3-fixture.js";

const USAGE = `Usage: tsx scripts/make-fixture-models.ts [--size tiny|0.6b|all] [--seed N] [--force]

Creates synthetic Qwen3 GGUF fixtures (real Qwen3 tokenizer, seeded random weights) under models/fixtures/:
  embedding-<size>-s<seed>.gguf        pooling LAST, tied output (tiny also: ...-eos.gguf with add_eos_token=true)
  reranker-rank-<size>-s<seed>.gguf    pooling RANK, cls.output = [yes, no] head rows (current llama.cpp conversion)
  reranker-causal-<size>-s<seed>.gguf  plain causal LM with output.weight (older conversions)

Options:
  --size   tiny | 0.6b | all   (default: tiny)
  --seed   non-negative integer (default: 1)
  --force  regenerate even if the file exists
  --help   show this help`;

function fail(message: string): never {
  process.stderr.write(`make-fixture-models: ${message}\n\n${USAGE}\n`);
  process.exit(2);
}

function parseCli(argv: string[]): { sizes: FixtureSize[]; seed: number; force: boolean } | undefined {
  let values: { size?: string; seed?: string; force?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        size: { type: "string" },
        seed: { type: "string" },
        force: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    fail((e as Error).message);
  }
  if (values.help) return undefined;
  const size = values.size ?? "tiny";
  let sizes: FixtureSize[];
  if (size === "all") sizes = [...FIXTURE_SIZES];
  else if ((FIXTURE_SIZES as readonly string[]).includes(size)) sizes = [size as FixtureSize];
  else fail(`invalid --size ${JSON.stringify(size)} (expected tiny, 0.6b or all)`);
  const seedText = values.seed ?? "1";
  if (!/^\d+$/.test(seedText) || Number(seedText) > 0xffffffff) fail(`invalid --seed ${JSON.stringify(seedText)} (expected an integer in [0, 4294967295])`);
  return { sizes, seed: Number(seedText), force: values.force ?? false };
}

async function main(): Promise<void> {
  const opts = parseCli(process.argv.slice(2));
  if (!opts) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const specs: FixtureSpec[] = [];
  for (const size of opts.sizes) {
    for (const kind of FIXTURE_KINDS) specs.push({ kind, size, seed: opts.seed });
    if (size === "tiny") specs.push({ kind: "embedding", size, seed: opts.seed, addEos: true });
  }
  for (const spec of specs) {
    const t0 = performance.now();
    const path = opts.force ? (await writeFixtureModel(spec)).path : await ensureFixtureModel(spec);
    const secs = (performance.now() - t0) / 1000;
    const bytes = (await stat(path)).size;
    process.stdout.write(`${relative(REPO_ROOT, path)}  ${(bytes / 2 ** 20).toFixed(1)} MiB  ${secs.toFixed(1)} s\n`);
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`make-fixture-models: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
