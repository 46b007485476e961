import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AbortedError, InvalidOptionError, QueueFullError, createEmbedder, type EmbedOptions, type Embedder, type EmbeddingResult } from "../../src/index.js";
import { createServer, startServer, type RunningServer, type ServedEmbedder } from "../../src/exports/server.js";
import { MODEL_OPTIONS, deferred, expectError, fixturePaths, postJson, startFixtureServer } from "./server-fixture.js";

let embedder: Embedder;

beforeAll(async () => {
    embedder = await createEmbedder({ model: (await fixturePaths()).embedding, ...MODEL_OPTIONS });
});
afterAll(() => {
    embedder?.dispose();
});

/**
 * A served embedder that forwards to the real one, but lets a test hold a call (`gate`), fail it, see its signal,
 * and report scheduler figures and batches the way a scheduler-backed embedder does.
 */
function instrumented(options: { gate?: Promise<void>; fail?: () => Error } = {}) {
    const signals: AbortSignal[] = [];
    const listeners = new Set<(batch: { sequences: number; tokens: number; durationMs: number }) => void>();
    let disposed = false;
    const served: ServedEmbedder & { stats(): { queuedCalls: number; queuedTokens: number }; onBatch(listener: (batch: { sequences: number; tokens: number; durationMs: number }) => void): () => void } = {
        modelPath: embedder.modelPath,
        dimensions: embedder.dimensions,
        contextSize: embedder.contextSize,
        async embed(texts: readonly string[], opts: EmbedOptions = {}): Promise<EmbeddingResult> {
            if (opts.signal !== undefined) signals.push(opts.signal);
            if (options.fail !== undefined) throw options.fail();
            if (options.gate !== undefined) {
                await Promise.race([
                    options.gate,
                    new Promise((_, reject) => opts.signal?.addEventListener("abort", () => reject(new AbortedError()), { once: true })),
                ]);
            }
            const result = await embedder.embed(texts, opts);
            for (const listener of listeners) listener({ sequences: texts.length, tokens: result.totalTokens, durationMs: 5 });
            return result;
        },
        dispose() {
            disposed = true;
        },
        stats: () => ({ queuedCalls: 7, queuedTokens: 1234 }),
        onBatch(listener) {
            listeners.add(listener);
            return () => listeners.delete(listener);
        },
    };
    return { served, signals, listeners, disposed: () => disposed };
}

