/** The jobs of a queued index run: whole documents grouped by tokens, each job named by the hash of its contents. */
import { InvalidOptionError } from "../internal/errors.js";
import { describeValue, isPlainObject } from "../internal/validation.js";
import type { PreparedDocument } from "../applications/document-indexer.js";
import { checkNamespace } from "../store/item-validation.js";
import { sha256Hex } from "../store/vector-text.js";

/** What one job carries. */
export interface IndexJobData {
    namespace: string;
    documents: PreparedDocument[];
    /** The documents' tokens, as the producer's tokenizer counted them. */
    tokens: number;
}

export interface PlannedJob {
    /** BullMQ job id: the same documents in the same namespace always make the same id, so re-enqueueing adds nothing. */
    id: string;
    data: IndexJobData;
}

/** Most documents in one job: the worker writes a job in one transaction. */
export const MAX_DOCUMENTS_PER_JOB = 10_000;

/**
 * Groups documents, in order, into jobs of at most `jobTokens` tokens (a document longer than that is a job of its own)
 * and at most MAX_DOCUMENTS_PER_JOB documents.
 */
export function planIndexJobs(namespace: string, documents: readonly PreparedDocument[], tokenCounts: readonly number[], jobTokens: number): PlannedJob[] {
    const jobs: PlannedJob[] = [];
    let current: PreparedDocument[] = [];
    let tokens = 0;
    const flush = () => {
        if (current.length === 0) return;
        jobs.push({ id: indexJobId(namespace, current), data: { namespace, documents: current, tokens } });
        current = [];
        tokens = 0;
    };
    documents.forEach((document, index) => {
        const count = tokenCounts[index]!;
        if (current.length > 0 && (tokens + count > jobTokens || current.length >= MAX_DOCUMENTS_PER_JOB)) flush();
        current.push(document);
        tokens += count;
    });
    flush();
    return jobs;
}

/** "ix-" and a hash of the namespace and of each document's id, text and metadata. */
export function indexJobId(namespace: string, documents: readonly PreparedDocument[]): string {
    const content = JSON.stringify([namespace, documents.map((document) => [document.id, sha256Hex(document.text), document.metadata ?? null])]);
    return `ix-${sha256Hex(content).slice(0, 40)}`;
}

/**
 * The data of a job as a worker receives it (any client may have added it): its namespace and an array of documents,
 * each checked later on its own, so that one bad document does not sink the others.
 */
export function checkIndexJobData(value: unknown): { namespace: string; documents: unknown[] } {
    if (!isPlainObject(value)) throw new InvalidOptionError(`Expected an object { namespace, documents } for job data but received ${describeValue(value)}`);
    const namespace = checkNamespace("job data namespace", value["namespace"]);
    const documents = value["documents"];
    if (!Array.isArray(documents) || documents.length === 0 || documents.length > MAX_DOCUMENTS_PER_JOB) {
        throw new InvalidOptionError(`Expected an array of 1 to ${MAX_DOCUMENTS_PER_JOB} documents for job data documents but received ${describeValue(documents)}`);
    }
    return { namespace, documents };
}
