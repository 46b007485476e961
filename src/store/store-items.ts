/**
 * Items of a namespace (q3e_items): upserting them in one transaction, reading them by id or page, counting and
 * deleting them, and telling which are already stored as they are.
 */
import { InvalidOptionError } from "../internal/errors.js";
import { checkInteger, checkOptionsObject, describeValue } from "../internal/validation.js";
import { itemColumns, itemConditions, toItem, type ItemRow } from "./item-rows.js";
import {
    checkEmbedding,
    checkIds,
    checkItemId,
    checkItemText,
    checkMetadata,
    checkOptionalBoolean,
    checkUserId,
    type Metadata,
} from "./item-validation.js";
import type { MetadataFilter } from "./metadata-filter.js";
import { recordsetJson } from "./recordset-json.js";
import type { SqlDriver } from "./sql-driver.js";
import { requireNamespace } from "./store-namespaces.js";
import type { ListOptions, StoredItem, StoreRecord, UpsertOptions, UpsertResult } from "./store-types.js";
import { sha256Hex, toVectorText } from "./vector-text.js";

const UPSERT_OPTIONS = ["chunkSize", "onProgress"] as const;
const LIST_OPTIONS = ["userId", "filter", "limit", "offset"] as const;
const USER_OPTIONS = ["userId"] as const;
const GET_OPTIONS = ["userId", "withEmbeddings"] as const;

/** See `VectorStore.upsert`. */
export async function upsertItems(driver: SqlDriver, namespace: string, records: readonly StoreRecord[], options: UpsertOptions): Promise<UpsertResult> {
    const opts = checkOptionsObject<UpsertOptions>("upsert options", options, UPSERT_OPTIONS);
    const chunkSize = opts.chunkSize === undefined ? 500 : checkInteger("chunkSize", opts.chunkSize, 1, 10_000);
    if (opts.onProgress !== undefined && typeof opts.onProgress !== "function") {
        throw new InvalidOptionError(`Expected a function for onProgress but received ${describeValue(opts.onProgress)}`);
    }
    if (!Array.isArray(records)) throw new InvalidOptionError(`Expected an array of records for records but received ${describeValue(records)}`);
    const ns = await requireNamespace(driver, namespace);
    // Everything is checked before anything is written.
    const byKey = new Map<string, Record<string, string>>();
    records.forEach((record: unknown, index) => {
        const name = `records[${index}]`;
        const value = checkOptionsObject<StoreRecord>(name, record, ["id", "userId", "text", "metadata", "embedding"]);
        const id = checkItemId(`${name}.id`, value.id);
        const userId = value.userId === undefined ? "" : checkUserId(`${name}.userId`, value.userId, { allowEmpty: true });
        const text = checkItemText(`${name}.text`, value.text);
        const metadata = checkMetadata(`${name}.metadata`, value.metadata);
        const embedding = toVectorText(checkEmbedding(`${name}.embedding`, value.embedding, ns.dimensions));
        const key = JSON.stringify([userId, id]);
        byKey.delete(key); // keep the last occurrence's position
        byKey.set(key, { user_id: userId, id, text, content_hash: sha256Hex(text), metadata, embedding });
    });
    const rows = [...byKey.values()];
    const total = rows.length;
    if (total === 0) return { inserted: 0, updated: 0, unchanged: 0 };
    return driver.transaction(async (tx) => {
        let inserted = 0;
        let updated = 0;
        for (let start = 0; start < total; start += chunkSize) {
            const payload = recordsetJson(rows.slice(start, start + chunkSize), ["metadata"]);
            const written = await tx.query<{ inserted: boolean }>(
                `INSERT INTO q3e_items AS item (namespace_id, user_id, id, text, content_hash, metadata, embedding)
                 SELECT ${ns.id}, r.user_id, r.id, r.text, r.content_hash, r.metadata, r.embedding::vector
                 FROM jsonb_to_recordset($1::jsonb) AS r(user_id text, id text, text text, content_hash text, metadata jsonb, embedding text)
                 ON CONFLICT (namespace_id, user_id, id) DO UPDATE
                    SET text = EXCLUDED.text, content_hash = EXCLUDED.content_hash, metadata = EXCLUDED.metadata,
                        embedding = EXCLUDED.embedding, updated_at = now()
                    WHERE item.content_hash <> EXCLUDED.content_hash OR item.metadata <> EXCLUDED.metadata
                       OR item.embedding <> EXCLUDED.embedding
                 RETURNING (xmax = 0) AS inserted`,
                [payload],
            );
            for (const row of written) {
                if (row.inserted) inserted++;
                else updated++;
            }
            await opts.onProgress?.({ written: Math.min(start + chunkSize, total), total });
        }
        return { inserted, updated, unchanged: total - inserted - updated };
    });
}

