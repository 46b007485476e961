/**
 * Clients that hang up: fetch + AbortController, the request aborted `abortAfterMs` after it was sent (autocannon
 * cannot do this: it only drops connections on its own timeout). Bounded in time (until `untilMs`) and in count: each
 * client starts at most one request per `intervalMs`.
 */

export interface EarlyDisconnectRequest {
    path: string;
    body: unknown;
}

export interface EarlyDisconnectOptions {
    url: string;
    apiKey: string;
    clients: number;
    /** performance.now() at which the clients stop starting requests. */
    untilMs: number;
    abortAfterMs: number;
    intervalMs: number;
    /** The n-th request (over all clients). */
    request(n: number): EarlyDisconnectRequest;
}

export interface EarlyDisconnectStats {
    started: number;
    /** Aborted before the status line arrived: the server had to notice a closed connection. */
    abortedBeforeAnswer: number;
    /** Answered (status line received) before the abort, by status. */
    answered: Record<string, number>;
    /** Failed otherwise (connection refused or reset). */
    failed: number;
}

export async function runEarlyDisconnects(options: EarlyDisconnectOptions): Promise<EarlyDisconnectStats> {
    const stats: EarlyDisconnectStats = { started: 0, abortedBeforeAnswer: 0, answered: {}, failed: 0 };
    const client = async () => {
        while (performance.now() < options.untilMs) {
            const started = performance.now();
            const { path, body } = options.request(stats.started++);
            const controller = new AbortController();
            const timer = setTimeout(() => controller.abort(), options.abortAfterMs);
            try {
                const response = await fetch(`${options.url}${path}`, {
                    method: "POST",
                    headers: { "content-type": "application/json", authorization: `Bearer ${options.apiKey}` },
                    body: JSON.stringify(body),
                    signal: controller.signal,
                });
                stats.answered[response.status] = (stats.answered[response.status] ?? 0) + 1;
                await response.arrayBuffer().catch(() => undefined); // the abort may still cut the body
            } catch {
                if (controller.signal.aborted) stats.abortedBeforeAnswer++;
                else stats.failed++;
            } finally {
                clearTimeout(timer);
            }
            const wait = Math.min(options.intervalMs - (performance.now() - started), options.untilMs - performance.now());
            if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        }
    };
    await Promise.all(Array.from({ length: options.clients }, client));
    return stats;
}
