import type { FastifyInstance } from "fastify";
import { packageVersion } from "../internal/package-version.js";
import { plainRoute } from "./route-docs.js";
import type { RouteContext } from "./route-context.js";

/**
 * text-embeddings-inference `GET /info` (docs/openapi.json, Info; fields in router/src/lib.rs's order): the served
 * embedding model (or the reranker when it is the only one) with TEI's names for this server's limits:
 * `max_input_length` the tokens per input, `max_batch_tokens` the model's context, `max_client_batch_size`
 * --max-inputs, `max_concurrent_requests`, `auto_truncate` --truncate. `model_type` is `{ embedding: { pooling:
 * "last-token" } }` or `{ reranker: { id2label, label2id } }`; `model_dtype` is "gguf" (the weights' quantization
 * is the file's); `sha`, `model_sha`, `docker_label` and `max_batch_requests` are null.
 */
export function registerTeiInfoRoute(app: FastifyInstance, context: RouteContext): void {
    app.get("/info", plainRoute({ summary: "The served model and this server's limits (TEI)", tags: ["TEI"] }, "tei"), async () => {
        const served = context.models.serves("embedding") ? context.models.embedding() : context.models.reranker();
        const modelType = served.names.kind === "embedding"
            ? { embedding: { pooling: "last-token" } }
            : { reranker: { id2label: { 0: "yes" }, label2id: { yes: 0 } } };
        return {
            model_id: served.names.id,
            model_sha: null,
            model_dtype: "gguf",
            served_model_name: served.names.id,
            model_type: modelType,
            max_concurrent_requests: context.options.maxConcurrentRequests,
            max_input_length: served.maxTokens,
            max_batch_tokens: served.model.contextSize,
            max_batch_requests: null,
            max_client_batch_size: context.options.maxInputs,
            auto_truncate: context.options.truncate,
            tokenization_workers: 1,
            version: packageVersion() ?? "unknown",
            sha: null,
            docker_label: null,
        };
    });
}
