import { writeFile } from "node:fs/promises";
import { InvalidOptionError } from "../internal/errors.js";
import { isRecord, parseJsonLines, readTextFile } from "./json-lines.js";
import type { ReferenceData, ReferenceEmbedding, ReferenceRerank } from "./reference-data.js";

/**
 * A reference file: JSON Lines, one object per line, of two kinds (`type` may be left out; the fields tell):
 *   {"type":"embedding","id":"en/q1","text":"...","instruction":"...","embedding":[0.01,...]}
 *      `instruction` present: a query, embedded as `Instruct: {instruction}\nQuery:{text}`; absent: a document.
 *   {"type":"rerank","id":"en/q1","query":"...","instruction":"...","documents":["...",...],"scores":[0.93,...]}
 *      one score per document, in document order; without `instruction` the official web-search one.
 * Lines of any other `type` (for example a {"type":"meta",...} header) are skipped. Made for example with
 * sentence-transformers and the Qwen3 reranker in Python, or by `verify --save-reference` from a hosted API.
 */
export async function readReferenceFile(path: string): Promise<ReferenceData> {
    const content = await readTextFile(path, "--reference");
    const data: ReferenceData = { source: path, embeddings: [], rerankings: [] };
    for (const { line, value } of parseJsonLines(content, path)) {
        if (!isRecord(value)) throw new InvalidOptionError(`${path}:${line} is not a JSON object`);
        const where = `${path}:${line}`;
        const type = value["type"] ?? ("embedding" in value ? "embedding" : "scores" in value ? "rerank" : undefined);
        if (type === "embedding") data.embeddings.push(parseEmbedding(value, where, data.embeddings.length));
        else if (type === "rerank") data.rerankings.push(parseRerank(value, where, data.rerankings.length));
        else if (typeof type !== "string") throw new InvalidOptionError(`${where} is neither an embedding line (with "embedding") nor a rerank line (with "scores")`);
    }
    if (data.embeddings.length === 0 && data.rerankings.length === 0) {
        throw new InvalidOptionError(`${path} holds no embedding or rerank lines`);
    }
    return data;
}

function optionalString(record: Record<string, unknown>, name: string, where: string): string | undefined {
    const value = record[name];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== "string") throw new InvalidOptionError(`${where}: "${name}" must be a string`);
    return value;
}

function requiredString(record: Record<string, unknown>, name: string, where: string): string {
    const value = optionalString(record, name, where);
    if (value === undefined) throw new InvalidOptionError(`${where} has no string "${name}" field`);
    return value;
}

function numberArray(record: Record<string, unknown>, name: string, where: string): number[] {
    const value = record[name];
    if (!Array.isArray(value) || value.some((item) => typeof item !== "number" || !Number.isFinite(item))) {
        throw new InvalidOptionError(`${where}: "${name}" must be an array of finite numbers`);
    }
    return value as number[];
}

function parseEmbedding(record: Record<string, unknown>, where: string, position: number): ReferenceEmbedding {
    const embedding = numberArray(record, "embedding", where);
    if (embedding.length === 0) throw new InvalidOptionError(`${where}: "embedding" is empty`);
    return {
        id: optionalString(record, "id", where) ?? `embedding-${position + 1}`,
        text: requiredString(record, "text", where),
        instruction: optionalString(record, "instruction", where),
        embedding,
    };
}

function parseRerank(record: Record<string, unknown>, where: string, position: number): ReferenceRerank {
    const documents = record["documents"];
    if (!Array.isArray(documents) || documents.some((item) => typeof item !== "string")) {
        throw new InvalidOptionError(`${where}: "documents" must be an array of strings`);
    }
    const scores = numberArray(record, "scores", where);
    if (scores.length !== documents.length) {
        throw new InvalidOptionError(`${where} has ${documents.length} documents but ${scores.length} scores`);
    }
    return {
        id: optionalString(record, "id", where) ?? `rerank-${position + 1}`,
        query: requiredString(record, "query", where),
        instruction: optionalString(record, "instruction", where),
        documents: documents as string[],
        scores,
    };
}

/** Writes reference data in the format {@link readReferenceFile} reads. */
export async function writeReferenceFile(path: string, data: ReferenceData): Promise<void> {
    const lines = [
        JSON.stringify({ type: "meta", source: data.source, created: new Date().toISOString() }),
        ...data.embeddings.map((item) =>
            JSON.stringify({ type: "embedding", id: item.id, text: item.text, ...(item.instruction === undefined ? {} : { instruction: item.instruction }), embedding: Array.from(item.embedding) }),
        ),
        ...data.rerankings.map((item) =>
            JSON.stringify({ type: "rerank", id: item.id, query: item.query, ...(item.instruction === undefined ? {} : { instruction: item.instruction }), documents: item.documents, scores: item.scores }),
        ),
    ];
    await writeFile(path, lines.join("\n") + "\n");
}
