import { InvalidOptionError } from "../internal/errors.js";
import { DEFAULT_INSTRUCTION } from "../format/task-instructions.js";
import { isRecord, parseJsonLines, parsePlainLines, readTextFile } from "./json-lines.js";
import type { ProbeSet, RerankProbe } from "./reference-data.js";

export interface ProbeFiles {
    /** documents: one per line, or JSONL objects {text, id?} when the file ends in .jsonl */
    texts?: string | undefined;
    /** queries: one per line, or JSONL objects {query (or text), id?, instruction?, documents?} when the file ends in .jsonl */
    queries?: string | undefined;
    /** the instruction for queries that name none (default: the web-search one) */
    instruction?: string | undefined;
}

interface QueryLine {
    id: string;
    text: string;
    instruction?: string | undefined;
    documents?: string[] | undefined;
}

function field(path: string, line: number, record: Record<string, unknown>, name: string): string | undefined {
    const value = record[name];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== "string") throw new InvalidOptionError(`${path}:${line} has a non-string "${name}" field`);
    return value;
}

async function readTexts(path: string): Promise<{ id: string; text: string }[]> {
    const content = await readTextFile(path, "--texts");
    if (!path.endsWith(".jsonl")) return parsePlainLines(content).map((text, index) => ({ id: `text-${index + 1}`, text }));
    return parseJsonLines(content, path).map(({ line, value }, index) => {
        if (!isRecord(value)) throw new InvalidOptionError(`${path}:${line} is not a JSON object`);
        const text = field(path, line, value, "text");
        if (text === undefined) throw new InvalidOptionError(`${path}:${line} has no string "text" field`);
        return { id: field(path, line, value, "id") ?? `text-${index + 1}`, text };
    });
}

async function readQueries(path: string): Promise<QueryLine[]> {
    const content = await readTextFile(path, "--queries");
    if (!path.endsWith(".jsonl")) return parsePlainLines(content).map((text, index) => ({ id: `query-${index + 1}`, text }));
    return parseJsonLines(content, path).map(({ line, value }, index) => {
        if (!isRecord(value)) throw new InvalidOptionError(`${path}:${line} is not a JSON object`);
        const text = field(path, line, value, "query") ?? field(path, line, value, "text");
        if (text === undefined) throw new InvalidOptionError(`${path}:${line} has no string "query" (or "text") field`);
        const documents = value["documents"];
        if (documents !== undefined && (!Array.isArray(documents) || documents.some((item) => typeof item !== "string"))) {
            throw new InvalidOptionError(`${path}:${line} has a "documents" field that is not an array of strings`);
        }
        return { id: field(path, line, value, "id") ?? `query-${index + 1}`, text, instruction: field(path, line, value, "instruction"), documents: documents as string[] | undefined };
    });
}

/**
 * The probes of user files: every text embedded as a document, every query embedded as a query (its own
 * instruction, else `instruction`, else the web-search one) and reranked against its own `documents` or, without
 * them, against all the texts.
 */
export async function readProbeFiles(files: ProbeFiles): Promise<ProbeSet> {
    const texts = files.texts === undefined ? [] : await readTexts(files.texts);
    const queries = files.queries === undefined ? [] : await readQueries(files.queries);
    const probes: ProbeSet = { embeddings: [], rerankings: [] };
    for (const query of queries) {
        probes.embeddings.push({ id: query.id, text: query.text, instruction: query.instruction ?? files.instruction ?? DEFAULT_INSTRUCTION });
        const documents = query.documents ?? texts.map((text) => text.text);
        if (documents.length > 0) {
            const probe: RerankProbe = { id: query.id, query: query.text, documents };
            const instruction = query.instruction ?? files.instruction;
            if (instruction !== undefined) probe.instruction = instruction;
            probes.rerankings.push(probe);
        }
    }
    for (const text of texts) probes.embeddings.push({ id: text.id, text: text.text });
    return probes;
}
