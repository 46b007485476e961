import { readFileSync } from "node:fs";
import { readdir, readFile, stat } from "node:fs/promises";
import { extname, join, relative, resolve } from "node:path";
import { findUnchangedForModel, prepareDocuments, type IndexDocument, type IndexProgress } from "../applications/document-indexer.js";
import { modelFingerprint } from "../applications/model-fingerprint.js";
import { createSearchIndex } from "../applications/search-index.js";
import { createEmbedder } from "../facade/embedder.js";
import { inspectGguf } from "../models/gguf-inspection.js";
import { resolveModelPath } from "../models/model-location.js";
import { DURABILITIES, type Durability } from "../store/pglite-driver.js";
import { defaultDatabase } from "../store/store-location.js";
import { openStore } from "../store/open-store.js";
import { checkItemId, checkMetadata } from "../store/item-validation.js";
import { isPlainObject } from "../internal/validation.js";
import { asUsageError, requireString, UsageError, writeLine, type Command } from "./command.js";
import { enqueueCommand, QUEUE_ONLY_FLAGS } from "./enqueue-command.js";

/** Files taken from a directory: texts one per line, or JSONL objects. */
const INPUT_EXTENSIONS = new Set([".txt", ".jsonl"]);

export const indexCommand: Command = {
    summary: "Index texts into a namespace of the store, for `search` (resumable; progress on stderr)",
    usage: [
        "qwen3-embedding index --embedding-model <path|id> [--input <file|dir>] [--namespace <name>] [--database <dir|postgres-url>]",
        "                      [--batch-size N] [--dimensions N] [--durability full|relaxed]",
        "Inputs: one text per line (blank lines skipped), or JSONL objects {\"text\", \"id\"?, \"metadata\"?} when the file ends",
        "in .jsonl; a directory: every .txt and .jsonl file in it and below; stdin without --input. Without an id a text's id is",
        "a hash of it. Texts already indexed unchanged are skipped; texts embedded before come from the embedding cache, so an",
        "interrupted run continues where it stopped. Namespace default \"default\". Database default: $QWEN3_EMBEDDING_DATABASE,",
        "else a directory under the user's data folder ($XDG_DATA_HOME/qwen3-embedding/store on Linux).",
        "--durability relaxed (embedded database only; default full) skips the fsync of each batch as it commits and fsyncs",
        "the database directory once at the end: faster, but a power cut or system crash during the run can lose or corrupt",
        "the database (a killed run loses nothing it wrote). A PostgreSQL server's commits follow its own settings.",
        "Prints one JSON line {namespace, total, written, unchanged, embedded, cached, database} when done.",
        "",
        "qwen3-embedding index --queue <redis-url> --embedding-model <path|id> [--input <file|dir>] [--namespace <name>]",
        "                      [--queue-name <name>] [--job-tokens N] [--attempts N] [--priority N] [--detach]",
        "                      [--database <dir|postgres-url>]",
        "With --queue, no embedding here, and no database unless --database: the model is loaded for its tokenizer only, the",
        "texts are grouped into jobs of whole documents of about --job-tokens tokens (default 1024), each job named by a hash",
        "of its contents, and added to the BullMQ queue on that Redis for `qwen3-embedding worker` processes to embed and",
        "write. A job is tried --attempts times (default 5, backoff from 2 s doubling) before it is moved to the failed set",
        "with its reason (`qwen3-embedding queue status`). --priority 1.. puts the jobs behind unprioritized ones (lower first).",
        "Shows progress (documents, tokens, rate, ETA) on stderr until every job finished, then prints one JSON line",
        "{namespace, queue, documents, tokens, jobs, jobsFailed}; exit code 1 when jobs failed. --detach: print the line",
        "{namespace, queue, documents, tokens, jobs} once the jobs are added, and exit.",
        "--database (optional; no default here): the workers' database, read before enqueueing. Documents the namespace already",
        "holds with the same id, text and metadata, embedded by the same model file (--embedding-model must be the workers'),",
        "are skipped as a worker would skip them, and only the rest is enqueued; the lines above then also hold {unchanged},",
        "the documents skipped. A namespace of another model is an error. An embedded database (a directory) is opened by one",
        "process at a time: the producer holds it only until the jobs are added, so run it while no worker has it open, or",
        "share a PostgreSQL server (postgres://...).",
    ].join("\n"),
    options: {
        "embedding-model": { type: "string" }, input: { type: "string" }, namespace: { type: "string" }, database: { type: "string" },
        "batch-size": { type: "string" }, dimensions: { type: "string" }, durability: { type: "string" },
        queue: { type: "string" }, "queue-name": { type: "string" }, "job-tokens": { type: "string" }, attempts: { type: "string" },
        priority: { type: "string" }, detach: { type: "boolean" },
    },
    async run(values) {
        if (values["queue"] !== undefined) return enqueueCommand(values);
        for (const flag of QUEUE_ONLY_FLAGS) {
            if (values[flag] !== undefined) throw new UsageError(`--${flag} needs --queue`);
        }
        const model = requireString(values, "embedding-model");
        const input = values["input"] as string | undefined;
        const batchSize = positiveInteger(values, "batch-size");
        const dimensions = positiveInteger(values, "dimensions");
        const documents = prepareDocuments(await readDocuments(input));
        const namespace = values["namespace"] === undefined ? "default" : (values["namespace"] as string);
        const store = await openStore({ database: databaseOption(values), durability: durabilityOption(values) });
        try {
            const progress = new ProgressLine();
            // A re-run over content already indexed needs no model: check first, load the model only for new content.
            const modelPath = await resolveModelPath(model);
            let pending = documents;
            if ((await store.getNamespace(namespace)) !== undefined) {
                const inspection = await inspectGguf(modelPath);
                const expected = { model: await modelFingerprint(modelPath), dimensions: dimensions ?? inspection.embeddingSize };
                const unchanged = await findUnchangedForModel(store, namespace, documents, expected, (done, found) =>
                    progress.show({ phase: "checking", done, total: documents.length, written: 0, unchanged: found, embedded: 0, cached: 0 }),
                );
                pending = documents.filter((document) => !unchanged.has(document.id));
            }
            const skipped = documents.length - pending.length;
            const summary = (result: { written: number; unchanged: number; embedded: number; cached: number }) => writeLine({
                namespace,
                total: documents.length,
                written: result.written,
                unchanged: skipped + result.unchanged,
                embedded: result.embedded,
                cached: result.cached,
                database: store.location,
            });
            if (pending.length === 0) {
                // A load interrupted after its last batch left the HNSW index dropped: build it (no model needed).
                await store.buildVectorIndex(namespace);
                progress.done();
                summary({ written: 0, unchanged: 0, embedded: 0, cached: 0 });
                return;
            }
            const embedder = await createEmbedder({ model: modelPath });
            try {
                const index = await createSearchIndex({ embedder, store, namespace, ...(dimensions === undefined ? {} : { dimensions }) });
                const result = await index.index(pending, {
                    onProgress: (update) => progress.show({ ...update, total: documents.length, done: skipped + update.done, unchanged: skipped + update.unchanged }),
                    ...(batchSize === undefined ? {} : { batchSize }),
                });
                progress.done();
                summary(result);
            } finally {
                await embedder.dispose();
            }
        } finally {
            await store.close();
        }
    },
};

