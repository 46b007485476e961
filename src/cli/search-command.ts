import { createSearchIndex } from "../applications/search-index.js";
import { createEmbedder } from "../facade/embedder.js";
import { createReranker, type Reranker } from "../facade/reranker.js";
import { compileMetadataFilter, type MetadataFilter } from "../store/metadata-filter.js";
import { openStore } from "../store/open-store.js";
import { asUsageError, requireString, UsageError, writeLine, type Command } from "./command.js";
import { databaseOption, positiveInteger } from "./index-command.js";

export const searchCommand: Command = {
    summary: "Search a namespace of the store: JSON lines {id, score, text}, best first",
    usage: [
        "qwen3-embedding search <query> --embedding-model <path|id> [--reranker-model <path|id>] [--namespace <name>] [--top-k N]",
        "                       [--rerank-top-k N] [--filter <json>] [--database <dir|postgres-url>]",
        "Retrieves the nearest documents (cosine similarity, the score without a reranker); with --reranker-model it reranks the",
        "best --rerank-top-k of them (default 100) and the score is the reranker's p(yes). --top-k default 10. --filter is a",
        "metadata filter such as '{\"lang\":\"en\",\"year\":{\"$gte\":2020}}'. Use the embedding model the namespace was indexed with.",
    ].join("\n"),
    options: {
        "embedding-model": { type: "string" }, "reranker-model": { type: "string" }, namespace: { type: "string" }, "top-k": { type: "string" },
        "rerank-top-k": { type: "string" }, filter: { type: "string" }, database: { type: "string" },
    },
    positionals: true,
    async run(values, positionals) {
        if (positionals.length !== 1) throw new UsageError(`search takes exactly one query (quote it) but received ${positionals.length}`);
        const query = positionals[0]!;
        const embeddingModel = requireString(values, "embedding-model");
        const rerankerModel = values["reranker-model"] as string | undefined;
        const topK = positiveInteger(values, "top-k");
        const rerankTopK = positiveInteger(values, "rerank-top-k");
        const filter = parseFilter(values["filter"]);
        const store = await openStore({ database: databaseOption(values), create: false });
        try {
            // Before loading any model: a namespace that does not exist is the likeliest mistake.
            await store.requireNamespace(values["namespace"] === undefined ? "default" : (values["namespace"] as string));
            const embedder = await createEmbedder({ model: embeddingModel });
            let reranker: Reranker | undefined;
            try {
                if (rerankerModel !== undefined) reranker = await createReranker({ model: rerankerModel });
                const index = await createSearchIndex({
                    embedder,
                    store,
                    create: false,
                    ...(reranker === undefined ? {} : { reranker }),
                    ...(values["namespace"] === undefined ? {} : { namespace: values["namespace"] as string }),
                });
                const results = await index.search(query, {
                    ...(topK === undefined ? {} : { topK }),
                    ...(rerankTopK === undefined ? {} : { rerankTopK }),
                    ...(filter === undefined ? {} : { filter }),
                });
                for (const result of results) writeLine({ id: result.id, score: result.score, text: result.text });
            } finally {
                await reranker?.dispose();
                await embedder.dispose();
            }
        } finally {
            await store.close();
        }
    },
};

/** The --filter JSON, checked against the filter grammar before any model or store is opened. */
function parseFilter(raw: unknown): MetadataFilter | undefined {
    if (raw === undefined) return undefined;
    let filter: MetadataFilter;
    try {
        filter = JSON.parse(String(raw)) as MetadataFilter;
    } catch {
        throw new UsageError("--filter is not valid JSON");
    }
    asUsageError(() => compileMetadataFilter(filter, "metadata", 1, "--filter"));
    return filter;
}
