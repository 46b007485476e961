// Run with UV_THREADPOOL_SIZE=1: starts a long decode, then reads a file while it runs, and prints how long each
// took. If decodes ran on libuv's pool, the read would queue behind the decode on the pool's only thread.
import { readFile } from "node:fs/promises";
import { loadEngineModel } from "../../src/exports/engine.js";

const model = await loadEngineModel(process.argv[2]!);
const context = await model.createContext({ batchTokens: 512, contextSize: 1024 });
const sequences = Array.from({ length: 96 }, (_, i) => Int32Array.from({ length: 400 }, (_, j) => 100 + ((i * 7919 + j * 31) % 50000)));
const started = performance.now();
const decode = context.embedBatch(sequences).then(() => performance.now() - started);
// The read is issued while the decode runs (it takes seconds); on the pool's one thread it would wait for it.
const readStarted = performance.now();
await readFile(new URL(import.meta.url));
const readMs = performance.now() - readStarted;
const decodeMs = await decode;
await context.dispose();
await model.dispose();
process.stdout.write(JSON.stringify({ decodeMs, readMs }));
