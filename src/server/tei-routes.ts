import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { chooseEmbeddingModel, readEmbeddingCall, runEmbedding } from "./embedding-call.js";
import { readTruncate } from "./embedding-request.js";
import { checkRequestedModel } from "./model-names.js";
import { readDocuments, runRerank } from "./rerank-call.js";
import { described, objectSchema } from "./json-schema.js";
import { RequestBody } from "./request-body.js";
import {
    DIMENSIONS_FIELD, INSTRUCTION_FIELDS, MODEL_FIELD, NORMALIZE_FIELD, PROMPT_NAME_FIELD, QUERY_FIELD, RERANK_INSTRUCTION_FIELD, TEXT_INPUT_FIELD,
    TRUNCATE_FIELD, TRUNCATION_DIRECTION_FIELD,
} from "./request-fields.js";
import { TEI_EMBED_RESPONSE } from "./response-docs.js";
import { bodyRoute } from "./route-docs.js";
import type { RouteContext } from "./route-context.js";

const EMBED_BODY = objectSchema({
    inputs: TEXT_INPUT_FIELD,
    normalize: NORMALIZE_FIELD,
    truncate: TRUNCATE_FIELD,
    truncation_direction: TRUNCATION_DIRECTION_FIELD,
    prompt_name: PROMPT_NAME_FIELD,
    dimensions: DIMENSIONS_FIELD,
    // Extensions shared with /v1/embeddings:
    model: MODEL_FIELD,
    ...INSTRUCTION_FIELDS,
}, ["inputs"]);

/** TEI's RerankRequest (with this server's `model` and `instruction`). */
export const TEI_RERANK_BODY = objectSchema({
    query: QUERY_FIELD,
    texts: described({ type: "array", items: { type: "string" } }, "The texts to score against the query"),
    raw_scores: described({ type: "boolean" }, "Scores as logits log(p / (1 - p)) instead of probabilities"),
    return_text: described({ type: "boolean" }, "Return each text with its score"),
    truncate: TRUNCATE_FIELD,
    truncation_direction: TRUNCATION_DIRECTION_FIELD,
    model: MODEL_FIELD,
    instruction: RERANK_INSTRUCTION_FIELD,
}, ["query", "texts"], "TEI's rerank body (its documents are `texts`)");

/**
 * text-embeddings-inference `POST /embed`: `{ inputs, normalize, truncate, truncation_direction, prompt_name,
 * dimensions }` answered as TEI does, with a bare array of vectors. `prompt_name` "query" gives the inputs the
 * default web-search instruction (the prompt Qwen3's sentence-transformers config names "query").
 */
export function registerTeiEmbedRoute(app: FastifyInstance, context: RouteContext): void {
    app.post("/embed", bodyRoute({ summary: "Embed texts (TEI)", tags: ["TEI"], responses: { 200: TEI_EMBED_RESPONSE } }, EMBED_BODY), async (request, reply) => {
        const body = new RequestBody(request.body, EMBED_BODY);
        const chosen = chooseEmbeddingModel(context, body.string("model"));
        const result = await runEmbedding(context, reply, chosen.served, readEmbeddingCall(body, "inputs", context, chosen));
        return result.embeddings.map((embedding) => Array.from(embedding));
    });
}

/** A TEI rerank body names its documents `texts`; Jina, Cohere and SiliconFlow call them `documents`. */
export function isTeiRerankBody(body: unknown): boolean {
    return body !== null && typeof body === "object" && !Array.isArray(body) && "texts" in body && !("documents" in body);
}

/**
 * text-embeddings-inference `POST /rerank`: `{ query, texts, raw_scores, return_text, truncate,
 * truncation_direction }` answered TEI's way: `[{ index, score, text? }]`, best first. `raw_scores` gives the logit
 * log(p / (1 - p)) of Qwen3's p(yes), recovered from the float32 p, so it stays within [-103.3, 16.6].
 * Documents are always cut from the end to fit the tokens-per-input limit, as Qwen3's reference code does, whatever
 * `truncate` says. The query and the instruction are never cut, `truncate` or not: when they leave the documents no
 * token the answer is a 400 naming `query` or `instruction` (cutting the query would score a question nobody asked).
 */
export async function teiRerank(context: RouteContext, request: FastifyRequest, reply: FastifyReply): Promise<unknown> {
    const served = context.models.reranker();
    const body = new RequestBody(request.body, TEI_RERANK_BODY);
    checkRequestedModel(body.string("model"), served.names, context.models.namesOf("embedding"));
    const query = body.requiredString("query");
    const texts = readDocuments(body, "texts", context.options.maxInputs, false);
    const rawScores = body.boolean("raw_scores") ?? false;
    const returnText = body.boolean("return_text") ?? false;
    readTruncate(body, true); // validates truncate and truncation_direction; documents are cut to fit either way
    const instruction = body.string("instruction", { nonEmpty: true });
    const result = await runRerank(context, reply, served, query, texts, instruction === undefined ? {} : { instruction });
    return result.results.map((item) => ({
        index: item.index,
        score: rawScores ? logit(item.score) : item.score,
        ...(returnText ? { text: texts[item.index]! } : {}),
    }));
}

/** log(p / (1 - p)) with p kept inside float32's open interval (0, 1), so the result stays finite. */
function logit(p: number): number {
    const clamped = Math.min(Math.max(p, 2 ** -149), 1 - 2 ** -24);
    return Math.log(clamped) - Math.log1p(-clamped);
}
