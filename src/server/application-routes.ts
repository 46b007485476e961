import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { createMemory, type Memory, type MemoryItem } from "../applications/memory.js";
import { createSearchIndex, type SearchIndex } from "../applications/search-index.js";
import { checkEmbedder } from "../applications/embedding-cache.js";
import { checkOptionalReranker, checkStore } from "../applications/application-options.js";
import type { Embedder } from "../embedder.js";
import type { Reranker } from "../reranker.js";
import { checkNamespace } from "../store/item-validation.js";
import type { MetadataFilter } from "../store/metadata-filter.js";
import { StoreError } from "../store/store-error.js";
import type { VectorStore } from "../store/vector-store.js";
import { checkBoolean, checkOptionsObject } from "../validation.js";
import { HttpError, toHttpError } from "./error-responses.js";

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

const OPTIONS = ["embedder", "reranker", "store", "memoryNamespace", "searchNamespace", "errorHandler"] as const;

// Bodies are validated by fastify's JSON-schema validator (with fastify's default ajv options: scalars are coerced,
// "5" to 5 for an integer field). Unknown fields are refused through `propertyNames` (fastify's default
// `removeAdditional` would silently drop them under `additionalProperties: false`).
const USER_ID = { type: "string", minLength: 1, maxLength: 256 } as const;
const TOP_K = { type: "integer", minimum: 1, maximum: 1000 } as const;
const FILTER = { type: "object" } as const;
const strictObject = (properties: Record<string, object>, required: readonly string[]) => ({
    type: "object",
    properties,
    required,
    propertyNames: { enum: Object.keys(properties) },
});

const ADD_MEMORY_BODY = strictObject({ user_id: USER_ID, text: { type: "string", minLength: 1 }, metadata: { type: "object" }, id: { type: "string", minLength: 1, maxLength: 512 } }, ["user_id", "text"]);
const SEARCH_MEMORY_BODY = strictObject(
    { user_id: USER_ID, query: { type: "string" }, top_k: TOP_K, filter: FILTER, rerank: { type: "boolean" }, rerank_top_k: TOP_K },
    ["user_id", "query"],
);
const USER_QUERY = strictObject({ user_id: USER_ID }, ["user_id"]);
const LIST_QUERY = strictObject({ user_id: USER_ID, limit: { type: "integer", minimum: 1, maximum: 10_000 }, offset: { type: "integer", minimum: 0 } }, ["user_id"]);
const MEMORY_ID_PARAMS = { type: "object", properties: { id: { type: "string", minLength: 1, maxLength: 512 } }, required: ["id"] } as const;
const SEARCH_BODY = strictObject(
    { query: { type: "string" }, top_k: TOP_K, rerank_top_k: TOP_K, rerank: { type: "boolean" }, filter: FILTER, namespace: { type: "string", minLength: 1, maxLength: 200 } },
    ["query"],
);

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

/**
 * The application routes, in an encapsulated fastify plugin (hooks registered on `app` before, such as
 * authentication and limits, apply to them):
 * - `POST /v1/memories` `{ user_id, text, metadata?, id? }` stores a memory;
 * - `GET /v1/memories?user_id=&limit=&offset=` lists a user's memories, newest first;
 * - `POST /v1/memories/search` `{ user_id, query, top_k?, filter?, rerank?, rerank_top_k? }`;
 * - `DELETE /v1/memories/:id?user_id=` deletes one of the user's memories (404 when the user has none with that id);
 * - `POST /v1/search` `{ query, top_k?, rerank_top_k?, rerank?, filter?, namespace? }` retrieves (then reranks) documents
 *   indexed with `qwen3-embedding index` or `SearchIndex.index`.
 */
