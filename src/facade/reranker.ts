import { AbortedError, InvalidOptionError } from "../internal/errors.js";
import { normalizeInputText } from "../format/input-normalization.js";
import { RERANK_PREFIX, RERANK_SUFFIX, buildRerankSequence, checkRerankMaxTokens, formatRerankBody, formatRerankHead, MIN_RERANK_DOCUMENT_TOKENS, rerankRoomError } from "../format/rerank-prompt.js";
import { countRerankChunks, planRerankChunks } from "../format/rerank-chunks.js";
import { DEFAULT_INSTRUCTION } from "../format/task-instructions.js";
import { checkScheduleOptions, FACADE_MODEL_OPTIONS, FacadeModel, loadFacadeModel, type FacadeModelOptions, type ScheduleOptions } from "./facade-model.js";
import { ScheduledFacade } from "./scheduled-facade.js";
import { applyCalibration, checkCalibration, type ScoreCalibration } from "./score-map.js";
import type { ModelFlavour } from "../models/model-kind.js";
import { checkAbortSignal, checkBoolean, checkInteger, checkOptionsObject, checkString, checkStringArray, describeValue } from "../internal/validation.js";

export interface CreateRerankerOptions extends FacadeModelOptions {
    /** Default instruction for every call. Default: the web-search one. */
    instruction?: string;
    /** NFKC, straight quotes and collapsed whitespace on query and documents. Default false. */
    normalizeInput?: boolean;
    /**
     * A monotone score map fitted by `qwen3-embedding verify --fit-calibration` (see loadCalibration): every score is
     * mapped onto the reference's scale. It never reorders results.
     */
    calibration?: ScoreCalibration;
}

export interface RerankOptions extends ScheduleOptions {
    instruction?: string;
    /** Return only the N best. Default: all. */
    topN?: number;
    /**
     * Tokens per prompt (prefix + body + suffix); the document's tail is cut to fit. Default 8192, at most the context
     * size. The instruction and query are never cut: when with the template they leave the document no token, the call
     * throws InvalidOptionError naming the longer of `query` and `instruction` (its `option` says which).
     */
    maxTokens?: number;
    /**
     * Long documents: the most chunks a document is cut into, each scored as its own prompt (template, instruction,
     * query and a run of the document's tokens, within `maxTokens`); the document's score is its best chunk's. Past the
     * last chunk the document is not scored. Default 1: one prompt per document, its tail cut to fit (the official
     * behaviour). Chunks are cut on token boundaries; a document that fits one prompt is scored exactly as without
     * chunking. SiliconFlow's `max_chunks_per_doc`.
     */
    maxChunksPerDoc?: number;
    /**
     * Tokens adjacent chunks share (see `maxChunksPerDoc`). Default 0. Must be below the document tokens a prompt
     * holds (`maxTokens` less template, instruction and query) when more than one chunk is allowed. SiliconFlow's
     * `overlap_tokens`.
     */
    overlapTokens?: number;
    /** Include each document's text in the results. Default false. */
    returnDocuments?: boolean;
}

export interface RerankResultItem {
    index: number;
    /** p(yes) in [0, 1] */
    score: number;
    document?: string;
}

export interface RerankResult {
    results: RerankResultItem[];
    /** Tokens the model saw over all prompts. */
    totalTokens: number;
}

export type ScorePair = readonly [query: string, document: string] | { query: string; document: string };

const CREATE_OPTIONS = [...FACADE_MODEL_OPTIONS, "instruction", "normalizeInput", "calibration"] as const;
const CHUNK_OPTIONS = ["maxChunksPerDoc", "overlapTokens"] as const;
const RERANK_OPTIONS = ["instruction", "topN", "maxTokens", ...CHUNK_OPTIONS, "returnDocuments", "signal", "priority", "timeoutMs"] as const;
const SCORE_OPTIONS = ["instruction", "maxTokens", ...CHUNK_OPTIONS, "signal", "priority", "timeoutMs"] as const;

/** Qwen3 reranking with the official prompt. Create with `createReranker`. */
export class Reranker extends ScheduledFacade {
    readonly flavour: ModelFlavour;
    readonly #instruction: string;
    readonly #normalizeInput: boolean;
    readonly #calibration: ScoreCalibration | undefined;
    #templateTokens: Promise<[Int32Array, Int32Array]> | undefined;

    /** @internal */
    constructor(loaded: FacadeModel, instruction: string, normalizeInput: boolean, calibration: ScoreCalibration | undefined) {
        super(loaded);
        this.flavour = loaded.classification.flavour;
        this.#instruction = instruction;
        this.#normalizeInput = normalizeInput;
        this.#calibration = calibration;
    }

