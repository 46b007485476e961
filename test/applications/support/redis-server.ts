/**
 * A real redis-server (Debian's `redis-server`) for one test: on 127.0.0.1, a port the OS picked, a temporary
 * directory, the append-only file on with an fsync per write. `restart()` kills it (SIGKILL) and starts it again on
 * the same port and files, as a crashed Redis comes back.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";

export interface RedisServer {
    url: string;
    port: number;
    restart(): Promise<void>;
    stop(): Promise<void>;
}

/** A port on 127.0.0.1 that nothing listens on now. */
export async function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const server = createServer();
        server.once("error", reject);
        server.listen(0, "127.0.0.1", () => {
            const { port } = server.address() as { port: number };
            server.close(() => resolve(port));
        });
    });
}

function launch(port: number, directory: string): Promise<ChildProcess> {
    const child = spawn("redis-server", [
        "--bind", "127.0.0.1", "--port", String(port), "--dir", directory, "--appendonly", "yes", "--appendfsync", "always",
        "--save", "", "--protected-mode", "yes", "--daemonize", "no",
    ], { stdio: ["ignore", "pipe", "pipe"] });
    return new Promise((resolve, reject) => {
        let output = "";
        const onData = (chunk: Buffer) => {
            output += chunk.toString();
            if (output.includes("Ready to accept connections")) {
                child.stdout!.off("data", onData);
                child.stdout!.resume();
                resolve(child);
            }
        };
        child.stdout!.on("data", onData);
        child.once("error", reject);
        child.once("exit", (code) => reject(new Error(`redis-server exited with ${code}: ${output}`)));
    });
}

function killed(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
        child.once("exit", () => resolve());
        child.kill(signal);
    });
}

export async function startRedisServer(directory: string): Promise<RedisServer> {
    const port = await freePort();
    let child = await launch(port, directory);
    return {
        url: `redis://127.0.0.1:${port}`,
        port,
        async restart() {
            await killed(child, "SIGKILL");
            child = await launch(port, directory);
        },
        async stop() {
            await killed(child, "SIGTERM");
        },
    };
}
