import { createHash } from "node:crypto";
import { open, stat } from "node:fs/promises";
import { resolve } from "node:path";
import { ModelFileError } from "../internal/errors.js";

/** Bytes read from the start of the file: the GGUF header (metadata, vocabulary, tensor table) and the first weights. */
const HEAD_BYTES = 8 << 20;
/** Samples spread evenly over the rest of the file, and their size. */
const SAMPLES = 64;
const SAMPLE_BYTES = 64 << 10;

const memo = new Map<string, { key: string; fingerprint: Promise<string> }>();

/**
 * A cheap identity for a model file, used to key cached embeddings and to bind a namespace to its model:
 * `gguf-sha256:<hex>` over the file size, its first 8 MiB (the GGUF header: architecture, tokenizer, tensor table,
 * then weights) and 64 blocks of 64 KiB spread evenly over the rest (weights).
 *
 * Why not the header alone: two fine-tunes of one base model, or two conversions of one checkpoint, have the same
 * header and the same size, and would then share cached vectors that differ. Why not a full hash: an 8B F16 file is
 * 16 GB, a minute of reading on every start. Sampling reads about 12 MiB whatever the size (a few milliseconds from
 * the page cache), and any retraining or requantization changes every tensor, hence the samples. Memoized per
 * process by path, size and modification time.
 */
export async function modelFingerprint(path: string): Promise<string> {
    const absolute = resolve(path);
    let info: Awaited<ReturnType<typeof stat>>;
    try {
        info = await stat(absolute);
    } catch (error) {
        throw new ModelFileError(`Cannot read the model file ${absolute}: ${(error as Error).message}`, { cause: error });
    }
    const key = `${info.size}:${info.mtimeMs}`;
    const known = memo.get(absolute);
    if (known !== undefined && known.key === key) return known.fingerprint;
    const fingerprint = computeFingerprint(absolute, info.size);
    memo.set(absolute, { key, fingerprint });
    fingerprint.catch(() => memo.delete(absolute));
    return fingerprint;
}

async function computeFingerprint(path: string, size: number): Promise<string> {
    const hash = createHash("sha256");
    hash.update(`gguf-fingerprint-v1:${size}:`);
    const file = await open(path, "r");
    try {
        const head = Buffer.alloc(Math.min(HEAD_BYTES, size));
        await readFully(file, head, 0);
        hash.update(head);
        const rest = size - head.length;
        if (rest > 0) {
            const block = Buffer.alloc(Math.min(SAMPLE_BYTES, rest));
            const stride = Math.max(1, Math.floor((rest - block.length) / Math.max(1, SAMPLES - 1)));
            for (let sample = 0; sample < SAMPLES; sample++) {
                const offset = head.length + Math.min(sample * stride, rest - block.length);
                await readFully(file, block, offset);
                hash.update(block);
                if (rest <= block.length) break;
            }
        }
    } catch (error) {
        throw new ModelFileError(`Cannot read the model file ${path}: ${(error as Error).message}`, { cause: error });
    } finally {
        await file.close();
    }
    return `gguf-sha256:${hash.digest("hex")}`;
}

async function readFully(file: Awaited<ReturnType<typeof open>>, buffer: Buffer, position: number): Promise<void> {
    let filled = 0;
    while (filled < buffer.length) {
        const { bytesRead } = await file.read(buffer, filled, buffer.length - filled, position + filled);
        if (bytesRead === 0) throw new Error(`unexpected end of file at byte ${position + filled}`);
        filled += bytesRead;
    }
}