export async function registerApplicationRoutes(
    app: FastifyInstance,
    options: ApplicationRoutesOptions | (() => Promise<ApplicationRoutesOptions>),
): Promise<void> {
    // A function defers everything to the first request (a server registers its routes before its models load).
    let prepared: Promise<PreparedRoutes> | undefined;
    const prepare = (): Promise<PreparedRoutes> => {
        prepared ??= (async () => prepareRoutes(typeof options === "function" ? await options() : options))();
        prepared.catch(() => (prepared = undefined));
        return prepared;
    };
    // A deferred set of routes belongs to a server that answers errors itself.
    const errorHandler = typeof options === "function" ? false : options?.errorHandler === undefined ? true : checkBoolean("errorHandler", options.errorHandler);
    if (typeof options !== "function") await prepare();

    await app.register(async (scope) => {
        if (errorHandler) {
            scope.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
                const { http, internal } = toHttpError(asHttpError(error), { retryAfterSeconds: 1, maxBodyBytes: app.initialConfig.bodyLimit ?? 1 << 20 });
                if (internal) request.log.error({ err: error, code: http.code }, "request failed");
                return reply.code(http.status).headers(http.headers).send(http.toBody());
            });
        }

        scope.post<{ Body: AddMemoryBody }>("/v1/memories", { schema: { body: ADD_MEMORY_BODY } }, async (request) => {
            const { memory } = await prepare();
            const body = request.body;
            const item = await mapStoreErrors(() => memory.add(body.text, {
                userId: body.user_id,
                ...(body.metadata === undefined ? {} : { metadata: body.metadata }),
                ...(body.id === undefined ? {} : { id: body.id }),
            }), { text: "text", metadata: "metadata", id: "id" });
            return memoryJson(item);
        });

        scope.get<{ Querystring: { user_id: string; limit?: number; offset?: number } }>("/v1/memories", { schema: { querystring: LIST_QUERY } }, async (request) => {
            const { memory } = await prepare();
            const { user_id: userId, limit, offset } = request.query;
            const items = await mapStoreErrors(() => memory.list({ userId, ...(limit === undefined ? {} : { limit }), ...(offset === undefined ? {} : { offset }) }));
            return { object: "list", data: items.map(memoryJson) };
        });

        scope.post<{ Body: SearchMemoryBody }>("/v1/memories/search", { schema: { body: SEARCH_MEMORY_BODY } }, async (request) => {
            const { memory, reranker } = await prepare();
            const body = request.body;
            if (body.rerank === true && reranker === undefined) {
                throw new HttpError(400, "rerank is not available: this server has no reranker model", { code: "reranker_unavailable", param: "rerank" });
            }
            const results = await mapStoreErrors(() => memory.search(body.query, {
                userId: body.user_id,
                ...(body.top_k === undefined ? {} : { topK: body.top_k }),
                ...(body.filter === undefined ? {} : { filter: body.filter }),
                ...(body.rerank === undefined ? {} : { rerank: body.rerank }),
                ...(body.rerank_top_k === undefined ? {} : { rerankTopK: body.rerank_top_k }),
            }), { filter: "filter", rerankTopK: "rerank_top_k" });
            return { object: "list", data: results.map((result) => ({ ...memoryJson(result), score: result.score, similarity: result.similarity })) };
        });

        scope.delete<{ Params: { id: string }; Querystring: { user_id: string } }>(
            "/v1/memories/:id",
            { schema: { params: MEMORY_ID_PARAMS, querystring: USER_QUERY } },
            async (request) => {
                const { memory } = await prepare();
                const deleted = await mapStoreErrors(() => memory.delete(request.params.id, { userId: request.query.user_id }));
                if (deleted.length === 0) throw new HttpError(404, `No memory ${JSON.stringify(request.params.id)} for this user`, { code: "memory_not_found", param: "id" });
                return { object: "memory.deleted", id: request.params.id, deleted: true };
            },
        );

        scope.post<{ Body: SearchBody }>("/v1/search", { schema: { body: SEARCH_BODY } }, async (request) => {
            const { reranker, searchIndex, searchNamespace } = await prepare();
            const body = request.body;
            if (body.rerank === true && reranker === undefined) {
                throw new HttpError(400, "rerank is not available: this server has no reranker model", { code: "reranker_unavailable", param: "rerank" });
            }
            const namespace = body.namespace ?? searchNamespace;
            const results = await mapStoreErrors(async () => (await searchIndex(namespace)).search(body.query, {
                ...(body.top_k === undefined ? {} : { topK: body.top_k }),
                ...(body.rerank_top_k === undefined ? {} : { rerankTopK: body.rerank_top_k }),
                ...(body.rerank === undefined ? {} : { rerank: body.rerank }),
                ...(body.filter === undefined ? {} : { filter: body.filter }),
            }), { filter: "filter", rerankTopK: "rerank_top_k", namespace: "namespace" });
            return {
                object: "list",
                namespace,
                data: results.map((result) => ({ object: "search_result", id: result.id, text: result.text, metadata: result.metadata, score: result.score, similarity: result.similarity })),
            };
        });
    });
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

/**
 * Store failures become HTTP errors here, so that any error handler answers them right: a missing namespace is a
 * 404, a store that is locked or unreachable a 503. Library validation errors (InvalidOptionError) name the option;
 * `params` maps option names to the request's field names for `param`.
 */
async function mapStoreErrors<T>(work: () => Promise<T>, params: Record<string, string> = {}): Promise<T> {
    try {
        return await work();
    } catch (error) {
        if (error instanceof StoreError) {
            if (error.reason === "namespace_not_found") throw new HttpError(404, error.message, { code: "namespace_not_found", param: params["namespace"] ?? null });
            if (error.reason === "locked" || error.reason === "unavailable") throw new HttpError(503, "The store is unavailable; the server log has the details", { code: "store_unavailable" });
            throw new HttpError(500, "The store failed; the server log has the details", { code: "store_error" });
        }
        if ((error as { code?: unknown }).code === "ERR_INVALID_OPTION") {
            const message = (error as Error).message;
            const option = Object.keys(params).find((name) => new RegExp(`\\b${name}\\b`).test(message));
            throw new HttpError(400, message, { code: "invalid_value", param: option === undefined ? null : params[option]! });
        }
        throw error;
    }
}

/** Fastify's schema validation errors as OpenAI-shaped 400s naming the field. */
function asHttpError(error: FastifyError): unknown {
    type Issue = { instancePath?: string; params?: Record<string, unknown>; propertyName?: string };
    const validation = (error as { validation?: unknown }).validation as Issue[] | undefined;
    if (validation === undefined || validation.length === 0) return error;
    const where = (error as { validationContext?: string }).validationContext ?? "body";
    // An unknown field fails `propertyNames`; ajv names it on the issue (or in its params).
    const unknown = validation
        .map((issue) => issue.propertyName ?? issue.params?.["propertyName"])
        .find((name): name is string => typeof name === "string");
    if (unknown !== undefined) {
        return new HttpError(400, `Unknown field ${JSON.stringify(unknown)} in the request ${where}`, { code: "unknown_field", param: unknown });
    }
    const first = validation[0]!;
    const fromPath = first.instancePath?.replace(/^\//, "").split("/")[0];
    const missing = first.params?.["missingProperty"];
    const param = fromPath !== undefined && fromPath !== "" ? fromPath : typeof missing === "string" ? missing : null;
    return new HttpError(400, `Invalid request ${where}: ${error.message}`, { code: param === null ? "invalid_request" : "invalid_value", param });
}
