/**
 * Hosts for `pull` to fail or succeed against, on loopback: a fake Hugging Face hub (files under
 * /<repo>/resolve/main/<file> with Range support, listings under /api/models/<repo>), a port nothing listens on, a
 * server that accepts connections and never answers, and a CONNECT proxy. Point HF_ENDPOINT (or HTTP_PROXY) at their `url`.
 */
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from "node:http";
import { connect, createServer as createTcpServer, type AddressInfo, type Server, type Socket } from "node:net";

const LOOPBACK = "127.0.0.1";

export interface HubRequest {
    method: string;
    path: string;
    range: string | undefined;
    authorization: string | undefined;
}

export interface FakeHub {
    url: string;
    /** Every request received, in order. */
    requests: HubRequest[];
    /** Files by "<repo>/<file>"; the listing of a repository is made from them. */
    files: Map<string, Buffer>;
    /** When set, answers every request instead of the files (return false to fall through to them). */
    handle: ((request: IncomingMessage, response: ServerResponse) => boolean) | undefined;
    /** Whether Range requests are honoured (206); when false every answer is the whole file (200). */
    ranges: boolean;
    close(): Promise<void>;
}

export async function startFakeHub(): Promise<FakeHub> {
    const hub: FakeHub = { url: "", requests: [], files: new Map(), handle: undefined, ranges: true, close: () => closing() };
    const server = createHttpServer((request, response) => {
        const path = decodeURIComponent(new URL(request.url ?? "/", "http://x").pathname);
        hub.requests.push({ method: request.method ?? "", path, range: request.headers.range, authorization: request.headers.authorization });
        if (hub.handle?.(request, response) === true) return;
        const listing = /^\/api\/models\/(.+)$/.exec(path);
        if (listing !== null) {
            const siblings = [...hub.files.keys()].filter((key) => key.startsWith(`${listing[1]}/`)).map((key) => ({ rfilename: key.slice(listing[1]!.length + 1) }));
            if (siblings.length === 0) return void response.writeHead(404).end();
            return void response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ id: listing[1], siblings }));
        }
        const file = /^\/(.+?\/.+?)\/resolve\/main\/(.+)$/.exec(path);
        const body = file === null ? undefined : hub.files.get(`${file[1]}/${file[2]}`);
        if (body === undefined) return void response.writeHead(404).end("Entry not found");
        const range = hub.ranges ? /^bytes=(\d+)-$/.exec(request.headers.range ?? "") : null;
        const start = range === null ? 0 : Number(range[1]);
        if (start >= body.length && range !== null) return void response.writeHead(416).end();
        const headers = { "content-length": String(body.length - start), "accept-ranges": "bytes" };
        if (range === null) return void response.writeHead(200, headers).end(body);
        response.writeHead(206, { ...headers, "content-range": `bytes ${start}-${body.length - 1}/${body.length}` }).end(body.subarray(start));
    });
    const closing = await listenOnLoopback(server);
    hub.url = urlOf(server);
    return hub;
}

/** The URL of a loopback port that was bound, then closed: connecting to it is refused. */
export async function closedPortUrl(): Promise<string> {
    const server = createTcpServer();
    const close = await listenOnLoopback(server);
    const url = urlOf(server);
    await close();
    return url;
}

/** A server that accepts connections, reads the requests and never answers; close() drops them. */
export async function startSilentServer(): Promise<{ url: string; connections: () => number; close(): Promise<void> }> {
    let accepted = 0;
    const server = createTcpServer((socket) => {
        accepted++;
        socket.on("data", () => undefined);
    });
    const close = await listenOnLoopback(server);
    return { url: urlOf(server), connections: () => accepted, close };
}

/** Listens on a free loopback port; the function returned closes the server, dropping the connections still open. */
async function listenOnLoopback(server: Server): Promise<() => Promise<void>> {
    const sockets = new Set<Socket>();
    server.on("connection", (socket: Socket) => {
        sockets.add(socket);
        socket.on("close", () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, LOOPBACK, resolve));
    return () => new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
    });
}

function urlOf(server: Server): string {
    return `http://${LOOPBACK}:${(server.address() as AddressInfo).port}`;
}

/** An HTTP proxy that tunnels CONNECT requests (what undici's proxy agent sends) to loopback ports, and records them. */
export async function startConnectProxy(): Promise<{ url: string; tunnels: string[]; close(): Promise<void> }> {
    const tunnels: string[] = [];
    const server = createHttpServer((_request, response) => void response.writeHead(405).end());
    server.on("connect", (request: IncomingMessage, client: Socket, head: Buffer) => {
        const target = request.url ?? "";
        tunnels.push(target);
        const [host, port] = target.split(":");
        const upstream = connect(Number(port), host!, () => {
            client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
            upstream.write(head);
            upstream.pipe(client);
            client.pipe(upstream);
        });
        const drop = () => (upstream.destroy(), client.destroy());
        upstream.on("error", drop);
        client.on("error", drop);
    });
    const close = await listenOnLoopback(server);
    return { url: urlOf(server), tunnels, close };
}
