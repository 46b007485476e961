/**
 * A writer that reports what the store acknowledged, for the kill -9 test (spawned with `node --import tsx`):
 *   acknowledging-writer.ts <database> <namespace> <batch size>
 * upserts batch after batch into an embedded store opened with the default durability, and once each upsert has
 * resolved prints `acknowledged <batch> <id> <id> ...`. Item `<namespace>-<batch>-<i>` holds the text `text of <id>`
 * and the vector `randomUnitVectors(<batch size>, 16, 1000 + <batch>)[i]`. Stops after 10,000 batches; the test kills
 * it long before.
 */
import { openStore } from "../../../src/exports/store.js";
import { randomUnitVectors } from "./store-backends.js";

const [database, namespace, sizeArgument] = process.argv.slice(2) as [string, string, string];
const size = Number(sizeArgument);
const store = await openStore({ database });
await store.ensureNamespace(namespace, { model: "test-model", dimensions: 16 });
for (let batch = 0; batch < 10_000; batch++) {
    const records = randomUnitVectors(size, 16, 1000 + batch).map((embedding, index) => {
        const id = `${namespace}-${batch}-${index}`;
        return { id, text: `text of ${id}`, embedding };
    });
    await store.upsert(namespace, records);
    process.stdout.write(`acknowledged ${batch} ${records.map((record) => record.id).join(" ")}\n`);
}
await store.close();
