/** What both load-test scenarios share: autocannon (typed), the server child process on loopback, flag parsing. */
import { spawn, type ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import { createServer as createNetServer } from "node:net";
import { join } from "node:path";
import { REPO_ROOT } from "../../test/fixtures/qwen3-fixture.js";

/** Only this address is ever used: the load test never leaves the machine. */
export const LOOPBACK = "127.0.0.1";
const CLI = join(REPO_ROOT, "src", "cli", "main.ts");

export interface AutocannonRequest {
    method: string;
    path: string;
    headers: Record<string, string>;
    body?: string;
    /** Called before each send of this request; returns the request to send (autocannon's hook). */
    setupRequest?: (request: AutocannonRequest) => AutocannonRequest;
}

export interface AutocannonResult {
    duration: number;
    errors: number;
    timeouts: number;
    non2xx: number;
    resets: number;
    "2xx": number;
    "4xx": number;
    "5xx": number;
    statusCodeStats: Record<string, { count: number }>;
    latency: { p50: number; p90: number; p99: number; max: number; average: number };
    requests: { average: number; total: number; sent: number };
}

export interface AutocannonOptions {
    url: string;
    connections: number;
    duration: number;
    /** Seconds a connection waits for an answer before it counts a timeout and reconnects. */
    timeout: number;
    requests: AutocannonRequest[];
}

interface AutocannonTracker {
    on(event: "response", listener: (client: unknown, statusCode: number, bytes: number, responseTimeMs: number) => void): void;
}

type Autocannon = (options: AutocannonOptions, done: (error: Error | null, result: AutocannonResult) => void) => AutocannonTracker;

const autocannon = createRequire(import.meta.url)("autocannon") as Autocannon;

/** One autocannon run; `onResponse` sees every answer (status and latency) as it comes. */
export function runAutocannon(options: AutocannonOptions, onResponse?: (statusCode: number, latencyMs: number) => void): Promise<AutocannonResult> {
    return new Promise((resolve, reject) => {
        const tracker = autocannon(options, (error, result) => (error ? reject(error) : resolve(result)));
        if (onResponse !== undefined) tracker.on("response", (_client, statusCode, _bytes, latencyMs) => onResponse(statusCode, latencyMs));
    });
}

export function positiveInteger(name: string, value: string | undefined, fallback: number): number {
    if (value === undefined) return fallback;
    if (!/^\d+$/.test(value) || Number(value) < 1) throw new Error(`Expected a positive integer for --${name} but received ${JSON.stringify(value)}`);
    return Number(value);
}

/** A free port on loopback, picked by the OS. */
export function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const probe = createNetServer();
        probe.once("error", reject);
        probe.listen(0, LOOPBACK, () => {
            const address = probe.address();
            probe.close(() => (typeof address === "object" && address !== null ? resolve(address.port) : reject(new Error("no port"))));
        });
    });
}

/**
 * `qwen3-embedding serve` from source in a child process on loopback, with these extra flags and environment variables.
 * The caller's QWEN3_EMBEDDING_* variables are left out (but the models folder) so only the given settings apply.
 */
export function spawnServer(port: number, flags: string[], options: { env?: Record<string, string>; stdout: "inherit" | "pipe" }): ChildProcess {
    const args = ["--import", "tsx", CLI, "serve", "--host", LOOPBACK, "--port", String(port), "--log-level", "warn", ...flags];
    const inherited = Object.entries(process.env).filter(([name]) => !name.startsWith("QWEN3_EMBEDDING_") || name === "QWEN3_EMBEDDING_MODELS_DIR");
    const env = { ...Object.fromEntries(inherited), ...options.env };
    return spawn(process.execPath, args, { cwd: REPO_ROOT, env, stdio: ["ignore", options.stdout, "inherit"] });
}

export async function waitForHealth(url: string, child: ChildProcess): Promise<void> {
    for (;;) {
        if (child.exitCode !== null) throw new Error(`the server exited with code ${child.exitCode} before it was ready`);
        try {
            if ((await fetch(`${url}/health`)).status === 200) return;
        } catch {
            // not listening yet
        }
        await new Promise((resolve) => setTimeout(resolve, 200));
    }
}

/** SIGTERM (graceful drain), then SIGKILL if it has not exited within `graceMs`. */
export async function stopServer(child: ChildProcess, graceMs = 30_000): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    const timer = setTimeout(() => {
        process.stderr.write(`load test: the server did not stop within ${graceMs / 1000} s of SIGTERM; killing it\n`);
        child.kill("SIGKILL");
    }, graceMs);
    await exited;
    clearTimeout(timer);
}

export function mib(bytes: number): string {
    return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

export function percentile(values: readonly number[], p: number): number {
    if (values.length === 0) return Number.NaN;
    const sorted = [...values].sort((a, b) => a - b);
    return sorted[Math.max(1, Math.ceil((p / 100) * sorted.length)) - 1]!;
}
