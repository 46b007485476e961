import { request as httpRequest } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEmbedder, type Embedder } from "../../src/index.js";
import { type RunningServer } from "../../src/exports/server.js";
import { MODEL_OPTIONS, expectError, expectVectorsClose, fixturePaths, postJson, startFixtureServer, type JsonResponse } from "./server-fixture.js";

const KEY = "sk-test-0123456789abcdef";
const auth = { authorization: `Bearer ${KEY}` };

let server: RunningServer;
let library: Embedder;
let embeddings: string;
const logLines: string[] = [];

beforeAll(async () => {
    const paths = await fixturePaths();
    server = await startFixtureServer({
        apiKeys: ["another-key", KEY],
        logLevel: "info",
        logStream: { write: (line: string) => logLines.push(line) },
    });
    library = await createEmbedder({ model: paths.embedding, ...MODEL_OPTIONS });
    embeddings = `${server.url}/v1/embeddings`;
});
afterAll(async () => {
    await server?.close();
    library?.dispose();
});

/** The server still answers: /health is 200 and a small embedding request works. */
async function expectStillServing(): Promise<void> {
    const health = await fetch(`${server.url}/health`);
    expect(health.status).toBe(200);
    const ok = await postJson(embeddings, { input: "still here" }, auth);
    expect(ok.status).toBe(200);
}

/** Sends raw bytes with node:http, so a body can be malformed or larger than any client would buffer. */
function rawPost(path: string, body: Buffer, headers: Record<string, string | number>): Promise<JsonResponse> {
    return new Promise((resolve, reject) => {
        const request = httpRequest(`${server.url}${path}`, { method: "POST", headers: { ...headers, "content-length": body.length } }, (response) => {
            const chunks: Buffer[] = [];
            response.on("data", (chunk: Buffer) => chunks.push(chunk));
            response.on("end", () => {
                const text = Buffer.concat(chunks).toString("utf8");
                resolve({ status: response.statusCode!, headers: new Headers(response.headers as Record<string, string>), body: JSON.parse(text) });
            });
        });
        request.on("error", (error: NodeJS.ErrnoException) => {
            // The server may answer 413 and close before the whole body was written; the answer is what matters.
            if (error.code !== "EPIPE" && error.code !== "ECONNRESET") reject(error);
        });
        request.end(body);
    });
}