/** --database, else $QWEN3_EMBEDDING_DATABASE, else the directory under the user's data folder. */
export function databaseOption(values: Record<string, unknown>): string {
    const value = values["database"];
    if (value === undefined) return defaultDatabase();
    if (typeof value !== "string" || value.trim() === "") throw new UsageError("--database needs a directory or a postgres:// URL");
    return value;
}

function durabilityOption(values: Record<string, unknown>): Durability {
    const value = values["durability"] ?? "full";
    if (!(DURABILITIES as readonly unknown[]).includes(value)) {
        throw new UsageError(`Expected ${DURABILITIES.map((choice) => JSON.stringify(choice)).join(" or ")} for --durability but received ${JSON.stringify(value)}`);
    }
    return value as Durability;
}

export function positiveInteger(values: Record<string, unknown>, flag: string): number | undefined {
    const raw = values[flag];
    if (raw === undefined) return undefined;
    if (typeof raw !== "string" || !/^\d+$/.test(raw) || Number(raw) < 1) throw new UsageError(`Expected a positive integer for --${flag} but received ${JSON.stringify(raw)}`);
    return Number(raw);
}

/** Progress on stderr: a bar redrawn in place on a terminal, a line every few seconds otherwise. */
class ProgressLine {
    readonly #tty = process.stderr.isTTY === true;
    readonly #started = Date.now();
    #lastLine = 0;
    #shown = false;

