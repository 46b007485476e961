import { describe, expect, it } from "vitest";
import { resolveApiKeys } from "../../src/server/api-key-access.js";
import { ApiKeyCheck } from "../../src/server/auth.js";
import { HttpError } from "../../src/server/error-responses.js";
import { checkRequestedModel, modelNames, resolveRequestedModel } from "../../src/server/model-names.js";
import { serverOptionsFrom } from "../../src/cli/serve-command.js";

describe("model names", () => {
    it("a registry model's file answers to its registry id, id:QUANT, official names and repository, and its file name", () => {
        const names = modelNames("embedding", "/srv/models/Qwen3-Embedding-0.6B-Q8_0.gguf", "qwen3-embedding-0.6b", [
            { kind: undefined, name: "text-embedding-3-small" },
            { kind: "reranker", name: "not-for-embeddings" },
        ]);
        expect(names.id).toBe("text-embedding-3-small");
        expect(names.accepted).toEqual([
            "text-embedding-3-small",
            "qwen3-embedding-0.6b",
            "qwen3-embedding-0.6b:Q8_0", // the official name "Qwen3-Embedding-0.6B" is the id, as names match ignoring case
            "Qwen/Qwen3-Embedding-0.6B",
            "Qwen/Qwen3-Embedding-0.6B-GGUF",
            "Qwen3-Embedding-0.6B-Q8_0",
            "Qwen3-Embedding-0.6B-Q8_0.gguf",
        ]);
        // Without served names the registry id is the public id.
        expect(modelNames("embedding", "/m/Qwen3-Embedding-0.6B-Q8_0.gguf", "/m/Qwen3-Embedding-0.6B-Q8_0.gguf", []).id).toBe("qwen3-embedding-0.6b");
    });

    it("any other file answers to its file name; a path argument is not a name", () => {
        const names = modelNames("reranker", "/tmp/my-reranker.GGUF", "/tmp/my-reranker.GGUF", []);
        expect(names.accepted).toEqual(["my-reranker", "my-reranker.GGUF"]);
    });

    it("checkRequestedModel matches ignoring case and echoes the name sent; otherwise a 404 listing the names", () => {
        const names = modelNames("embedding", "/m/Qwen3-Embedding-0.6B-Q8_0.gguf", undefined, []);
        expect(checkRequestedModel("QWEN/qwen3-embedding-0.6b", names, undefined)).toBe("QWEN/qwen3-embedding-0.6b");
        expect(checkRequestedModel(undefined, names, undefined)).toBe("qwen3-embedding-0.6b");
        let thrown: unknown;
        try {
            checkRequestedModel("bge-m3", names, undefined);
        } catch (error) {
            thrown = error;
        }
        expect(thrown).toBeInstanceOf(HttpError);
        expect((thrown as HttpError).status).toBe(404);
        expect((thrown as HttpError).message).toBe(
            'The model "bge-m3" is not served for embeddings. Accepted names: "qwen3-embedding-0.6b", "qwen3-embedding-0.6b:Q8_0", ' +
            '"Qwen/Qwen3-Embedding-0.6B", "Qwen/Qwen3-Embedding-0.6B-GGUF", "Qwen3-Embedding-0.6B-Q8_0", "Qwen3-Embedding-0.6B-Q8_0.gguf", ' +
            '"qwen3-embedding-0.6b:query", "qwen3-embedding-0.6b:document"',
        );
    });
});

describe("ApiKeyCheck", () => {
    const check = (keys: string[], header: string | undefined) => {
        try {
            new ApiKeyCheck(resolveApiKeys("apiKeys", keys)).check(header);
            return "ok";
        } catch (error) {
            return (error as HttpError).code;
        }
    };

    it("no keys: everything passes; keys: Bearer <one of them>, exact, whatever its length", () => {
        expect(check([], undefined)).toBe("ok");
        expect(check(["a", "long-key-" + "x".repeat(200)], "Bearer a")).toBe("ok");
        expect(check(["a", "long-key-" + "x".repeat(200)], `Bearer long-key-${"x".repeat(200)}`)).toBe("ok");
        expect(check(["a"], "BEARER  a ")).toBe("ok");
        expect(check(["a"], "Bearer b")).toBe("invalid_api_key");
        expect(check(["a"], "Bearer aa")).toBe("invalid_api_key");
        expect(check(["a"], "Bearer ")).toBe("missing_api_key");
        expect(check(["a"], "a")).toBe("missing_api_key");
        expect(check(["a"], undefined)).toBe("missing_api_key");
    });
});

describe("role aliases and acceptAnyModelName", () => {
    const names = modelNames("embedding", "/m/Qwen3-Embedding-0.6B-Q8_0.gguf", undefined, []);
    const reranker = modelNames("reranker", "/m/r.gguf", undefined, []);

    it("name:query and name:document fix the role after any accepted name; other names are 404s", () => {
        expect(names.roleAliases).toEqual(["qwen3-embedding-0.6b:query", "qwen3-embedding-0.6b:document"]);
        expect(resolveRequestedModel("Qwen/Qwen3-Embedding-0.6B:query", names, undefined, false)).toEqual({ name: "Qwen/Qwen3-Embedding-0.6B:query", role: "query" });
        expect(resolveRequestedModel("qwen3-embedding-0.6b:Q8_0:document", names, undefined, false)).toEqual({ name: "qwen3-embedding-0.6b:Q8_0:document", role: "document" });
        expect(resolveRequestedModel("qwen3-embedding-0.6b:Q8_0", names, undefined, false)).toEqual({ name: "qwen3-embedding-0.6b:Q8_0", role: undefined });
        expect(() => resolveRequestedModel("text-embedding-3-small", names, undefined, false)).toThrow(/is not served for embeddings/);
        expect(reranker.roleAliases).toEqual([]);
    });

    it("acceptAnyModelName takes any name while no other model is served", () => {
        expect(resolveRequestedModel("text-embedding-3-small", names, undefined, true)).toEqual({ name: "text-embedding-3-small", role: undefined });
        expect(resolveRequestedModel("text-embedding-3-small:query", names, undefined, true)).toEqual({ name: "text-embedding-3-small:query", role: "query" });
        expect(() => resolveRequestedModel("text-embedding-3-small", names, reranker, true)).toThrow(/acceptAnyModelName applies only while the server serves one model/);
    });

    it("--accept-any-model-name and QWEN3_EMBEDDING_ACCEPT_ANY_MODEL_NAME; the flag wins", () => {
        expect(serverOptionsFrom({ "embedding-model": "x.gguf", "accept-any-model-name": true }, {}).acceptAnyModelName).toBe(true);
        expect(serverOptionsFrom({ "embedding-model": "x.gguf" }, { QWEN3_EMBEDDING_ACCEPT_ANY_MODEL_NAME: "1" }).acceptAnyModelName).toBe(true);
        expect(serverOptionsFrom({ "embedding-model": "x.gguf" }, {}).acceptAnyModelName).toBeUndefined();
        expect(() => serverOptionsFrom({ "embedding-model": "x.gguf" }, { QWEN3_EMBEDDING_ACCEPT_ANY_MODEL_NAME: "maybe" }))
            .toThrow('Expected true or false for QWEN3_EMBEDDING_ACCEPT_ANY_MODEL_NAME but received "maybe"');
    });
});
