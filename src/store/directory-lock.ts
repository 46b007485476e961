import { createHash, randomBytes } from "node:crypto";
import { closeSync, linkSync, openSync, readdirSync, readFileSync, statSync, unlinkSync, writeFileSync, writeSync } from "node:fs";
import { hostname } from "node:os";
import { basename, dirname, join } from "node:path";
import { StoreError } from "./store-error.js";

interface LockOwner {
    pid: number;
    host: string;
    since: string;
}

/** Who stands in the way of taking a lock file: a live owner, or "opening" (another process is taking it right now). */
type Holder = LockOwner | "opening";

/** Markers in a chain of takeovers, each after a process died while taking over: more means something else is wrong. */
const MAX_TAKEOVER_DEPTH = 4;
const TEMPORARY_SUFFIX = /\.\d+-[0-9a-f]{12}\.tmp$/;

/**
 * An exclusive lock on an embedded database directory, held by this process until `release()` (or its exit).
 *
 * PGlite is a single-process PostgreSQL: two processes opening the same data directory would corrupt it, and PGlite
 * itself does not refuse the second one. The lock is a file created exclusively (a hard link to a fully written
 * temporary file, so its content is never seen half-written) holding the owner's pid, host and a random nonce; no two
 * owners ever write the same content.
 *
 * A lock left by a process that died (SIGKILL, power loss) is taken over once its pid is gone. Removing it is the
 * racy step: two processes that both read the dead owner's content could each remove it, the second removing the lock
 * the first has just created. So only the process that exclusively creates the takeover marker named after that
 * content (`lock.takeover-<hash>`) removes it, after reading it once more; every process then creates the lock anew,
 * and one of them wins. A marker left by a process that died while taking over is itself taken over the same way.
 */
export class DirectoryLock {
    readonly path: string;
    readonly #content: string;
    #released = false;
    readonly #onExit = () => this.release();

