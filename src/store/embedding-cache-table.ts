/**
 * The embedding cache's table (q3e_embedding_cache): vectors by text hash, per model, dimension and instruction, so
 * that a text already embedded is never embedded again. The application-layer cache in front of the embedder is
 * src/applications/embedding-cache.ts.
 */
import { InvalidOptionError } from "../internal/errors.js";
import { checkInteger, checkOptionsObject, checkString, describeValue } from "../internal/validation.js";
import { checkEmbedding } from "./item-validation.js";
import { recordsetJson } from "./recordset-json.js";
import type { SqlExecutor } from "./sql-driver.js";
import type { CacheKey } from "./store-types.js";
import { parseVectorText, sha256Hex, toVectorText } from "./vector-text.js";

/** Hashes per statement. */
const CHUNK = 1000;

/** See `VectorStore.cacheLookup`. */
export async function lookUpCachedEmbeddings(driver: SqlExecutor, key: CacheKey, textHashes: readonly string[]): Promise<Map<string, Float32Array>> {
    const { model, dimensions, instructionHash } = checkCacheKey(key);
    const unique = [...new Set(checkHashes(textHashes))];
    const found = new Map<string, Float32Array>();
    for (let start = 0; start < unique.length; start += CHUNK) {
        const rows = await driver.query<{ text_hash: string; embedding: string }>(
            `SELECT wanted.text_hash, cached.embedding::text AS embedding
                 FROM jsonb_array_elements_text($4::jsonb) AS wanted(text_hash)
                 CROSS JOIN LATERAL (
                     SELECT embedding FROM q3e_embedding_cache
                     WHERE model = $1 AND dimensions = $2 AND instruction_hash = $3 AND text_hash = wanted.text_hash
                     OFFSET 0
                 ) AS cached`,
            [model, dimensions, instructionHash, JSON.stringify(unique.slice(start, start + CHUNK))],
        );
        for (const row of rows) found.set(row.text_hash, parseVectorText(row.embedding));
    }
    return found;
}

/** See `VectorStore.cacheStore`. */
export async function storeCachedEmbeddings(
    driver: SqlExecutor,
    key: CacheKey,
    entries: readonly { textHash: string; embedding: Float32Array | readonly number[] }[],
): Promise<void> {
    const { model, dimensions, instructionHash } = checkCacheKey(key);
    const byHash = new Map<string, string>();
    entries.forEach((entry, index) => {
        const [hash] = checkHashes([entry.textHash]);
        byHash.set(hash!, toVectorText(checkEmbedding(`entries[${index}].embedding`, entry.embedding, dimensions)));
    });
    const rows = [...byHash.entries()].map(([hash, vector]) => ({ text_hash: hash, embedding: vector }));
    for (let start = 0; start < rows.length; start += CHUNK) {
        await driver.query(
            `INSERT INTO q3e_embedding_cache (model, dimensions, instruction_hash, text_hash, embedding)
                 SELECT $1, $2, $3, r.text_hash, r.embedding::vector FROM jsonb_to_recordset($4::jsonb) AS r(text_hash text, embedding text)
                 ON CONFLICT DO NOTHING`,
            [model, dimensions, instructionHash, recordsetJson(rows.slice(start, start + CHUNK))],
        );
    }
}

/** See `VectorStore.clearCache`. */
export async function clearCachedEmbeddings(driver: SqlExecutor, options: { model?: string }): Promise<number> {
    const opts = checkOptionsObject<{ model?: string }>("clearCache options", options, ["model"]);
    const rows = opts.model === undefined
        ? await driver.query<{ count: number }>("WITH gone AS (DELETE FROM q3e_embedding_cache RETURNING 1) SELECT count(*)::float8 AS count FROM gone")
        : await driver.query<{ count: number }>(
            "WITH gone AS (DELETE FROM q3e_embedding_cache WHERE model = $1 RETURNING 1) SELECT count(*)::float8 AS count FROM gone",
            [checkString("model", opts.model, { allowEmpty: false })],
        );
    return rows[0]?.count ?? 0;
}

function checkHashes(hashes: readonly unknown[]): string[] {
    if (!Array.isArray(hashes)) throw new InvalidOptionError(`Expected an array of hex SHA-256 hashes for textHashes but received ${describeValue(hashes)}`);
    return hashes.map((hash, index) => {
        if (typeof hash !== "string" || !/^[0-9a-f]{64}$/.test(hash)) {
            throw new InvalidOptionError(`Expected a hex SHA-256 hash for textHashes[${index}] but received ${describeValue(hash)}`);
        }
        return hash;
    });
}

function checkCacheKey(key: CacheKey): { model: string; dimensions: number; instructionHash: string } {
    const value = checkOptionsObject<CacheKey>("cache key", key, ["model", "dimensions", "instruction"]);
    return {
        model: checkString("model", value.model, { allowEmpty: false }),
        dimensions: checkInteger("dimensions", value.dimensions, 1, 16_000),
        instructionHash: sha256Hex(checkString("instruction", value.instruction)),
    };
}