describe("options are validated before anything starts", () => {
    it("names the option, what was expected and what was received", async () => {
        const path = (await fixturePaths()).embedding;
        const cases: [Record<string, unknown>, string | RegExp][] = [
            [{}, "Expected embeddingModel or rerankerModel (or embedder or reranker) in server options but received neither"],
            [{ embeddingModel: path, prot: 80 }, /^Unknown option "prot" in server options; the known options are embeddingModel, rerankerModel, /],
            [{ embeddingModel: path, port: 70000 }, "Expected an integer between 0 and 65535 for port but received number 70000"],
            [{ embeddingModel: path, host: "" }, 'Expected a non-empty string for host but received the string ""'],
            [{ embeddingModel: path, logLevel: "loud" }, /^Expected one of "fatal", .* for logLevel but received the string "loud"/],
            [{ embeddingModel: path, maxInputs: 0 }, "Expected an integer between 1 and 1000000 for maxInputs but received number 0"],
            [{ embeddingModel: path, maxBodyBytes: 10 }, /^Expected an integer between 1024 and \d+ for maxBodyBytes but received number 10/],
            [{ embeddingModel: path, requestTimeoutMs: 1.5 }, /for requestTimeoutMs but received number 1.5/],
            [{ embeddingModel: path, truncate: "yes" }, 'Expected a boolean for truncate but received the string "yes"'],
            [{ embeddingModel: path, apiKeys: "secret" }, "Expected an array of keys (strings, or { key, admin?, users?, namespaces?, writeNamespaces? } objects) for apiKeys but received a string of 6 characters"],
            [{ embeddingModel: path, apiKeys: [" padded "] }, "Expected a non-empty key without surrounding whitespace for apiKeys[0] but received a key of 8 characters"],
            [{ embeddingModel: path, corsOrigins: ["https://app.example.com/path"] }, /^Expected "\*" or an origin such as .* for corsOrigins\[0\] but received the string "https:\/\/app.example.com\/path"/],
            [{ embeddingModel: path, servedModelNames: ["reranker=x"] }, 'servedModelNames[0] names the reranker model ("reranker=x") but the server serves no reranker model'],
            [{ embeddingModel: path, servedModelNames: ["embedding= "] }, /^Expected "name", "embedding=name" or "reranker=name" for servedModelNames\[0\]/],
            [{ embeddingModel: path, embedder: {} }, "Pass either embeddingModel or embedder in server options, not both"],
            [{ embedder: { embed: 1 } }, "Expected an object with embed() and dispose() methods (or a promise of one) for embedder but received an object"],
            [{ rerankerOptions: { batchTokens: 64 }, embeddingModel: path }, "rerankerOptions applies to the model the server loads; pass rerankerModel with it"],
            [{ embeddingModel: path, logStream: {} }, "Expected an object with a write(line) method for logStream but received an object"],
            [{ embeddingModel: path, schedulerStats: 5 }, /^Expected a function returning \{ queuedCalls, queuedTokens \} for schedulerStats but received number 5/],
        ];
        for (const [options, message] of cases) {
            const attempt = createServer(options as never);
            await expect(attempt, JSON.stringify(options)).rejects.toThrow(InvalidOptionError);
            await expect(attempt).rejects.toThrow(message);
        }
    });

    it("a model that fails to load: listening, /health 503 with the reason, ready rejects", async () => {
        const server = await startServer({ embeddingModel: "/nonexistent/model.gguf", port: 0, logLevel: "silent" });
        try {
            await expect(server.ready).rejects.toThrow(/Model file not found: \/nonexistent\/model\.gguf/);
            const health = await fetch(`${server.url}/health`);
            const body = await health.json() as { status: string; error: { code: string; message: string } };
            expect(health.status).toBe(503);
            expect(body.status).toBe("failed");
            expect(body.error.code).toBe("load_failed");
            expect(body.error.message).toMatch(/^A model failed to load: Model file not found/);
            expectError(await postJson(`${server.url}/v1/embeddings`, { input: "a" }), 503, "load_failed");
        } finally {
            await server.close();
        }
    });
});

describe("lifecycle", () => {
    it("/health and the routes answer 503 while the models load, 200 once ready", async () => {
        const loading = deferred<ServedEmbedder>();
        const server = await startServer({ embedder: loading.promise, port: 0, logLevel: "silent" });
        try {
            const early = await fetch(`${server.url}/health`);
            expect(early.status).toBe(503);
            expect(early.headers.get("retry-after")).toBe("1");
            expect(await early.json()).toEqual({
                status: "loading",
                error: { message: "The models are still loading; retry shortly", type: "service_unavailable", code: "loading", param: null },
            });
            expectError(await postJson(`${server.url}/v1/embeddings`, { input: "a" }), 503, "loading");
            expectError(await postJson(`${server.url}/v1/rerank`, { query: "q", documents: ["a"] }), 503, "loading");
            loading.resolve(embedder);
            await server.ready;
            const ready = await fetch(`${server.url}/health`);
            expect(ready.status).toBe(200);
            expect(await ready.json()).toEqual({ status: "ok", models: { embedding: "embedding-tiny-s1" } });
            expectError(await postJson(`${server.url}/v1/rerank`, { query: "q", documents: ["a"] }), 404, "model_not_found",
                "This server serves no reranker model; start it with --reranker-model");
        } finally {
            await server.close();
        }
        const after = await embedder.embed(["a given embedder is not disposed by the server"]);
        expect(after.embeddings).toHaveLength(1);
    });

    it("close(): requests in progress finish, new connections are refused, then close() resolves", async () => {
        const release = deferred();
        const fake = instrumented({ gate: release.promise });
        const server = await startServer({ embedder: fake.served, port: 0, logLevel: "silent" });
        await server.ready;
        const inProgress = postJson(`${server.url}/v1/embeddings`, { input: ["finishing during shutdown"] });
        await waitFor(() => fake.signals.length === 1);
        expect(server.inFlight()).toBe(1);
        let closed = false;
        const closing = server.close().then(() => (closed = true));
        await waitFor(() => server.app.server.listening === false);
        await expect(fetch(`${server.url}/health`)).rejects.toThrow(); // not accepting any more
        expect(closed).toBe(false); // waiting for the request in progress
        release.resolve();
        const response = await inProgress;
        expect(response.status).toBe(200);
        expect(response.body.data[0].embedding).toBeTypeOf("object");
        await closing;
        expect(closed).toBe(true);
        expect(fake.disposed()).toBe(false); // given, so not the server's to dispose
    });
});

