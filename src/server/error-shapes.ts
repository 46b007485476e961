import type { HttpError } from "./error-responses.js";

/**
 * The error body a route answers with, as its source API defines it:
 * - "openai" (default): `{ error: { message, type, code, param } }` (also llama-server's and Jina's clients read it);
 * - "ollama": `{ error: "message" }` (ollama server/routes.go);
 * - "tei": `{ error: "message", error_type }` (text-embeddings-inference docs/openapi.json ErrorResponse);
 * - "cohere": `{ id, message }` (the Cohere API's error body).
 * A route picks its shape with `config: { errorShape }`; every error on it (auth, limits, validation) takes it.
 */
export type ErrorShape = "openai" | "ollama" | "tei" | "cohere";

declare module "fastify" {
    interface FastifyContextConfig {
        errorShape?: ErrorShape;
    }
}

/** The body of `http` in `shape`; `requestId` is Cohere's `id`. */
export function errorBodyIn(shape: ErrorShape | undefined, http: HttpError, requestId: string): unknown {
    switch (shape) {
        case "ollama":
            return { error: http.message };
        case "tei":
            return { error: http.message, error_type: teiErrorType(http) };
        case "cohere":
            return { id: requestId, message: http.message };
        default:
            return http.toBody();
    }
}

/** TEI's ErrorType (lower-case on the wire): Unhealthy, Backend, Overloaded, Validation, Tokenizer, Empty. */
function teiErrorType(http: HttpError): string {
    if (http.code === "empty_input") return "empty";
    if (http.code === "invalid_token_ids") return "tokenizer";
    if (http.status === 429) return "overloaded";
    if (http.status === 503) return "unhealthy";
    if (http.status >= 500) return "backend";
    return "validation";
}
