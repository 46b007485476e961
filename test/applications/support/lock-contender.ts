/**
 * A process that takes a directory lock when told, for the lock race test (spawned with `node --import tsx`):
 *   lock-contender.ts <lock path>
 * prints "ready", then reads commands on stdin: "go <round>" tries DirectoryLock.acquire and answers "won <round>" or
 * "lost <round> <reason>"; "release <round>" releases the lock if it won and answers "released <round>". Ends when
 * stdin closes.
 *
 * Every file operation the lock makes first waits a random 0 to 2 ms, so that contenders started together interleave
 * at every step, as they do now and then by chance on a busy machine; without it they rarely meet inside the
 * microseconds between reading a stale lock and removing it.
 */
import fs from "node:fs";
import { syncBuiltinESMExports } from "node:module";
import { createInterface } from "node:readline";

const pause = new Int32Array(new SharedArrayBuffer(4));
for (const name of ["readFileSync", "writeFileSync", "linkSync", "unlinkSync", "openSync", "statSync", "readdirSync"] as const) {
    const operation = fs[name] as (...args: unknown[]) => unknown;
    (fs as unknown as Record<string, unknown>)[name] = (...args: unknown[]) => {
        Atomics.wait(pause, 0, 0, Math.random() * 2);
        return operation(...args);
    };
}
syncBuiltinESMExports(); // the named imports of node:fs see the wrapped functions too

const { DirectoryLock } = await import("../../../src/store/directory-lock.js");
const { StoreError } = await import("../../../src/store/store-error.js");
const [path] = process.argv.slice(2);
let held: ReturnType<typeof DirectoryLock.acquire> | undefined;
process.stdout.write("ready\n");
for await (const line of createInterface({ input: process.stdin })) {
    const [command, round] = line.split(" ");
    if (command === "go") {
        try {
            held = DirectoryLock.acquire(path!, "The test directory");
            process.stdout.write(`won ${round}\n`);
        } catch (error) {
            if (!(error instanceof StoreError)) throw error;
            process.stdout.write(`lost ${round} ${error.reason}\n`);
        }
    } else if (command === "release") {
        held?.release();
        held = undefined;
        process.stdout.write(`released ${round}\n`);
    }
}