/** See `VectorStore.get`. */
export async function getItems(
    driver: SqlDriver,
    namespace: string,
    ids: readonly string[],
    options: { userId?: string; withEmbeddings?: boolean },
): Promise<StoredItem[]> {
    const opts = checkOptionsObject<{ userId?: string; withEmbeddings?: boolean }>("get options", options, GET_OPTIONS);
    const wanted = checkIds("ids", ids);
    const withEmbeddings = checkOptionalBoolean("withEmbeddings", opts.withEmbeddings);
    const userId = opts.userId === undefined ? "" : checkUserId("userId", opts.userId, { allowEmpty: true });
    const ns = await requireNamespace(driver, namespace);
    if (wanted.length === 0) return [];
    const rows = await driver.query<ItemRow>(
        `SELECT ${itemColumns(withEmbeddings)} FROM q3e_items
             WHERE namespace_id = ${ns.id} AND user_id = $1 AND id = ANY (ARRAY(SELECT jsonb_array_elements_text($2::jsonb)))`,
        [userId, JSON.stringify(wanted)],
    );
    const found = new Map(rows.map((row) => [row.id, toItem(row)]));
    return wanted.flatMap((id) => found.get(id) ?? []);
}

/** See `VectorStore.list`. */
export async function listItems(driver: SqlDriver, namespace: string, options: ListOptions): Promise<StoredItem[]> {
    const opts = checkOptionsObject<ListOptions>("list options", options, LIST_OPTIONS);
    const limit = opts.limit === undefined ? 100 : checkInteger("limit", opts.limit, 1, 10_000);
    const offset = opts.offset === undefined ? 0 : checkInteger("offset", opts.offset, 0, Number.MAX_SAFE_INTEGER);
    const ns = await requireNamespace(driver, namespace);
    const { where, params } = itemConditions(ns, opts.userId, opts.filter);
    const rows = await driver.query<ItemRow>(
        `SELECT ${itemColumns(false)} FROM q3e_items WHERE ${where} ORDER BY created_at DESC, id LIMIT ${limit} OFFSET ${offset}`,
        params,
    );
    return rows.map(toItem);
}

/** See `VectorStore.count`. */
export async function countItems(driver: SqlDriver, namespace: string, options: { userId?: string; filter?: MetadataFilter }): Promise<number> {
    const opts = checkOptionsObject<{ userId?: string; filter?: MetadataFilter }>("count options", options, ["userId", "filter"]);
    const ns = await requireNamespace(driver, namespace);
    const { where, params } = itemConditions(ns, opts.userId, opts.filter);
    const [row] = await driver.query<{ count: number }>(`SELECT count(*)::float8 AS count FROM q3e_items WHERE ${where}`, params);
    return row?.count ?? 0;
}

/** See `VectorStore.delete`. */
export async function deleteItems(driver: SqlDriver, namespace: string, ids: readonly string[], options: { userId?: string }): Promise<string[]> {
    const opts = checkOptionsObject<{ userId?: string }>("delete options", options, USER_OPTIONS);
    const wanted = checkIds("ids", ids);
    const userId = opts.userId === undefined ? "" : checkUserId("userId", opts.userId, { allowEmpty: true });
    const ns = await requireNamespace(driver, namespace);
    if (wanted.length === 0) return [];
    const rows = await driver.query<{ id: string }>(
        `DELETE FROM q3e_items WHERE namespace_id = ${ns.id} AND user_id = $1 AND id = ANY (ARRAY(SELECT jsonb_array_elements_text($2::jsonb))) RETURNING id`,
        [userId, JSON.stringify(wanted)],
    );
    const deleted = new Set(rows.map((row) => row.id));
    return wanted.filter((id) => deleted.has(id));
}

/** See `VectorStore.unchangedIds`. */
export async function unchangedItemIds(
    driver: SqlDriver,
    namespace: string,
    candidates: readonly { id: string; text: string; metadata?: Metadata }[],
    options: { userId?: string },
): Promise<Set<string>> {
    const opts = checkOptionsObject<{ userId?: string }>("unchangedIds options", options, USER_OPTIONS);
    const userId = opts.userId === undefined ? "" : checkUserId("userId", opts.userId, { allowEmpty: true });
    const ns = await requireNamespace(driver, namespace);
    if (candidates.length === 0) return new Set();
    const payload = recordsetJson(candidates.map((candidate, index) => ({
        id: checkItemId(`candidates[${index}].id`, candidate.id),
        content_hash: sha256Hex(checkItemText(`candidates[${index}].text`, candidate.text)),
        metadata: checkMetadata(`candidates[${index}].metadata`, candidate.metadata),
    })), ["metadata"]);
    // One primary-key lookup per candidate (LATERAL, kept a nested loop by OFFSET 0): the plan does not depend on
    // statistics, which PGlite only has after an explicit ANALYZE.
    const rows = await driver.query<{ id: string }>(
        `SELECT r.id FROM jsonb_to_recordset($2::jsonb) AS r(id text, content_hash text, metadata jsonb)
             CROSS JOIN LATERAL (
                 SELECT item.content_hash, item.metadata FROM q3e_items AS item
                 WHERE item.namespace_id = ${ns.id} AND item.user_id = $1 AND item.id = r.id
                 OFFSET 0
             ) AS item
             WHERE item.content_hash = r.content_hash AND item.metadata = r.metadata`,
        [userId, payload],
    );
    return new Set(rows.map((row) => row.id));
}
