import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseApiKeyFile, resolveApiKeys } from "../../src/server/api-key-access.js";
import { ApiKeyCheck } from "../../src/server/auth.js";
import { serverOptionsFrom } from "../../src/cli/serve-command.js";

describe("API key files and scopes", () => {
    it("a plain line is an admin key; a JSON line is a scoped key", () => {
        const entries = parseApiKeyFile(["# operators", "sk-ops", "", '{"key": "sk-alice", "users": ["alice"], "namespaces": ["kb"]}', '{"key": "sk-all", "users": "*"}'].join("\n"), "keys.txt");
        const check = new ApiKeyCheck(resolveApiKeys("apiKeys", entries));
        const ops = check.check("Bearer sk-ops");
        expect([ops.admin, ops.everyUser, ops.mayActFor("anyone"), ops.maySearch("memories")]).toEqual([true, true, true, true]);
        const alice = check.check("Bearer sk-alice");
        expect([alice.admin, alice.everyUser, alice.mayActFor("alice"), alice.mayActFor("bob"), alice.maySearch("kb"), alice.maySearch("kb2")]).toEqual([false, false, true, false, true, false]);
        const all = check.check("Bearer sk-all");
        expect([all.admin, all.everyUser, all.maySearch("kb")]).toEqual([false, true, false]);
        expect([ops.mayWrite("kb"), alice.mayWrite("kb"), all.mayWrite("kb")]).toEqual([true, false, false]); // writing needs writeNamespaces
    });

    it("writeNamespaces: the namespaces a key may write documents to, checked like namespaces", () => {
        const entries = parseApiKeyFile('{"key": "sk-w", "namespaces": ["kb"], "writeNamespaces": ["kb"]}\n{"key": "sk-wall", "writeNamespaces": "*"}', "keys.txt");
        const check = new ApiKeyCheck(resolveApiKeys("apiKeys", entries));
        const writer = check.check("Bearer sk-w");
        expect([writer.mayWrite("kb"), writer.mayWrite("kb2"), writer.maySearch("kb")]).toEqual([true, false, true]);
        const everywhere = check.check("Bearer sk-wall");
        expect([everywhere.mayWrite("any"), everywhere.maySearch("any")]).toEqual([true, false]);
        expect(() => parseApiKeyFile('{"key": "sk-secret", "writeNamespaces": "kb"}', "keys.txt")).toThrow('Expected "*" or an array for line 1 of the API key file keys.txt.writeNamespaces');
        expect(() => parseApiKeyFile('{"key": "sk-secret", "admin": true, "writeNamespaces": ["kb"]}', "keys.txt")).toThrow(/is an admin key/);
    });

    it("bad entries are refused naming the line or entry, never quoting the key", () => {
        expect(() => parseApiKeyFile('sk-ok\n{"key": "sk-secret", "users": ["\\ud800"]}', "keys.txt")).toThrow(/well-formed Unicode for line 2 of the API key file keys\.txt\.users\[0\]/);
        expect(() => parseApiKeyFile('{"key": "sk-secret", "user": ["a"]}', "keys.txt")).toThrow('Unknown option "user" in line 1 of the API key file keys.txt; the known options are key, admin, users, namespaces');
        expect(() => parseApiKeyFile('{"key": "sk-secret", users: 1}', "keys.txt")).toThrow(/^Line 1 of the API key file keys\.txt starts with "\{" but is not a JSON object/);
        expect(() => parseApiKeyFile('{"key": "sk-secret", "admin": true, "users": ["a"]}', "k")).toThrow(/is an admin key, which reaches every user and namespace; drop its users, namespaces and writeNamespaces, or admin/);
        expect(() => resolveApiKeys("apiKeys", ["sk-secret", { key: "sk-secret", users: ["a"] }])).toThrow("apiKeys[1] repeats a key given before");
        expect(() => resolveApiKeys("apiKeys", [{ key: "sk-secret", users: "alice" }])).toThrow('Expected "*" or an array for apiKeys[0].users but received the string "alice"');
        expect(() => resolveApiKeys("apiKeys", "sk-secret")).toThrow(/Expected an array of keys \(strings, or \{ key, admin\?, users\?, namespaces\?, writeNamespaces\? \} objects\) for apiKeys/);
        for (const attempt of [() => parseApiKeyFile('{"key": "sk-secret", "users": ["\\ud800"]}', "k"), () => resolveApiKeys("apiKeys", ["sk-secret", "sk-secret"])]) {
            expect(attempt).toThrow();
            try {
                attempt();
            } catch (error) {
                expect((error as Error).message).not.toContain("sk-secret");
            }
        }
    });

    it("serve --api-key-file reads scoped keys beside --api-key", () => {
        const directory = mkdtempSync(join(tmpdir(), "qwen3-keys-"));
        try {
            const file = join(directory, "keys.txt");
            writeFileSync(file, 'sk-file-admin\n{"key": "sk-file-alice", "users": ["alice"]}\n');
            const options = serverOptionsFrom({ "embedding-model": "x.gguf", "api-key": ["sk-flag"], "api-key-file": file }, {});
            expect(options.apiKeys).toEqual(["sk-flag", "sk-file-admin", { key: "sk-file-alice", users: ["alice"] }]);
            writeFileSync(file, '{"key": "sk-file-alice", "users": ["alice"], "namespaces": "kb"}\n');
            expect(() => serverOptionsFrom({ "embedding-model": "x.gguf", "api-key-file": file }, {})).toThrow(`Expected "*" or an array for line 1 of the API key file ${file}.namespaces`);
        } finally {
            rmSync(directory, { recursive: true, force: true });
        }
    });
});
