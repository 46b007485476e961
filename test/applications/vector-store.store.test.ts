/**
 * The store on both backends: PGlite in this process, and the `pg` client over TCP to PGlite served on loopback.
 * No model is loaded here: vectors are seeded pseudo-random unit vectors, so every expectation is computed exactly.
 */
import { rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InvalidOptionError } from "../../src/index.js";
import { MIGRATIONS } from "../../src/store/migrations.js";
import { StoreError, openStore, type MetadataFilter, type VectorStore } from "../../src/exports/store.js";
import { openStoreOnDriver } from "../../src/store/open-store.js";
import { openPgliteDriver } from "../../src/store/pglite-driver.js";
import { openPostgresDriver } from "../../src/store/postgres-driver.js";
import { defaultDatabase, parseDatabaseLocation, userDataDirectory } from "../../src/store/store-location.js";
import { BACKENDS, cosine, newStoreDirectory, randomUnitVectors, startBackend, temporaryDirectory, type StoreBackend } from "./support/store-backends.js";

const DIMS = 16;
const MODEL = "test-model";

interface Row {
    id: string;
    userId: string;
    text: string;
    metadata: Record<string, unknown>;
    embedding: Float32Array;
}

/** 120 items over three users with varied metadata. */
function dataset(): Row[] {
    const vectors = randomUnitVectors(120, DIMS, 7);
    const genres = ["jazz", "rock", "folk", "pop"];
    return vectors.map((embedding, index) => ({
        id: `item-${index}`,
        userId: ["alice", "bob", "carol"][index % 3]!,
        text: `text number ${index}`,
        metadata: {
            genre: genres[index % 4]!,
            year: 1950 + index,
            rating: (index % 10) / 2,
            title: `t${String(index).padStart(3, "0")}`,
            ...(index % 5 === 0 ? { featured: true } : {}),
            ...(index % 7 === 0 ? { note: null } : {}),
            tags: [`tag${index % 3}`],
        },
        embedding,
    }));
}

/** What a filter should select, evaluated in JavaScript. */
function matches(metadata: Record<string, unknown>, filter: MetadataFilter): boolean {
    return Object.entries(filter).every(([key, condition]) => {
        if (key === "$and") return (condition as MetadataFilter[]).every((part) => matches(metadata, part));
        if (key === "$or") return (condition as MetadataFilter[]).some((part) => matches(metadata, part));
        if (key === "$not") return !matches(metadata, condition as MetadataFilter);
        const present = Object.prototype.hasOwnProperty.call(metadata, key);
        const value = metadata[key];
        const operators = condition !== null && typeof condition === "object" ? (condition as Record<string, unknown>) : { $eq: condition };
        return Object.entries(operators).every(([operator, operand]) => {
            switch (operator) {
                case "$eq": return present && value === operand;
                case "$ne": return !(present && value === operand);
                case "$gt": return typeof value === typeof operand && (value as number) > (operand as number);
                case "$gte": return typeof value === typeof operand && (value as number) >= (operand as number);
                case "$lt": return typeof value === typeof operand && (value as number) < (operand as number);
                case "$lte": return typeof value === typeof operand && (value as number) <= (operand as number);
                case "$in": return present && (operand as unknown[]).includes(value);
                case "$nin": return !(present && (operand as unknown[]).includes(value));
                case "$exists": return present === operand;
                default: throw new Error(operator);
            }
        });
    });
}

const parent = temporaryDirectory("qwen3-store-test-");
afterAll(() => rmSync(parent, { recursive: true, force: true }));

