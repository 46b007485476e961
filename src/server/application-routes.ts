import { PassThrough } from "node:stream";
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { createMemory, type Memory, type MemoryItem } from "../applications/memory.js";
import { createSearchIndex, type SearchIndex } from "../applications/search-index.js";
import { prepareDocuments, type IndexProgress } from "../applications/document-indexer.js";
import { checkEmbedder } from "../applications/embedding-cache.js";
import { checkOptionalReranker, checkStore } from "../applications/application-options.js";
import type { Embedder } from "../facade/embedder.js";
import type { Reranker } from "../facade/reranker.js";
import { checkItemId, checkNamespace, checkUserId } from "../store/item-validation.js";
import type { MetadataFilter } from "../store/metadata-filter.js";
import type { StoredItem } from "../store/store-types.js";
import type { VectorStore } from "../store/vector-store.js";
import { checkBoolean, checkOptionsObject } from "../internal/validation.js";
import { KeyAccess } from "./api-key-access.js";
import { forbidden, HttpError, tooManyInputs, toHttpError, withFieldNames } from "./error-responses.js";

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
    /** Documents (and ids) one /v1/documents request may carry (`--max-inputs`); beyond, a 413. Default: no limit. */
    maxInputs?: number;
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
const NAMESPACE = { type: "string", minLength: 1, maxLength: 200 } as const;
const ITEM_ID = { type: "string", minLength: 1, maxLength: 512 } as const;
const LIMIT = { type: "integer", minimum: 1, maximum: 10_000 } as const;
const OFFSET = { type: "integer", minimum: 0 } as const;
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
const LIST_QUERY = strictObject({ user_id: USER_ID, limit: LIMIT, offset: OFFSET }, ["user_id"]);
const MEMORY_ID_PARAMS = { type: "object", properties: { id: ITEM_ID }, required: ["id"] } as const;
const SEARCH_BODY = strictObject(
    { query: QUERY, top_k: TOP_K, rerank_top_k: TOP_K, rerank: { type: "boolean" }, filter: FILTER, namespace: NAMESPACE },
    ["query"],
);
const DOCUMENT = strictObject({ id: ITEM_ID, text: { type: "string", minLength: 1 }, metadata: { type: "object" } }, ["text"]);
const ADD_DOCUMENTS_BODY = strictObject(
    { namespace: NAMESPACE, documents: { type: "array", minItems: 1, items: DOCUMENT }, batch_size: { type: "integer", minimum: 1, maximum: 10_000 } },
    ["documents"],
);
const DELETE_DOCUMENTS_BODY = strictObject({ namespace: NAMESPACE, ids: { type: "array", minItems: 1, items: ITEM_ID } }, ["ids"]);
const LIST_DOCUMENTS_QUERY = strictObject({ namespace: NAMESPACE, limit: LIMIT, offset: OFFSET }, []);

/** What the OpenAPI document says of an application route (openapi-document.ts). */
const doc = (summary: string) => ({ summary, tags: ["qwen3-embedding"] });

/** The request field each library option is read from, for `param` in errors. */
const FIELD_OF_OPTION: Readonly<Record<string, string>> = {
    userId: "user_id", text: "text", metadata: "metadata", id: "id", query: "query", topK: "top_k", rerankTopK: "rerank_top_k",
    rerank: "rerank", filter: "filter", namespace: "namespace", limit: "limit", offset: "offset", documents: "documents",
    batchSize: "batch_size", ids: "ids",
};

interface AddMemoryBody { user_id: string; text: string; metadata?: Record<string, unknown>; id?: string }
interface SearchMemoryBody { user_id: string; query: string; top_k?: number; filter?: MetadataFilter; rerank?: boolean; rerank_top_k?: number }
interface SearchBody { query: string; top_k?: number; rerank_top_k?: number; rerank?: boolean; filter?: MetadataFilter; namespace?: string }
interface AddDocumentsBody { namespace?: string; documents: { id?: string; text: string; metadata?: Record<string, unknown> }[]; batch_size?: number }
interface DeleteDocumentsBody { namespace?: string; ids: string[] }

