import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import cors from "@fastify/cors";
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import { ApiKeyCheck } from "./auth.js";
import { HttpError, toHttpError } from "./error-responses.js";
import { errorBodyIn } from "./error-shapes.js";
import { ModelCallGate } from "./model-call-gate.js";
import { registerCohereEmbedRoutes } from "./cohere-embed-route.js";
import { registerLlamaServerRoutes } from "./llama-server-routes.js";
import { EXPECTED_KEYWORD } from "./json-schema.js";
import { registerOllamaEmbedRoutes } from "./ollama-embed-routes.js";
import { registerOllamaModelRoutes } from "./ollama-model-routes.js";
import { DOCS_PREFIX, OPENAPI_PATH, registerOpenApiDocument } from "./openapi-document.js";
import { registerOpenAiEmbeddingsRoute } from "./openai-embeddings-route.js";
import { registerRerankRoutes } from "./rerank-route.js";
import type { RouteContext } from "./route-context.js";
import { ServedModels } from "./served-models.js";
import { ServerMetrics } from "./server-metrics.js";
import { resolveServerOptions, type ServerOptions } from "./server-options.js";
import { registerStatusRoutes, unknownRoute } from "./status-routes.js";
import { registerTeiEmbedRoute } from "./tei-routes.js";
import { registerTeiInfoRoute } from "./tei-info-route.js";
import { registerTeiSimilarityRoutes } from "./tei-similarity-route.js";
import { registerTeiTokenizeRoutes } from "./tei-tokenize-routes.js";
import { mountApplicationRoutes, type ApplicationRouteHooks } from "./application-routes.js";
import { KeyAccess } from "./api-key-access.js";
import { answerClientError } from "./client-error-handler.js";
import { useJsonBodyParser } from "./json-body-parser.js";
import { PRIVATE_LOG_SERIALIZERS } from "./private-log.js";
import type { Embedder } from "../facade/embedder.js";
import { describePrecision, isKvCacheType } from "../facade/precision-mode.js";
import type { Reranker } from "../facade/reranker.js";
import { openStore } from "../store/open-store.js";
import type { VectorStore } from "../store/vector-store.js";

/** An HTTP server for Qwen3 embeddings and reranking, not yet listening nor loaded. */
export interface Qwen3Server {
    /** The fastify instance (for `inject` in tests, or to add routes before listening). */
    readonly app: FastifyInstance;
    /** Loads the models, once; until then the model routes and /health answer 503. Rejects if a model fails to load. */
    load(): Promise<void>;
    /** Starts listening on the configured host and port; resolves with the URL, e.g. "http://127.0.0.1:8080". */
    listen(): Promise<string>;
    /** HTTP requests received and not yet answered (or abandoned by their client). */
    inFlight(): number;
    /**
     * Graceful stop: new requests get 503 and new connections are refused, requests in progress finish, then the
     * models the server loaded are disposed. Calling it again returns the same promise.
     */
    dispose(): Promise<void>;
    /** Whether dispose() (or close()) was called. */
    readonly disposed: boolean;
    /** The same as dispose(), under its earlier name. */
    close(): Promise<void>;
    [Symbol.asyncDispose](): Promise<void>;
}

const MAX_PATH_PARAMETER_LENGTH = 4096;

/**
 * Paths answered without an API key: load balancers probe health without credentials, and the API's description
 * (/openapi.json, the /docs page and its files) holds nothing a key protects: no model names, data or settings, only
 * the routes and their fields, which this package's source publishes anyway. What the server serves (GET /v1/models,
 * /api/tags, /info) and /metrics stay behind the key.
 */
function isPublicPath(path: string): boolean {
    return path === "/health" || path === OPENAPI_PATH || path === DOCS_PREFIX || path.startsWith(`${DOCS_PREFIX}/`);
}

/** Request ids: the client's `x-request-id` when it is a short token, else a UUID. Sent back as `x-request-id`. */
function requestId(request: IncomingMessage): string {
    const header = request.headers["x-request-id"];
    return typeof header === "string" && /^[\w.:-]{1,128}$/.test(header) ? header : randomUUID();
}

/**
 * Builds the server (validating every option); nothing is loaded or bound until `load()` / `listen()`. The public
 * entry points are `createServer` / `startServer` in server-entry.ts, which load this module (fastify, prom-client)
 * on first use.
 */