describe.each(BACKENDS)("store on %s", (kind) => {
    let backend: StoreBackend;
    let store: VectorStore;
    const rows = dataset();

    beforeAll(async () => {
        backend = await startBackend(kind, join(parent, kind));
        store = await backend.open();
        await store.ensureNamespace("music", { model: MODEL, dimensions: DIMS });
        const result = await store.upsert("music", rows, { chunkSize: 50 });
        expect(result).toEqual({ inserted: rows.length, updated: 0, unchanged: 0 });
    });
    afterAll(async () => {
        await store?.close();
        await backend?.stop();
    });

    it("migrates a new database to the latest schema version, with the namespace's HNSW index", async () => {
        const stats = await store.stats();
        expect(stats.kind).toBe(kind);
        expect(stats.schemaVersion).toBe(Math.max(...MIGRATIONS.map((migration) => migration.version)));
        const music = stats.namespaces.find((ns) => ns.name === "music")!;
        expect(music).toMatchObject({ model: MODEL, dimensions: DIMS, items: rows.length, hasVectorIndex: true });
        expect(music.vectorIndexBytes).toBeGreaterThan(0);
        expect(stats.itemsBytes).toBeGreaterThan(0);
        expect(stats.sizeOnDisk).toBeGreaterThan(0);
    });

    it("binds a namespace to one model and dimension", async () => {
        const again = await store.ensureNamespace("music", { model: MODEL, dimensions: DIMS });
        expect((await store.getNamespace("music"))!.id).toBe(again.id);
        await expect(store.ensureNamespace("music", { model: "other-model", dimensions: DIMS })).rejects.toThrow(
            'Namespace "music" holds vectors of model test-model at 16 dimensions, but this one embeds with model other-model at 16 dimensions; use another namespace, or drop this one and index again',
        );
        await expect(store.ensureNamespace("music", { model: MODEL, dimensions: 32 })).rejects.toThrow(InvalidOptionError);
        await expect(store.search("nowhere", rows[0]!.embedding)).rejects.toThrow(StoreError);
        await expect(store.search("nowhere", rows[0]!.embedding)).rejects.toMatchObject({ reason: "namespace_not_found" });
    });

    it("returns the exact nearest neighbours with cosine scores, best first", async () => {
        const query = randomUnitVectors(1, DIMS, 99)[0]!;
        const expected = rows
            .map((row) => ({ id: row.id, score: cosine(row.embedding, query) }))
            .sort((a, b) => b.score - a.score)
            .slice(0, 10);
        const hits = await store.search("music", query, { topK: 10 });
        expect(hits.map((hit) => hit.id)).toEqual(expected.map((hit) => hit.id));
        hits.forEach((hit, index) => expect(hit.score).toBeCloseTo(expected[index]!.score, 5));
        const own = rows.find((row) => row.id === hits[0]!.id)!;
        expect(hits[0]).toMatchObject({ text: own.text, userId: own.userId, metadata: own.metadata });
        expect(hits[0]!.createdAt).toBeInstanceOf(Date);
    });

    it("stores vectors bit-exactly", async () => {
        const [item] = await store.get("music", ["item-3"], { userId: "alice", withEmbeddings: true });
        expect(item!.embedding).toEqual(rows[3]!.embedding);
        const [hit] = await store.search("music", rows[3]!.embedding, { topK: 1, userId: "alice", withEmbeddings: true });
        expect(hit!.id).toBe("item-3");
        expect(hit!.score).toBeCloseTo(1, 6);
        expect(hit!.embedding).toEqual(rows[3]!.embedding);
    });

    it("restricts search, list and count to one user", async () => {
        const query = randomUnitVectors(1, DIMS, 5)[0]!;
        const bobs = rows.filter((row) => row.userId === "bob");
        const hits = await store.search("music", query, { topK: 1000, userId: "bob" });
        expect(hits.map((hit) => hit.id).sort()).toEqual(bobs.map((row) => row.id).sort());
        expect(await store.count("music", { userId: "bob" })).toBe(bobs.length);
        const listed = await store.list("music", { userId: "bob", limit: 1000 });
        expect(listed.every((item) => item.userId === "bob")).toBe(true);
        expect(await store.get("music", ["item-0"], { userId: "bob" })).toEqual([]); // item-0 is alice's
    });

    const filters: [string, MetadataFilter][] = [
        ["equality", { genre: "jazz" }],
        ["two keys", { genre: "rock", featured: true }],
        ["$ne", { genre: { $ne: "folk" } }],
        ["numeric range", { year: { $gte: 1990, $lt: 2010 } }],
        ["string range", { title: { $gt: "t100" } }],
        ["$in", { genre: { $in: ["jazz", "pop"] } }],
        ["$nin", { rating: { $nin: [0, 0.5, 1] } }],
        ["$exists", { featured: { $exists: true } }],
        ["not $exists", { featured: { $exists: false } }],
        ["null equality", { note: null }],
        ["$or", { $or: [{ genre: "jazz" }, { rating: { $gte: 4 } }] }],
        ["$and + $not", { $and: [{ genre: { $in: ["rock", "folk"] } }, { $not: { featured: true } }] }],
        ["type-strict comparison", { genre: { $gt: 5 } }],
    ];
    it.each(filters)("filters metadata: %s", async (_, filter) => {
        const query = randomUnitVectors(1, DIMS, 11)[0]!;
        const expected = rows.filter((row) => matches(row.metadata, filter)).map((row) => row.id).sort();
        const hits = await store.search("music", query, { topK: 1000, filter });
        expect(hits.map((hit) => hit.id).sort()).toEqual(expected);
        expect(await store.count("music", { filter })).toBe(expected.length);
    });

    it("binds everything from a filter: injection attempts match nothing and change nothing", async () => {
        const query = rows[0]!.embedding;
        const attempts: MetadataFilter[] = [
            { "genre' OR '1'='1": "x" },
            { "x\") OR TRUE --": { $exists: true } },
            { genre: "jazz' OR '1'='1" },
            { genre: { $in: ["'); DROP TABLE q3e_items; --"] } },
            { "a'::text) OR (1=1": { $gt: 0 } },
            { year: { $gte: "0 OR 1=1" } },
        ];
        for (const filter of attempts) {
            expect(await store.search("music", query, { topK: 1000, filter })).toEqual([]);
        }
        // Crafted user ids and namespaces are values too.
        expect(await store.search("music", query, { topK: 1000, userId: "' OR ''='" })).toEqual([]);
        await expect(store.search("music' OR '1'='1", query)).rejects.toMatchObject({ reason: "namespace_not_found" });
        expect(await store.count("music")).toBe(rows.length);
    });

    it("rejects filters outside the grammar, naming the place", async () => {
        const query = rows[0]!.embedding;
        const cases: [unknown, string][] = [
            [{ $where: "1=1" }, 'Unknown operator "$where" at filter.$where'],
            [{ genre: { $regex: ".*" } }, 'Unknown operator "$regex" at filter["genre"].$regex'],
            [{ genre: ["jazz"] }, 'Expected a string, number, boolean or null for filter["genre"] but received an array of length 1'],
            [{ genre: { $in: "jazz" } }, 'Expected a non-empty array of at most 1024 values for filter["genre"].$in but received the string "jazz"'],
            [{ year: { $gt: Number.NaN } }, 'Expected a finite number or a string for filter["year"].$gt but received number NaN'],
            [{ $or: [] }, "Expected a non-empty array of filter objects for filter.$or but received an array of length 0"],
            [{ $or: "x" }, 'Expected a non-empty array of filter objects for filter.$or but received the string "x"'],
            [{ "": 1 }, 'Expected a metadata key of 1 to 256 characters without NUL at filter[""]'],
            [{ $not: { $not: { $not: { $not: { $not: { $not: { $not: { $not: { a: 1 } } } } } } } } }, "Expected a filter nested at most 8 levels deep for filter"],
            ["genre = 'jazz'", 'Expected a filter object for filter but received the string "genre = \'jazz\'"'],
        ];
        for (const [filter, message] of cases) {
            await expect(store.search("music", query, { filter: filter as MetadataFilter })).rejects.toThrow(message);
        }
    });

    it("upserts by id: inserted, updated and unchanged are told apart; the last of a duplicate id wins", async () => {
        await store.ensureNamespace("upserts", { model: MODEL, dimensions: DIMS });
        const [a, b, c] = randomUnitVectors(3, DIMS, 21);
        expect(await store.upsert("upserts", [{ id: "x", text: "one", embedding: a! }, { id: "y", text: "two", embedding: b! }])).toEqual({ inserted: 2, updated: 0, unchanged: 0 });
        const before = (await store.get("upserts", ["x"]))[0]!;
        const result = await store.upsert("upserts", [
            { id: "x", text: "one", embedding: a! },
            { id: "y", text: "first version", embedding: b! },
            { id: "y", text: "second version", metadata: { v: 2 }, embedding: c! },
            { id: "z", text: "three", embedding: c! },
        ]);
        expect(result).toEqual({ inserted: 1, updated: 1, unchanged: 1 });
        const [x, y] = await store.get("upserts", ["x", "y"], { withEmbeddings: true });
        expect(x!.updatedAt).toEqual(before.updatedAt);
        expect(y).toMatchObject({ text: "second version", metadata: { v: 2 }, embedding: c });
        const unchanged = await store.unchangedIds("upserts", [
            { id: "x", text: "one" },
            { id: "y", text: "second version", metadata: { v: 2 } },
            { id: "z", text: "changed" },
            { id: "w", text: "new" },
        ]);
        expect([...unchanged].sort()).toEqual(["x", "y"]);
    });

    it("lists newest first with paging, gets in the asked order, deletes only what exists", async () => {
        await store.ensureNamespace("paging", { model: MODEL, dimensions: DIMS });
        const vectors = randomUnitVectors(5, DIMS, 31);
        for (let index = 0; index < 5; index++) {
            await store.upsert("paging", [{ id: `p${index}`, text: `page ${index}`, userId: "u", embedding: vectors[index]! }]);
            // Distinct creation times: within one clock tick the store orders by id ("newest first, then by id").
            await new Promise((resolve) => setTimeout(resolve, 5));
        }
        const all = await store.list("paging", { userId: "u" });
        expect(all.map((item) => item.id)).toEqual(["p4", "p3", "p2", "p1", "p0"]);
        expect((await store.list("paging", { userId: "u", limit: 2, offset: 1 })).map((item) => item.id)).toEqual(["p3", "p2"]);
        expect((await store.get("paging", ["p3", "nope", "p1"], { userId: "u" })).map((item) => item.id)).toEqual(["p3", "p1"]);
        expect(await store.delete("paging", ["p1", "nope", "p2"], { userId: "other" })).toEqual([]);
        expect(await store.delete("paging", ["p1", "nope", "p2"], { userId: "u" })).toEqual(["p1", "p2"]);
        expect(await store.count("paging")).toBe(3);
        expect(await store.dropNamespace("paging")).toBe(true);
        expect(await store.dropNamespace("paging")).toBe(false);
        expect(await store.getNamespace("paging")).toBeUndefined();
    });

    it("rolls a batch back entirely when it fails part-way", async () => {
        await store.ensureNamespace("atomic", { model: MODEL, dimensions: DIMS });
        const vectors = randomUnitVectors(30, DIMS, 41);
        await store.upsert("atomic", [{ id: "kept", text: "kept", embedding: vectors[0]! }]);
        const batch = vectors.map((embedding, index) => ({ id: `batch-${index}`, text: `b${index}`, embedding }));
        let chunks = 0;
        await expect(store.upsert("atomic", batch, {
            chunkSize: 10,
            onProgress: () => {
                if (++chunks === 2) throw new Error("fails after two of three chunks");
            },
        })).rejects.toThrow("fails after two of three chunks");
        expect(chunks).toBe(2);
        expect(await store.count("atomic")).toBe(1);
        expect((await store.get("atomic", ["kept"])).length).toBe(1);
    });

    it("keeps concurrent writers consistent: no duplicates, no lost rows", async () => {
        await store.ensureNamespace("concurrent", { model: MODEL, dimensions: DIMS });
        const vectors = randomUnitVectors(200, DIMS, 51);
        // Eight writers over overlapping id ranges, through one store and (PostgreSQL) a second pool as well.
        const other = kind === "postgres" ? await backend.open() : store;
        try {
            const writers = Array.from({ length: 8 }, (_, writer) => {
                const ids = Array.from({ length: 50 }, (_, index) => (writer * 20 + index) % 200);
                const target = writer % 2 === 0 ? store : other;
                return target.upsert("concurrent", ids.map((id) => ({ id: `c${id}`, text: `writer ${writer} item ${id}`, embedding: vectors[id]! })), { chunkSize: 10 });
            });
            const results = await Promise.all(writers);
            const touched = new Set(Array.from({ length: 8 }, (_, writer) => Array.from({ length: 50 }, (_, index) => (writer * 20 + index) % 200)).flat());
            expect(results.reduce((sum, result) => sum + result.inserted, 0)).toBe(touched.size);
            expect(await store.count("concurrent")).toBe(touched.size);
            const items = await store.get("concurrent", [...touched].map((id) => `c${id}`), { withEmbeddings: true });
            expect(items.length).toBe(touched.size);
            for (const item of items) {
                const id = Number(item.id.slice(1));
                expect(item.text).toMatch(new RegExp(`^writer \\d item ${id}$`));
                expect(item.embedding).toEqual(vectors[id]);
            }
        } finally {
            if (other !== store) await other.close();
        }
    });

    it("caches embeddings by model, dimension, instruction and text hash", async () => {
        const [a, b] = randomUnitVectors(2, DIMS, 61);
        const key = { model: "m1", dimensions: DIMS, instruction: "" };
        const hashes = ["a".repeat(64), "b".repeat(64)];
        await store.cacheStore(key, [{ textHash: hashes[0]!, embedding: a! }]);
        await store.cacheStore(key, [{ textHash: hashes[0]!, embedding: b! }, { textHash: hashes[1]!, embedding: b! }]);
        const found = await store.cacheLookup(key, [...hashes, "c".repeat(64)]);
        expect([...found.keys()].sort()).toEqual(hashes);
        expect(found.get(hashes[0]!)).toEqual(a); // the first vector stays
        expect((await store.cacheLookup({ ...key, instruction: "Given a query" }, hashes)).size).toBe(0);
        expect((await store.cacheLookup({ ...key, model: "m2" }, hashes)).size).toBe(0);
        await expect(store.cacheLookup(key, ["not-a-hash"])).rejects.toThrow('Expected a hex SHA-256 hash for textHashes[0] but received the string "not-a-hash"');
        expect(await store.clearCache({ model: "m1" })).toBe(2);
    });

    it("validates every argument with a message naming it", async () => {
        const good = rows[0]!.embedding;
        const cases: [() => Promise<unknown>, string][] = [
            [() => store.upsert("music", [{ id: "", text: "t", embedding: good }]), 'Expected an id of 1 to 512 characters without NUL for records[0].id but received the string ""'],
            [() => store.upsert("music", [{ id: "v", text: "t", embedding: new Float32Array(3) }]), "Expected 16 dimensions for records[0].embedding but received 3"],
            [() => store.upsert("music", [{ id: "v", text: "t", embedding: new Float32Array(DIMS) }]), "Expected a non-zero vector for records[0].embedding but received 16 zeros"],
            [() => store.upsert("music", [{ id: "v", text: "t", embedding: Array.from(good, (x, i) => (i === 2 ? Number.NaN : x)) }]), "Expected a finite number for records[0].embedding[2] but received number NaN"],
            [() => store.upsert("music", [{ id: "v", text: "a\u0000b", embedding: good }]), "Expected a string without NUL characters (PostgreSQL text cannot store U+0000) for records[0].text"],
            [() => store.upsert("music", [{ id: "v", text: "t", embedding: good, metadata: { when: new Date() } as never }]), 'Expected a JSON value (object, array, string, finite number, boolean or null) for records[0].metadata["when"] but received an object'],
            [() => store.upsert("music", [{ id: "v", text: "t", embedding: good, colour: 1 } as never]), 'Unknown option "colour" in records[0]; the known options are id, userId, text, metadata, embedding'],
            [() => store.upsert("music", [], { chunk: 5 } as never), 'Unknown option "chunk" in upsert options; the known options are chunkSize, onProgress'],
            [() => store.search("music", good, { topK: 0 }), "Expected an integer between 1 and 1000 for topK but received number 0"],
            [() => store.search("music", good, { userId: 5 as never }), "Expected a user id of 0 to 256 characters without NUL for userId but received number 5"],
            [() => store.ensureNamespace("", { model: MODEL, dimensions: DIMS }), 'Expected a namespace name of 1 to 200 characters without control characters for namespace but received the string ""'],
            [() => store.list("music", { limit: 0 }), "Expected an integer between 1 and 10000 for limit but received number 0"],
            [() => openStore({ database: "https://example.com/db" }), 'Expected a directory, "memory" or a postgres:// URL for database but received a https:// URL'],
            [() => openStore({ databse: "x" } as never), 'Unknown option "databse" in openStore options; the known options are database, poolSize, efSearch, create, durability'],
            [() => openStore({ database: "memory", durability: "fast" as never }), 'Expected one of "full", "relaxed" for durability but received the string "fast"'],
            [() => openStore({ database: "postgres://user@127.0.0.1:1/db", durability: "relaxed" }), 'Expected "full" (or no durability) for durability with a postgres:// database, whose commits follow the server\'s own settings (fsync, synchronous_commit), but received the string "relaxed"'],
            [() => openStore({ database: join(parent, "absent"), create: false }), `No database at ${join(parent, "absent")}; create one with \`qwen3-embedding index\``],
        ];
        for (const [call, message] of cases) await expect(call()).rejects.toThrow(message);
        expect(await store.count("music")).toBe(rows.length); // nothing stored was touched
    });
});

