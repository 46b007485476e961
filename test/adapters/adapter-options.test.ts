// Every adapter option is checked in TypeScript before any model or server is touched: the error names the option,
// what was expected and what was received. The remote URL is a closed port: a check that let a call through would
// answer with a ServeRequestError instead, and fail here.
import { createServer as createHttpServer } from "node:http";
import { createServer as createNetServer, type AddressInfo } from "node:net";
import { beforeAll, describe, expect, it } from "vitest";
import { Embedder, InvalidOptionError, Reranker, TASK_NAMES } from "../../src/index.js";
import { expectInvalidOption } from "../format/expect-invalid-option.js";
import { Qwen3Embeddings, Qwen3Rerank } from "../../src/exports/langchain.js";
import { createQwen3 } from "../../src/exports/ai-sdk.js";
import { Qwen3Embedding, ServeRequestError } from "../../src/exports/llamaindex.js";

const CLOSED = "http://127.0.0.1:9";
/** Passes `instanceof` without a model: enough for checks that never call it. */
const embedder = Object.create(Embedder.prototype) as Embedder;
const reranker = Object.create(Reranker.prototype) as Reranker;

async function rejection(action: () => PromiseLike<unknown>): Promise<InvalidOptionError> {
    const error = await Promise.resolve(action()).then(() => undefined, (caught: unknown) => caught);
    expect(error).toBeInstanceOf(InvalidOptionError);
    return error as InvalidOptionError;
}

const TASKS = TASK_NAMES.map((task) => JSON.stringify(task)).join(", ");

describe("the embeddings adapters' options (LangChain, LlamaIndex, AI SDK share them)", () => {
    it.each([
        [{}, "embedder", "Expected embedder (an Embedder from createEmbedder) or baseUrl (a qwen3-embedding serve URL) in Qwen3Embeddings options but received neither"],
        [{ embedder, baseUrl: CLOSED }, "embedder", "Pass either embedder (an Embedder from createEmbedder) or baseUrl (a qwen3-embedding serve) in Qwen3Embeddings options, not both"],
        [{ embedder: {} }, "embedder", "Expected an Embedder from createEmbedder for embedder but received an object"],
        [{ embedder, model: "qwen3" }, "model", "model goes with baseUrl, not with embedder, in Qwen3Embeddings options"],
        [{ baseUrl: "ftp://host/" }, "baseUrl", 'Expected an http:// or https:// URL for baseUrl but received the string "ftp://host/"'],
        [{ baseUrl: "localhost:8080" }, "baseUrl", 'Expected an http:// or https:// URL for baseUrl but received the string "localhost:8080"'],
        [{ baseUrl: CLOSED, apiKey: 5 }, "apiKey", "Expected a non-empty string for apiKey but received number 5"],
        [{ baseUrl: CLOSED, timeoutMs: 0 }, "timeoutMs", "Expected an integer between 1 and 2147483647 for timeoutMs but received number 0"],
        [{ baseUrl: CLOSED, task: "websearch" }, "task", `Expected one of ${TASKS} for task but received the string "websearch"`],
        [{ baseUrl: CLOSED, instruction: "" }, "instruction", 'Expected a non-empty string for instruction but received the string ""'],
        [{ baseUrl: CLOSED, instruction: "Find it", task: "web-search" }, undefined, "Pass either instruction or task, not both"],
        [{ baseUrl: CLOSED, dimensions: 16 }, "dimensions", "Expected an integer between 32 and 1000000 for dimensions but received number 16"],
        [{ baseUrl: CLOSED, dimension: 64 }, undefined, 'Unknown option "dimension" in Qwen3Embeddings options; the known options are embedder, baseUrl, model, apiKey, timeoutMs, instruction, task, dimensions, maxConcurrency, maxRetries, onFailedAttempt'],
    ])("new Qwen3Embeddings(%o) throws, naming %s", (options, option, message) => {
        expectInvalidOption(() => new Qwen3Embeddings(options as never), message);
        expect(() => new Qwen3Embeddings(options as never)).toThrow(expect.objectContaining({ option }));
    });

    it("LlamaIndex's Qwen3Embedding names itself and checks embedBatchSize", () => {
        expectInvalidOption(() => new Qwen3Embedding({} as never), "Expected embedder (an Embedder from createEmbedder) or baseUrl (a qwen3-embedding serve URL) in Qwen3Embedding options but received neither");
        expectInvalidOption(() => new Qwen3Embedding({ baseUrl: CLOSED, embedBatchSize: 0 }), "Expected an integer between 1 and 9007199254740991 for embedBatchSize but received number 0");
    });

    it("a query that is not a string is refused before any request", async () => {
        const embeddings = new Qwen3Embeddings({ baseUrl: CLOSED });
        expect((await rejection(() => embeddings.embedQuery(42 as never))).message).toBe("Expected a string for query but received number 42");
        expect((await rejection(() => embeddings.embedDocuments(["a", null] as never))).message).toBe("Expected a string for texts[1] but received null");
    }, 5_000); // and at once: not retried by LangChain's AsyncCaller (six tries with backoff, over a minute)
});

