import type { FastifyContextConfig, FastifyRequest, RouteShorthandOptions } from "fastify";
import type { ErrorShape } from "./error-shapes.js";
import { withoutNullFields, type JsonSchema } from "./json-schema.js";
import "./response-docs.js"; // declares config.openapiResponses
import { refuseUnknownFields } from "./schema-errors.js";

/** The OpenAPI tags: the API each route comes from (a route several clients call carries each one's tag). */
export const API_TAGS = [
    { name: "OpenAI", description: "OpenAI's embeddings API and model list" },
    { name: "Cohere", description: "Cohere's embed and rerank APIs (v1 and v2)" },
    { name: "Jina", description: "Jina's embeddings and rerank APIs (also SiliconFlow's rerank)" },
    { name: "TEI", description: "Hugging Face text-embeddings-inference" },
    { name: "Ollama", description: "Ollama's embedding routes, model list and version" },
    { name: "llama-server", description: "llama.cpp's llama-server" },
    { name: "qwen3-embedding", description: "This server's own routes: health, metrics, this document, memories, search and documents" },
] as const;

export type ApiTag = (typeof API_TAGS)[number]["name"];

/** What the OpenAPI document says of a route. */
export interface RouteDoc {
    summary: string;
    tags: readonly ApiTag[];
    description?: string;
    /** Answered without an API key (create-server.ts's isPublicPath): the document says so (`security: []`). */
    public?: boolean;
    /** Its successful answers by status, for the document only (response-docs.ts); its errors are added there. */
    responses?: Readonly<Record<string, JsonSchema>>;
}

/** The route schema's documentation part. */
function docSchema({ public: open, responses: _responses, ...doc }: RouteDoc) {
    return { ...doc, tags: [...doc.tags], ...(open === true ? { security: [] } : {}) };
}

/** The route's config: its error shape, and the responses the document shows (never `schema.response`). */
function configOf(doc: RouteDoc, errorShape: ErrorShape | undefined): { config?: FastifyContextConfig } {
    const config: FastifyContextConfig = {
        ...(errorShape === undefined ? {} : { errorShape }),
        ...(doc.responses === undefined ? {} : { openapiResponses: doc.responses }),
    };
    return Object.keys(config).length === 0 ? {} : { config };
}

/**
 * Before validation: drops a body's `null` fields (the server reads them as absent, see withoutNullFields), then
 * refuses a field the route's schema does not name (before ajv would report a missing one, see refuseUnknownFields).
 */
async function prepareBody(request: FastifyRequest): Promise<void> {
    request.body = withoutNullFields(request.body);
    refuseUnknownFields(request.body, request.routeOptions.schema?.body as JsonSchema | undefined);
}

/**
 * Options of a POST route whose JSON body `body` validates (and the OpenAPI document shows); `errorShape` as in
 * error-shapes.ts.
 */
export function bodyRoute(doc: RouteDoc, body: JsonSchema, errorShape?: ErrorShape): RouteShorthandOptions {
    return {
        schema: { ...docSchema(doc), body },
        preValidation: prepareBody,
        ...configOf(doc, errorShape),
    };
}

/** Options of a route without a body (GET). */
export function plainRoute(doc: RouteDoc, errorShape?: ErrorShape): RouteShorthandOptions {
    return {
        schema: docSchema(doc),
        ...configOf(doc, errorShape),
    };
}
