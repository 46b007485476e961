import { AbortedError, InvalidOptionError } from "../internal/errors.js";
import { checkItemId, checkItemText, checkMetadata, type Metadata } from "../store/item-validation.js";
import { sha256Hex } from "../store/vector-text.js";
import type { VectorStore } from "../store/vector-store.js";
import { checkAbortSignal, checkBoolean, checkInteger, checkOptionsObject, describeValue, isPlainObject } from "../internal/validation.js";
import { checkOptionalFunction } from "./application-options.js";
import type { EmbeddingCache } from "./embedding-cache.js";

/** A document: its text, or `{ text, id?, metadata? }`. Without an id, the id is a hash of the text. */
export type IndexDocument = string | { text: string; id?: string; metadata?: Metadata };

export interface IndexProgress {
    /** "checking": finding documents already indexed; "embedding": embedding and writing; "building-index": the HNSW graph. */
    phase: "checking" | "embedding" | "building-index";
    /** Documents through the current phase so far, out of `total`. */
    done: number;
    total: number;
    /** Documents written (new or changed). */
    written: number;
    /** Documents already stored exactly so: skipped without embedding or writing. */
    unchanged: number;
    /** Distinct texts the model embedded. */
    embedded: number;
    /** Texts whose vectors came from the embedding cache. */
    cached: number;
}

export interface IndexOptions {
    /** Called as work progresses (after each batch). */
    onProgress?: (progress: IndexProgress) => void;
    /** Documents per embedding call and per transaction, 1..10000. Default 256. A crash loses at most the batch in flight. */
    batchSize?: number;
    /**
     * Drop the namespace's HNSW index during the load and build it once at the end (much faster for large loads;
     * searches meanwhile are exact scans). Default: when at least 1000 documents are to be written and they are at
     * least a fifth of what the namespace holds.
     */
    deferIndex?: boolean;
    signal?: AbortSignal;
}

export type IndexResult = Omit<IndexProgress, "phase" | "done"> & {
    /** Whether this call (re)built the namespace's HNSW index. */
    builtVectorIndex: boolean;
};

const INDEX_OPTIONS = ["onProgress", "batchSize", "deferIndex", "signal"] as const;
const CHECK_CHUNK = 1000;
const ANALYZE_AFTER = 1000;

/** A document checked, with its id. */
export interface PreparedDocument {
    id: string;
    text: string;
    metadata?: Metadata;
}

/** The default id of a document: a hash of its text, so the same text is indexed once. */
export function documentId(text: string): string {
    return `doc_${sha256Hex(text).slice(0, 32)}`;
}

/**
 * Indexes documents into a namespace: skips those already stored unchanged, embeds the rest through the cache,
 * writes them batch by batch (each batch one transaction), and leaves the namespace with its HNSW index.
 * Interrupted (crash, abort), it resumes where it stopped: finished batches are skipped, embedded texts are cached.
 */
export async function indexDocuments(
    store: VectorStore,
    cache: EmbeddingCache,
    namespace: string,
    documents: readonly IndexDocument[],
    options: IndexOptions = {},
): Promise<IndexResult> {
    const opts = checkOptionsObject<IndexOptions>("index options", options, INDEX_OPTIONS);
    const onProgress = checkOptionalFunction<(progress: IndexProgress) => void>("onProgress", opts.onProgress);
    const batchSize = opts.batchSize === undefined ? 256 : checkInteger("batchSize", opts.batchSize, 1, 10_000);
    const deferOption = opts.deferIndex === undefined ? undefined : checkBoolean("deferIndex", opts.deferIndex);
    const signal = checkAbortSignal("signal", opts.signal);
    const checked = prepareDocuments(documents);
    const total = checked.length;
    const counts = { total, written: 0, unchanged: 0, embedded: 0, cached: 0 };
    const report = (phase: IndexProgress["phase"], done: number) => onProgress?.({ phase, done, ...counts });
    const throwIfAborted = () => {
        if (signal?.aborted) throw new AbortedError();
    };

    const unchanged = await findUnchangedDocuments(store, namespace, checked, (done, found) => {
        counts.unchanged = found;
        report("checking", done);
    }, signal);
    const toWrite = checked.filter((document) => !unchanged.has(document.id));
    counts.unchanged = unchanged.size;

    const deferIndex = deferOption ?? (toWrite.length >= 1000 && toWrite.length * 5 >= (await store.count(namespace)));
    if (deferIndex && toWrite.length > 0) await store.dropVectorIndex(namespace);
    let failure: unknown;
    try {
        for (let start = 0; start < toWrite.length; start += batchSize) {
            throwIfAborted();
            const batch = toWrite.slice(start, start + batchSize);
            const embedded = await cache.embedDocuments(batch.map((document) => document.text), signal === undefined ? {} : { signal });
            counts.embedded += embedded.embedded;
            counts.cached += embedded.cached;
            const result = await store.upsert(namespace, batch.map((document, index) => ({ ...document, embedding: embedded.embeddings[index]! })));
            counts.written += result.inserted + result.updated;
            counts.unchanged += result.unchanged;
            report("embedding", counts.unchanged + counts.written);
        }
    } catch (error) {
        failure = error;
    }
    // Also after a failure: the namespace is left with its index whatever happened (a build that fails then does
    // not hide the first error).
    let builtVectorIndex = false;
    report("building-index", counts.unchanged + counts.written);
    try {
        builtVectorIndex = await store.buildVectorIndex(namespace);
        // Fresh statistics after a large load keep the planner on the indexes (PGlite never analyzes on its own).
        if (counts.written >= ANALYZE_AFTER) await store.analyze();
    } catch (error) {
        if (failure === undefined) throw error;
    }
    if (failure !== undefined) throw failure;
    return { ...counts, builtVectorIndex };
}

