/**
 * The two ways the store reaches PostgreSQL, for suites that run over both: PGlite in this process, and the `pg`
 * client over TCP to a PGlite served on 127.0.0.1 (random port) with @electric-sql/pglite-socket, so that the
 * PostgreSQL wire protocol, the connection pool and the server-side transaction handling are real.
 *
 * A new PGlite data directory costs an initdb (5+ s on this machine); tests copy a template made once per machine
 * instead (about 1 s to open).
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createRequire } from "node:module";
import { PGlite } from "@electric-sql/pglite";
import { vector } from "@electric-sql/pglite-pgvector";
import { openStore, type VectorStore } from "../../../src/exports/store.js";
import { serveOverWire } from "./pglite-wire-server.js";

const require = createRequire(import.meta.url);
// The package's exports hide its package.json: find it next to the resolved entry point (dist/..).
const PGLITE_VERSION = (JSON.parse(readFileSync(join(dirname(require.resolve("@electric-sql/pglite")), "..", "package.json"), "utf8")) as { version: string }).version;

/** An initdb'd, empty PGlite data directory, shared by every test run on this machine (read-only: copy it). */
export async function pgliteTemplate(): Promise<string> {
    const template = join(tmpdir(), `qwen3-embedding-pglite-template-${PGLITE_VERSION}`);
    if (existsSync(join(template, "PG_VERSION"))) return template;
    const building = mkdtempSync(join(tmpdir(), "qwen3-embedding-pglite-building-"));
    const db = await PGlite.create({ dataDir: join(building, "pgdata"), extensions: { vector } });
    await db.close();
    try {
        renameSync(join(building, "pgdata"), template);
    } catch {
        // another test file made it meanwhile
    }
    rmSync(building, { recursive: true, force: true });
    return template;
}

/** A new store directory (the layout openStore uses: `<dir>/pgdata`), from the template. */
export async function newStoreDirectory(parent: string, name: string): Promise<string> {
    const directory = join(parent, name);
    cpSync(await pgliteTemplate(), join(directory, "pgdata"), { recursive: true });
    return directory;
}

export interface PgliteServer {
    url: string;
    db: PGlite;
    /** Drops every connection and refuses new ones for `ms`, then serves again on the same port (a server outage). */
    outage(ms: number): Promise<void>;
    stop(): Promise<void>;
}

/** A PGlite database served over the PostgreSQL wire protocol on 127.0.0.1, on a port the OS picks. */
export async function startPgliteServer(parent: string, name: string): Promise<PgliteServer> {
    const directory = await newStoreDirectory(parent, name);
    const db = await PGlite.create({ dataDir: join(directory, "pgdata"), extensions: { vector } });
    let server = await serveOverWire(db);
    const port = Number(server.address.split(":")[1]);
    return {
        url: `postgres://postgres@${server.address}/postgres?sslmode=disable`,
        db,
        async outage(ms) {
            await server.close();
            await new Promise((resolve) => setTimeout(resolve, ms));
            server = await serveOverWire(db, port);
        },
        async stop() {
            await server.close();
            await db.close();
        },
    };
}

export interface StoreBackend {
    name: "pglite" | "postgres";
    /** The `database` argument of openStore. */
    database: string;
    open(): Promise<VectorStore>;
    stop(): Promise<void>;
}

/** Both backends, each on its own fresh database under `parent`. */
export async function startBackend(kind: StoreBackend["name"], parent: string): Promise<StoreBackend> {
    if (kind === "pglite") {
        const database = await newStoreDirectory(parent, "embedded");
        return { name: kind, database, open: () => openStore({ database }), stop: async () => undefined };
    }
    const server = await startPgliteServer(parent, "served");
    return { name: kind, database: server.url, open: () => openStore({ database: server.url, poolSize: 4 }), stop: () => server.stop() };
}

export const BACKENDS: readonly StoreBackend["name"][] = ["pglite", "postgres"];

export function temporaryDirectory(prefix: string): string {
    return mkdtempSync(join(tmpdir(), prefix));
}

/** Deterministic pseudo-random unit vectors (mulberry32), so tests can compute exact expectations. */
export function randomUnitVectors(count: number, dimensions: number, seed: number): Float32Array[] {
    let state = seed >>> 0;
    const next = () => {
        state = (state + 0x6d2b79f5) >>> 0;
        let t = state;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    return Array.from({ length: count }, () => {
        const vector = Float32Array.from({ length: dimensions }, () => next() * 2 - 1);
        const norm = Math.hypot(...vector);
        return vector.map((value) => value / norm);
    });
}

export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
    let dot = 0;
    let na = 0;
    let nb = 0;
    for (let index = 0; index < a.length; index++) {
        dot += a[index]! * b[index]!;
        na += a[index]! * a[index]!;
        nb += b[index]! * b[index]!;
    }
    return dot / Math.sqrt(na * nb);
}