describe("the rerank adapters' options", () => {
    it.each([
        [{}, "Expected reranker (a Reranker from createReranker) or baseUrl (a qwen3-embedding serve URL) in Qwen3Rerank options but received neither"],
        [{ reranker: embedder }, "Expected a Reranker from createReranker for reranker but received an object"],
        [{ reranker, topN: 0 }, "Expected an integer between 1 and 9007199254740991 for topN but received number 0"],
        [{ baseUrl: CLOSED, instruction: "" }, 'Expected a non-empty string for instruction but received the string ""'],
        [{ baseUrl: CLOSED, top_n: 3 }, 'Unknown option "top_n" in Qwen3Rerank options; the known options are reranker, baseUrl, model, apiKey, timeoutMs, instruction, topN'],
    ])("new Qwen3Rerank(%o) throws", (options, message) => {
        expectInvalidOption(() => new Qwen3Rerank(options as never), message);
    });

    it("rerank's own topN is checked before any request", async () => {
        const compressor = new Qwen3Rerank({ baseUrl: CLOSED });
        expect((await rejection(() => compressor.rerank(["a"], "q", { topN: 1.5 }))).message).toBe("Expected an integer between 1 and 9007199254740991 for topN but received number 1.5");
        expect((await rejection(() => compressor.rerank("a" as never, "q"))).message).toBe('Expected an array of Documents or strings for documents but received the string "a"');
    });
});

