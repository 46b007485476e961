/**
 * The embedded database's directory lock when its holder died: processes racing to take over the same stale lock
 * (exactly one wins, every time), and takeovers interrupted by a death of their own.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../fixtures/qwen3-fixture.js";
import { DirectoryLock } from "../../src/store/directory-lock.js";
import { startLineChild } from "./support/line-child.js";
import { temporaryDirectory } from "./support/store-backends.js";

const CONTENDER = join(REPO_ROOT, "test", "applications", "support", "lock-contender.ts");
const CONTENDERS = 6;
const ROUNDS = 40;
const parent = temporaryDirectory("qwen3-directory-lock-test-");
afterAll(() => rmSync(parent, { recursive: true, force: true }));

/** The pid of a process that has exited: a lock file naming it is stale. */
async function deadPid(): Promise<number> {
    const child = spawn(process.execPath, ["-e", ""], { stdio: "ignore" });
    await new Promise((resolve) => child.once("exit", resolve));
    return child.pid!;
}

function ownerContent(pid: number, nonce: string): string {
    return JSON.stringify({ pid, host: hostname(), since: new Date().toISOString(), nonce });
}

function takeoverMarker(path: string, content: string): string {
    return `${path}.takeover-${createHash("sha256").update(content).digest("hex").slice(0, 16)}`;
}

describe("DirectoryLock", () => {
    it(`${CONTENDERS} processes taking over the same stale lock at the same instant: exactly one holds it, ${ROUNDS} rounds out of ${ROUNDS}`, async () => {
        const directory = mkdtempSync(join(parent, "race-"));
        const path = join(directory, "lock");
        const dead = await deadPid();
        const contenders = Array.from({ length: CONTENDERS }, () => startLineChild(CONTENDER, [path]));
        try {
            await Promise.all(contenders.map((contender) => contender.waitFor("ready")));
            for (let round = 0; round < ROUNDS; round++) {
                writeFileSync(path, ownerContent(dead, `dead-${round}`));
                // Each is blocked reading stdin: the writes wake them together.
                for (const contender of contenders) contender.send(`go ${round}`);
                const answers = await Promise.all(contenders.map((contender) => contender.waitFor((line) => line === `won ${round}` || line.startsWith(`lost ${round} `))));
                const winners = contenders.filter((_, index) => answers[index] === `won ${round}`);
                expect(winners.map((winner) => winner.process.pid), `round ${round}: ${answers.join(", ")}`).toHaveLength(1);
                expect(answers.filter((answer) => answer.startsWith("lost")).every((answer) => answer === `lost ${round} locked`)).toBe(true);
                expect(JSON.parse(readFileSync(path, "utf8"))).toMatchObject({ pid: winners[0]!.process.pid });
                for (const contender of contenders) contender.send(`release ${round}`);
                await Promise.all(contenders.map((contender) => contender.waitFor(`released ${round}`)));
                expect(readdirSync(directory)).toEqual([]); // no marker or temporary file left behind
            }
        } finally {
            for (const contender of contenders) contender.process.stdin!.end();
            await Promise.all(contenders.map((contender) => contender.exited));
        }
    });

    it("takes over a lock whose holder and whose first taker both died, and leaves only its own lock file", async () => {
        const directory = mkdtempSync(join(parent, "chain-"));
        const path = join(directory, "lock");
        const stale = ownerContent(await deadPid(), "holder");
        writeFileSync(path, stale);
        writeFileSync(takeoverMarker(path, stale), ownerContent(await deadPid(), "taker")); // it died between marker and removal
        writeFileSync(`${path}.123-0123456789ab.tmp`, "a temporary file of a process that died a minute ago");
        const minuteAgo = new Date(Date.now() - 120_000);
        utimesSync(`${path}.123-0123456789ab.tmp`, minuteAgo, minuteAgo);
        const lock = DirectoryLock.acquire(path, "The test directory");
        expect(JSON.parse(readFileSync(path, "utf8"))).toMatchObject({ pid: process.pid });
        expect(readdirSync(directory)).toEqual(["lock"]);
        lock.release();
        expect(readdirSync(directory)).toEqual([]);
    });

    it("waits for no one: a takeover under way in a live process makes acquire fail with a message saying to retry", async () => {
        const directory = mkdtempSync(join(parent, "busy-"));
        const path = join(directory, "lock");
        const stale = ownerContent(await deadPid(), "holder");
        writeFileSync(path, stale);
        writeFileSync(takeoverMarker(path, stale), ownerContent(process.ppid, "live taker"));
        expect(() => DirectoryLock.acquire(path, "The test directory")).toThrow(
            `The test directory is being opened by another process at this moment (lock file ${path}); retry`,
        );
        expect(readFileSync(path, "utf8")).toBe(stale); // untouched
    });

    it("release leaves a lock file that is no longer its own", () => {
        const directory = mkdtempSync(join(parent, "release-"));
        const path = join(directory, "lock");
        const lock = DirectoryLock.acquire(path, "The test directory");
        const other = ownerContent(process.ppid, "someone who took it after it was deleted by hand");
        rmSync(path);
        writeFileSync(path, other);
        lock.release();
        expect(readFileSync(path, "utf8")).toBe(other);
    });
});
