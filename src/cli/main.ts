#!/usr/bin/env node
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { CommandFailure, optionalInteger, readTexts, requireString, UsageError, writeLine, type Command } from "./command.js";
import { evalCommand } from "./eval-command.js";
import { KV_CACHE_OPTIONS, KV_CACHE_USAGE, kvCacheOption } from "./kv-cache-flags.js";
import { verifyCommand } from "./verify-command.js";
import { Qwen3EmbeddingError } from "../internal/errors.js";
import { createEmbedder, type EmbedOptions } from "../facade/embedder.js";
import { createTokenizer } from "../facade/tokenizer.js";
import type { OutputType } from "../format/output-types.js";
import { DEFAULT_INSTRUCTION, type TaskName } from "../format/task-instructions.js";
import { inspectGguf } from "../models/gguf-inspection.js";
import { classifyModel } from "../models/model-kind.js";
import { resolveModelPath } from "../models/model-location.js";
import { createReranker } from "../facade/reranker.js";
import { serveCommand } from "./serve-command.js";
import { indexCommand } from "./index-command.js";
import { queueCommand } from "./queue-command.js";
import { workerCommand } from "./worker-command.js";
import { searchCommand } from "./search-command.js";
import { pullCommand } from "./pull-command.js";
import { modelsCommand } from "./models-command.js";

const COMMANDS: Record<string, Command> = {
    // Commands of other layers live in files of their own beside this one and are listed here.
    embed: {
        summary: "Embed texts: one JSON line {index, embedding, tokens} per input, in input order",
        usage: [
            "qwen3-embedding embed --model <path|id> [--query] [--task <name> | --instruction <text>] [--dimensions N]",
            "                      [--max-tokens N] [--output-type float32|int8|uint8|binary|ubinary] [--input <file>]",
            "                      [--exact | --kv-cache-type f16|f32]",
            "Inputs: one text per line, or JSONL objects with a \"text\" field when the file ends in .jsonl; stdin without --input.",
            "Without flags every input is a document; --query formats them as queries with the default web-search instruction,",
            "--task/--instruction as queries with that instruction. `tokens` counts what the model saw, <|endoftext|> included.",
            KV_CACHE_USAGE,
        ].join("\n"),
        options: {
            model: { type: "string" }, query: { type: "boolean" }, task: { type: "string" }, instruction: { type: "string" },
            dimensions: { type: "string" }, "max-tokens": { type: "string" }, "output-type": { type: "string" }, input: { type: "string" },
            ...KV_CACHE_OPTIONS,
        },
        async run(values) {
            if (values["task"] !== undefined && values["instruction"] !== undefined) throw new UsageError("pass either --task or --instruction, not both");
            const kvCache = kvCacheOption(values);
            const texts = await readTexts(values["input"] as string | undefined);
            const query = values["query"] === true || values["task"] !== undefined || values["instruction"] !== undefined;
            const options: EmbedOptions = {
                role: query ? "query" : "document",
                ...(values["task"] !== undefined ? { task: values["task"] as TaskName } : {}),
                ...(values["instruction"] !== undefined ? { instruction: values["instruction"] as string } : {}),
                ...(values["query"] === true && values["task"] === undefined && values["instruction"] === undefined ? { instruction: DEFAULT_INSTRUCTION } : {}),
                ...optionalInteger(values, "dimensions", "dimensions"),
                ...optionalInteger(values, "max-tokens", "maxTokens"),
                ...(values["output-type"] !== undefined ? { outputType: values["output-type"] as OutputType } : {}),
            };
            const embedder = await createEmbedder({ model: requireString(values, "model"), ...kvCache });
            try {
                const result = await embedder.embed(texts, options);
                result.embeddings.forEach((embedding, index) =>
                    writeLine({ index, embedding: Array.from(embedding), tokens: result.tokens[index] }),
                );
            } finally {
                await embedder.dispose();
            }
        },
    },
    rerank: {
        summary: "Rerank documents for a query: JSON lines {index, score}, best first",
        usage: [
            "qwen3-embedding rerank --model <path|id> --query <text> [--instruction <text>] [--documents <file>] [--top-n N] [--max-tokens N]",
            "                       [--exact | --kv-cache-type f16|f32]",
            "Documents: one per line, or JSONL objects with a \"text\" field when the file ends in .jsonl; stdin without --documents.",
            KV_CACHE_USAGE,
        ].join("\n"),
        options: {
            model: { type: "string" }, query: { type: "string" }, instruction: { type: "string" }, documents: { type: "string" },
            "top-n": { type: "string" }, "max-tokens": { type: "string" }, ...KV_CACHE_OPTIONS,
        },
        async run(values) {
            const query = requireString(values, "query");
            const kvCache = kvCacheOption(values);
            const documents = await readTexts(values["documents"] as string | undefined);
            const reranker = await createReranker({ model: requireString(values, "model"), ...kvCache });
            try {
                const result = await reranker.rerank(query, documents, {
                    ...(values["instruction"] !== undefined ? { instruction: values["instruction"] as string } : {}),
                    ...optionalInteger(values, "top-n", "topN"),
                    ...optionalInteger(values, "max-tokens", "maxTokens"),
                });
                for (const item of result.results) writeLine({ index: item.index, score: item.score });
            } finally {
                await reranker.dispose();
            }
        },
    },
    tokenize: {
        summary: "Tokenize raw text (nothing added): one JSON line {index, ids} per input",
        usage: "qwen3-embedding tokenize --model <path|id> [--input <file>]   (stdin when no --input)",
        options: { model: { type: "string" }, input: { type: "string" } },
        async run(values) {
            const texts = await readTexts(values["input"] as string | undefined);
            const tokenizer = await createTokenizer({ model: requireString(values, "model") });
            try {
                const ids = await tokenizer.tokenize(texts);
                ids.forEach((sequence, index) => writeLine({ index, ids: Array.from(sequence) }));
            } finally {
                await tokenizer.dispose();
            }
        },
    },
    inspect: {
        summary: "Describe a GGUF without loading its weights: kind, flavour, dimension, context, pooling, eos handling",
        usage: "qwen3-embedding inspect --model <path|id>",
        options: { model: { type: "string" } },
        async run(values) {
            const inspection = await inspectGguf(await resolveModelPath(requireString(values, "model")));
            const { kind, flavour } = classifyModel(inspection);
            writeLine({
                kind,
                flavour,
                dimension: inspection.embeddingSize,
                context: inspection.trainedContextSize,
                pooling: inspection.pooling,
                eos: {
                    token: inspection.eosTokenId,
                    ggufAppendsEos: inspection.addEosToken,
                    // The library appends <|endoftext|> itself, exactly once, whatever the file says.
                    handling: kind === "embedding" ? "library appends <|endoftext|> (151643) once" : "not appended (reranker prompt ends with the assistant header)",
                },
                architecture: inspection.architecture,
                name: inspection.name,
                layers: inspection.layers,
                vocabularySize: inspection.vocabularySize,
                classifier: { rows: inspection.classifierRows, labels: inspection.classifierLabels },
                hasOutputHead: inspection.hasOutputHead,
                path: inspection.path,
                sizeBytes: inspection.fileSizeBytes,
            });
        },
    },
    pull: pullCommand,
    verify: verifyCommand,
    eval: evalCommand,
    serve: serveCommand,
    index: indexCommand,
    worker: workerCommand,
    queue: queueCommand,
    search: searchCommand,
    models: modelsCommand,
};