interface PreparedRoutes {
    memory: Memory;
    reranker: Reranker | undefined;
    /** The namespace's index; with `create`, the namespace is created when missing (else a 404). */
    searchIndex(namespace: string, create?: boolean): Promise<SearchIndex>;
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
    const open = (namespace: string, create: boolean): Promise<SearchIndex> => {
        const index = createSearchIndex({ embedder, store, namespace, create, ...(reranker === undefined ? {} : { reranker }) });
        index.catch(() => {
            if (indexes.get(namespace) === index) indexes.delete(namespace);
        });
        indexes.set(namespace, index);
        return index;
    };
    const searchIndex = (namespace: string, create = false): Promise<SearchIndex> => {
        const index = indexes.get(namespace);
        if (index === undefined) return open(namespace, create);
        return create ? index.catch(() => open(namespace, true)) : index;
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
 *   indexed with `qwen3-embedding index`, `SearchIndex.index` or `POST /v1/documents`;
 * - `POST /v1/documents` `{ namespace?, documents: [{ text, id?, metadata? }], batch_size? }` indexes documents with the
 *   library's indexer (progress as NDJSON lines with `Accept: application/x-ndjson`), `DELETE /v1/documents`
 *   `{ namespace?, ids }` deletes them, `GET /v1/documents?namespace=&limit=&offset=` lists them.
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

        scope.post<{ Body: AddMemoryBody }>("/v1/memories", { schema: { ...doc("Store a memory for a user"), body: ADD_MEMORY_BODY } }, async (request, reply) => {
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

        scope.get<{ Querystring: { user_id: string; limit?: number; offset?: number } }>("/v1/memories", { schema: { ...doc("List a user's memories, newest first"), querystring: LIST_QUERY } }, async (request, reply) => {
            const { limit, offset } = request.query;
            const userId = userOf(request, request.query.user_id);
            return hooks.run(reply, async () => {
                const { memory } = await prepare();
                const items = await withFieldNames(FIELD_OF_OPTION, () => memory.list({ userId, ...(limit === undefined ? {} : { limit }), ...(offset === undefined ? {} : { offset }) }));
                return { object: "list", data: items.map(memoryJson) };
            });
        });

        scope.post<{ Body: SearchMemoryBody }>("/v1/memories/search", { schema: { ...doc("Search a user's memories (then rerank)"), body: SEARCH_MEMORY_BODY } }, async (request, reply) => {
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
            { schema: { ...doc("Delete one of a user's memories"), params: MEMORY_ID_PARAMS, querystring: USER_QUERY } },
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

        scope.post<{ Body: SearchBody }>("/v1/search", { schema: { ...doc("Search indexed documents (then rerank)"), body: SEARCH_BODY } }, async (request, reply) => {
            const body = request.body;
            const access = hooks.accessOf(request);
            const named = namedNamespace(body.namespace);
            return hooks.run(reply, async (admitted) => {
                const prepared = await prepare();
                const { reranker, searchIndex } = prepared;
                const namespace = documentNamespace(prepared, access, named, "search");
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

        scope.post<{ Body: AddDocumentsBody }>("/v1/documents", { schema: { ...doc("Index documents (progress as NDJSON with Accept: application/x-ndjson)"), body: ADD_DOCUMENTS_BODY } }, async (request, reply) => {
            const body = request.body;
            const access = hooks.accessOf(request);
            const named = namedNamespace(body.namespace);
            checkInputCount("documents", body.documents.length);
            const documents = withFieldNames(FIELD_OF_OPTION, () => prepareDocuments(body.documents));
            // With Accept: application/x-ndjson, a line per progress report, then the result (or an error) as the last
            // line. The 200 goes out with the first report: what fails before (403, 404, 429) is an ordinary answer.
            const streamed = /\bapplication\/x-ndjson\b/.test(request.headers.accept ?? "") ? new PassThrough() : undefined;
            let streaming = false;
            // After the last line nothing more is written: past the time limit the answer ends while the indexer may
            // still report a batch, and a write after end would make fastify destroy the connection mid-answer.
            const line = (value: object) => {
                if (streamed !== undefined && !streamed.writableEnded) streamed.write(`${JSON.stringify(value)}\n`);
            };
            const onProgress = (progress: IndexProgress) => {
                if (reply.sent && !streaming) return; // a timeout answered before the first report
                if (!streaming) {
                    streaming = true;
                    void reply.code(200).type("application/x-ndjson").send(streamed);
                }
                line({ object: "index.progress", ...progress });
            };
            try {
                const result = await hooks.run(reply, async (admitted) => {
                    const prepared = await prepare();
                    const namespace = documentNamespace(prepared, access, named, "write");
                    const index = await prepared.searchIndex(namespace, true);
                    const indexed = await withFieldNames(FIELD_OF_OPTION, () => index.index(documents, {
                        signal: admitted.signal,
                        ...(body.batch_size === undefined ? {} : { batchSize: body.batch_size }),
                        ...(streamed === undefined ? {} : { onProgress }),
                    }));
                    return {
                        object: "index.result", namespace, ids: documents.map((document) => document.id), total: indexed.total, written: indexed.written,
                        unchanged: indexed.unchanged, embedded: indexed.embedded, cached: indexed.cached, built_vector_index: indexed.builtVectorIndex,
                    };
                });
                if (!streaming) return result;
                line(result);
            } catch (error) {
                if (!streaming) throw error;
                const { http, internal } = toHttpError(error, { retryAfterSeconds: 1, maxBodyBytes: app.initialConfig.bodyLimit ?? 1 << 20 });
                if (internal) request.log.error({ err: error, code: http.code }, "request failed");
                line({ object: "error", status: http.status, ...http.toBody() });
            }
            streamed!.end();
            return reply;
        });

        scope.delete<{ Body: DeleteDocumentsBody }>("/v1/documents", { schema: { ...doc("Delete documents by id"), body: DELETE_DOCUMENTS_BODY } }, async (request, reply) => {
            const body = request.body;
            const access = hooks.accessOf(request);
            const named = namedNamespace(body.namespace);
            checkInputCount("ids", body.ids.length);
            return hooks.run(reply, async () => {
                const prepared = await prepare();
                const namespace = documentNamespace(prepared, access, named, "write");
                const index = await prepared.searchIndex(namespace);
                // Documents written here belong to no user (ids are per user): a user's document is never replaced or deleted.
                const deleted = await withFieldNames(FIELD_OF_OPTION, () => index.delete(body.ids));
                return { object: "documents.deleted", namespace, deleted };
            });
        });

        scope.get<{ Querystring: { namespace?: string; limit?: number; offset?: number } }>("/v1/documents", { schema: { ...doc("List a namespace's documents"), querystring: LIST_DOCUMENTS_QUERY } }, async (request, reply) => {
            const { limit, offset } = request.query;
            const access = hooks.accessOf(request);
            const named = namedNamespace(request.query.namespace);
            return hooks.run(reply, async () => {
                const prepared = await prepare();
                const namespace = documentNamespace(prepared, access, named, "read");
                const items = await withFieldNames(FIELD_OF_OPTION, async () => (await prepared.searchIndex(namespace)).list({
                    ...(access.everyUser ? {} : { userId: "" }),
                    ...(limit === undefined ? {} : { limit }),
                    ...(offset === undefined ? {} : { offset }),
                }));
                return { object: "list", namespace, data: items.map(documentJson) };
            });
        });
    });

    /** More items in an array field than the server takes per request: a 413. */
    function checkInputCount(param: string, count: number): void {
        if (hooks.maxInputs !== undefined && count > hooks.maxInputs) throw tooManyInputs(param, count, hooks.maxInputs);
    }
}

/** The namespace a request names, checked (undefined: the server's search namespace). */
function namedNamespace(value: string | undefined): string | undefined {
    return value === undefined ? undefined : withFieldNames(FIELD_OF_OPTION, () => checkNamespace("namespace", value));
}

const ACTION_WORDS = { search: "search", read: "list the documents of", write: "write documents to" } as const;

/**
 * The namespace of a document request, once the key may do `action` there (else a 403 naming it): reading it needs
 * a search scope, writing a write scope. The memory namespace holds users' items: only a key allowed every user may
 * search or list it, and no one writes documents to it.
 */
function documentNamespace(prepared: PreparedRoutes, access: KeyAccess, named: string | undefined, action: keyof typeof ACTION_WORDS): string {
    const namespace = named ?? prepared.searchNamespace;
    if (namespace === prepared.memory.namespace) {
        if (action === "write") {
            throw forbidden("namespace", `The namespace ${JSON.stringify(namespace)} holds users' memories: add and delete them with /v1/memories`);
        }
        if (!access.everyUser) {
            throw forbidden("namespace", `The namespace ${JSON.stringify(namespace)} holds users' memories: only a key allowed every user may ${ACTION_WORDS[action]} it here; search one user's memories with POST /v1/memories/search`);
        }
    }
    const allowed = action === "write" ? access.mayWrite(namespace) : access.maySearch(namespace);
    if (!allowed) throw forbidden("namespace", `This API key may not ${ACTION_WORDS[action]} the namespace ${JSON.stringify(namespace)}`);
    return namespace;
}

/** A stored item as JSON: `object`, id, text, metadata and its times in seconds; `extra` fields after the id. */
function itemJson(object: string, item: StoredItem | MemoryItem, extra: Record<string, unknown> = {}) {
    return {
        object,
        id: item.id,
        ...extra,
        text: item.text,
        metadata: item.metadata,
        created_at: Math.floor(item.createdAt.getTime() / 1000),
        updated_at: Math.floor(item.updatedAt.getTime() / 1000),
    };
}

const documentJson = (item: StoredItem) => itemJson("document", item);

/** The signal and time limit an admitted request's library calls run under. */
function limitsOf(admitted: { signal: AbortSignal; remainingMs?: () => number }): { signal: AbortSignal; timeoutMs?: number } {
    return { signal: admitted.signal, ...(admitted.remainingMs === undefined ? {} : { timeoutMs: admitted.remainingMs() }) };
}

function rerankerUnavailable(): HttpError {
    return new HttpError(400, "rerank is not available: this server has no reranker model", { code: "reranker_unavailable", param: "rerank" });
}

function memoryJson(item: MemoryItem) {
    return itemJson("memory", item, { user_id: item.userId });
}

