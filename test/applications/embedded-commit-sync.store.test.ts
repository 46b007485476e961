/**
 * When an embedded store's writes reach the disk, seen from the fsync calls this process makes (node:fs is wrapped to
 * record the file each fsync is for): durability "full" syncs the write-ahead log before an upsert resolves,
 * "relaxed" syncs nothing until close, which syncs the whole directory.
 */
import { readlinkSync, rmSync } from "node:fs";
import { join, sep } from "node:path";
import { afterAll, beforeEach, describe, expect, it, vi } from "vitest";
import { openStore, type Durability } from "../../src/exports/store.js";
import { newStoreDirectory, randomUnitVectors, temporaryDirectory } from "./support/store-backends.js";

const synced = vi.hoisted(() => [] as string[]);
vi.mock("node:fs", async (importOriginal) => {
    const fs = await importOriginal<typeof import("node:fs")>();
    const fsyncSync = (fd: number) => {
        synced.push(fs.readlinkSync(`/proc/self/fd/${fd}`));
        fs.fsyncSync(fd);
    };
    return { ...fs, fsyncSync, default: { ...fs, fsyncSync } };
});

const parent = temporaryDirectory("qwen3-commit-sync-test-");
afterAll(() => rmSync(parent, { recursive: true, force: true }));
beforeEach(() => void (synced.length = 0));

const items = (first: number) => randomUnitVectors(256, 16, first + 1).map((embedding, index) => ({ id: `item-${first + index}`, text: `text ${first + index}`, embedding }));

// /proc/self/fd names the file behind each descriptor.
describe.runIf(process.platform === "linux").each<Durability>(["full", "relaxed"])("durability %s", (durability) => {
    it(durability === "full" ? "an upsert resolves after an fsync of the write-ahead log" : "nothing is fsynced until close, which fsyncs the whole directory", async () => {
        const database = await newStoreDirectory(parent, durability);
        const store = await openStore({ database, durability });
        await store.ensureNamespace("sync", { model: "test-model", dimensions: 16 });
        synced.length = 0;
        await store.upsert("sync", items(0));
        const wal = `${sep}pgdata${sep}pg_wal${sep}`;
        if (durability === "full") expect(synced.filter((path) => path.includes(wal)).length).toBeGreaterThan(0);
        else expect(synced).toEqual([]);

        await store.close();
        if (durability === "relaxed") {
            expect(synced).toContain(join(database, "pgdata", "PG_VERSION"));
            expect(synced).toContain(join(database, "pgdata"));
            expect(synced.some((path) => path.includes(wal))).toBe(true);
        }
        const reopened = await openStore({ database, durability });
        expect(await reopened.count("sync")).toBe(256);
        await reopened.close();
    });
});

describe.runIf(process.platform === "linux")("durability full", () => {
    it("fsyncs a new database's directory once created (PGlite copies the new cluster in without syncing it)", async () => {
        const database = join(parent, "new");
        await (await openStore({ database })).close();
        expect(synced).toContain(join(database, "pgdata", "PG_VERSION"));
        expect(synced).toContain(join(database, "pgdata", "global", "pg_control"));
        expect(synced).toContain(parent); // the new directory's entry
    });
});
