/** The library stores identifiers and metadata exactly or refuses them: never normalised into someone else's id. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InvalidOptionError } from "../../src/index.js";
import { openStore, type VectorStore } from "../../src/exports/store.js";

let store: VectorStore;
const vector = [1, 0, 0, 0];

beforeAll(async () => {
    store = await openStore({ database: "memory" });
    await store.ensureNamespace("ns", { model: "test-model", dimensions: 4 });
});
afterAll(async () => {
    await store?.close();
});

function refusal(work: () => Promise<unknown>): Promise<InvalidOptionError> {
    return work().then(
        () => { throw new Error("expected a refusal"); },
        (error: unknown) => {
            expect(error).toBeInstanceOf(InvalidOptionError);
            return error as InvalidOptionError;
        },
    );
}

describe("exact identifiers in the library", () => {
    it("refuses unpaired surrogates in user ids, ids, namespaces, metadata and filters, naming the option", async () => {
        const cases: [() => Promise<unknown>, string, RegExp][] = [
            [() => store.upsert("ns", [{ id: "a", userId: "\ud800", text: "t", embedding: vector }]), "records", /a user id of well-formed Unicode for records\[0\]\.userId/],
            [() => store.upsert("ns", [{ id: "a\udfff", text: "t", embedding: vector }]), "records", /an id of well-formed Unicode for records\[0\]\.id/],
            [() => store.upsert("ns", [{ id: "a", text: "t", metadata: { k: "\udbff" }, embedding: vector }]), "records", /well-formed Unicode for records\[0\]\.metadata\["k"\]/],
            [() => store.search("ns", vector, { userId: "\ud800" }), "userId", /a user id of well-formed Unicode for userId/],
            [() => store.search("ns", vector, { filter: { k: { $in: ["\ud800"] } } }), "filter", /well-formed Unicode for filter\["k"\]\.\$in\[0\]/],
            [() => store.search("ns", vector, { filter: { "\udc00": 1 } }), "filter", /a metadata key of well-formed Unicode/],
            [() => store.list("ns", { filter: { k: { $gt: "\ud800" } } }), "filter", /well-formed Unicode for filter\["k"\]\.\$gt/],
            [() => store.ensureNamespace("n\ud800", { model: "m", dimensions: 4 }), "namespace", /a namespace name of well-formed Unicode/],
        ];
        for (const [work, option, message] of cases) {
            const error = await refusal(work);
            expect(error.message).toMatch(message);
            expect(error.option).toBe(option);
        }
        expect(await store.count("ns")).toBe(0); // nothing was written
    });

    it("U+FFFD itself is an ordinary character: its own user, apart from every other", async () => {
        await store.upsert("ns", [
            { id: "x", userId: "\ufffd", text: "replacement", embedding: vector },
            { id: "x", userId: "alice", text: "alice's", embedding: vector },
        ]);
        expect((await store.search("ns", vector, { userId: "\ufffd" })).map((hit) => hit.text)).toEqual(["replacement"]);
        expect((await store.search("ns", vector, { userId: "alice" })).map((hit) => hit.text)).toEqual(["alice's"]);
    });
});
