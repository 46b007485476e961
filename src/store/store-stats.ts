/** What a store holds and how much room it takes: items per namespace, index and table sizes, cache entries. */
import type { SqlDriver } from "./sql-driver.js";
import { listNamespaces, vectorIndexName } from "./store-namespaces.js";
import type { NamespaceStats, StoreStats } from "./store-types.js";

/** See `VectorStore.stats`. */
export async function collectStoreStats(driver: SqlDriver, schemaVersion: number): Promise<StoreStats> {
    const namespaces = await listNamespaces(driver);
    const counts = await driver.query<{ namespace_id: number; count: number }>(
        "SELECT namespace_id, count(*)::float8 AS count FROM q3e_items GROUP BY namespace_id",
    );
    const countOf = new Map(counts.map((row) => [row.namespace_id, row.count]));
    const namespaceStats: NamespaceStats[] = [];
    for (const ns of namespaces) {
        const [index] = await driver.query<{ bytes: number | null }>(
            `SELECT pg_relation_size(to_regclass($1))::float8 AS bytes WHERE to_regclass($1) IS NOT NULL`,
            [vectorIndexName(ns.id)],
        );
        namespaceStats.push({ ...ns, items: countOf.get(ns.id) ?? 0, hasVectorIndex: index !== undefined, vectorIndexBytes: index?.bytes ?? 0 });
    }
    const [sizes] = await driver.query<{ items: number; cache: number; entries: number }>(
        `SELECT pg_total_relation_size('q3e_items')::float8 AS items, pg_total_relation_size('q3e_embedding_cache')::float8 AS cache,
                    (SELECT count(*) FROM q3e_embedding_cache)::float8 AS entries`,
    );
    return {
        kind: driver.kind,
        location: driver.location,
        schemaVersion,
        namespaces: namespaceStats,
        itemsBytes: sizes?.items ?? 0,
        cacheEntries: sizes?.entries ?? 0,
        cacheBytes: sizes?.cache ?? 0,
        sizeOnDisk: await driver.sizeOnDisk(),
    };
}
