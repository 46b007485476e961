import { writeFile } from "node:fs/promises";
import { UsageError, optionalInteger, requireString, writeLine, type Command } from "./command.js";
import { KV_CACHE_OPTIONS, KV_CACHE_USAGE, kvCacheOption } from "./kv-cache-flags.js";
import { createEmbedder, type Embedder } from "../facade/embedder.js";
import { createReranker, type Reranker } from "../facade/reranker.js";
import { describeModelsPrecision } from "../facade/precision-mode.js";
import { loadBeirDataset } from "../evaluation/beir-dataset.js";
import { MTEB_RETRIEVAL_INSTRUCTIONS, findMtebTask, retrievalInstruction } from "../evaluation/mteb-task-instructions.js";
import { toMtebResult } from "../evaluation/mteb-result.js";
import { evaluateRetrieval } from "../evaluation/retrieval-evaluation.js";
import { TASK_NAMES } from "../format/task-instructions.js";
import { packageVersion } from "../internal/package-version.js";

const string = { type: "string" } as const;

export const evalCommand: Command = {
    summary: "Retrieval quality on a BEIR-format dataset: nDCG@10, MRR@10, Recall@100, first stage and reranked",
    usage: [
        "qwen3-embedding eval --embedding-model <path|id> [--reranker-model <path|id>] --dataset <dir> [--task <name> | --instruction <text>]",
        "       [--split test] [--rerank-top-k 100] [--dimensions N] [--batch-size 32] [--output <file.json>] [--exact | --kv-cache-type f16|f32]",
        "--dataset: a directory with corpus.jsonl ({_id, title, text}), queries.jsonl ({_id, text}) and qrels/<split>.tsv",
        "  (query-id, corpus-id, score). Documents are embedded as raw `title text`; queries with the task's instruction:",
        `  --task is one of ${TASK_NAMES.join(", ")}, or an MTEB retrieval task (${Object.keys(MTEB_RETRIEVAL_INSTRUCTIONS).slice(0, 6).join(", ")}, ...);`,
        "  by default the MTEB task the directory is named after (scifact, nfcorpus, fiqa, ...), else web-search.",
        "With --reranker-model the first stage's top --rerank-top-k documents are reranked (same instruction).",
        "Means are over the queries with a relevant document in the qrels. Results: an MTEB-style JSON object, to",
        "--output or stdout, with the mode that ran in qwen3_embedding.mode; progress bars on stderr.",
        KV_CACHE_USAGE,
    ].join("\n"),
    options: {
        "embedding-model": string, "reranker-model": string, dataset: string, task: string, instruction: string, split: string,
        "rerank-top-k": string, dimensions: string, "batch-size": string, output: string, ...KV_CACHE_OPTIONS,
    },
    async run(values) {
        const embeddingModel = requireString(values, "embedding-model");
        const datasetDir = requireString(values, "dataset");
        const rerankerModel = values["reranker-model"] as string | undefined;
        if (values["task"] !== undefined && values["instruction"] !== undefined) throw new UsageError("pass either --task or --instruction, not both");
        if (values["rerank-top-k"] !== undefined && rerankerModel === undefined) throw new UsageError("--rerank-top-k needs --reranker-model");
        const kvCache = kvCacheOption(values);
        const numbers = {
            ...optionalInteger(values, "rerank-top-k", "rerankTopK"),
            ...optionalInteger(values, "dimensions", "dimensions"),
            ...optionalInteger(values, "batch-size", "batchSize"),
        };
        const dataset = await loadBeirDataset(datasetDir, { split: (values["split"] as string | undefined) ?? "test" });
        let task: string;
        let instruction: string;
        if (values["instruction"] !== undefined) {
            instruction = requireString(values, "instruction");
            task = findMtebTask(dataset.name) ?? dataset.name;
        } else if (values["task"] !== undefined) {
            const named = retrievalInstruction(values["task"] as string);
            if (named === undefined) {
                throw new UsageError(`unknown --task ${JSON.stringify(values["task"])}; use one of ${TASK_NAMES.join(", ")}, an MTEB retrieval task (${Object.keys(MTEB_RETRIEVAL_INSTRUCTIONS).join(", ")}), or --instruction`);
            }
            ({ task, instruction } = named);
        } else {
            const named = retrievalInstruction(dataset.name) ?? retrievalInstruction("web-search")!;
            task = findMtebTask(dataset.name) ?? dataset.name;
            instruction = named.instruction;
        }

        let embedder: Embedder | undefined;
        let reranker: Reranker | undefined;
        try {
            // workers: 0 (the engine's own async native calls): a one-shot command gains nothing from a worker thread.
            embedder = await createEmbedder({ model: embeddingModel, workers: 0, ...kvCache });
            if (rerankerModel !== undefined) reranker = await createReranker({ model: rerankerModel, workers: 0, ...kvCache });
            const evaluation = await evaluateRetrieval({ embedder, reranker, dataset, instruction, ...numbers });
            const mode = describeModelsPrecision({ embedding: embedder.kvCacheType, reranker: reranker?.kvCacheType });
            const result = toMtebResult(evaluation, { task, embeddingModel, rerankerModel, mode, version: packageVersion() });
            const output = values["output"] as string | undefined;
            if (output === undefined) {
                process.stdout.write(JSON.stringify(result, null, 2) + "\n");
            } else {
                await writeFile(output, JSON.stringify(result, null, 2) + "\n");
                writeLine({ task, output, first_stage: evaluation.firstStage, ...(evaluation.reranked ? { reranked: evaluation.reranked } : {}), counts: evaluation.counts });
            }
        } finally {
            await Promise.all([embedder?.[Symbol.asyncDispose](), reranker?.[Symbol.asyncDispose]()]);
        }
    },
};
