import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { createMemory, type Memory, type MemoryItem } from "../applications/memory.js";
import { createSearchIndex, type SearchIndex } from "../applications/search-index.js";
import { checkEmbedder } from "../applications/embedding-cache.js";
import { checkOptionalReranker, checkStore } from "../applications/application-options.js";
import type { Embedder } from "../facade/embedder.js";
import type { Reranker } from "../facade/reranker.js";
import { checkItemId, checkNamespace, checkUserId } from "../store/item-validation.js";
import type { MetadataFilter } from "../store/metadata-filter.js";
import type { VectorStore } from "../store/vector-store.js";
import { checkBoolean, checkOptionsObject } from "../internal/validation.js";
import { KeyAccess } from "./api-key-access.js";
import { forbidden, HttpError, toHttpError, withFieldNames } from "./error-responses.js";

export interface ApplicationRoutesOptions {
    embedder: Embedder;
    /** Enables `rerank` in memory search and retrieve-then-rerank in /v1/search. */
    reranker?: Reranker;
    store: VectorStore;
    /** Namespace of the memories. Default "memories". */
    memoryNamespace?: string;
    /** Namespace /v1/search reads when the body names none. Default "default". */
    searchNamespace?: string;
    /**
     * Answer errors of these routes in OpenAI's shape `{ error: { message, type, code, param } }` with their own
     * handler (default true). A server that already has such a handler for the whole app passes false.
     */
    errorHandler?: boolean;
}

/** How a server runs each application request: under its admission limits, and with what the caller's key allows. */
export interface ApplicationRouteHooks {
    /**
     * Runs a request's work under the server's concurrency limit and time limit; the signal fires on either end, and
     * `remainingMs` (when there is a limit) is the time left, passed to the model calls as their `timeoutMs`.
     */
    run<T>(reply: FastifyReply, work: (admitted: { signal: AbortSignal; remainingMs?: () => number }) => Promise<T>): Promise<T>;
    /** What the request's API key allows. */
    accessOf(request: FastifyRequest): KeyAccess;
}

const OPTIONS = ["embedder", "reranker", "store", "memoryNamespace", "searchNamespace", "errorHandler"] as const;

// Bodies are validated by JSON schema, with exact types: no coercion, so `user_id: ["alice"]` is not "alice" and
// `top_k: "5"` is not 5 (query strings are text and are coerced, but an array is never taken for a string). Unknown
// fields are refused through `propertyNames` (`removeAdditional` would silently drop them). The validators are made in
// mountApplicationRoutes.
const USER_ID = { type: "string", minLength: 1, maxLength: 256 } as const;
const TOP_K = { type: "integer", minimum: 1, maximum: 1000 } as const;
const FILTER = { type: "object" } as const;
const QUERY = { type: "string", minLength: 1 } as const;
const strictObject = (properties: Record<string, object>, required: readonly string[]) => ({
    type: "object",
    properties,
    required,
    propertyNames: { enum: Object.keys(properties) },
});

const ADD_MEMORY_BODY = strictObject({ user_id: USER_ID, text: { type: "string", minLength: 1 }, metadata: { type: "object" }, id: { type: "string", minLength: 1, maxLength: 512 } }, ["user_id", "text"]);
const SEARCH_MEMORY_BODY = strictObject(
    { user_id: USER_ID, query: QUERY, top_k: TOP_K, filter: FILTER, rerank: { type: "boolean" }, rerank_top_k: TOP_K },
    ["user_id", "query"],
);
const USER_QUERY = strictObject({ user_id: USER_ID }, ["user_id"]);
const LIST_QUERY = strictObject({ user_id: USER_ID, limit: { type: "integer", minimum: 1, maximum: 10_000 }, offset: { type: "integer", minimum: 0 } }, ["user_id"]);
const MEMORY_ID_PARAMS = { type: "object", properties: { id: { type: "string", minLength: 1, maxLength: 512 } }, required: ["id"] } as const;
const SEARCH_BODY = strictObject(
    { query: QUERY, top_k: TOP_K, rerank_top_k: TOP_K, rerank: { type: "boolean" }, filter: FILTER, namespace: { type: "string", minLength: 1, maxLength: 200 } },
    ["query"],
);