describe("the AI SDK provider's options", () => {
    it.each([
        [{}, "Expected embedder, reranker or baseUrl (a qwen3-embedding serve URL) in createQwen3 options but received none of them"],
        [{ embedder, baseUrl: CLOSED }, "Pass either embedder / reranker (in process) or baseUrl (a qwen3-embedding serve) in createQwen3 options, not both"],
        [{ embedder: reranker }, "Expected an Embedder from createEmbedder for embedder but received an object"],
        [{ baseUrl: "nope" }, 'Expected an http:// or https:// URL for baseUrl but received the string "nope"'],
        [{ baseUrl: CLOSED, model: "m" }, 'Unknown option "model" in createQwen3 options; the known options are embedder, reranker, baseUrl, apiKey, timeoutMs'],
    ])("createQwen3(%o) throws", (options, message) => {
        expectInvalidOption(() => createQwen3(options as never), message);
    });

    it("model settings are checked when the model is made", () => {
        const qwen3 = createQwen3({ baseUrl: CLOSED });
        expectInvalidOption(() => qwen3.embeddingModel({ inputType: "search_query" } as never), 'Expected one of "query", "document" for inputType but received the string "search_query"');
        expectInvalidOption(() => qwen3.rerankingModel({ topN: 3 } as never), 'Unknown option "topN" in rerankingModel settings; the known options are model, instruction');
        expectInvalidOption(() => createQwen3({ reranker }).embeddingModel(), "embeddingModel() needs an embedder in createQwen3 options (or a baseUrl)");
    });

    it("providerOptions.qwen3 is checked on each call, before any request", async () => {
        const model = createQwen3({ baseUrl: CLOSED }).embeddingModel();
        const call = (qwen3: unknown) => model.doEmbed({ values: ["x"], providerOptions: { qwen3: qwen3 as never } });
        expect((await rejection(() => call({ inputType: "search_query" }))).message).toBe('Expected one of "query", "document" for inputType but received the string "search_query"');
        expect((await rejection(() => call({ input_type: "query" }))).message).toBe('Unknown option "input_type" in providerOptions.qwen3; the known options are inputType, instruction, task');
        expect((await rejection(() => call({ inputType: "document", instruction: "Find it" }))).message).toBe(
            'providerOptions.qwen3 gives instruction with inputType "document"; documents are embedded as raw text (set the symmetric task "semantic-similarity" on the model), or send the values as queries',
        );
        expect((await rejection(() => call("query"))).message).toBe('Expected an options object for providerOptions.qwen3 but received the string "query"');
        const reranking = createQwen3({ baseUrl: CLOSED }).rerankingModel();
        expect((await rejection(() => reranking.doRerank({ query: 7 as never, documents: { type: "text", values: ["d"] } }))).message).toBe("Expected a string for query but received number 7");
        expect((await rejection(() => reranking.doRerank({ query: "q", documents: { type: "text", values: ["d"] }, providerOptions: { qwen3: { instruction: "" } } }))).message).toBe(
            'Expected a non-empty string for instruction but received the string ""',
        );
    });
});

describe("a serve that cannot be reached", () => {
    /** A loopback port that was just free: nothing listens there. */
    let closed: string;
    beforeAll(async () => {
        const probe = createNetServer();
        await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
        closed = `http://127.0.0.1:${(probe.address() as AddressInfo).port}`;
        await new Promise((resolve) => probe.close(resolve));
    });

    it("is a ServeRequestError naming the URL and the reason", async () => {
        const embedding = new Qwen3Embedding({ baseUrl: `${closed}/v1/` });
        const error = await embedding.getQueryEmbedding("q").then(() => undefined, (caught: unknown) => caught);
        expect(error).toBeInstanceOf(ServeRequestError);
        expect((error as ServeRequestError).name).toBe("ServeRequestError");
        expect((error as ServeRequestError).url).toBe(`${closed}/v1/embeddings`);
        expect((error as ServeRequestError).status).toBeUndefined();
        expect((error as Error).message).toBe(`POST ${closed}/v1/embeddings failed: ECONNREFUSED`);
    });

    it("through LangChain's AsyncCaller too (maxRetries 0)", async () => {
        const embeddings = new Qwen3Embeddings({ baseUrl: closed, maxRetries: 0 });
        await expect(embeddings.embedDocuments(["d"])).rejects.toThrow(`POST ${closed}/v1/embeddings failed: ECONNREFUSED`);
    });
});

describe("LangChain's AsyncCaller and a serve's answers", () => {
    it("a refused request (422) is tried once; a 503 is tried again", async () => {
        const statuses = [422, 503, 503];
        let requests = 0;
        const server = createHttpServer((request, response) => {
            const status = statuses[Math.min(requests++, statuses.length - 1)]!;
            request.resume();
            response.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify({ error: { message: `status ${status}` } }));
        });
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        try {
            const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
            const embeddings = new Qwen3Embeddings({ baseUrl: url, maxRetries: 1 });
            const refused = await embeddings.embedDocuments(["d"]).then(() => undefined, (error: unknown) => error);
            expect(refused).toBeInstanceOf(ServeRequestError);
            expect((refused as ServeRequestError).status).toBe(422);
            expect(requests).toBe(1);
            await expect(embeddings.embedDocuments(["d"])).rejects.toThrow(`POST ${url}/v1/embeddings answered 503`);
            expect(requests).toBe(3);
        } finally {
            server.closeAllConnections();
            await new Promise((resolve) => server.close(resolve));
        }
    }, 10_000);
});
