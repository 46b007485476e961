import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import type { FastifyInstance } from "fastify";
import { packageVersion } from "../internal/package-version.js";
import { errorResponse } from "./response-docs.js";
import { API_TAGS, plainRoute } from "./route-docs.js";

/** Where the document and its browsable page are served; both are answered without an API key (see create-server). */
export const OPENAPI_PATH = "/openapi.json";
export const DOCS_PREFIX = "/docs";

/**
 * The server's OpenAPI 3.1 document, made by @fastify/swagger from the routes as they are registered: each route's
 * summary, tags (the API it comes from, route-docs.ts) and body schema, the very schema fastify validates the body
 * against (json-schema.ts), so the document and the validation cannot drift. Served at `GET /openapi.json`, and by
 * @fastify/swagger-ui at `/docs` (an HTML page; the document also at `/docs/json` and `/docs/yaml`).
 *
 * Call before registering the routes: @fastify/swagger collects them as they are added.
 */
export async function registerOpenApiDocument(app: FastifyInstance): Promise<void> {
    await app.register(swagger, {
        openapi: {
            openapi: "3.1.0",
            info: {
                title: "qwen3-embedding",
                version: packageVersion() ?? "0.0.0",
                description: "On-prem Qwen3 text embedding and reranking over llama.cpp, behind the request shapes of OpenAI, Cohere, Jina, " +
                    "text-embeddings-inference, Ollama and llama-server. Request bodies are validated against the schemas shown here: an unknown " +
                    "field or a value of the wrong type is a 400 naming the field; null fields count as absent.",
            },
            tags: API_TAGS.map((tag) => ({ ...tag })),
            components: {
                securitySchemes: {
                    apiKey: { type: "http", scheme: "bearer", description: "Needed when the server was started with API keys (--api-key); /health and this document never need one" },
                },
            },
            security: [{ apiKey: [] }],
        },
        // Responses reach the document here, from the route's config, and never the route's schema: fastify would
        // serialize answers through them (response-docs.ts).
        transform: ({ schema, url, route }) => {
            const responses = { ...route.config?.openapiResponses, default: errorResponse(route.config?.errorShape) };
            return { url, schema: { ...schema, response: responses } as typeof schema };
        },
    });
    await app.register(swaggerUi, { routePrefix: DOCS_PREFIX });
    app.get(OPENAPI_PATH, plainRoute({ summary: "This OpenAPI document", tags: ["qwen3-embedding"], public: true }), async () => app.swagger());
}