    private constructor(path: string, content: string) {
        this.path = path;
        this.#content = content;
        process.once("exit", this.#onExit);
    }

    /** Takes the lock or throws StoreError("locked") naming the process that holds it. */
    static acquire(path: string, what: string): DirectoryLock {
        const owner: LockOwner & { nonce: string } = { pid: process.pid, host: hostname(), since: new Date().toISOString(), nonce: randomBytes(8).toString("hex") };
        const content = JSON.stringify(owner);
        const holder = take(path, content, 0);
        if (holder === "opening") {
            throw new StoreError("locked", `${what} is being opened by another process at this moment (lock file ${path}); retry`);
        }
        if (holder !== undefined) {
            throw new StoreError(
                "locked",
                `${what} is in use by process ${holder.pid} on ${holder.host} (since ${holder.since}); an embedded database ` +
                `is opened by one process at a time. Stop that process, or serve the data from PostgreSQL ` +
                `(--database postgres://...) to share it. If no such process exists, delete ${path}`,
            );
        }
        removeLeftovers(path);
        return new DirectoryLock(path, content);
    }

    release(): void {
        if (this.#released) return;
        this.#released = true;
        process.removeListener("exit", this.#onExit);
        removeIfHolding(this.path, this.#content);
    }
}

/** Creates `path` holding `content`; returns undefined when done, else who stands in the way. */
function take(path: string, content: string, depth: number): Holder | undefined {
    for (let attempt = 0; attempt < 2; attempt++) {
        if (createExclusive(path, content)) return undefined;
        const found = readContent(path);
        if (found === undefined) continue; // removed since: try again
        const holder = holderOf(path, found);
        if (holder !== "stale") return holder;
        if (depth === MAX_TAKEOVER_DEPTH) return "opening";
        const marker = `${path}.takeover-${createHash("sha256").update(found).digest("hex").slice(0, 16)}`;
        // Whoever holds the marker is taking over from the same dead owner right now; not two at once.
        if (take(marker, content, depth + 1) !== undefined) return "opening";
        try {
            // Still the same dead owner's file: nobody else may remove it while this process holds the marker.
            if (readContent(path) === found && holderOf(path, found) === "stale") removeFile(path);
        } finally {
            removeIfHolding(marker, content);
        }
    }
    return "opening";
}

/** Who holds a lock file with this content: a live owner, "opening" (its writer is writing it), or "stale". */
function holderOf(path: string, content: string): Holder | "stale" {
    const owner = parseOwner(content);
    // No owner: being written (older versions, and filesystems without hard links, create the file, then write it),
    // or cut short by its writer's death.
    if (owner === undefined) return isFresh(path) ? "opening" : "stale";
    return isAlive(owner) ? owner : "stale";
}

/** Creates `path` with `content` unless it exists: a hard link to a written temporary file, so never seen half-written. */
function createExclusive(path: string, content: string): boolean {
    const temporary = `${path}.${process.pid}-${randomBytes(6).toString("hex")}.tmp`;
    try {
        writeFileSync(temporary, content, { flag: "wx" });
        linkSync(temporary, path);
        return true;
    } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === "EEXIST") return false;
        if (code === "EPERM" || code === "ENOTSUP" || code === "EOPNOTSUPP" || code === "ENOSYS") return createAndWrite(path, content);
        throw new StoreError("unavailable", `Cannot create the lock file ${path}: ${(error as Error).message}`, { cause: error });
    } finally {
        removeFile(temporary);
    }
}

/** For filesystems without hard links (FAT): O_EXCL, then the content; readers see it empty for a moment. */
function createAndWrite(path: string, content: string): boolean {
    let fd: number;
    try {
        fd = openSync(path, "wx");
    } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
        throw new StoreError("unavailable", `Cannot create the lock file ${path}: ${(error as Error).message}`, { cause: error });
    }
    try {
        writeSync(fd, content);
    } finally {
        closeSync(fd);
    }
    return true;
}

/** Markers of finished takeovers, and temporary files left by processes that died before linking them. */
function removeLeftovers(path: string): void {
    const name = basename(path);
    let entries: string[];
    try {
        entries = readdirSync(dirname(path));
    } catch {
        return;
    }
    for (const entry of entries) {
        const leftover = join(dirname(path), entry);
        // Every takeover marker concerns an earlier owner's content, which the lock file no longer holds.
        if (entry.startsWith(`${name}.takeover-`) && !entry.endsWith(".tmp")) removeFile(leftover);
        // A temporary file lives for the microseconds between its write and its link.
        else if (entry.startsWith(`${name}.`) && TEMPORARY_SUFFIX.test(entry) && ageMs(leftover) > 60_000) removeFile(leftover);
    }
}

function removeIfHolding(path: string, content: string): void {
    if (readContent(path) === content) removeFile(path);
}

function removeFile(path: string): void {
    try {
        unlinkSync(path);
    } catch {
        // already gone
    }
}

function readContent(path: string): string | undefined {
    try {
        return readFileSync(path, "utf8");
    } catch {
        return undefined;
    }
}

function parseOwner(content: string): LockOwner | undefined {
    try {
        const parsed = JSON.parse(content) as Partial<LockOwner>;
        if (typeof parsed.pid === "number" && typeof parsed.host === "string") {
            return { pid: parsed.pid, host: parsed.host, since: String(parsed.since ?? "?") };
        }
    } catch {
        // a lock file cut short while being written: its writer died before writing the pid
    }
    return undefined;
}

function isFresh(path: string): boolean {
    return ageMs(path) < 5_000;
}

function ageMs(path: string): number {
    try {
        return Date.now() - statSync(path).mtimeMs;
    } catch {
        return Number.POSITIVE_INFINITY;
    }
}

function isAlive(owner: LockOwner): boolean {
    if (owner.host !== hostname()) return true; // cannot check another machine's processes: assume it is alive
    if (owner.pid === process.pid) return true;
    try {
        process.kill(owner.pid, 0);
        return true;
    } catch (error) {
        return (error as NodeJS.ErrnoException).code === "EPERM";
    }
}
