import type { FastifyInstance } from "fastify";
import { chooseEmbeddingModel, readEmbeddingCall, runEmbedding } from "./embedding-call.js";
import { RequestBody } from "./request-body.js";
import type { RouteContext } from "./route-context.js";

const EMBED_FIELDS = ["model", "input", "truncate", "dimensions", "keep_alive", "options"] as const;
const LEGACY_FIELDS = ["model", "prompt", "keep_alive", "options"] as const;

/**
 * Ollama's embedding routes (ollama docs/api.md, "Generate Embeddings"), so that Ollama clients only change the host:
 * - `POST /api/embed { model, input: string | string[], truncate (default true), dimensions, keep_alive, options }`
 *   → `{ model, embeddings, total_duration, load_duration, prompt_eval_count }` (durations in nanoseconds;
 *   load_duration is 0: the model is loaded when the server is ready).
 * - `POST /api/embeddings { model, prompt, keep_alive, options }` → `{ embedding }` (the older route).
 * Inputs are documents unless the model is a `:query` alias (Ollama has no field for it). `keep_alive` and `options`
 * (sampling settings) are accepted and change nothing. Errors take Ollama's shape `{ error: "message" }`.
 */
export function registerOllamaEmbedRoutes(app: FastifyInstance, context: RouteContext): void {
    app.post("/api/embed", { config: { errorShape: "ollama" } }, async (request, reply) => {
        const started = process.hrtime.bigint();
        const body = new RequestBody(request.body, EMBED_FIELDS);
        const chosen = chooseEmbeddingModel(context, body.string("model"));
        const call = readEmbeddingCall(body, "input", context, chosen);
        const result = await runEmbedding(context, reply, chosen.served, { ...call, truncate: body.has("truncate") ? call.truncate : "end" });
        return {
            model: chosen.name,
            embeddings: result.embeddings.map((embedding) => Array.from(embedding)),
            total_duration: Number(process.hrtime.bigint() - started),
            load_duration: 0,
            prompt_eval_count: result.totalTokens,
        };
    });

    app.post("/api/embeddings", { config: { errorShape: "ollama" } }, async (request, reply) => {
        const body = new RequestBody(request.body, LEGACY_FIELDS);
        const chosen = chooseEmbeddingModel(context, body.string("model"));
        body.requiredString("prompt");
        const call = readEmbeddingCall(body, "prompt", context, chosen);
        const result = await runEmbedding(context, reply, chosen.served, { ...call, truncate: "end" });
        return { embedding: Array.from(result.embeddings[0]!) };
    });
}