    /** Scores every document against the query and returns them best first. */
    async rerank(query: string, documents: readonly string[], options: RerankOptions = {}): Promise<RerankResult> {
        checkString("query", query);
        checkStringArray("documents", documents);
        const opts = checkOptionsObject<RerankOptions>("rerank options", options, RERANK_OPTIONS);
        const topN = opts.topN === undefined ? documents.length : checkInteger("topN", opts.topN, 1, Number.MAX_SAFE_INTEGER);
        const returnDocuments = opts.returnDocuments === undefined ? false : checkBoolean("returnDocuments", opts.returnDocuments);
        const { scores, totalTokens } = await this.#score(documents.map((document) => [query, document] as const), opts, () => "query");
        const results = documents
            .map((document, index): RerankResultItem => ({ index, score: scores[index]!, ...(returnDocuments ? { document } : {}) }))
            .sort((a, b) => b.score - a.score || a.index - b.index)
            .slice(0, topN);
        return { results, totalTokens };
    }

    /** p(yes) for each (query, document) pair, in the given order. */
    async score(pairs: readonly ScorePair[], options: Omit<RerankOptions, "topN" | "returnDocuments"> = {}): Promise<number[]> {
        if (!Array.isArray(pairs)) throw new InvalidOptionError(`Expected an array of [query, document] pairs for pairs but received ${describeValue(pairs)}`);
        const opts = checkOptionsObject<RerankOptions>("score options", options, SCORE_OPTIONS);
        const normalized = pairs.map((pair, index): readonly [string, string] => {
            const [query, document] = Array.isArray(pair) ? pair : [(pair as { query: unknown }).query, (pair as { document: unknown }).document];
            checkString(`pairs[${index}] query`, query);
            checkString(`pairs[${index}] document`, document);
            return [query as string, document as string];
        });
        return Array.from((await this.#score(normalized, opts, (index) => `pairs[${index}] query`)).scores);
    }

    /** `queryName(index)` names the query of pair `index` in errors. */
    async #score(
        pairs: readonly (readonly [string, string])[],
        opts: RerankOptions,
        queryName: (index: number) => string,
    ): Promise<{ scores: Float32Array; totalTokens: number }> {
        const { model, scheduler } = this.loaded.use();
        const instruction = opts.instruction === undefined ? this.#instruction : checkString("instruction", opts.instruction, { allowEmpty: false });
        const maxTokens = opts.maxTokens === undefined ? Math.min(8192, this.contextSize) : checkInteger("maxTokens", opts.maxTokens, 1, this.contextSize);
        const maxChunks = opts.maxChunksPerDoc === undefined ? 1 : checkInteger("maxChunksPerDoc", opts.maxChunksPerDoc, 1, Number.MAX_SAFE_INTEGER);
        const overlap = opts.overlapTokens === undefined ? 0 : checkInteger("overlapTokens", opts.overlapTokens, 0, Number.MAX_SAFE_INTEGER);
        const signal = checkAbortSignal("signal", opts.signal);
        const schedule = checkScheduleOptions(opts, "interactive");
        if (signal?.aborted) throw new AbortedError();
        if (pairs.length === 0) return { scores: new Float32Array(0), totalTokens: 0 };

        this.#templateTokens ??= Promise.all([
            model.tokenize([RERANK_PREFIX], { special: true }),
            model.tokenize([RERANK_SUFFIX], { special: true }),
        ]).then(([[prefix], [suffix]]) => [prefix!, suffix!]);
        const [prefix, suffix] = await this.#templateTokens;
        checkRerankMaxTokens(prefix.length, suffix.length, maxTokens);
        const clean = (text: string) => (this.#normalizeInput ? normalizeInputText(text) : text);
        const queries = pairs.map(([query]) => clean(query));
        const headTokens = await this.#checkRoom(queries, instruction, prefix.length, suffix.length, maxTokens, queryName);
        // The body is tokenized as ONE string: tokenizing query and document apart changes merges at the seams.
        const bodies = await model.tokenize(pairs.map(([query, document]) => formatRerankBody(instruction, clean(query), clean(document))), { special: false });
        if (maxChunks > 1) this.#checkChunkedSize(bodies, queries.map((query) => headTokens.get(query)!), prefix.length + suffix.length, maxTokens, overlap, maxChunks);
        // Each pair's prompts: one, cut to fit, or (maxChunks > 1) one per chunk of its document's tokens.
        const prompts = bodies.map((body, index) => {
            if (maxChunks === 1) return [buildRerankSequence(prefix, body, suffix, maxTokens).tokens];
            // The head's tokens are the body's first tokens (see formatRerankHead): the document's follow them.
            const head = headTokens.get(queries[index]!)!;
            const document = body.subarray(head);
            const chunks = planRerankChunks(document.length, maxTokens - prefix.length - suffix.length - head, overlap, maxChunks);
            return chunks.map(({ start, end }) => {
                const chunkBody = new Int32Array(head + end - start);
                chunkBody.set(body.subarray(0, head));
                chunkBody.set(document.subarray(start, end), head);
                return buildRerankSequence(prefix, chunkBody, suffix, maxTokens).tokens;
            });
        });
        const sequences = prompts.flat();
        const chunkScores = await scheduler.submit({ kind: "rank", sequences, signal, ...schedule });
        const scores = new Float32Array(pairs.length);
        let next = 0;
        prompts.forEach((chunks, index) => {
            // The document's score is its best chunk's (SiliconFlow's rule); with one prompt, that prompt's.
            scores[index] = Math.max(...chunkScores.subarray(next, next + chunks.length));
            next += chunks.length;
        });
        if (this.#calibration !== undefined) scores.forEach((score, index) => (scores[index] = applyCalibration(this.#calibration!, score)));
        return { scores, totalTokens: sequences.reduce((sum, sequence) => sum + sequence.length, 0) };
    }

    /**
     * Refuses chunked work larger than the scheduler holds before its prompts are built (a small overlap on long
     * documents makes many prompts of `maxTokens` each), naming `maxChunksPerDoc`.
     */
    #checkChunkedSize(
        bodies: readonly Int32Array[],
        heads: readonly number[],
        templateTokens: number,
        maxTokens: number,
        overlap: number,
        maxChunks: number,
    ): void {
        let prompts = 0;
        let tokens = 0;
        bodies.forEach((body, index) => {
            const head = heads[index]!;
            const counted = countRerankChunks(body.length - head, maxTokens - templateTokens - head, overlap, maxChunks);
            prompts += counted.chunks;
            tokens += counted.tokens + counted.chunks * (templateTokens + head);
        });
        if (tokens <= this.loaded.maxQueuedTokens) return;
        throw new InvalidOptionError(
            `In chunks, these documents make ${prompts} prompts of ${tokens} tokens, more than the reranker queues (maxQueuedTokens ` +
            `${this.loaded.maxQueuedTokens}); send a smaller maxChunksPerDoc, a smaller overlapTokens or fewer documents`,
            { option: "maxChunksPerDoc" },
        );
    }