describe("migrations", () => {
    const broken = [
        ...MIGRATIONS,
        { version: 2, name: "adds a table, then fails", statements: ["CREATE TABLE q3e_half_done (x int)", "SELECT no_such_function()"] },
    ];

    it.each(BACKENDS)("%s: a failing migration is rolled back entirely; a newer schema is refused", async (kind) => {
        const backend = await startBackend(kind, join(parent, `migrations-${kind}`));
        const open = () => (kind === "pglite" ? openPgliteDriver(backend.database) : openPostgresDriver(backend.database));
        try {
            await expect(openStoreOnDriver(await open(), { migrations: broken })).rejects.toMatchObject({
                reason: "schema",
                message: expect.stringContaining("failed and was rolled back") as unknown as string,
            });
            // Nothing of the failed run remains: version 1 was in the same transaction.
            const driver = await open();
            expect(await driver.query("SELECT to_regclass('q3e_half_done') AS t, to_regclass('q3e_schema_version') AS v")).toEqual([{ t: null, v: null }]);
            await driver.close();

            const store = await openStoreOnDriver(await open());
            expect((await store.stats()).schemaVersion).toBe(1);
            await store.close();
            const newer = [...MIGRATIONS, { version: 2, name: "from the future", statements: ["CREATE TABLE q3e_future (x int)"] }];
            await (await openStoreOnDriver(await open(), { migrations: newer })).close();
            await expect(openStoreOnDriver(await open())).rejects.toThrow(/has schema version 2, newer than this version of qwen3-embedding understands \(1\); upgrade qwen3-embedding/);
        } finally {
            await backend.stop();
        }
    });

    it("refuses to open an embedded database another holder has open, and reopens it after close", async () => {
        const directory = await newStoreDirectory(parent, "locked");
        const first = await openStore({ database: directory });
        await expect(openStore({ database: directory })).rejects.toMatchObject({ reason: "locked", message: expect.stringContaining(`in use by process ${process.pid}`) as unknown as string });
        await first.close();
        await (await openStore({ database: directory })).close();
    });
});

