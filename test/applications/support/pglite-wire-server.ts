/**
 * PGlite served over the PostgreSQL wire protocol on loopback, with @electric-sql/pglite-socket's connection
 * handler and a query queue that is safe for concurrent clients.
 *
 * PGlite is one backend. pglite-socket's own server (0.2.17) multiplexes its connections onto it message by message
 * and keeps a connection on the backend only while an explicit transaction is open; two clients sending extended-
 * protocol sequences (Parse/Bind/Execute/Sync, what `pg` sends for every parameterized query) at once get their
 * messages interleaved, and one's Bind finds the other's statement ("unnamed prepared statement does not exist").
 * This queue also keeps the backend with a connection from its first message to its Sync, so each client sees what
 * it would see with a backend of its own, except that transactions run one after the other.
 */
import { createServer, type Server, type Socket } from "node:net";
import type { PGlite } from "@electric-sql/pglite";
import { PGLiteSocketHandler } from "@electric-sql/pglite-socket";

interface Entry {
    handlerId: number;
    message: Uint8Array;
    onData: (data: Uint8Array) => void;
    resolve: (bytes: number) => void;
    reject: (error: unknown) => void;
}

const SYNC = 0x53; // 'S'
const SIMPLE_QUERY = 0x51; // 'Q'
const TERMINATE = 0x58; // 'X'

/** The interface PGLiteSocketHandler calls (pglite-socket's QueryQueueManager). */
class SequenceAwareQueue {
    readonly #db: PGlite;
    #queue: Entry[] = [];
    #processing = false;
    /** The connection the backend belongs to until its sequence or transaction ends. */
    #owner: number | undefined;

    constructor(db: PGlite) {
        this.#db = db;
    }

    enqueue(handlerId: number, message: Uint8Array, onData: (data: Uint8Array) => void): Promise<number> {
        return new Promise((resolve, reject) => {
            this.#queue.push({ handlerId, message, onData, resolve, reject });
            void this.#process();
        });
    }

    getQueueLength(): number {
        return this.#queue.length;
    }

    clearQueueForHandler(handlerId: number): void {
        this.#queue = this.#queue.filter((entry) => {
            if (entry.handlerId !== handlerId) return true;
            entry.reject(new Error("Handler disconnected"));
            return false;
        });
    }

    async clearTransactionIfNeeded(handlerId: number): Promise<void> {
        if (this.#owner !== handlerId) return;
        // A client gone mid-sequence or mid-transaction: end what it left open, as a server does when a backend's client leaves.
        // (db.exec takes the lock runExclusive holds: raw protocol messages only in here.)
        await this.#db.runExclusive(async () => {
            await this.#db.execProtocolRaw(new Uint8Array([SYNC, 0, 0, 0, 4]));
            if (this.#db.isInTransaction()) await this.#db.execProtocolRaw(simpleQuery("ROLLBACK"));
        });
        this.#owner = undefined;
        void this.#process();
    }

    async #process(): Promise<void> {
        if (this.#processing) return;
        this.#processing = true;
        try {
            while (this.#queue.length > 0) {
                const index = this.#owner === undefined ? 0 : this.#queue.findIndex((entry) => entry.handlerId === this.#owner);
                if (index < 0) break; // the owner's next message has not arrived yet
                const [entry] = this.#queue.splice(index, 1);
                let bytes = 0;
                try {
                    await this.#db.runExclusive(() => this.#db.execProtocolRawStream(entry!.message, {
                        onRawData: (data: Uint8Array) => {
                            bytes += data.length;
                            entry!.onData(data);
                        },
                    }));
                } catch (error) {
                    this.#owner = undefined;
                    entry!.reject(error);
                    continue;
                }
                const type = entry!.message[0];
                // Startup packets begin with their length (first byte 0) and are complete on their own.
                const sequenceEnds = type === SYNC || type === SIMPLE_QUERY || type === TERMINATE || type === 0;
                this.#owner = !sequenceEnds || this.#db.isInTransaction() ? entry!.handlerId : undefined;
                entry!.resolve(bytes);
            }
        } finally {
            this.#processing = false;
        }
    }
}

function simpleQuery(sql: string): Uint8Array {
    const text = Buffer.from(sql + "\u0000", "utf8");
    const message = Buffer.alloc(5 + text.length);
    message[0] = SIMPLE_QUERY;
    message.writeInt32BE(4 + text.length, 1);
    text.copy(message, 5);
    return message;
}

export interface WireServer {
    /** "127.0.0.1:<port>" */
    address: string;
    close(): Promise<void>;
}

/** Listens on 127.0.0.1 on a port the OS picks (or `port`: to serve again where a closed server was). */
export async function serveOverWire(db: PGlite, port = 0): Promise<WireServer> {
    await db.waitReady;
    const queue = new SequenceAwareQueue(db);
    const sockets = new Set<Socket>();
    const server: Server = createServer((socket) => {
        sockets.add(socket);
        socket.once("close", () => sockets.delete(socket));
        // pglite-socket types its queue as its own (unexported) class; this one has the same methods.
        const handler = new PGLiteSocketHandler({ queryQueue: queue as never, closeOnDetach: true });
        handler.attach(socket).catch(() => socket.destroy());
    });
    await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, "127.0.0.1", () => resolve());
    });
    const listening = (server.address() as { port: number }).port;
    return {
        address: `127.0.0.1:${listening}`,
        close: () => new Promise<void>((resolve) => {
            for (const socket of sockets) socket.destroy();
            server.close(() => resolve());
        }),
    };
}
