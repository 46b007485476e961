/**
 * A writer in a process of its own, for the durability tests (spawned with `node --import tsx`):
 *   upsert-child.ts <database> <namespace> <first> <count> <mode>
 * writes items `<namespace>-<first>` .. in ONE upsert (chunks of 50 rows). Mode "hang" prints "mid-transaction" after
 * the first chunk and then waits inside the transaction for the SIGKILL that the test sends; mode "complete" finishes
 * and prints "committed".
 */
import { openStore } from "../../../src/exports/store.js";
import { randomUnitVectors } from "./store-backends.js";

const [database, namespace, firstArgument, countArgument, mode] = process.argv.slice(2);
const first = Number(firstArgument);
const count = Number(countArgument);
const store = await openStore({ database: database! });
await store.ensureNamespace(namespace!, { model: "test-model", dimensions: 16 });
const vectors = randomUnitVectors(count, 16, first + 1);
await store.upsert(
    namespace!,
    vectors.map((embedding, index) => ({ id: `${namespace}-${first + index}`, text: `written by pid ${process.pid}`, embedding })),
    {
        chunkSize: 50,
        onProgress: async ({ written }) => {
            if (mode === "hang" && written === 50) {
                process.stdout.write("mid-transaction\n");
                await new Promise(() => undefined); // until killed
            }
        },
    },
);
process.stdout.write("committed\n");
await store.close();
