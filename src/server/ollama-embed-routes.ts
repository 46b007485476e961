import type { FastifyInstance } from "fastify";
import { chooseEmbeddingModel, readEmbeddingCall, runEmbedding } from "./embedding-call.js";
import { described, objectSchema } from "./json-schema.js";
import { RequestBody } from "./request-body.js";
import { DIMENSIONS_FIELD, MODEL_FIELD, TEXT_INPUT_FIELD, TRUNCATE_FIELD } from "./request-fields.js";
import { OLLAMA_EMBED_RESPONSE, OLLAMA_EMBEDDINGS_RESPONSE } from "./response-docs.js";
import { bodyRoute } from "./route-docs.js";
import type { RouteContext } from "./route-context.js";

const KEEP_ALIVE_FIELD = described({ anyOf: [{ type: "string" }, { type: "number" }] }, "Accepted and unused (the model stays loaded)");
const OPTIONS_FIELD = described({ type: "object" }, "Ollama's model options: accepted and unused");

const EMBED_BODY = objectSchema({
    model: MODEL_FIELD,
    input: TEXT_INPUT_FIELD,
    truncate: { ...TRUNCATE_FIELD, description: 'Cut over-long inputs from the end (default true here, as in Ollama); false or "error" refuses them' },
    dimensions: DIMENSIONS_FIELD,
    keep_alive: KEEP_ALIVE_FIELD,
    options: OPTIONS_FIELD,
}, ["input"]);

const LEGACY_BODY = objectSchema({
    model: MODEL_FIELD,
    prompt: described({ type: "string", minLength: 1 }, "The text to embed"),
    keep_alive: KEEP_ALIVE_FIELD,
    options: OPTIONS_FIELD,
}, ["prompt"]);

/**
 * Ollama's embedding routes (ollama docs/api.md, "Generate Embeddings"), so that Ollama clients only change the host:
 * - `POST /api/embed { model, input: string | string[], truncate (default true), dimensions, keep_alive, options }`
 *   → `{ model, embeddings, total_duration, load_duration, prompt_eval_count }` (durations in nanoseconds;
 *   load_duration is 0: the model is loaded when the server is ready).
 * - `POST /api/embeddings { model, prompt, keep_alive, options }` → `{ embedding }` (the older route).
 * Inputs are documents unless the model is a `:query` alias (Ollama has no field for it). `keep_alive` and `options`
 * (sampling settings, an object) are accepted and change nothing. Errors take Ollama's shape `{ error: "message" }`.
 */
export function registerOllamaEmbedRoutes(app: FastifyInstance, context: RouteContext): void {
    app.post("/api/embed", bodyRoute({ summary: "Embed texts (Ollama)", tags: ["Ollama"], responses: { 200: OLLAMA_EMBED_RESPONSE } }, EMBED_BODY, "ollama"), async (request, reply) => {
        const started = process.hrtime.bigint();
        const body = new RequestBody(request.body, EMBED_BODY);
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

    app.post("/api/embeddings", bodyRoute({ summary: "Embed one text (Ollama's older route)", tags: ["Ollama"], responses: { 200: OLLAMA_EMBEDDINGS_RESPONSE } }, LEGACY_BODY, "ollama"), async (request, reply) => {
        const body = new RequestBody(request.body, LEGACY_BODY);
        const chosen = chooseEmbeddingModel(context, body.string("model"));
        body.requiredString("prompt");
        const call = readEmbeddingCall(body, "prompt", context, chosen);
        const result = await runEmbedding(context, reply, chosen.served, { ...call, truncate: "end" });
        return { embedding: Array.from(result.embeddings[0]!) };
    });
}