describe("limits", () => {
    it("a scheduler's QueueFullError becomes 429 with Retry-After", async () => {
        const fake = instrumented({ fail: () => new QueueFullError("The queue holds 1048576 tokens; retry later") });
        const server = await startServer({ embedder: fake.served, port: 0, logLevel: "silent", retryAfterSeconds: 2 });
        try {
            await server.ready;
            const response = await postJson(`${server.url}/v1/embeddings`, { input: "a" });
            expectError(response, 429, "queue_full", "The queue holds 1048576 tokens; retry later");
            expect(response.headers.get("retry-after")).toBe("2");
            expect((await fetch(`${server.url}/health`)).status).toBe(200);
        } finally {
            await server.close();
        }
    });

    it("more concurrent requests than --max-concurrent-requests: 429 server_busy at once; the admitted one completes", async () => {
        const release = deferred();
        const fake = instrumented({ gate: release.promise });
        const server = await startServer({ embedder: fake.served, port: 0, logLevel: "silent", maxConcurrentRequests: 1 });
        try {
            await server.ready;
            const first = postJson(`${server.url}/v1/embeddings`, { input: "admitted" });
            await waitFor(() => fake.signals.length === 1);
            const second = await postJson(`${server.url}/v1/embeddings`, { input: "turned away" });
            expectError(second, 429, "server_busy", "The server is busy: 1 requests are already in progress (--max-concurrent-requests); retry later");
            expect(second.headers.get("retry-after")).toBe("1");
            release.resolve();
            expect((await first).status).toBe(200);
            expect((await postJson(`${server.url}/v1/embeddings`, { input: "admitted again" })).status).toBe(200);
        } finally {
            await server.close();
        }
    });

    it("the request timeout aborts the model call through its signal and answers 503", async () => {
        const never = deferred();
        const fake = instrumented({ gate: never.promise });
        const server = await startServer({ embedder: fake.served, port: 0, logLevel: "silent", requestTimeoutMs: 50 });
        try {
            await server.ready;
            const response = await postJson(`${server.url}/v1/embeddings`, { input: "slow" });
            expectError(response, 503, "timeout", "The request did not finish within the server's time limit of 50 ms; raise it with --request-timeout <ms> (environment QWEN3_EMBEDDING_REQUEST_TIMEOUT, server option requestTimeoutMs)");
            expect(fake.signals[0]!.aborted).toBe(true);
            expect(server.inFlight()).toBe(0);
        } finally {
            await server.close();
        }
    });

    it("a client that disconnects aborts its model call", async () => {
        const never = deferred();
        const fake = instrumented({ gate: never.promise });
        const server = await startServer({ embedder: fake.served, port: 0, logLevel: "silent" });
        try {
            await server.ready;
            const controller = new AbortController();
            const request = fetch(`${server.url}/v1/embeddings`, {
                method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ input: "abandoned" }), signal: controller.signal,
            });
            await waitFor(() => fake.signals.length === 1);
            controller.abort();
            await expect(request).rejects.toThrow();
            await waitFor(() => fake.signals[0]!.aborted);
            await waitFor(() => server.inFlight() === 0);
        } finally {
            await server.close();
        }
    });
});

