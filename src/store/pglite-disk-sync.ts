import { closeSync, fsyncSync, openSync, readdirSync } from "node:fs";
import { join } from "node:path";
import type { PGliteOptions } from "@electric-sql/pglite";
import { StoreError } from "./store-error.js";

/**
 * PostgreSQL settings under which a commit returns only once its write-ahead log is on disk. PGlite starts PostgreSQL
 * with `-F` (fsync off); fdatasync, PostgreSQL's default WAL sync on Linux, is a no-op in PGlite's Emscripten build,
 * while fsync goes to the filesystem's `fsync` stream operation (see `createSyncingNodeFs`).
 */
export const DURABLE_SETTINGS = ["-c", "fsync=on", "-c", "wal_sync_method=fsync", "-c", "synchronous_commit=on"] as const;

/** The stream operations of Emscripten's NODEFS that this file uses or adds. */
interface NodefsStreamOperations {
    fsync?: (stream: { nfd?: number }) => number | void;
}

interface NodefsModule {
    FS?: { filesystems?: { NODEFS?: { stream_ops?: NodefsStreamOperations; tryFSOperation?: <T>(operation: () => T) => T } } };
}

/**
 * PGlite's NodeFS over `dataDir`, with PostgreSQL's fsync() passed through to the host file: Emscripten's NODEFS
 * defines no `fsync` stream operation, so without this every fsync PostgreSQL issues (commits, checkpoints, crash
 * recovery) returns success and syncs nothing. Loaded on first use, like PGlite itself.
 */
export async function createSyncingNodeFs(dataDir: string): Promise<NonNullable<PGliteOptions["fs"]>> {
    const { NodeFS } = await import("@electric-sql/pglite/nodefs");
    class SyncingNodeFS extends NodeFS {
        override init(...[pg, options]: Parameters<InstanceType<typeof NodeFS>["init"]>) {
            return super.init(pg, { ...options, preRun: [...(options.preRun ?? []), (mod) => passFsyncThrough(mod as unknown as NodefsModule)] });
        }
    }
    return new SyncingNodeFS(dataDir);
}

function passFsyncThrough(mod: NodefsModule): void {
    const nodefs = mod.FS?.filesystems?.NODEFS;
    if (nodefs?.stream_ops === undefined || nodefs.tryFSOperation === undefined) {
        throw new StoreError(
            "unavailable",
            "This version of @electric-sql/pglite has no Emscripten NODEFS stream operations to pass fsync through, so commits " +
            "could not be made durable; install the version package.json names, or open the store with durability \"relaxed\"",
        );
    }
    if (nodefs.stream_ops.fsync !== undefined) return; // a PGlite that syncs by itself
    const tryFSOperation = nodefs.tryFSOperation;
    nodefs.stream_ops.fsync = (stream) => {
        // An error becomes the errno PostgreSQL sees; a failed fsync of the WAL makes it PANIC, as it should.
        if (stream.nfd !== undefined) tryFSOperation(() => fsyncSync(stream.nfd!));
        return 0;
    };
}

/**
 * fsyncs every file and directory under `path`, and `path` itself: what `initdb --sync-only` does. PGlite copies a new
 * cluster into its directory without syncing it, and with durability "relaxed" PostgreSQL syncs nothing.
 */
export function syncDirectoryTree(path: string): void {
    for (const entry of readdirSync(path, { withFileTypes: true })) {
        const child = join(path, entry.name);
        if (entry.isDirectory()) syncDirectoryTree(child);
        else if (entry.isFile()) syncPath(child, "file");
    }
    syncPath(path, "directory");
}

/** fsyncs a file, or a directory's entries where the platform can (Windows opens no directories). */
export function syncPath(path: string, kind: "file" | "directory"): void {
    let fd: number | undefined;
    try {
        fd = openSync(path, "r");
        fsyncSync(fd);
    } catch (error) {
        if (kind === "file" || !["EISDIR", "EPERM", "EINVAL", "EBADF"].includes((error as NodeJS.ErrnoException).code ?? "")) throw error;
    } finally {
        if (fd !== undefined) closeSync(fd);
    }
}
