// Runs in a worker thread (see engine-sharing.model.test.ts): loads a model through the public API, embeds one
// sequence and reports the process-wide model count while it still holds the model.
import { parentPort, workerData } from "node:worker_threads";
import { loadEngineModel } from "../../src/exports/engine.js";
import { loadNativeAddon } from "../../src/engine/native-addon.js";

const { path, sequence } = workerData as { path: string; sequence: number[] };
try {
    const model = await loadEngineModel(path);
    const context = await model.createContext({ batchTokens: 64, contextSize: 256 });
    const hidden = await context.embedBatch([sequence]);
    const liveWhileHeld = loadNativeAddon().liveModelCount();
    await context.dispose();
    await model.dispose();
    parentPort!.postMessage({ hidden: Array.from(hidden), liveWhileHeld });
} catch (error) {
    parentPort!.postMessage({ error: String((error as Error)?.stack ?? error) });
}
