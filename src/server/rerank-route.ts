import type { FastifyInstance } from "fastify";
import type { RerankOptions } from "../facade/reranker.js";
import { HttpError } from "./error-responses.js";
import { readRerankRequest, runRerank } from "./rerank-call.js";
import { RequestBody } from "./request-body.js";
import type { RouteContext } from "./route-context.js";
import { isTeiRerankBody, teiRerank } from "./tei-routes.js";

const FIELDS = [
    "model", "query", "documents", "top_n", "return_documents", "instruction", "max_tokens_per_doc",
    "max_chunks_per_doc", "overlap_tokens",
] as const;

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
        app.post(path, async (request, reply) => {
            if (isTeiRerankBody(request.body)) return teiRerank(context, request, reply);
            const body = new RequestBody(request.body, FIELDS);
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
