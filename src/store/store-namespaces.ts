/**
 * Namespaces (q3e_namespaces): creating, finding and dropping them, and each one's HNSW index over its rows of
 * q3e_items (`q3e_items_hnsw_<id>`, a partial index on `embedding::vector(<dimensions>)`).
 */
import { InvalidOptionError } from "../internal/errors.js";
import { checkInteger, checkOptionsObject, checkString } from "../internal/validation.js";
import { checkNamespace } from "./item-validation.js";
import type { SqlDriver, SqlExecutor } from "./sql-driver.js";
import { StoreError } from "./store-error.js";
import type { NamespaceInfo } from "./store-types.js";

/** The model and dimension a namespace's vectors have. */
export interface NamespaceModel {
    model: string;
    dimensions: number;
}

const NAMESPACE_OPTIONS = ["model", "dimensions"] as const;
const NAMESPACE_COLUMNS = "id, name, model, dimensions, created_at";

interface NamespaceRow {
    id: number;
    name: string;
    model: string;
    dimensions: number;
    created_at: Date | string;
}

/** See `VectorStore.ensureNamespace`. */
export async function ensureNamespace(driver: SqlDriver, name: string, options: NamespaceModel): Promise<NamespaceInfo> {
    checkNamespace("namespace", name);
    const { model, dimensions } = checkNamespaceModelOptions("ensureNamespace options", options);
    const existing = await getNamespace(driver, name);
    if (existing !== undefined) return checkNamespaceModel(existing, model, dimensions);
    const created = await driver.transaction(async (tx) => {
        // Two processes creating the same namespace at once: the second waits here, then finds it.
        await lockNamespace(tx, name);
        const [found] = await tx.query<NamespaceRow>(`SELECT ${NAMESPACE_COLUMNS} FROM q3e_namespaces WHERE name = $1`, [name]);
        if (found !== undefined) return toNamespace(found);
        const [row] = await tx.query<NamespaceRow>(
            `INSERT INTO q3e_namespaces (name, model, dimensions) VALUES ($1, $2, $3) RETURNING ${NAMESPACE_COLUMNS}`,
            [name, model, dimensions],
        );
        const info = toNamespace(row!);
        await tx.query(createIndexSql(info));
        return info;
    });
    return checkNamespaceModel(created, model, dimensions);
}

/**
 * An existing namespace, checked to hold vectors of this model and dimension when they are given.
 * @throws StoreError("namespace_not_found") when it does not exist.
 */
export async function requireNamespace(driver: SqlDriver, name: string, expected?: NamespaceModel): Promise<NamespaceInfo> {
    const ns = await getNamespace(driver, name);
    if (ns === undefined) {
        throw new StoreError("namespace_not_found", `No namespace ${JSON.stringify(name)} in the store at ${driver.location}; index something into it first`);
    }
    if (expected === undefined) return ns;
    const { model, dimensions } = checkNamespaceModelOptions("requireNamespace options", expected);
    return checkNamespaceModel(ns, model, dimensions);
}

export async function getNamespace(driver: SqlExecutor, name: string): Promise<NamespaceInfo | undefined> {
    checkNamespace("namespace", name);
    const [row] = await driver.query<NamespaceRow>(`SELECT ${NAMESPACE_COLUMNS} FROM q3e_namespaces WHERE name = $1`, [name]);
    return row === undefined ? undefined : toNamespace(row);
}

export async function listNamespaces(driver: SqlExecutor): Promise<NamespaceInfo[]> {
    const rows = await driver.query<NamespaceRow>(`SELECT ${NAMESPACE_COLUMNS} FROM q3e_namespaces ORDER BY name`);
    return rows.map(toNamespace);
}

/** Deletes a namespace (its items go with it: ON DELETE CASCADE) and its index. False when it did not exist. */
export async function dropNamespace(driver: SqlDriver, name: string): Promise<boolean> {
    checkNamespace("namespace", name);
    return driver.transaction(async (tx) => {
        const [row] = await tx.query<{ id: number }>("DELETE FROM q3e_namespaces WHERE name = $1 RETURNING id", [name]);
        if (row === undefined) return false;
        await tx.query(`DROP INDEX IF EXISTS ${vectorIndexName(row.id)}`);
        return true;
    });
}

/** See `VectorStore.dropVectorIndex`. */
export async function dropVectorIndex(driver: SqlDriver, name: string): Promise<void> {
    const ns = await requireNamespace(driver, name);
    await driver.query(`DROP INDEX IF EXISTS ${vectorIndexName(ns.id)}`);
}

/** See `VectorStore.buildVectorIndex`. */
export async function buildVectorIndex(driver: SqlDriver, name: string): Promise<boolean> {
    const ns = await requireNamespace(driver, name);
    return driver.transaction(async (tx) => {
        await lockNamespace(tx, name);
        if (await hasIndex(tx, ns.id)) return false;
        // The graph is built in memory when it fits maintenance_work_mem, far faster than on disk.
        await tx.query("SET LOCAL maintenance_work_mem = '256MB'");
        await tx.query(createIndexSql(ns));
        return true;
    });
}

/** The name of a namespace's HNSW index. */
export function vectorIndexName(namespaceId: number): string {
    if (!Number.isSafeInteger(namespaceId) || namespaceId < 1) throw new StoreError("schema", `Corrupt namespace id ${String(namespaceId)}`);
    return `q3e_items_hnsw_${namespaceId}`;
}

/** Serializes the creation of a namespace and of its index across processes, until the transaction ends. */
async function lockNamespace(tx: SqlExecutor, name: string): Promise<void> {
    await tx.query("SELECT pg_advisory_xact_lock(hashtext('q3e_namespace:' || $1::text))", [name]);
}

function createIndexSql(ns: NamespaceInfo): string {
    // Integers from our own table are the only values written into the statement.
    const dimensions = ns.dimensions;
    if (!Number.isSafeInteger(dimensions) || dimensions < 1) throw new StoreError("schema", `Corrupt dimensions ${String(dimensions)} for namespace ${ns.name}`);
    return `CREATE INDEX IF NOT EXISTS ${vectorIndexName(ns.id)} ON q3e_items USING hnsw ((embedding::vector(${dimensions})) vector_cosine_ops) WHERE namespace_id = ${ns.id}`;
}

async function hasIndex(tx: SqlExecutor, namespaceId: number): Promise<boolean> {
    const [row] = await tx.query<{ present: boolean }>("SELECT to_regclass($1) IS NOT NULL AS present", [vectorIndexName(namespaceId)]);
    return row?.present === true;
}

function toNamespace(row: NamespaceRow): NamespaceInfo {
    return { id: Number(row.id), name: row.name, model: row.model, dimensions: Number(row.dimensions), createdAt: new Date(row.created_at) };
}

function checkNamespaceModelOptions(name: string, options: unknown): NamespaceModel {
    const opts = checkOptionsObject<NamespaceModel>(name, options, NAMESPACE_OPTIONS);
    return { model: checkString("model", opts.model, { allowEmpty: false }), dimensions: checkInteger("dimensions", opts.dimensions, 1, 16_000) };
}

function checkNamespaceModel(ns: NamespaceInfo, model: string, dimensions: number): NamespaceInfo {
    if (ns.model !== model || ns.dimensions !== dimensions) {
        throw new InvalidOptionError(
            `Namespace ${JSON.stringify(ns.name)} holds vectors of model ${ns.model} at ${ns.dimensions} dimensions, but this one ` +
            `embeds with model ${model} at ${dimensions} dimensions; use another namespace, or drop this one and index again`,
        );
    }
    return ns;
}
