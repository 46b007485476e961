import type { FastifyReply } from "fastify";
import type { RerankOptions, RerankResult } from "../facade/reranker.js";
import { describeValue } from "../internal/validation.js";
import { HttpError, invalidField, tooManyInputs, withFieldNames } from "./error-responses.js";
import type { RequestBody } from "./request-body.js";
import { checkRequestedModel } from "./model-names.js";
import type { RouteContext } from "./route-context.js";
import type { ServedModel } from "./served-models.js";
import type { ServedReranker } from "./server-options.js";

/**
 * Reads the documents to rerank from `param`: an array of strings, or (when `objects`) also of `{ text }` objects as
 * Jina and Cohere take them. An empty array is a 400, more than `maxInputs` a 413.
 */
export function readDocuments(body: RequestBody, param: string, maxInputs: number, objects: boolean): string[] {
    const value = body.raw(param);
    const expected = objects ? "an array of strings or of { text } objects" : "an array of strings";
    if (!Array.isArray(value)) throw invalidField(param, `Expected ${expected} for ${param} but received ${describeValue(value)}`);
    if (value.length === 0) throw new HttpError(400, `${param} is an empty array; send at least one document`, { code: "empty_input", param });
    if (value.length > maxInputs) {
        throw tooManyInputs(param, value.length, maxInputs);
    }
    return value.map((item: unknown, index) => {
        if (typeof item === "string") return item;
        const text = objects && item !== null && typeof item === "object" && !Array.isArray(item) ? (item as { text?: unknown }).text : undefined;
        if (typeof text === "string") return text;
        throw invalidField(param, `Expected a string${objects ? " or an object with a string text field" : ""} for ${param}[${index}] but received ${describeValue(item)}`);
    });
}

/**
 * The rerank options whose errors name a request field: the query and the instruction (never cut; see the reranker),
 * and SiliconFlow's chunking fields.
 */
const RERANK_FIELDS = { query: "query", instruction: "instruction", overlapTokens: "overlap_tokens", maxChunksPerDoc: "max_chunks_per_doc" } as const;

/**
 * Reranks through the facade, admitted by the gate and under its signal; counts the tokens the model saw. A query or
 * instruction that leaves the document no room in a prompt of the server's (or the request's) tokens-per-prompt
 * limit is a 400 `invalid_value` whose `param` is `query` or `instruction`, whichever the library named: they are
 * never cut, only documents are.
 */
export async function runRerank(
    context: RouteContext,
    reply: FastifyReply,
    served: ServedModel<ServedReranker>,
    query: string,
    documents: readonly string[],
    options: Omit<RerankOptions, "signal">,
): Promise<RerankResult> {
    return context.gate.run("reranker", reply, async ({ signal, remainingMs }) => {
        const result = await withFieldNames(RERANK_FIELDS, () =>
            served.model.rerank(query, documents, { maxTokens: served.maxTokens, ...options, signal, timeoutMs: remainingMs() }));
        context.metrics.processed("reranker", documents.length, result.totalTokens);
        return result;
    });
}

/** What every `{ model, query, documents, top_n }` rerank body holds, read and checked (the model as answered). */
export interface RerankRequest {
    served: ServedModel<ServedReranker>;
    model: string;
    query: string;
    documents: string[];
    topN: number | undefined;
}

/** Reads `model`, `query`, `documents` (strings or `{ text }`) and `top_n` of a Jina / Cohere / llama-server body. */
export function readRerankRequest(body: RequestBody, context: RouteContext): RerankRequest {
    const served = context.models.reranker();
    return {
        served,
        model: checkRequestedModel(body.string("model"), served.names, context.models.namesOf("embedding")),
        query: body.requiredString("query"),
        documents: readDocuments(body, "documents", context.options.maxInputs, true),
        topN: body.integer("top_n", 1, Number.MAX_SAFE_INTEGER),
    };
}
