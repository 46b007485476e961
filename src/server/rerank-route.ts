import type { FastifyInstance } from "fastify";
import type { RerankOptions } from "../facade/reranker.js";
import { HttpError } from "./error-responses.js";
import { readRerankRequest, runRerank } from "./rerank-call.js";
import { described, objectSchema, type JsonSchema } from "./json-schema.js";
import { RequestBody } from "./request-body.js";
import { MODEL_FIELD, QUERY_FIELD, RERANK_DOCUMENTS_FIELD, RERANK_INSTRUCTION_FIELD, TOP_N_FIELD } from "./request-fields.js";
import { RERANK_RESPONSE } from "./response-docs.js";
import { bodyRoute, type ApiTag } from "./route-docs.js";
import type { RouteContext } from "./route-context.js";
import { isTeiRerankBody, TEI_RERANK_BODY, teiRerank } from "./tei-routes.js";

const BODY = objectSchema({
    model: MODEL_FIELD,
    query: QUERY_FIELD,
    documents: RERANK_DOCUMENTS_FIELD,
    top_n: TOP_N_FIELD,
    return_documents: described({ type: "boolean" }, "Return each document with its score"),
    instruction: RERANK_INSTRUCTION_FIELD,
    max_tokens_per_doc: described({ type: "integer", minimum: 1 }, "Tokens per scored prompt (at most the server's --max-tokens-per-input); the document's tail is cut to fit"),
    max_chunks_per_doc: described({ type: "integer", minimum: 1 }, "SiliconFlow: score a long document in up to this many chunks, its score the best chunk's"),
    overlap_tokens: described({ type: "integer", minimum: 0 }, "SiliconFlow: tokens shared by consecutive chunks"),
}, ["query", "documents"], "Jina's, Cohere's and SiliconFlow's rerank body");

/**
 * The rerank routes' body: TEI's when it has `texts` and no `documents` (as isTeiRerankBody tells them apart), else
 * Jina's / Cohere's.
 */
const RERANK_OR_TEI_BODY: JsonSchema = {
    type: "object",
    description: "Jina's / Cohere's rerank body, or TEI's when it has texts and no documents",
    if: { type: "object", required: ["texts"], not: { type: "object", required: ["documents"] } },
    then: TEI_RERANK_BODY,
    else: BODY,
};

const TAGS: Readonly<Record<(typeof RERANK_PATHS)[number], readonly ApiTag[]>> = { "/v1/rerank": ["Jina", "Cohere"], "/rerank": ["Jina", "Cohere", "TEI"], "/v2/rerank": ["Cohere"] };

/**
 * SiliconFlow's default `max_chunks_per_doc` (https://docs.siliconflow.cn/en/api-reference/rerank/create-rerank),
 * used when a request sends only `overlap_tokens`.
 */
const DEFAULT_MAX_CHUNKS_PER_DOC = 1024;

/** Paths of the Jina / Cohere / SiliconFlow rerank API; `/rerank` also takes TEI's body (`texts`). */
export const RERANK_PATHS = ["/v1/rerank", "/rerank", "/v2/rerank"] as const;

/**
 * SiliconFlow's chunking fields: `max_chunks_per_doc` (at least 1) and `overlap_tokens` (at least 0, and below the
 * document tokens a prompt holds: checked by the reranker). Neither sent: no chunking (one prompt per document, its
 * tail cut). Only `overlap_tokens`: SiliconFlow's default of 1024 chunks. Only `max_chunks_per_doc`: no overlap.
 */
function readChunking(body: RequestBody): Pick<RerankOptions, "maxChunksPerDoc" | "overlapTokens"> {
    const maxChunks = body.integer("max_chunks_per_doc", 1, Number.MAX_SAFE_INTEGER);
    const overlap = body.integer("overlap_tokens", 0, Number.MAX_SAFE_INTEGER);
    if (maxChunks === undefined && overlap === undefined) return {};
    return { maxChunksPerDoc: maxChunks ?? DEFAULT_MAX_CHUNKS_PER_DOC, overlapTokens: overlap ?? 0 };
}

/** The reranker's chunking errors speak of its options; over HTTP they name the request fields (their `param` already does). */
async function withHttpChunkNames<T>(work: () => Promise<T>): Promise<T> {
    try {
        return await work();
    } catch (error) {
        if (!(error instanceof HttpError) || (error.param !== "overlap_tokens" && error.param !== "max_chunks_per_doc")) throw error;
        const message = error.message
            .replaceAll("overlapTokens", "overlap_tokens")
            .replaceAll("maxChunksPerDoc", "max_chunks_per_doc")
            .replace("a larger maxTokens", "a larger max_tokens_per_doc (at most --max-tokens-per-input)");
        throw new HttpError(error.status, message, { code: error.code, param: error.param });
    }
}

/**
 * Jina / Cohere / SiliconFlow `POST /v1/rerank` (also `/rerank`, and `/v2/rerank` for Cohere's v2 clients): `query`,
 * `documents` as strings or `{ text }`, `top_n`, `return_documents`, `instruction`, `max_tokens_per_doc` (tokens per
 * scored prompt: template, instruction, query and document; the document's tail is cut to fit), SiliconFlow's
 * `max_chunks_per_doc` and `overlap_tokens` (a long document is scored in chunks, its score the best chunk's; see
 * readChunking and the reranker's `maxChunksPerDoc`). The response has
 * every shape's fields: `{ id, model, results: [{ index, relevance_score, document? }], usage: { total_tokens },
 * meta: { tokens: { input_tokens, output_tokens } } }`. A body with TEI's `texts` is answered TEI's way.
 */
export function registerRerankRoutes(app: FastifyInstance, context: RouteContext): void {
    for (const path of RERANK_PATHS) {
        const doc = { summary: "Rerank documents (Jina, Cohere, SiliconFlow; TEI's body too)", tags: TAGS[path], responses: { 200: RERANK_RESPONSE } };
        app.post(path, bodyRoute(doc, RERANK_OR_TEI_BODY), async (request, reply) => {
            if (isTeiRerankBody(request.body)) return teiRerank(context, request, reply);
            const body = new RequestBody(request.body, BODY);
            const { served, model, query, documents, topN } = readRerankRequest(body, context);
            const returnDocuments = body.boolean("return_documents") ?? false;
            const instruction = body.string("instruction", { nonEmpty: true });
            const maxTokens = body.integer("max_tokens_per_doc", 1, served.maxTokens);
            const chunking = readChunking(body);
            const result = await withHttpChunkNames(() => runRerank(context, reply, served, query, documents, {
                ...(topN === undefined ? {} : { topN }),
                ...(instruction === undefined ? {} : { instruction }),
                ...(maxTokens === undefined ? {} : { maxTokens }),
                ...chunking,
            }));
            return {
                id: request.id,
                model,
                results: result.results.map((item) => ({
                    index: item.index,
                    relevance_score: item.score,
                    ...(returnDocuments ? { document: { text: documents[item.index]! } } : {}),
                })),
                usage: { total_tokens: result.totalTokens },
                meta: { tokens: { input_tokens: result.totalTokens, output_tokens: 0 } },
            };
        });
    }
}
