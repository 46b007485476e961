import type { Qwen3Server } from "./create-server.js";
import type { ServerOptions } from "./server-options.js";

export type { Qwen3Server } from "./create-server.js";

/** A listening server; `ready` settles when the models are loaded (or failed to). */
export interface RunningServer extends Qwen3Server {
    readonly url: string;
    readonly port: number;
    readonly ready: Promise<void>;
}

/**
 * Builds the HTTP server (every option validated) without loading models or binding a port. The server code
 * (fastify, prom-client) is imported on the first call, so importing the library stays light.
 */
export async function createServer(options: ServerOptions): Promise<Qwen3Server> {
    const { buildServer } = await import("./create-server.js");
    return await buildServer(options);
}

/**
 * Creates the server, listens (default 127.0.0.1:8080) and starts loading the models; resolves once listening.
 * `/health` answers 503 until `ready` resolves. Stop it with `dispose()`: in-flight requests finish first.
 */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
    const server = await createServer(options);
    const url = await server.listen();
    const ready = server.load();
    ready.catch(() => undefined); // reported through `ready`, /health and the log
    const address = server.app.server.address();
    const port = typeof address === "object" && address !== null ? address.port : Number(new URL(url).port);
    // Object.assign keeps the server's own accessors (disposed) live, where a spread would copy their current values.
    return Object.assign(server, { url, port, ready });
}