export async function buildServer(options: ServerOptions): Promise<Qwen3Server> {
    const resolved = resolveServerOptions(options);
    const app = Fastify({
        logger: {
            level: resolved.logLevel,
            ...(resolved.logStream === undefined ? {} : { stream: resolved.logStream }),
            // Fastify's request serializer logs no headers; this keeps keys out even if a header is ever logged.
            redact: { paths: ["req.headers.authorization", "headers.authorization"], censor: "[redacted]" },
            serializers: PRIVATE_LOG_SERIALIZERS,
        },
        bodyLimit: resolved.maxBodyBytes,
        genReqId: requestId,
        return503OnClosing: false, // draining requests get our own OpenAI-shaped 503
        forceCloseConnections: "idle",
        // Memory ids travel in the path (up to 512 characters, percent-encoded); longer ones get an OpenAI-shaped 414.
        routerOptions: { maxParamLength: MAX_PATH_PARAMETER_LENGTH },
        // Errors fastify answers before routing (a malformed or over-long path) take the same shape as every other.
        clientErrorHandler: answerClientError,
        // Bodies are validated against each route's JSON schema as sent: no coercion ("5" stays a string), no field
        // removed or defaulted (an unknown field is a 400); `verbose` gives the error mapping the value and the schema
        // that failed (schema-errors.ts). Null fields are dropped before (route-docs.ts).
        ajv: {
            customOptions: {
                coerceTypes: false,
                removeAdditional: false,
                useDefaults: false,
                allErrors: false,
                verbose: true,
                keywords: [EXPECTED_KEYWORD],
            },
        },
        frameworkErrors: (error, _request, reply) => {
            const { http } = toHttpError(error, resolved);
            (reply as FastifyReply).code(http.status).headers(http.headers).send(http.toBody());
        },
    });
    const gate = new ModelCallGate({
        maxConcurrent: resolved.maxConcurrentRequests,
        timeoutMs: resolved.requestTimeoutMs,
        retryAfterSeconds: resolved.retryAfterSeconds,
    });
    const metrics = new ServerMetrics((model) => gate.inFlight(model));
    if (resolved.schedulerStats !== undefined) metrics.addQueueSource({ model: "all", stats: resolved.schedulerStats });
    const models = new ServedModels(resolved, app.log, metrics);
    const context: RouteContext = { options: resolved, models, gate, metrics };
    const auth = new ApiKeyCheck(resolved.apiKeys);
    const access = new WeakMap<FastifyRequest, KeyAccess>();
    const accessOf = (request: FastifyRequest) => access.get(request) ?? KeyAccess.ADMIN;

    const routeOf = (request: FastifyRequest) => request.routeOptions.url ?? "unmatched";
    const sendError = (request: FastifyRequest, reply: FastifyReply, http: HttpError) => {
        metrics.error(routeOf(request), http.status, http.code);
        return reply.code(http.status).headers(http.headers).send(errorBodyIn(request.routeOptions.config?.errorShape, http, request.id));
    };

    app.removeContentTypeParser("text/plain"); // JSON only: a cross-site form post cannot reach the models
    useJsonBodyParser(app);
    if (resolved.corsOrigins.length > 0) {
        // Awaited so that its hook runs before ours: preflights are answered before authentication, and even a 401
        // carries the CORS headers a browser needs to read it.
        await app.register(cors, {
            origin: resolved.corsOrigins.includes("*") ? "*" : [...resolved.corsOrigins],
            methods: ["GET", "POST"],
            allowedHeaders: ["authorization", "content-type", "x-request-id"],
            exposedHeaders: ["x-request-id", "retry-after"],
            maxAge: 600,
        });
    }
    let inFlight = 0;
    let drained: (() => void) | undefined; // set while close() waits for the requests in progress
    app.addHook("onRequest", async (request, reply) => {
        inFlight++; // first, in the tick fastify logs "incoming request": a request it logged is one close() waits for
        reply.raw.once("close", () => {
            inFlight--;
            if (inFlight === 0) drained?.();
        });
        reply.header("x-request-id", request.id);
        if (isPublicPath(request.url.split("?")[0]!)) return; // /health answers every state itself
        const unavailable = models.state === "closing" ? models.unavailable() : undefined;
        if (unavailable !== undefined) throw unavailable;
        if (request.method !== "OPTIONS") access.set(request, auth.check(request.headers.authorization)); // CORS preflights carry no credentials
    });
    app.addHook("onSend", async (_request, reply, payload) => {
        // While draining, each answer closes its connection: keep-alive would hold close() open for keepAliveTimeout.
        if (models.state === "closing") reply.header("connection", "close");
        return payload;
    });
    app.addHook("onResponse", async (request, reply) => {
        metrics.request(request.method, routeOf(request), reply.statusCode, reply.elapsedTime / 1000);
    });
    app.setErrorHandler((error, request, reply) => {
        const { http, internal } = toHttpError(error, resolved);
        // The client's message can quote what it sent (a user id, a filter value): only the debug level logs it.
        if (internal) request.log.error({ err: error, code: http.code }, "request failed");
        else request.log.info({ status: http.status, code: http.code, param: http.param }, "request refused");
        request.log.debug({ status: http.status, code: http.code }, http.message);
        return sendError(request, reply, http);
    });
    app.setNotFoundHandler((request, reply) => sendError(request, reply, unknownRoute(request.method, request.url)));

    await registerOpenApiDocument(app); // before the routes: it collects them as they are added
    registerOpenAiEmbeddingsRoute(app, context);
    registerRerankRoutes(app, context);
    registerTeiEmbedRoute(app, context);
    registerOllamaEmbedRoutes(app, context);
    registerOllamaModelRoutes(app, context);
    registerCohereEmbedRoutes(app, context);
    registerLlamaServerRoutes(app, context);
    registerTeiInfoRoute(app, context);
    registerTeiTokenizeRoutes(app, context);
    registerTeiSimilarityRoutes(app, context);
    registerStatusRoutes(app, context, Date.now(), accessOf);
    // The application routes share the hooks above (auth, limits, logging); the store opens with the first request
    // after the models loaded (503 before, like the model routes).
    let store: Promise<VectorStore> | undefined;
    if (resolved.database !== undefined) {
        const database = resolved.database;
        const hooks: ApplicationRouteHooks = { run: (reply, work) => gate.run("application", reply, work), accessOf, maxInputs: resolved.maxInputs };
        await mountApplicationRoutes(app, async () => {
            const embedder = models.embedding().model as Embedder;
            const reranker = models.serves("reranker") ? (models.reranker().model as Reranker) : undefined;
            store ??= openStore({ database });
            store.catch(() => (store = undefined));
            return { embedder, ...(reranker === undefined ? {} : { reranker }), store: await store };
        }, hooks, false);
    }

    let loading: Promise<void> | undefined;
    let closing: Promise<void> | undefined;
    const dispose = (): Promise<void> => {
        closing ??= (async () => {
            models.beginClosing();
            const idle = new Promise<void>((resolve) => (drained = resolve));
            const stopped = app.close(); // stops listening; fastify waits for the connections to end
            if (inFlight === 0) drained!();
            await idle;
            // Nothing is in progress: a connection still open (kept alive by a client) would only hold close() up.
            app.server.closeAllConnections();
            await stopped;
            await store?.then((opened) => opened.close(), () => undefined);
            await models.dispose();
        })();
        return closing;
    };

    return {
        app,
        load() {
            loading ??= models.load().then(
                () => {
                    const entries = models.list();
                    const modes = entries.flatMap(({ kind, served }) => (isKvCacheType(served.kvCacheType) ? [[kind, describePrecision(served.kvCacheType)]] : []));
                    app.log.info({ models: Object.fromEntries(entries.map((entry) => [entry.kind, entry.names.id])), modes: Object.fromEntries(modes) }, "models loaded; ready");
                },
                (error: unknown) => {
                    app.log.error({ err: error }, "a model failed to load");
                    throw error;
                },
            );
            return loading;
        },
        listen: () => app.listen({ host: resolved.host, port: resolved.port }),
        inFlight: () => inFlight,
        get disposed() {
            return closing !== undefined;
        },
        close: dispose,
        async [Symbol.asyncDispose]() {
            await dispose();
        },
        dispose,
    };
}
