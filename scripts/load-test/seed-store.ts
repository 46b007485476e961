/**
 * Seeds the search namespace of the mixed load test through the library, in this process, BEFORE the server opens the
 * same directory: the server has no ingestion route, and the embedded store admits one process at a time (a lock
 * file), so the store is closed again before the server starts.
 */
import { createEmbedder } from "../../src/index.js";
import { createSearchIndex, openStore } from "../../src/exports/store.js";
import { documentText } from "./workload-texts.js";

export interface SeedOptions {
    database: string;
    embeddingModel: string;
    namespace: string;
    documents: number;
    /** The server's model options, so that both embed alike. */
    modelOptions: { batchTokens: number; contextSize: number };
}

export async function seedSearchNamespace(options: SeedOptions): Promise<{ written: number; seconds: number }> {
    const started = performance.now();
    const embedder = await createEmbedder({ model: options.embeddingModel, ...options.modelOptions });
    try {
        const store = await openStore({ database: options.database });
        try {
            const index = await createSearchIndex({ embedder, store, namespace: options.namespace });
            const documents = Array.from({ length: options.documents }, (_, n) => ({ id: `doc-${n}`, text: documentText(n), metadata: { n, group: n % 5 } }));
            const result = await index.index(documents);
            return { written: result.written, seconds: (performance.now() - started) / 1000 };
        } finally {
            await store.close();
        }
    } finally {
        await embedder.close();
    }
}