describe("lifecycle", () => {
    it("dispose() closes once; close() and Symbol.asyncDispose are the same; calls after it are StoreError(unavailable)", async () => {
        const store = await openStore({ database: "memory" });
        expect(store.disposed).toBe(false);
        const disposal = store.dispose();
        expect(store.disposed).toBe(true);
        expect(store.close()).toBe(disposal);
        await disposal;
        await store[Symbol.asyncDispose]();
        await expect(store.listNamespaces()).rejects.toMatchObject({ reason: "unavailable", message: "The store at memory is closed" });
        await expect(store.search("music", [1, 0])).rejects.toBeInstanceOf(StoreError);
    });
});

describe("database locations", () => {
    it("follows XDG_DATA_HOME and the platform conventions", () => {
        expect(userDataDirectory({ XDG_DATA_HOME: "/data" }, "linux")).toBe("/data/qwen3-embedding");
        expect(userDataDirectory({ XDG_DATA_HOME: "relative/ignored" }, "linux")).toMatch(/\.local\/share\/qwen3-embedding$/);
        expect(userDataDirectory({}, "darwin")).toMatch(/Library\/Application Support\/qwen3-embedding$/);
        expect(userDataDirectory({ LOCALAPPDATA: "C:\\Users\\me\\AppData\\Local" }, "win32")).toContain("qwen3-embedding");
        expect(defaultDatabase({ XDG_DATA_HOME: "/data" }, "linux")).toBe("/data/qwen3-embedding/store");
        expect(defaultDatabase({ QWEN3_EMBEDDING_DATABASE: "postgres://h/db" }, "linux")).toBe("postgres://h/db");
        expect(parseDatabaseLocation("postgresql://u:p@h:5432/db")).toEqual({ kind: "postgres", url: "postgresql://u:p@h:5432/db" });
        expect(parseDatabaseLocation(":memory:")).toEqual({ kind: "memory" });
        expect(parseDatabaseLocation("rel/dir")).toEqual({ kind: "directory", path: join(process.cwd(), "rel/dir") });
    });
});