/** The request field each library option is read from, for `param` in errors. */
const FIELD_OF_OPTION: Readonly<Record<string, string>> = {
    userId: "user_id", text: "text", metadata: "metadata", id: "id", query: "query", topK: "top_k", rerankTopK: "rerank_top_k",
    rerank: "rerank", filter: "filter", namespace: "namespace", limit: "limit", offset: "offset",
};

interface AddMemoryBody { user_id: string; text: string; metadata?: Record<string, unknown>; id?: string }
interface SearchMemoryBody { user_id: string; query: string; top_k?: number; filter?: MetadataFilter; rerank?: boolean; rerank_top_k?: number }
interface SearchBody { query: string; top_k?: number; rerank_top_k?: number; rerank?: boolean; filter?: MetadataFilter; namespace?: string }

interface PreparedRoutes {
    memory: Memory;
    reranker: Reranker | undefined;
    searchIndex(namespace: string): Promise<SearchIndex>;
    searchNamespace: string;
}

async function prepareRoutes(options: ApplicationRoutesOptions): Promise<PreparedRoutes> {
    const opts = checkOptionsObject<ApplicationRoutesOptions>("registerApplicationRoutes options", options, OPTIONS);
    const embedder = checkEmbedder(opts.embedder);
    const reranker = checkOptionalReranker(opts.reranker);
    const store = checkStore(opts.store);
    const searchNamespace = opts.searchNamespace === undefined ? "default" : checkNamespace("searchNamespace", opts.searchNamespace);
    const memory: Memory = await createMemory({
        embedder,
        store,
        ...(reranker === undefined ? {} : { reranker }),
        ...(opts.memoryNamespace === undefined ? {} : { namespace: opts.memoryNamespace }),
    });
    const indexes = new Map<string, Promise<SearchIndex>>();
    const searchIndex = (namespace: string): Promise<SearchIndex> => {
        let index = indexes.get(namespace);
        if (index === undefined) {
            index = createSearchIndex({ embedder, store, namespace, create: false, ...(reranker === undefined ? {} : { reranker }) });
            index.catch(() => indexes.delete(namespace));
            indexes.set(namespace, index);
        }
        return index;
    };
    return { memory, reranker, searchIndex, searchNamespace };
}

/** A fastify app of your own: no limits, and every caller may reach everything (add authentication before these routes). */
const OPEN_HOOKS: ApplicationRouteHooks = {
    async run(reply, work) {
        const controller = new AbortController();
        const onClose = () => {
            if (!reply.raw.writableFinished) controller.abort();
        };
        reply.raw.once("close", onClose);
        try {
            return await work({ signal: controller.signal });
        } finally {
            reply.raw.off("close", onClose);
        }
    },
    accessOf: () => KeyAccess.ADMIN,
};

/**
 * The application routes, in an encapsulated fastify plugin (hooks registered on `app` before, such as
 * authentication, apply to them):
 * - `POST /v1/memories` `{ user_id, text, metadata?, id? }` stores a memory;
 * - `GET /v1/memories?user_id=&limit=&offset=` lists a user's memories, newest first;
 * - `POST /v1/memories/search` `{ user_id, query, top_k?, filter?, rerank?, rerank_top_k? }`;
 * - `DELETE /v1/memories/:id?user_id=` deletes one of the user's memories (404 when the user has none with that id);
 * - `POST /v1/search` `{ query, top_k?, rerank_top_k?, rerank?, filter?, namespace? }` retrieves (then reranks) documents
 *   indexed with `qwen3-embedding index` or `SearchIndex.index`.
 */
export async function registerApplicationRoutes(app: FastifyInstance, options: ApplicationRoutesOptions): Promise<void> {
    const errorHandler = options?.errorHandler === undefined ? true : checkBoolean("errorHandler", options.errorHandler);
    await mountApplicationRoutes(app, options, OPEN_HOOKS, errorHandler);
}

