import { Reranker } from "../facade/reranker.js";
import { checkInteger, checkString, checkStringArray, describeValue } from "../internal/validation.js";
import { readAdapterTarget, TargetedSource } from "./adapter-target.js";
import { SERVE_CONNECTION_OPTIONS, ServeRequestError, type ServeConnection } from "./serve-client.js";

/**
 * Where the scores come from: a `reranker` made by `createReranker` (in this process), or a `qwen3-embedding serve`
 * at `baseUrl` (its `/v1/rerank`). Give one of them.
 */
export interface RerankSourceOptions extends Partial<ServeConnection> {
    /** A Reranker from createReranker; the adapter does not dispose it. */
    reranker?: Reranker;
    /** The reranker's instruction. Default: the reranker's own (in process) or the server's (remote): the web-search one unless set there. */
    instruction?: string;
    /** Keep only the N best. Default: all. */
    topN?: number;
}

export const RERANK_SOURCE_OPTIONS = ["reranker", ...SERVE_CONNECTION_OPTIONS, "instruction", "topN"] as const;

export interface RankedDocument {
    /** Position in the documents given. */
    index: number;
    /** p(yes) in [0, 1]. */
    score: number;
}

/** Per call: `instruction` and `topN` override the adapter's. */
export interface RerankCall {
    instruction?: string | undefined;
    topN?: number | undefined;
    signal?: AbortSignal | undefined;
}

/** Scores documents against a query, best first, through an in-process Reranker or a remote serve. */
export class RerankSource extends TargetedSource<Reranker> {
    readonly #instruction: string | undefined;
    readonly #topN: number | undefined;

    /** Checks `options` (named `optionsName` in errors; `extra` are the adapter's own keys, checked by it). */
    constructor(optionsName: string, options: unknown, extra: readonly string[] = []) {
        const target = readAdapterTarget<RerankSourceOptions, "reranker", Reranker>(optionsName, options, [...RERANK_SOURCE_OPTIONS, ...extra], {
            key: "reranker", class: Reranker, description: "a Reranker from createReranker", id: "qwen3-reranker",
        });
        super(target);
        const opts = target.options;
        this.#instruction = opts.instruction === undefined ? undefined : checkString("instruction", opts.instruction, { allowEmpty: false });
        this.#topN = opts.topN === undefined ? undefined : checkTopN("topN", opts.topN);
    }

    /** The documents' indices and scores, best first (ties by position), the best `topN` only when there is one. */
    async rerank(query: string, documents: readonly string[], call: RerankCall = {}): Promise<RankedDocument[]> {
        const instruction = call.instruction === undefined ? this.#instruction : checkString("instruction", call.instruction, { allowEmpty: false });
        const topN = call.topN === undefined ? this.#topN : checkTopN("topN", call.topN);
        checkString("query", query);
        checkStringArray("documents", documents);
        if (documents.length === 0) return [];
        if (this.local !== undefined) {
            const { results } = await this.local.rerank(query, documents, {
                ...(instruction === undefined ? {} : { instruction }),
                ...(topN === undefined ? {} : { topN }),
                ...(call.signal === undefined ? {} : { signal: call.signal }),
            });
            return results.map(({ index, score }) => ({ index, score }));
        }
        const client = this.client!;
        const answer = await client.post("/v1/rerank", {
            query,
            documents,
            ...(instruction === undefined ? {} : { instruction }),
            ...(topN === undefined ? {} : { top_n: topN }),
        }, call.signal) as { results?: { index?: unknown; relevance_score?: unknown }[] };
        const results = answer.results;
        if (!Array.isArray(results) || results.some((item) => typeof item?.index !== "number" || typeof item.relevance_score !== "number")) {
            throw new ServeRequestError(`${client.root}/v1/rerank answered without results[] of { index, relevance_score }: ${describeValue(results)}`, `${client.root}/v1/rerank`);
        }
        return results.map((item) => ({ index: item.index as number, score: item.relevance_score as number }));
    }
}

export function checkTopN(name: string, value: unknown): number {
    return checkInteger(name, value, 1, Number.MAX_SAFE_INTEGER);
}