/**
 * Checks documents and gives each its id (the caller's, or a hash of the text); of several with one id the last
 * wins, at its position.
 */
export function prepareDocuments(documents: unknown): PreparedDocument[] {
    if (!Array.isArray(documents)) throw new InvalidOptionError(`Expected an array of documents for documents but received ${describeValue(documents)}`);
    const byId = new Map<string, PreparedDocument>();
    documents.forEach((document: unknown, index) => {
        const name = `documents[${index}]`;
        let text: string;
        let id: string | undefined;
        let metadata: Metadata | undefined;
        if (typeof document === "string") {
            text = checkItemText(name, document);
        } else if (isPlainObject(document)) {
            const value = checkOptionsObject<{ text: string; id?: string; metadata?: Metadata }>(name, document, ["text", "id", "metadata"]);
            text = checkItemText(`${name}.text`, value.text);
            if (value.id !== undefined) id = checkItemId(`${name}.id`, value.id);
            if (value.metadata !== undefined) {
                checkMetadata(`${name}.metadata`, value.metadata);
                metadata = value.metadata;
            }
        } else {
            throw new InvalidOptionError(`Expected a string or { text, id?, metadata? } for ${name} but received ${describeValue(document)}`, { option: "documents" });
        }
        if (text.trim() === "") throw new InvalidOptionError(`Expected a non-empty text for ${name} but received an empty string`, { option: "documents" });
        const key = id ?? documentId(text);
        byId.delete(key); // the last occurrence wins, at its position
        byId.set(key, { id: key, text, ...(metadata === undefined ? {} : { metadata }) });
    });
    return [...byId.values()];
}

/**
 * The ids of documents a namespace already holds exactly so for this model: the documents `index` and the queue's
 * producer skip before loading a model or enqueueing. None when the namespace does not exist yet. The namespace must
 * hold vectors of `expected.model` (a `modelFingerprint`) and, when given, of `expected.dimensions` (else it keeps its
 * own): otherwise an InvalidOptionError, the one a worker or `createSearchIndex` would meet. Then each document is
 * checked as the indexer does (`findUnchangedDocuments`: same id, text hash and metadata).
 */
export async function findUnchangedForModel(
    store: VectorStore,
    namespace: string,
    documents: readonly PreparedDocument[],
    expected: { model: string; dimensions?: number },
    onChecked?: (done: number, unchanged: number) => void,
    signal?: AbortSignal,
): Promise<Set<string>> {
    const existing = await store.getNamespace(namespace);
    if (existing === undefined) return new Set();
    await store.requireNamespace(namespace, { model: expected.model, dimensions: expected.dimensions ?? existing.dimensions });
    return findUnchangedDocuments(store, namespace, documents, onChecked, signal);
}

/**
 * The ids of documents the namespace already holds exactly so (text and metadata), checked 1000 at a time;
 * `onChecked(done, unchangedSoFar)` after each.
 */
export async function findUnchangedDocuments(
    store: VectorStore,
    namespace: string,
    documents: readonly PreparedDocument[],
    onChecked?: (done: number, unchanged: number) => void,
    signal?: AbortSignal,
): Promise<Set<string>> {
    const unchanged = new Set<string>();
    for (let start = 0; start < documents.length; start += CHECK_CHUNK) {
        if (signal?.aborted) throw new AbortedError();
        for (const id of await store.unchangedIds(namespace, documents.slice(start, start + CHECK_CHUNK))) unchanged.add(id);
        onChecked?.(Math.min(start + CHECK_CHUNK, documents.length), unchanged.size);
    }
    return unchanged;
}
