/** Nearest-neighbour search of a namespace's items by cosine distance (through its HNSW index when it has one). */
import { checkInteger, checkOptionsObject } from "../internal/validation.js";
import { checkEmbedding, checkOptionalBoolean } from "./item-validation.js";
import { itemColumns, itemConditions, toItem, type ItemRow } from "./item-rows.js";
import type { SqlDriver } from "./sql-driver.js";
import { requireNamespace } from "./store-namespaces.js";
import type { SearchHit, StoreSearchOptions } from "./store-types.js";
import { toVectorText } from "./vector-text.js";

const SEARCH_OPTIONS = ["topK", "userId", "filter", "withEmbeddings"] as const;

/** See `VectorStore.search`. */
export async function searchItems(driver: SqlDriver, namespace: string, vector: Float32Array | readonly number[], options: StoreSearchOptions): Promise<SearchHit[]> {
    const opts = checkOptionsObject<StoreSearchOptions>("search options", options, SEARCH_OPTIONS);
    const topK = opts.topK === undefined ? 10 : checkInteger("topK", opts.topK, 1, 1000);
    const withEmbeddings = checkOptionalBoolean("withEmbeddings", opts.withEmbeddings);
    const ns = await requireNamespace(driver, namespace);
    const query = toVectorText(checkEmbedding("vector", vector, ns.dimensions));
    const { where, params } = itemConditions(ns, opts.userId, opts.filter, [query]);
    // The same expression as the index's, so that the planner can use it.
    const distance = `embedding::vector(${ns.dimensions}) <=> $1::vector(${ns.dimensions})`;
    const rows = await driver.query<ItemRow & { score: number }>(
        `SELECT ${itemColumns(withEmbeddings)}, (1 - (${distance}))::float8 AS score
             FROM q3e_items WHERE ${where} ORDER BY ${distance} LIMIT ${topK}`,
        params,
    );
    return rows.map((row) => ({ ...toItem(row), score: row.score }));
}
