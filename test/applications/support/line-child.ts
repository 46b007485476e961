/** A TypeScript script run in a process of its own (`node --import tsx`), read line by line from its stdout. */
import { spawn, type ChildProcess } from "node:child_process";
import { REPO_ROOT } from "../../fixtures/qwen3-fixture.js";

export interface LineChild {
    process: ChildProcess;
    /** The complete stdout lines so far. */
    lines(): string[];
    /** Resolves with the first stdout line, so far or to come, that equals `match` or satisfies it. */
    waitFor(match: string | ((line: string) => boolean)): Promise<string>;
    /** Writes one line to its stdin. */
    send(line: string): void;
    /** Once it has exited and its output is read. */
    exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
}

export function startLineChild(script: string, args: readonly string[]): LineChild {
    const child = spawn(process.execPath, ["--import", "tsx", script, ...args], { cwd: REPO_ROOT, stdio: ["pipe", "pipe", "pipe"] });
    const lines: string[] = [];
    const waiters = new Set<{ matches: (line: string) => boolean; resolve: (line: string) => void }>();
    let partial = "";
    let stderr = "";
    child.stdout!.on("data", (data: Buffer) => {
        const parts = (partial + data.toString()).split("\n");
        partial = parts.pop()!;
        for (const line of parts) {
            lines.push(line);
            for (const waiter of [...waiters]) {
                if (!waiter.matches(line)) continue;
                waiters.delete(waiter);
                waiter.resolve(line);
            }
        }
    });
    child.stderr!.on("data", (data: Buffer) => (stderr += data.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) =>
        child.once("close", (code, signal) => resolve({ code, signal, stderr })),
    );
    return {
        process: child,
        lines: () => [...lines],
        waitFor: (match) => new Promise<string>((resolve, reject) => {
            const matches = typeof match === "string" ? (line: string) => line === match : match;
            const found = lines.find(matches);
            if (found !== undefined) return resolve(found);
            waiters.add({ matches, resolve });
            void exited.then((result) => reject(new Error(`the child exited (${result.code ?? result.signal}) before printing ${String(match)}: ${result.stderr}`)));
        }),
        send: (line) => child.stdin!.write(line + "\n"),
        exited,
    };
}
