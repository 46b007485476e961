import { resolve } from "node:path";
import { UsageError, writeLine, type Command } from "./command.js";
import { huggingFaceHubCache } from "../models/huggingface-cache.js";
import { MODELS_DIR_ENV, defaultModelsDirectory, findLocalModel, locatePulledModel, type LocalModelFile } from "../models/model-location.js";
import { listModels } from "../models/model-registry.js";

/** `models`: the registry as a table, one row per quantization, with what of it is on this machine and where; `--json` for JSONL. */
export const modelsCommand: Command = {
    summary: "List the registry's models and quantizations, and which are downloaded where",
    usage: [
        "qwen3-embedding models [--json] [--models-dir <dir>]",
        "A table: one row per quantization (* the default), LOCAL says whether the file is downloaded, in the Hugging Face",
        "cache, or partly downloaded, PATH where. --json writes one registry entry per line instead, with `local`:",
        "{<quant>: {place: \"models-dir\" | \"hf-cache\" | \"partial\", path, bytes}} for the files found.",
    ].join("\n"),
    options: { json: { type: "boolean" }, "models-dir": { type: "string" } },
    async run(values) {
        const given = values["models-dir"] as string | undefined;
        if (given === "") throw new UsageError("Expected a directory for --models-dir but received an empty string");
        const modelsDir = given === undefined ? defaultModelsDirectory() : resolve(given);
        const entries = await Promise.all(listModels().map(async (model) => ({
            model,
            local: await Promise.all(Object.keys(model.gguf.quants).map(async (quant) => ({
                quant,
                found: await findLocalModel(locatePulledModel(`${model.id}:${quant}`, { modelsDir })),
            }))),
        })));
        if (values["json"] === true) {
            for (const { model, local } of entries) {
                writeLine({ ...model, local: Object.fromEntries(local.flatMap(({ quant, found }) => (found === undefined ? [] : [[quant, found]]))) });
            }
            return;
        }
        const rows = entries.flatMap(({ model, local }) => local.map(({ quant, found }, index) => [
            index === 0 ? model.id : "",
            index === 0 ? model.kind : "",
            index === 0 ? (model.kind === "embedding" ? String(model.dimension) : "-") : "",
            quant === model.gguf.defaultQuant ? `${quant} *` : quant,
            describeLocal(found),
            found?.path ?? "",
        ]));
        process.stdout.write(formatTable(["MODEL", "KIND", "DIM", "QUANT", "LOCAL", "PATH"], rows) + [
            "",
            "* the default quantization. Download one with `qwen3-embedding pull <model> [--quant <quant>]`.",
            `Models directory:   ${modelsDir} (--models-dir, ${MODELS_DIR_ENV})`,
            `Hugging Face cache: ${huggingFaceHubCache()} (HF_HUB_CACHE, HF_HOME), used where it is`,
            "",
        ].join("\n"));
    },
};

function describeLocal(found: LocalModelFile | undefined): string {
    if (found === undefined) return "-";
    const megabytes = `${(found.bytes / 1e6).toFixed(1)} MB`;
    if (found.place === "partial") return `partial, ${megabytes}`;
    return `${found.place === "hf-cache" ? "HF cache" : "downloaded"}, ${megabytes}`;
}

/** Left-aligned columns two spaces apart, the header first; trailing spaces trimmed. */
function formatTable(header: string[], rows: string[][]): string {
    const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? "").length)));
    return [header, ...rows].map((row) => row.map((cell, column) => cell.padEnd(widths[column]!)).join("  ").trimEnd()).join("\n") + "\n";
}