    /**
     * Refuses, before any body is tokenized, a query whose prompt leaves the document no room (see rerankRoomError):
     * each distinct query's head (`<Instruct>...<Document>:`) is tokenized once; query and instruction alone only for
     * the message. Returns each distinct query's head token count.
     */
    async #checkRoom(
        queries: readonly string[],
        instruction: string,
        prefixTokens: number,
        suffixTokens: number,
        maxTokens: number,
        queryName: (index: number) => string,
    ): Promise<Map<string, number>> {
        const { model } = this.loaded.use();
        const firstIndex = new Map<string, number>();
        queries.forEach((query, index) => {
            if (!firstIndex.has(query)) firstIndex.set(query, index);
        });
        const distinct = [...firstIndex.keys()];
        const heads = await model.tokenize(distinct.map((query) => formatRerankHead(instruction, query)), { special: false });
        const headTokens = new Map(distinct.map((query, index) => [query, heads[index]!.length]));
        const room = maxTokens - prefixTokens - suffixTokens;
        const at = heads.findIndex((head) => head.length + MIN_RERANK_DOCUMENT_TOKENS > room);
        if (at === -1) return headTokens;
        const query = distinct[at]!;
        const [queryTokens, instructionTokens] = await model.tokenize([query, instruction], { special: false });
        const error = rerankRoomError({
            queryName: queryName(firstIndex.get(query)!),
            queryTokens: queryTokens!.length,
            instructionTokens: instructionTokens!.length,
            headTokens: heads[at]!.length,
            prefixTokens,
            suffixTokens,
            maxTokens,
        });
        if (error !== undefined) throw error;
        return headTokens;
    }
}

/** Loads a Qwen3-Reranker GGUF (either flavour: RANK-pooled cls.output, or plain causal LM). */
export async function createReranker(options: CreateRerankerOptions): Promise<Reranker> {
    const opts = checkOptionsObject<CreateRerankerOptions>("createReranker options", options, CREATE_OPTIONS);
    const instruction = opts.instruction === undefined ? DEFAULT_INSTRUCTION : checkString("instruction", opts.instruction, { allowEmpty: false });
    const normalizeInput = opts.normalizeInput === undefined ? false : checkBoolean("normalizeInput", opts.normalizeInput);
    const calibration = opts.calibration === undefined ? undefined : checkCalibration(opts.calibration);
    const loaded = await loadFacadeModel(opts, "reranker");
    return new Reranker(loaded, instruction, normalizeInput, calibration);
}
