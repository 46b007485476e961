import { closeSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from "node:fs";
import { hostname } from "node:os";
import { StoreError } from "./store-error.js";

interface LockOwner {
    pid: number;
    host: string;
    since: string;
}

/**
 * An exclusive lock on an embedded database directory, held by this process until `release()` (or its exit).
 *
 * PGlite is a single-process PostgreSQL: two processes opening the same data directory would corrupt it, and PGlite
 * itself does not refuse the second one. The lock is a file created with O_EXCL holding the owner's pid; a lock
 * left by a process that died (SIGKILL, power loss) is taken over once its pid is gone. Two processes taking over
 * the same stale lock at the same instant is the one race this does not close.
 */
export class DirectoryLock {
    readonly path: string;
    #released = false;
    readonly #onExit = () => this.release();

    private constructor(path: string) {
        this.path = path;
        process.once("exit", this.#onExit);
    }

    /** Takes the lock or throws StoreError("locked") naming the process that holds it. */
    static acquire(path: string, what: string): DirectoryLock {
        for (let attempt = 0; attempt < 2; attempt++) {
            try {
                const fd = openSync(path, "wx");
                try {
                    const owner: LockOwner = { pid: process.pid, host: hostname(), since: new Date().toISOString() };
                    writeSync(fd, JSON.stringify(owner));
                } finally {
                    closeSync(fd);
                }
                return new DirectoryLock(path);
            } catch (error) {
                if ((error as NodeJS.ErrnoException).code !== "EEXIST") {
                    throw new StoreError("unavailable", `Cannot create the lock file ${path}: ${(error as Error).message}`, { cause: error });
                }
            }
            const content = readOrEmpty(path);
            const owner = parseOwner(content);
            if (owner === undefined && isFresh(path)) {
                // Its writer created it a moment ago and is writing its pid right now.
                throw new StoreError("locked", `${what} is being opened by another process at this moment (lock file ${path}); retry`);
            }
            if (owner !== undefined && isAlive(owner)) {
                throw new StoreError(
                    "locked",
                    `${what} is in use by process ${owner.pid} on ${owner.host} (since ${owner.since}); an embedded database ` +
                    `is opened by one process at a time. Stop that process, or serve the data from PostgreSQL ` +
                    `(--database postgres://...) to share it. If no such process exists, delete ${path}`,
                );
            }
            // Stale: its owner is gone. Remove it only if it is still the file we read, then try once more.
            if (readOrEmpty(path) === content) {
                try {
                    unlinkSync(path);
                } catch (error) {
                    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
                }
            }
        }
        throw new StoreError("locked", `${what} is being opened by another process at the same moment (lock file ${path}); retry`);
    }

    release(): void {
        if (this.#released) return;
        this.#released = true;
        process.removeListener("exit", this.#onExit);
        try {
            unlinkSync(this.path);
        } catch {
            // already gone: nothing to release
        }
    }
}

function readOrEmpty(path: string): string {
    try {
        return readFileSync(path, "utf8");
    } catch {
        return "";
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
    try {
        return Date.now() - statSync(path).mtimeMs < 5_000;
    } catch {
        return false;
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
