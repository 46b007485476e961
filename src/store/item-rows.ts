/** How items are picked out of q3e_items and read back: the columns selected, the WHERE clause, row to StoredItem. */
import { checkUserId, type Metadata } from "./item-validation.js";
import { compileMetadataFilter } from "./metadata-filter.js";
import type { SqlParameter } from "./sql-driver.js";
import type { NamespaceInfo, StoredItem } from "./store-types.js";
import { parseVectorText } from "./vector-text.js";

export interface ItemRow {
    id: string;
    user_id: string;
    text: string;
    metadata: Metadata | string;
    created_at: Date | string;
    updated_at: Date | string;
    embedding?: string;
}

/** The columns `toItem` reads, with the vector as text when asked for. */
export function itemColumns(withEmbeddings: boolean): string {
    return `id, user_id, text, metadata, created_at, updated_at${withEmbeddings ? ", embedding::text AS embedding" : ""}`;
}

/**
 * The namespace's items, of one user when `userId` is given, matching the metadata filter. Parameters are numbered
 * after those already in `params` (a search's query vector is $1), and appended to them.
 */
export function itemConditions(ns: NamespaceInfo, userId: unknown, filter: unknown, params: SqlParameter[] = []): { where: string; params: SqlParameter[] } {
    let where = `namespace_id = ${ns.id}`;
    if (userId !== undefined) {
        params.push(checkUserId("userId", userId, { allowEmpty: true }));
        where += ` AND user_id = $${params.length}`;
    }
    const compiled = compileMetadataFilter(filter, "metadata", params.length + 1);
    params.push(...compiled.params);
    if (compiled.sql !== "TRUE") where += ` AND ${compiled.sql}`;
    return { where, params };
}

export function toItem(row: ItemRow): StoredItem {
    return {
        id: row.id,
        userId: row.user_id,
        text: row.text,
        metadata: typeof row.metadata === "string" ? (JSON.parse(row.metadata) as Metadata) : row.metadata,
        createdAt: new Date(row.created_at),
        updatedAt: new Date(row.updated_at),
        ...(row.embedding === undefined ? {} : { embedding: parseVectorText(row.embedding) }),
    };
}
