import type { FastifyInstance } from "fastify";
import { readRerankRequest, runRerank } from "./rerank-call.js";
import { RequestBody } from "./request-body.js";
import type { RouteContext } from "./route-context.js";
import { isTeiRerankBody, teiRerank } from "./tei-routes.js";

const FIELDS = [
    "model", "query", "documents", "top_n", "return_documents", "instruction", "max_tokens_per_doc",
    // SiliconFlow's chunking fields: accepted, but documents are not chunked (each is scored whole, its tail cut to fit).
    "max_chunks_per_doc", "overlap_tokens",
] as const;

/** Paths of the Jina / Cohere / SiliconFlow rerank API; `/rerank` also takes TEI's body (`texts`). */
export const RERANK_PATHS = ["/v1/rerank", "/rerank", "/v2/rerank"] as const;

/**
 * Jina / Cohere / SiliconFlow `POST /v1/rerank` (also `/rerank`, and `/v2/rerank` for Cohere's v2 clients): `query`,
 * `documents` as strings or `{ text }`, `top_n`, `return_documents`, `instruction`, `max_tokens_per_doc` (tokens per
 * scored prompt: template, instruction, query and document; the document's tail is cut to fit). The response has
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
            body.integer("max_chunks_per_doc", 1, Number.MAX_SAFE_INTEGER);
            body.integer("overlap_tokens", 0, Number.MAX_SAFE_INTEGER);
            const result = await runRerank(context, reply, served, query, documents, {
                ...(topN === undefined ? {} : { topN }),
                ...(instruction === undefined ? {} : { instruction }),
                ...(maxTokens === undefined ? {} : { maxTokens }),
            });
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