/**
 * The routes as the server mounts them: `options` may be a function, which defers everything to the first request
 * (a server registers its routes before its models load); `hooks` bring the server's limits and key scopes.
 */
export async function mountApplicationRoutes(
    app: FastifyInstance,
    options: ApplicationRoutesOptions | (() => Promise<ApplicationRoutesOptions>),
    hooks: ApplicationRouteHooks,
    errorHandler: boolean,
): Promise<void> {
    let prepared: Promise<PreparedRoutes> | undefined;
    const prepare = (): Promise<PreparedRoutes> => {
        prepared ??= (async () => prepareRoutes(typeof options === "function" ? await options() : options))();
        prepared.catch(() => (prepared = undefined));
        return prepared;
    };
    if (typeof options !== "function") await prepare();
    // Loaded here, not at import: importing the library does not load a JSON-schema compiler.
    const { Ajv } = await import("ajv");
    const bodyValidator = new Ajv({ coerceTypes: false, allErrors: false });
    const queryValidator = new Ajv({ coerceTypes: true, allErrors: false });

    /** The request's user, exact, and one its key may act for. */
    const userOf = (request: FastifyRequest, value: string): string => {
        const userId = withFieldNames(FIELD_OF_OPTION, () => checkUserId("user_id", value));
        if (!hooks.accessOf(request).mayActFor(userId)) throw forbidden("user_id", `This API key may not act for the user_id ${JSON.stringify(userId)}`);
        return userId;
    };

    await app.register(async (scope) => {
        scope.setValidatorCompiler(({ schema, httpPart }) => (httpPart === "body" ? bodyValidator : queryValidator).compile(schema));
        if (errorHandler) {
            scope.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
                const { http, internal } = toHttpError(error, { retryAfterSeconds: 1, maxBodyBytes: app.initialConfig.bodyLimit ?? 1 << 20 });
                if (internal) request.log.error({ err: error, code: http.code }, "request failed");
                return reply.code(http.status).headers(http.headers).send(http.toBody());
            });
        }

        scope.post<{ Body: AddMemoryBody }>("/v1/memories", { schema: { body: ADD_MEMORY_BODY } }, async (request, reply) => {
            const body = request.body;
            const userId = userOf(request, body.user_id);
            return hooks.run(reply, async (admitted) => {
                const { memory } = await prepare();
                const item = await withFieldNames(FIELD_OF_OPTION, () => memory.add(body.text, {
                    userId,
                    ...limitsOf(admitted),
                    ...(body.metadata === undefined ? {} : { metadata: body.metadata }),
                    ...(body.id === undefined ? {} : { id: body.id }),
                }));
                return memoryJson(item);
            });
        });

        scope.get<{ Querystring: { user_id: string; limit?: number; offset?: number } }>("/v1/memories", { schema: { querystring: LIST_QUERY } }, async (request, reply) => {
            const { limit, offset } = request.query;
            const userId = userOf(request, request.query.user_id);
            return hooks.run(reply, async () => {
                const { memory } = await prepare();
                const items = await withFieldNames(FIELD_OF_OPTION, () => memory.list({ userId, ...(limit === undefined ? {} : { limit }), ...(offset === undefined ? {} : { offset }) }));
                return { object: "list", data: items.map(memoryJson) };
            });
        });

        scope.post<{ Body: SearchMemoryBody }>("/v1/memories/search", { schema: { body: SEARCH_MEMORY_BODY } }, async (request, reply) => {
            const body = request.body;
            const userId = userOf(request, body.user_id);
            return hooks.run(reply, async (admitted) => {
                const { memory, reranker } = await prepare();
                if (body.rerank === true && reranker === undefined) throw rerankerUnavailable();
                const results = await withFieldNames(FIELD_OF_OPTION, () => memory.search(body.query, {
                    userId,
                    ...limitsOf(admitted),
                    ...(body.top_k === undefined ? {} : { topK: body.top_k }),
                    ...(body.filter === undefined ? {} : { filter: body.filter }),
                    ...(body.rerank === undefined ? {} : { rerank: body.rerank }),
                    ...(body.rerank_top_k === undefined ? {} : { rerankTopK: body.rerank_top_k }),
                }));
                return { object: "list", data: results.map((result) => ({ ...memoryJson(result), score: result.score, similarity: result.similarity })) };
            });
        });

        scope.delete<{ Params: { id: string }; Querystring: { user_id: string } }>(
            "/v1/memories/:id",
            { schema: { params: MEMORY_ID_PARAMS, querystring: USER_QUERY } },
            async (request, reply) => {
                const userId = userOf(request, request.query.user_id);
                const id = withFieldNames(FIELD_OF_OPTION, () => checkItemId("id", request.params.id));
                return hooks.run(reply, async () => {
                    const { memory } = await prepare();
                    const deleted = await withFieldNames(FIELD_OF_OPTION, () => memory.delete(id, { userId }));
                    if (deleted.length === 0) throw new HttpError(404, `No memory ${JSON.stringify(id)} for this user`, { code: "memory_not_found", param: "id" });
                    return { object: "memory.deleted", id, deleted: true };
                });
            },
        );

        scope.post<{ Body: SearchBody }>("/v1/search", { schema: { body: SEARCH_BODY } }, async (request, reply) => {
            const body = request.body;
            const access = hooks.accessOf(request);
            const named = body.namespace === undefined ? undefined : withFieldNames(FIELD_OF_OPTION, () => checkNamespace("namespace", body.namespace));
            return hooks.run(reply, async (admitted) => {
                const { memory, reranker, searchIndex, searchNamespace } = await prepare();
                const namespace = named ?? searchNamespace;
                if (namespace === memory.namespace && !access.everyUser) {
                    throw forbidden("namespace", `The namespace ${JSON.stringify(namespace)} holds users' memories: only a key allowed every user may search it here; search one user's memories with POST /v1/memories/search`);
                }
                if (!access.maySearch(namespace)) throw forbidden("namespace", `This API key may not search the namespace ${JSON.stringify(namespace)}`);
                if (body.rerank === true && reranker === undefined) throw rerankerUnavailable();
                const results = await withFieldNames(FIELD_OF_OPTION, async () => (await searchIndex(namespace)).search(body.query, {
                    ...limitsOf(admitted),
                    // A key limited to some users reads only the documents that belong to no user.
                    ...(access.everyUser ? {} : { userId: "" }),
                    ...(body.top_k === undefined ? {} : { topK: body.top_k }),
                    ...(body.rerank_top_k === undefined ? {} : { rerankTopK: body.rerank_top_k }),
                    ...(body.rerank === undefined ? {} : { rerank: body.rerank }),
                    ...(body.filter === undefined ? {} : { filter: body.filter }),
                }));
                return {
                    object: "list",
                    namespace,
                    data: results.map((result) => ({ object: "search_result", id: result.id, text: result.text, metadata: result.metadata, score: result.score, similarity: result.similarity })),
                };
            });
        });
    });
}

/** The signal and time limit an admitted request's library calls run under. */
function limitsOf(admitted: { signal: AbortSignal; remainingMs?: () => number }): { signal: AbortSignal; timeoutMs?: number } {
    return { signal: admitted.signal, ...(admitted.remainingMs === undefined ? {} : { timeoutMs: admitted.remainingMs() }) };
}

function rerankerUnavailable(): HttpError {
    return new HttpError(400, "rerank is not available: this server has no reranker model", { code: "reranker_unavailable", param: "rerank" });
}

function memoryJson(item: MemoryItem) {
    return {
        object: "memory",
        id: item.id,
        user_id: item.userId,
        text: item.text,
        metadata: item.metadata,
        created_at: Math.floor(item.createdAt.getTime() / 1000),
        updated_at: Math.floor(item.updatedAt.getTime() / 1000),
    };
}

