import type { FastifyInstance, FastifyRequest } from "fastify";
import { isKvCacheType, precisionModeOf } from "../facade/precision-mode.js";
import type { KeyAccess } from "./api-key-access.js";
import { HttpError } from "./error-responses.js";
import { HEALTH_RESPONSE, HEALTH_UNAVAILABLE_RESPONSE } from "./response-docs.js";
import { plainRoute } from "./route-docs.js";
import type { RouteContext } from "./route-context.js";

/**
 * `GET /health` (200 `{ status: "ok" }` once the models are loaded; 503 with `status` "loading", "failed" or
 * "shutting_down" and an OpenAI-shaped `error` otherwise), `GET /v1/models` (OpenAI's list, with each model's
 * accepted names, the embedding model's `:query` / `:document` names (`role_aliases`), and its KV cache precision
 * and mode, "exact" or "fast", where the model says) and `GET /metrics` (Prometheus text format).
 */
export function registerStatusRoutes(app: FastifyInstance, context: RouteContext, startedAt: number, accessOf: (request: FastifyRequest) => KeyAccess): void {
    app.get("/health", plainRoute({ summary: "Readiness: 200 once the models are loaded, else 503 with the state", tags: ["qwen3-embedding", "TEI"], public: true, responses: { 200: HEALTH_RESPONSE, 503: HEALTH_UNAVAILABLE_RESPONSE } }), async (_request, reply) => {
        const unavailable = context.models.unavailable();
        if (unavailable !== undefined) {
            const status = { loading: "loading", failed: "failed", closing: "shutting_down", ready: "ok" }[context.models.state];
            return reply.code(503).headers(unavailable.headers).send({ status, ...unavailable.toBody() });
        }
        return {
            status: "ok",
            models: Object.fromEntries(context.models.list().map((entry) => [entry.kind, entry.names.id])),
        };
    });

    app.get("/v1/models", plainRoute({ summary: "List the served models (OpenAI)", tags: ["OpenAI"] }), async () => {
        const unavailable = context.models.unavailable();
        if (unavailable !== undefined) throw unavailable;
        return {
            object: "list",
            data: context.models.list().map((entry) => ({
                id: entry.names.id,
                object: "model",
                created: Math.floor(startedAt / 1000),
                owned_by: "qwen3-embedding",
                kind: entry.kind,
                aliases: entry.names.accepted,
                ...(entry.names.roleAliases.length > 0 ? { role_aliases: entry.names.roleAliases } : {}),
                max_input_tokens: entry.maxTokens,
                ...("dimensions" in entry.served ? { dimensions: entry.served.dimensions } : {}),
                ...(isKvCacheType(entry.served.kvCacheType) ? { kv_cache_type: entry.served.kvCacheType, mode: precisionModeOf(entry.served.kvCacheType) } : {}),
            })),
        };
    });

    app.get("/metrics", plainRoute({ summary: "Prometheus metrics (admin key)", tags: ["qwen3-embedding", "TEI"] }), async (request, reply) => {
        if (!accessOf(request).admin) throw new HttpError(403, "Only an admin API key may read /metrics", { code: "forbidden" });
        const text = await context.metrics.registry.metrics();
        return reply.type(context.metrics.registry.contentType).send(text);
    });
}

/** The 404 for a path no route serves. */
export function unknownRoute(method: string, url: string): HttpError {
    const path = url.split("?")[0]!.slice(0, 200);
    return new HttpError(
        404,
        `No route for ${method} ${path}; this server serves POST /v1/embeddings, /embed, /v1/embed, /v2/embed, /api/embed, /api/embeddings, /embedding, /embeddings, ` +
        `/tokenize, /decode, /similarity, /v1/rerank, /rerank, /v2/rerank, /reranking, /v1/reranking and GET /health, /info, /v1/models, ` +
        "/api/tags, /api/version, /metrics, /openapi.json (every route, in OpenAPI) and /docs",
        { code: "not_found" },
    );
}