describe("hostile input: the right status and message, and the server keeps serving", () => {
    it("malformed JSON, a body that is not an object, a non-JSON content type", async () => {
        expectError(await postJson(embeddings, '{"input": ["a", ', auth), 400, "invalid_json", "The request body is not valid JSON");
        expectError(await postJson(embeddings, "", auth), 400, "invalid_json", "The request body is empty; send a JSON object");
        expectError(await postJson(embeddings, '["a", "b"]', auth), 400, "invalid_body", "Expected a JSON object as the request body but received an array of length 2");
        expectError(await postJson(embeddings, "null", auth), 400, "invalid_body", "Expected a JSON object as the request body but received null");
        expectError(await postJson(embeddings, '{"__proto__": {"x": 1}, "input": "a"}', auth), 400, "forbidden_key", /has a "__proto__" key, which this server refuses/, "__proto__");
        expectError(await postJson(embeddings, '{"constructor": {"prototype": {"x": 1}}, "input": "a"}', auth), 400, "forbidden_key", /"constructor" key/, "constructor");
        expectError(await postJson(embeddings, '{"\\u005f_proto__": {"x": 1}, "input": "a"}', auth), 400, "forbidden_key", undefined, "__proto__");
        const text = await fetch(embeddings, { method: "POST", headers: { "content-type": "text/plain", ...auth }, body: '{"input":"a"}' });
        expectError({ status: text.status, headers: text.headers, body: await text.json() }, 415, "unsupported_media_type", /Content-Type: application\/json/);
        await expectStillServing();
    });

    it("wrong types and unknown fields name the field", async () => {
        expectError(await postJson(embeddings, { input: 42 }, auth), 400, "invalid_value",
            "Expected a string, an array of strings, an array of token ids or an array of arrays of token ids for input but received number 42", "input");
        expectError(await postJson(embeddings, { input: ["a", 7] }, auth), 400, "invalid_value", "Expected a string or a { text } object for input[1] but received number 7", "input");
        expectError(await postJson(embeddings, { input: [[1, 2], "a"] }, auth), 400, "invalid_value", "Expected an array of token ids for input[1]", "input");
        expectError(await postJson(embeddings, { input: [1.5] }, auth), 400, "invalid_value", "Expected an integer token id for input[0] but received number 1.5", "input");
        // Jina's { text } objects are inputs (openapi-document.test.ts); an object without text is not.
        expectError(await postJson(embeddings, { input: [{ txt: "a" }] }, auth), 400, "invalid_value", "Expected a string or a { text } object for input[0] but received an object", "input");
        expectError(await postJson(embeddings, { input: "a", encoding_format: "binary" }, auth), 400, "invalid_value",
            'Expected one of "float", "base64" for encoding_format but received the string "binary"', "encoding_format");
        expectError(await postJson(embeddings, { input: "a", dimensions: "32" }, auth), 400, "invalid_value",
            'Expected an integer from 32 up to the model\'s dimension for dimensions but received the string "32"', "dimensions");
        expectError(await postJson(embeddings, { input: "a", model: 3 }, auth), 400, "invalid_value", "Expected a string for model but received number 3", "model");
        expectError(await postJson(embeddings, { input: "a", task: "translate" }, auth), 400, "invalid_value", /Expected one of "web-search", .* for task/, "task");
        expectError(await postJson(embeddings, { input: "a", inputs: "b" }, auth), 400, "unknown_field", /Unknown field "inputs" in the request body; the known fields are model, input, /, "inputs");
        expectError(await postJson(embeddings, { input: "a", instruction: "x", task: "web-search" }, auth), 400, "invalid_value", "Pass either instruction or task, not both", "task");
        expectError(await postJson(embeddings, { input: "a", instruction: "x", input_type: "document" }, auth), 400, "invalid_value",
            /Documents are embedded as raw text without an instruction/, "instruction");
        expectError(await postJson(embeddings, { input: "a", input_type: "query", text_type: "document" }, auth), 400, "invalid_value",
            "input_type says query but text_type says document; give one", "text_type");
        expectError(await postJson(embeddings, { input: "a", truncate: "yes" }, auth), 400, "invalid_value",
            'Expected true, false, "end" or "error" for truncate but received the string "yes"', "truncate");
        await expectStillServing();
    });

    it("empty input", async () => {
        expectError(await postJson(embeddings, {}, auth), 400, "missing_field", /for input but received undefined/, "input");
        expectError(await postJson(embeddings, { input: "" }, auth), 400, "empty_input", "input is an empty string; every input needs some text", "input");
        expectError(await postJson(embeddings, { input: [] }, auth), 400, "empty_input", "input is an empty array; send at least one input", "input");
        expectError(await postJson(embeddings, { input: ["a", ""] }, auth), 400, "empty_input", "input[1] is an empty string", "input");
        expectError(await postJson(embeddings, { input: [[]] }, auth), 400, "empty_input", "input[0] is an empty array", "input");
        expectError(await postJson(embeddings, { input: [151643] }, auth), 400, "empty_input", "input[0] holds no token besides <|endoftext|>", "input");
        expectError(await postJson(`${server.url}/v1/rerank`, { query: "q", documents: [] }, auth), 400, "empty_input", "documents is an empty array", "documents");
        expectError(await postJson(`${server.url}/v1/rerank`, { query: "", documents: ["a"] }, auth), 400, "invalid_value",
            'Expected a non-empty string for query but received the string ""', "query");
        await expectStillServing();
    });

    it("10,000 inputs: 413 naming the limit, for embeddings and rerank documents", async () => {
        const many = Array.from({ length: 10_000 }, (_, index) => `text ${index}`);
        expectError(await postJson(embeddings, { input: many }, auth), 413, "too_many_inputs",
            "input has 10000 items but this server takes at most 2048 per request (--max-inputs); split the request", "input");
        expectError(await postJson(`${server.url}/v1/rerank`, { query: "q", documents: many }, auth), 413, "too_many_inputs", "documents has 10000 items", "documents");
        expectError(await postJson(`${server.url}/embed`, { inputs: many }, auth), 413, "too_many_inputs", "inputs has 10000 items", "inputs");
        await expectStillServing();
    });

    it("a 50 MB body: 413 before it is parsed", async () => {
        const body = Buffer.from(JSON.stringify({ input: ["x".repeat(50 * 1024 * 1024)] }));
        const response = await rawPost("/v1/embeddings", body, { "content-type": "application/json", ...auth });
        expectError(response, 413, "request_too_large", `The request body is larger than this server's limit of ${16 * 1024 * 1024} bytes (--max-body-size)`);
        await expectStillServing();
    });

    it("a 100k-token input: 400 naming it (no work done), or cut to the limit when the request asks", async () => {
        const huge = "token ".repeat(100_000);
        expectError(await postJson(embeddings, { input: ["short", huge] }, auth), 400, "invalid_value",
            /^Input 1 has 1000\d\d tokens \(including the appended <\|endoftext\|>\) but this server takes at most 4096 tokens per input \(--max-tokens-per-input\); send "truncate": true to cut it to fit$/, "input");
        const cut = await postJson(embeddings, { input: [huge], truncate: true }, auth);
        expect(cut.status).toBe(200);
        expect(cut.body.usage.prompt_tokens).toBe(4096);
        await expectStillServing();
    });

    it("lone surrogates, NUL bytes and invalid UTF-8 are embedded like the library embeds the same strings", async () => {
        const strange = ["a\ud800b", "\u0000", "x\udfffy\u0000z", "\ud83d"];
        const response = await postJson(embeddings, { input: strange, encoding_format: "float" }, auth);
        expect(response.status).toBe(200);
        const expected = await library.embed(strange);
        response.body.data.forEach((item: { embedding: number[] }, index: number) => expectVectorsClose(item.embedding, expected.embeddings[index]!));
        // Bytes that are not UTF-8 decode to U+FFFD, as the WHATWG decoder does.
        const invalid = Buffer.concat([Buffer.from('{"input": "caf'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('", "encoding_format": "float"}')]);
        const decoded = await rawPost("/v1/embeddings", invalid, { "content-type": "application/json", ...auth });
        expect(decoded.status).toBe(200);
        const replacement = await library.embed(["caf\ufffd(\ufffd"]);
        expectVectorsClose(decoded.body.data[0].embedding, replacement.embeddings[0]!);
        await expectStillServing();
    });

    it("dimensions out of range", async () => {
        for (const dimensions of [16, 65, 2048, -1, 0]) {
            expectError(await postJson(embeddings, { input: "a", dimensions }, auth), 400, "invalid_value",
                `Expected an integer between 32 and 64 for dimensions but received number ${dimensions}`, "dimensions");
        }
        // Not an integer: the body's schema refuses it before the model's range is checked.
        expectError(await postJson(embeddings, { input: "a", dimensions: 32.5 }, auth), 400, "invalid_value",
            "Expected an integer from 32 up to the model's dimension for dimensions but received number 32.5", "dimensions");
        await expectStillServing();
    });

    it("unknown model, unknown route, wrong method", async () => {
        expectError(await postJson(embeddings, { input: "a", model: "text-embedding-3-large" }, auth), 404, "model_not_found",
            /The model "text-embedding-3-large" is not served for embeddings\. Accepted names: "embedding-tiny-s1", "embedding-tiny-s1\.gguf"/, "model");
        expectError(await postJson(`${server.url}/v1/chat/completions`, { messages: [] }, auth), 404, "not_found", /^No route for POST \/v1\/chat\/completions; this server serves/);
        const get = await fetch(embeddings, { headers: auth });
        expectError({ status: get.status, headers: get.headers, body: await get.json() }, 404, "not_found", "No route for GET /v1/embeddings");
        await expectStillServing();
    });

    it("missing key, wrong key, malformed Authorization: 401 without echoing anything; the key never reaches the log", async () => {
        const missing = await postJson(embeddings, { input: "a" });
        expectError(missing, 401, "missing_api_key", "Missing API key: send it as Authorization: Bearer <key>");
        expect(missing.headers.get("www-authenticate")).toBe('Bearer realm="qwen3-embedding"');
        expectError(await postJson(embeddings, { input: "a" }, { authorization: "Bearer sk-test-0123456789abcdeX" }), 401, "invalid_api_key", "Invalid API key");
        expectError(await postJson(embeddings, { input: "a" }, { authorization: `Bearer ${KEY}extra` }), 401, "invalid_api_key");
        expectError(await postJson(embeddings, { input: "a" }, { authorization: KEY }), 401, "missing_api_key");
        expectError(await postJson(embeddings, { input: "a" }, { authorization: `Basic ${KEY}` }), 401, "missing_api_key");
        expectError(await postJson(`${server.url}/v1/models`, {}, {}), 401, "missing_api_key"); // auth comes before routing
        expect((await fetch(`${server.url}/v1/models`, { headers: { authorization: `bearer ${KEY}` } })).status).toBe(200); // scheme is case-insensitive
        expect((await fetch(`${server.url}/v1/models`, { headers: { authorization: "Bearer another-key" } })).status).toBe(200);
        expect((await fetch(`${server.url}/metrics`)).status).toBe(401);
        expect((await fetch(`${server.url}/health`)).status).toBe(200); // health is public
        const log = logLines.join("");
        expect(log).not.toContain(KEY);
        expect(log).not.toContain("0123456789abcde");
        expect(log).not.toContain("another-key");
        await expectStillServing();
    });

    it("every request is logged as JSON with its request id; x-request-id is honoured and sent back", async () => {
        const response = await postJson(embeddings, { input: "traced" }, { ...auth, "x-request-id": "trace-42" });
        expect(response.headers.get("x-request-id")).toBe("trace-42");
        const forged = await postJson(embeddings, { input: "a" }, { ...auth, "x-request-id": "not a token: has spaces" });
        expect(forged.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
        const lines = logLines.join("").trim().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>);
        const traced = lines.filter((line) => line["reqId"] === "trace-42");
        expect(traced.map((line) => line["msg"])).toEqual(["incoming request", "request completed"]);
        expect((traced[1]!["res"] as { statusCode: number }).statusCode).toBe(200);
        expect(lines.every((line) => typeof line["level"] === "number" && typeof line["time"] === "number")).toBe(true);
    });
});
