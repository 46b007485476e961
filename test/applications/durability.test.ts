/**
 * Processes killed in the middle of a batch, and writers in several processes at once, on both backends: the store
 * is consistent afterwards (a batch is there entirely or not at all) and nothing written before is lost.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../../scripts/fixtures/qwen3-fixture.js";
import { BACKENDS, randomUnitVectors, startBackend, temporaryDirectory } from "./support/store-backends.js";

const CHILD = join(REPO_ROOT, "test", "applications", "support", "upsert-child.ts");
const parent = temporaryDirectory("qwen3-durability-test-");
afterAll(() => rmSync(parent, { recursive: true, force: true }));

interface Child {
    process: ChildProcess;
    /** Resolves with the first stdout line equal to `line`. */
    waitFor(line: string): Promise<void>;
    exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
}

function startChild(args: string[]): Child {
    const child = spawn(process.execPath, ["--import", "tsx", CHILD, ...args], { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    const waiters: { line: string; resolve: () => void }[] = [];
    child.stdout!.on("data", (data: Buffer) => {
        stdout += data.toString();
        for (const waiter of [...waiters]) {
            if (stdout.split("\n").includes(waiter.line)) {
                waiters.splice(waiters.indexOf(waiter), 1);
                waiter.resolve();
            }
        }
    });
    child.stderr!.on("data", (data: Buffer) => (stderr += data.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) =>
        child.once("exit", (code, signal) => resolve({ code, signal, stderr })),
    );
    return {
        process: child,
        waitFor: (line) => new Promise<void>((resolve, reject) => {
            if (stdout.split("\n").includes(line)) return resolve();
            waiters.push({ line, resolve });
            void exited.then((result) => reject(new Error(`the child exited (${result.code ?? result.signal}) before printing ${line}: ${result.stderr}`)));
        }),
        exited,
    };
}

describe.each(BACKENDS)("%s", (kind) => {
    it("a process killed in the middle of a batch upsert leaves the batch out and everything before intact", async () => {
        const backend = await startBackend(kind, join(parent, `kill-${kind}`));
        try {
            // Data indexed before, by this process.
            let store = await backend.open();
            await store.ensureNamespace("durable", { model: "test-model", dimensions: 16 });
            const before = randomUnitVectors(120, 16, 3).map((embedding, index) => ({ id: `before-${index}`, text: `before ${index}`, embedding }));
            await store.upsert("durable", before);
            if (kind === "pglite") await store.close(); // one process at a time holds an embedded database

            const child = startChild([backend.database, "durable", "0", "400", "hang"]);
            await child.waitFor("mid-transaction"); // 50 of its 400 rows are written, inside its transaction
            if (kind === "pglite") {
                // While it holds the directory nobody else may open it.
                await expect(backend.open()).rejects.toMatchObject({ reason: "locked", message: expect.stringContaining(`in use by process ${child.process.pid}`) as unknown as string });
            }
            child.process.kill("SIGKILL");
            expect((await child.exited).signal).toBe("SIGKILL");

            if (kind === "pglite") store = await backend.open(); // recovers, and takes over the dead process's lock
            expect(await store.count("durable")).toBe(before.length);
            const kept = await store.get("durable", before.map((item) => item.id), { withEmbeddings: true });
            expect(kept.map((item) => [item.id, item.text])).toEqual(before.map((item) => [item.id, item.text]));
            kept.forEach((item, index) => expect(item.embedding).toEqual(before[index]!.embedding));
            const [nearest] = await store.search("durable", before[7]!.embedding, { topK: 1 });
            expect(nearest!.id).toBe("before-7");

            // The same batch again, to the end: all of it is there.
            if (kind === "pglite") await store.close();
            const again = startChild([backend.database, "durable", "0", "400", "complete"]);
            await again.waitFor("committed");
            expect((await again.exited).code).toBe(0);
            if (kind === "pglite") store = await backend.open();
            expect(await store.count("durable")).toBe(before.length + 400);
            await store.close();
        } finally {
            await backend.stop();
        }
    });
});

describe("postgres", () => {
    it("writers in three processes at once over overlapping ids: every row once, none lost", async () => {
        const backend = await startBackend("postgres", join(parent, "concurrent"));
        try {
            const store = await backend.open();
            await store.ensureNamespace("shared", { model: "test-model", dimensions: 16 });
            // ids shared-0..299, shared-100..399, shared-200..499
            const children = [0, 100, 200].map((first) => startChild([backend.database, "shared", String(first), "300", "complete"]));
            const results = await Promise.all(children.map((child) => child.exited));
            for (const result of results) expect(result).toMatchObject({ code: 0 });
            expect(await store.count("shared")).toBe(500);
            const items = await store.get("shared", Array.from({ length: 500 }, (_, index) => `shared-${index}`));
            expect(items.length).toBe(500);
            const writers = new Set(children.map((child) => `written by pid ${child.process.pid}`));
            for (const item of items) expect(writers.has(item.text)).toBe(true);
            await store.close();
        } finally {
            await backend.stop();
        }
    });
});
