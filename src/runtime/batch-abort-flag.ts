// The abort flag of one batch, shared between the pool's thread (which raises it when the batch's calls are gone)
// and the engine worker running the batch (which waits on it). Waiting instead of polling matters: on a machine
// whose every core runs llama.cpp's threads, a timer waking the worker every 5 ms cost the decode ~3% (2 cores).

const RUNNING = 0;
const ABORTED = 1;
const FINISHED = 2;

export function createAbortFlag(): Int32Array {
    return new Int32Array(new SharedArrayBuffer(4));
}

export function raiseAbortFlag(flag: Int32Array): void {
    if (Atomics.compareExchange(flag, 0, RUNNING, ABORTED) === RUNNING) Atomics.notify(flag, 0);
}

/** Aborts `controller` when the flag is raised; call the returned function once the batch has ended. */
export function watchAbortFlag(flag: Int32Array, controller: AbortController): () => void {
    const check = () => {
        if (Atomics.load(flag, 0) === ABORTED) controller.abort();
    };
    const wait = Atomics.waitAsync(flag, 0, RUNNING);
    if (wait.async) void wait.value.then(check);
    else check();
    return () => {
        if (Atomics.compareExchange(flag, 0, RUNNING, FINISHED) === RUNNING) Atomics.notify(flag, 0);
    };
}
