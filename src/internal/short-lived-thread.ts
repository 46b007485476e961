import { Worker } from "node:worker_threads";

/**
 * Runs `body` (the text of an async function of `data` and an `importModule(name)` that imports one of `packages`,
 * bare names resolved from this package) in a worker thread that ends after answering, and resolves with what the
 * function returned once the thread has exited.
 *
 * For work that leaves a large heap behind: parsing a GGUF header materializes ~300,000 tokenizer strings, and
 * node-llama-cpp's module graph is tens of MB. V8 keeps a grown heap for the life of its thread; a thread that
 * ends gives all of it back. The thread is never terminated from outside (a native addon loaded in it must be
 * left to unload with the thread's own exit).
 */
export function runInShortLivedThread<Result>(body: string, data: unknown, packages: readonly string[]): Promise<Result> {
    const source = [
        "const { parentPort, workerData } = require('node:worker_threads');",
        "const importModule = (name) => import(workerData.modules[name]);",
        `const body = ${body};`,
        "body(workerData.data, importModule).then(",
        "  (value) => parentPort.postMessage({ ok: true, value }),",
        "  (error) => parentPort.postMessage({ ok: false, message: String(error && error.message || error) }),",
        ");",
    ].join("\n");
    const modules = Object.fromEntries(packages.map((name) => [name, import.meta.resolve(name)]));
    const worker = new Worker(source, { eval: true, workerData: { data, modules } });
    return new Promise<Result>((resolve, reject) => {
        let reply: { ok: true; value: Result } | { ok: false; message: string } | undefined;
        let lingering: NodeJS.Timeout | undefined;
        const settle = () => {
            if (reply === undefined) return;
            if (reply.ok) resolve(reply.value);
            else reject(new Error(reply.message));
        };
        worker.once("message", (message: typeof reply) => {
            reply = message;
            // Settled on exit, so that nothing of the thread (a native addon's cleanup) still runs when the caller goes
            // on; should the thread linger, its answer is used after EXIT_WAIT_MS and it no longer holds the process.
            lingering = setTimeout(() => {
                worker.unref();
                settle();
            }, EXIT_WAIT_MS);
        });
        worker.once("error", (error) => {
            if (reply === undefined) reject(error);
        });
        worker.once("exit", (code) => {
            clearTimeout(lingering);
            if (reply === undefined) reject(new Error(`the helper thread exited with code ${code} before answering`));
            else settle();
        });
    });
}

const EXIT_WAIT_MS = 5_000;