    show(update: IndexProgress): void {
        const now = Date.now();
        const final = update.done === update.total;
        if (!this.#tty && !final && now - this.#lastLine < 2000) return;
        this.#lastLine = now;
        const fraction = update.total === 0 ? 1 : update.done / update.total;
        const width = 24;
        const filled = Math.round(fraction * width);
        const seconds = (now - this.#started) / 1000;
        const text =
            `${update.phase.padEnd(14)} [${"#".repeat(filled)}${".".repeat(width - filled)}] ${update.done}/${update.total} ` +
            `written ${update.written}, unchanged ${update.unchanged}, embedded ${update.embedded}, cached ${update.cached}, ${seconds.toFixed(1)} s`;
        if (this.#tty) process.stderr.write(`\r${text}\u001b[K`);
        else process.stderr.write(text + "\n");
        this.#shown = true;
    }

    done(): void {
        if (this.#tty && this.#shown) process.stderr.write("\n");
    }
}

export async function readDocuments(input: string | undefined): Promise<IndexDocument[]> {
    if (input === undefined) return parseDocuments(readFileSync(0, "utf8"), "stdin", false);
    const path = resolve(input);
    let info;
    try {
        info = await stat(path);
    } catch {
        throw new UsageError(`--input ${input} does not exist`);
    }
    if (info.isFile()) return parseDocuments(await readFile(path, "utf8"), input, extname(path) === ".jsonl");
    if (!info.isDirectory()) throw new UsageError(`--input ${input} is neither a file nor a directory`);
    const files = await listInputFiles(path);
    if (files.length === 0) throw new UsageError(`--input ${input} holds no .txt or .jsonl files`);
    const documents: IndexDocument[] = [];
    for (const file of files) {
        documents.push(...parseDocuments(await readFile(file, "utf8"), relative(process.cwd(), file) || file, extname(file) === ".jsonl"));
    }
    return documents;
}

async function listInputFiles(directory: string): Promise<string[]> {
    const entries = await readdir(directory, { withFileTypes: true });
    const files: string[] = [];
    for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
        const path = join(directory, entry.name);
        if (entry.isDirectory()) files.push(...(await listInputFiles(path)));
        else if (entry.isFile() && INPUT_EXTENSIONS.has(extname(entry.name))) files.push(path);
    }
    return files;
}

function parseDocuments(content: string, source: string, jsonl: boolean): IndexDocument[] {
    const documents: IndexDocument[] = [];
    content.split(/\r?\n/).forEach((line, index) => {
        if (line.trim() === "") return;
        if (!jsonl) {
            if (line.includes("\u0000")) throw new UsageError(`${source}:${index + 1} has a NUL character, which PostgreSQL cannot store`);
            documents.push(line);
            return;
        }
        let parsed: unknown;
        try {
            parsed = JSON.parse(line);
        } catch {
            throw new UsageError(`${source}:${index + 1} is not valid JSON`);
        }
        const record = parsed as { text?: unknown; id?: unknown; metadata?: unknown };
        if (!isPlainObject(parsed) || typeof record.text !== "string") throw new UsageError(`${source}:${index + 1} has no string "text" field`);
        if (record.text.trim() === "") throw new UsageError(`${source}:${index + 1} has an empty "text"`);
        if (record.text.includes("\u0000")) throw new UsageError(`${source}:${index + 1} has a NUL character in its "text", which PostgreSQL cannot store`);
        if (record.id !== undefined && typeof record.id !== "string" && !(typeof record.id === "number" && Number.isFinite(record.id))) {
            throw new UsageError(`${source}:${index + 1} has an "id" that is neither a string nor a number`);
        }
        if (record.metadata !== undefined && !isPlainObject(record.metadata)) throw new UsageError(`${source}:${index + 1} has a "metadata" that is not an object`);
        asUsageError(() => {
            if (typeof record.id === "string") checkItemId("id", record.id);
            checkMetadata("metadata", record.metadata);
        }, `${source}:${index + 1}: `);
        documents.push({
            text: record.text,
            ...(record.id === undefined ? {} : { id: String(record.id) }),
            ...(record.metadata === undefined ? {} : { metadata: record.metadata as Record<string, unknown> }),
        });
    });
    return documents;
}