describe("GET /metrics", () => {
    let server: RunningServer;
    let second: RunningServer;
    let fake: ReturnType<typeof instrumented>;

    beforeAll(async () => {
        fake = instrumented();
        server = await startServer({ embedder: fake.served, port: 0, logLevel: "silent" });
        second = await startFixtureServer();
        await server.ready;
    });
    afterAll(async () => {
        await server?.close();
        await second?.close();
    });

    async function scrape(target: RunningServer): Promise<string> {
        const response = await fetch(`${target.url}/metrics`);
        expect(response.status).toBe(200);
        expect(response.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
        return response.text();
    }

    it("requests, errors by code, latency, tokens, inputs per request, queue depth and batch sizes", async () => {
        const ok = await postJson(`${server.url}/v1/embeddings`, { input: ["one", "two", "three"] });
        expect(ok.status).toBe(200);
        const tokens = ok.body.usage.total_tokens as number;
        expectError(await postJson(`${server.url}/v1/embeddings`, { input: "a", dimensions: 1 }), 400, "invalid_value");
        expectError(await postJson(`${server.url}/nowhere`, {}), 404, "not_found");
        const text = await scrape(server);
        expect(text).toContain('qwen3_http_requests_total{method="POST",route="/v1/embeddings",status="200"} 1');
        expect(text).toContain('qwen3_http_requests_total{method="POST",route="/v1/embeddings",status="400"} 1');
        expect(text).toContain('qwen3_http_errors_total{route="/v1/embeddings",status="400",code="invalid_value"} 1');
        expect(text).toContain('qwen3_http_errors_total{route="unmatched",status="404",code="not_found"} 1');
        expect(text).toContain('qwen3_http_request_duration_seconds_count{method="POST",route="/v1/embeddings"} 2');
        expect(text).toContain(`qwen3_tokens_processed_total{model="embedding"} ${tokens}`);
        expect(text).toContain('qwen3_inputs_processed_total{model="embedding"} 3');
        expect(text).toContain('qwen3_request_inputs_bucket{le="4",model="embedding"} 1');
        expect(text).toContain('qwen3_model_calls_in_flight{model="embedding"} 0');
        // From the embedder's duck-typed stats() and onBatch():
        expect(text).toContain('qwen3_scheduler_queued_calls{model="embedding"} 7');
        expect(text).toContain('qwen3_scheduler_queued_tokens{model="embedding"} 1234');
        expect(text).toContain('qwen3_batch_sequences_bucket{le="4",model="embedding"} 1');
        expect(text).toContain(`qwen3_batch_tokens_sum{model="embedding"} ${tokens}`);
        expect(text).toContain('qwen3_batch_duration_seconds_sum{model="embedding"} 0.005');
        expect(text).toMatch(/^qwen3_process_resident_memory_bytes \d+$/m);
    });

    it("each server has its own registry; the real facade's stats() and onBatch() feed the scheduler metrics", async () => {
        const response = await postJson(`${second.url}/v1/embeddings`, { input: ["alpha", "beta"] });
        expect(response.status).toBe(200);
        const text = await scrape(second);
        expect(text).not.toContain('route="/nowhere"'); // nothing of the first server's traffic
        expect(text).toContain('qwen3_http_requests_total{method="POST",route="/v1/embeddings",status="200"} 1');
        expect(text).toMatch(/^qwen3_scheduler_queued_calls\{model="embedding"\} 0$/m);
        expect(text).toMatch(/^qwen3_scheduler_queued_tokens\{model="reranker"\} 0$/m);
        const batches = /^qwen3_batch_sequences_count\{model="embedding"\} (\d+)$/m.exec(text);
        expect(Number(batches?.[1])).toBeGreaterThanOrEqual(1);
        const batchTokens = /^qwen3_batch_tokens_sum\{model="embedding"\} (\d+)$/m.exec(text);
        expect(Number(batchTokens?.[1])).toBe(response.body.usage.total_tokens);
    });

    it("a schedulerStats option is read at each scrape, instead of the models' stats()", async () => {
        let calls = 3;
        const server = await startServer({ embedder: instrumented().served, port: 0, logLevel: "silent", schedulerStats: () => ({ queuedCalls: calls, queuedTokens: 99 }) });
        try {
            await server.ready;
            expect(await scrape(server)).toContain('qwen3_scheduler_queued_calls{model="all"} 3');
            calls = 5;
            const text = await scrape(server);
            expect(text).toContain('qwen3_scheduler_queued_calls{model="all"} 5');
            expect(text).toContain('qwen3_scheduler_queued_tokens{model="all"} 99');
            expect(text).not.toContain('qwen3_scheduler_queued_calls{model="embedding"}');
        } finally {
            await server.close();
        }
    });

    it("closing the server unsubscribes from the embedder's batches", async () => {
        expect(fake.listeners.size).toBe(1);
        const extra = await startServer({ embedder: fake.served, port: 0, logLevel: "silent" });
        await extra.ready;
        expect(fake.listeners.size).toBe(2);
        await extra.close();
        expect(fake.listeners.size).toBe(1);
    });
});

describe("CORS", () => {
    it("off by default: no CORS headers, and preflights are not answered", async () => {
        const server = await startServer({ embedder: embedder, port: 0, logLevel: "silent" });
        try {
            await server.ready;
            const response = await fetch(`${server.url}/health`, { headers: { origin: "https://app.example.com" } });
            expect(response.headers.get("access-control-allow-origin")).toBeNull();
            const preflight = await fetch(`${server.url}/v1/embeddings`, {
                method: "OPTIONS", headers: { origin: "https://app.example.com", "access-control-request-method": "POST" },
            });
            expect(preflight.status).toBe(404);
            expect(preflight.headers.get("access-control-allow-origin")).toBeNull();
        } finally {
            await server.close();
        }
    });

    it("configured origins: preflight answered before authentication; responses (401 included) carry the headers", async () => {
        const server = await startServer({
            embedder: embedder, port: 0, logLevel: "silent", corsOrigins: ["https://app.example.com"], apiKeys: ["k"],
        });
        try {
            await server.ready;
            const preflight = await fetch(`${server.url}/v1/embeddings`, {
                method: "OPTIONS",
                headers: { origin: "https://app.example.com", "access-control-request-method": "POST", "access-control-request-headers": "authorization,content-type" },
            });
            expect(preflight.status).toBe(204);
            expect(preflight.headers.get("access-control-allow-origin")).toBe("https://app.example.com");
            expect(preflight.headers.get("access-control-allow-headers")).toBe("authorization, content-type, x-request-id");
            const denied = await postJson(`${server.url}/v1/embeddings`, { input: "a" }, { origin: "https://app.example.com" });
            expectError(denied, 401, "missing_api_key");
            expect(denied.headers.get("access-control-allow-origin")).toBe("https://app.example.com");
            const allowed = await postJson(`${server.url}/v1/embeddings`, { input: "a" }, { origin: "https://app.example.com", authorization: "Bearer k" });
            expect(allowed.status).toBe(200);
            expect(allowed.headers.get("access-control-allow-origin")).toBe("https://app.example.com");
            const other = await fetch(`${server.url}/health`, { headers: { origin: "https://evil.example.com" } });
            expect(other.headers.get("access-control-allow-origin")).toBeNull();
        } finally {
            await server.close();
        }
    });
});

/** Polls a condition every 5 ms; the test's own timeout bounds it. */
async function waitFor(condition: () => boolean): Promise<void> {
    while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}
