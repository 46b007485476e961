import { createReadStream } from "node:fs";
import { access } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { InvalidOptionError } from "../internal/errors.js";
import { isRecord } from "./json-lines.js";

export interface BeirDocument {
    id: string;
    /** `title + " " + text` when there is a title (as BEIR's and MTEB's evaluators join them), else the text */
    text: string;
}

/** A BEIR-format dataset: corpus.jsonl, queries.jsonl and qrels/<split>.tsv in one directory. */
export interface BeirDataset {
    name: string;
    dir: string;
    split: string;
    corpus: BeirDocument[];
    /** query id -> text, in file order */
    queries: Map<string, string>;
    /** query id -> (document id -> relevance grade) */
    qrels: Map<string, Map<string, number>>;
}

async function eachLine(path: string, handle: (line: string, number: number) => void): Promise<void> {
    try {
        await access(path);
    } catch {
        throw new InvalidOptionError(`${path} is missing: a BEIR dataset directory holds corpus.jsonl, queries.jsonl and qrels/<split>.tsv`);
    }
    const lines = createInterface({ input: createReadStream(path, "utf8"), crlfDelay: Infinity });
    let number = 0;
    for await (const line of lines) {
        number++;
        if (line.trim() !== "") handle(line, number);
    }
}

function parseObject(line: string, where: string): Record<string, unknown> {
    let value: unknown;
    try {
        value = JSON.parse(line);
    } catch {
        throw new InvalidOptionError(`${where} is not valid JSON`);
    }
    if (!isRecord(value)) throw new InvalidOptionError(`${where} is not a JSON object`);
    return value;
}

function idOf(record: Record<string, unknown>, where: string): string {
    const id = record["_id"] ?? record["id"];
    if (typeof id === "string" && id !== "") return id;
    if (typeof id === "number") return String(id);
    throw new InvalidOptionError(`${where} has no "_id"`);
}

function textOf(record: Record<string, unknown>, name: string, where: string): string {
    const value = record[name];
    if (value === undefined || value === null) return "";
    if (typeof value !== "string") throw new InvalidOptionError(`${where}: "${name}" must be a string`);
    return value;
}

/** Loads a BEIR-format dataset directory. Qrels may start with a header line (`query-id corpus-id score`). */
export async function loadBeirDataset(dir: string, { split = "test" }: { split?: string } = {}): Promise<BeirDataset> {
    const root = resolve(dir);
    const corpus: BeirDocument[] = [];
    const seen = new Set<string>();
    const corpusPath = join(root, "corpus.jsonl");
    await eachLine(corpusPath, (line, number) => {
        const where = `${corpusPath}:${number}`;
        const record = parseObject(line, where);
        const id = idOf(record, where);
        if (seen.has(id)) throw new InvalidOptionError(`${where} repeats the document id ${JSON.stringify(id)}`);
        seen.add(id);
        const title = textOf(record, "title", where).trim();
        const text = textOf(record, "text", where);
        corpus.push({ id, text: title === "" ? text : `${title} ${text}`.trim() });
    });
    const queries = new Map<string, string>();
    const queriesPath = join(root, "queries.jsonl");
    await eachLine(queriesPath, (line, number) => {
        const where = `${queriesPath}:${number}`;
        const record = parseObject(line, where);
        queries.set(idOf(record, where), textOf(record, "text", where));
    });
    const qrels = new Map<string, Map<string, number>>();
    const qrelsPath = join(root, "qrels", `${split}.tsv`);
    await eachLine(qrelsPath, (line, number) => {
        const fields = line.split("\t");
        if (fields.length < 3) throw new InvalidOptionError(`${qrelsPath}:${number} is not "query-id<TAB>corpus-id<TAB>score"`);
        const [queryId, documentId, score] = [fields[0]!.trim(), fields[1]!.trim(), fields[fields.length - 1]!.trim()];
        const grade = Number(score);
        if (score === "" || !Number.isFinite(grade)) {
            if (number === 1) return; // header
            throw new InvalidOptionError(`${qrelsPath}:${number} has a score that is not a number: ${JSON.stringify(score)}`);
        }
        const judged = qrels.get(queryId) ?? new Map<string, number>();
        judged.set(documentId, grade);
        qrels.set(queryId, judged);
    });
    return { name: basename(root), dir: root, split, corpus, queries, qrels };
}
