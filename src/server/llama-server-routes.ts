import type { FastifyInstance } from "fastify";
import { chooseEmbeddingModel, readEmbeddingCall, runEmbedding } from "./embedding-call.js";
import { invalidField } from "./error-responses.js";
import { readRerankRequest, runRerank } from "./rerank-call.js";
import { described, objectSchema } from "./json-schema.js";
import { RequestBody } from "./request-body.js";
import { MODEL_FIELD, QUERY_FIELD, RERANK_DOCUMENTS_FIELD, TEXT_INPUT_FIELD, TOP_N_FIELD } from "./request-fields.js";
import { bodyRoute } from "./route-docs.js";
import type { RouteContext } from "./route-context.js";

const EMBEDDING_BODY = objectSchema({
    content: TEXT_INPUT_FIELD,
    input: { ...TEXT_INPUT_FIELD, description: "The same as content, by OpenAI's name" },
    embd_normalize: described({ type: "integer", minimum: -1 }, "-1 none, 0 max-absolute (int16 range), 1 taxicab, 2 Euclidean (default), above 2 the p-norm"),
    model: MODEL_FIELD,
});
const RERANKING_BODY = objectSchema({ query: QUERY_FIELD, documents: RERANK_DOCUMENTS_FIELD, top_n: TOP_N_FIELD, model: MODEL_FIELD }, ["query", "documents"]);

/**
 * llama-server's own routes (llama.cpp tools/server/README.md), so its clients only change the URL:
 * - `POST /embedding` and `POST /embeddings` `{ content (or input): string | string[] | token ids, embd_normalize }`
 *   → `[{ embedding: [[...]], index }]`: one pooled vector per input, wrapped in an array as llama-server writes it
 *   for pooled models. `embd_normalize`: -1 none, 0 max-absolute (scaled to 32760), 1 taxicab, 2 Euclidean
 *   (default), above 2 the p-norm, as llama.cpp's common_embd_normalize. Inputs are documents unless `model` is a
 *   `:query` alias.
 * - `POST /reranking` and `POST /v1/reranking` `{ query, documents, top_n }` → `{ model, object: "list", results:
 *   [{ index, relevance_score }], usage: { prompt_tokens, total_tokens } }`, best first (its aliases `/rerank` and
 *   `/v1/rerank` are the Jina/Cohere/TEI routes, whose answers carry `results` too).
 * Keys come out in llama-server's order (nlohmann::json sorts them).
 */
export function registerLlamaServerRoutes(app: FastifyInstance, context: RouteContext): void {
    for (const path of ["/embedding", "/embeddings"]) {
        app.post(path, bodyRoute({ summary: "Embed texts (llama-server)", tags: ["llama-server"] }, EMBEDDING_BODY), async (request, reply) => {
            const body = new RequestBody(request.body, EMBEDDING_BODY);
            if (body.has("content") && body.has("input")) throw invalidField("input", "Pass either content or input, not both");
            const param = body.has("input") ? "input" : "content";
            const chosen = chooseEmbeddingModel(context, body.string("model"));
            const norm = body.integer("embd_normalize", -1, 1_000_000) ?? 2;
            const call = readEmbeddingCall(body, param, context, chosen);
            const result = await runEmbedding(context, reply, chosen.served, { ...call, normalize: norm === 2 });
            return result.embeddings.map((embedding, index) => ({ embedding: [normalizeAs(embedding as Float32Array, norm)], index }));
        });
    }
    for (const path of ["/reranking", "/v1/reranking"]) {
        app.post(path, bodyRoute({ summary: "Rerank documents (llama-server)", tags: ["llama-server"] }, RERANKING_BODY), async (request, reply) => {
            const body = new RequestBody(request.body, RERANKING_BODY);
            const { served, model, query, documents, topN } = readRerankRequest(body, context);
            const result = await runRerank(context, reply, served, query, documents, topN === undefined ? {} : { topN });
            return {
                model,
                object: "list",
                results: result.results.map((item) => ({ index: item.index, relevance_score: item.score })),
                usage: { prompt_tokens: result.totalTokens, total_tokens: result.totalTokens },
            };
        });
    }
}

/** llama.cpp's common_embd_normalize over an embedding (2: already L2-normalized by the library). */
function normalizeAs(vector: Float32Array, norm: number): number[] {
    if (norm === 2 || norm === -1) return Array.from(vector);
    let sum = 0;
    if (norm === 0) {
        for (const x of vector) sum = Math.max(sum, Math.abs(x));
        sum /= 32760; // max absolute, scaled to int16's range
    } else if (norm === 1) {
        for (const x of vector) sum += Math.abs(x);
    } else {
        for (const x of vector) sum += Math.abs(x) ** norm;
        sum = sum ** (1 / norm);
    }
    const scale = sum > 0 ? 1 / sum : 0;
    return Array.from(vector, (x) => Math.fround(x * scale));
}