function version(): string {
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
    return pkg.version;
}

function help(): string {
    const width = Math.max(...Object.keys(COMMANDS).map((name) => name.length));
    return [
        "qwen3-embedding: on-prem Qwen3 text embedding and reranking",
        "",
        "Usage: qwen3-embedding <command> [options]",
        "",
        "Commands:",
        ...Object.entries(COMMANDS).map(([name, command]) => `  ${name.padEnd(width)}  ${command.summary}`),
        "",
        "Run `qwen3-embedding <command> --help` for a command's options.",
    ].join("\n");
}

async function main(argv: string[]): Promise<number> {
    const [name, ...rest] = argv;
    if (name === undefined || name === "--help" || name === "-h" || name === "help") {
        process.stdout.write(help() + "\n");
        return 0;
    }
    if (name === "--version" || name === "-v") {
        process.stdout.write(version() + "\n");
        return 0;
    }
    const command = COMMANDS[name];
    if (command === undefined) throw new UsageError(`unknown command "${name}"; run \`qwen3-embedding --help\` to list the commands`);
    if (rest.includes("--help") || rest.includes("-h")) {
        process.stdout.write(`${command.summary}\n\nUsage: ${command.usage}\n`);
        return 0;
    }
    let parsed: ReturnType<typeof parseArgs>;
    try {
        parsed = parseArgs({ args: rest, options: command.options, strict: true, allowPositionals: command.positionals === true });
    } catch (error) {
        throw new UsageError(`${(error as Error).message.split("\n")[0]}; run \`qwen3-embedding ${name} --help\` for the options`);
    }
    await command.run(parsed.values, parsed.positionals);
    return 0;
}

main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (error: unknown) => {
        const expected = error instanceof UsageError || error instanceof CommandFailure || error instanceof Qwen3EmbeddingError;
        const message = expected ? error.message : String((error as Error)?.stack ?? error);
        process.stderr.write(`qwen3-embedding: ${message.split("\n").join("\n  ")}\n`);
        process.exitCode = error instanceof UsageError ? 2 : 1;
    },
);
