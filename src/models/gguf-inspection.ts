import { open, stat } from "node:fs/promises";
import type { GGUFParseOutput } from "@huggingface/gguf";
import { ModelFileError, UnsupportedModelError } from "../internal/errors.js";
import { runInShortLivedThread } from "../internal/short-lived-thread.js";
import { GGML_TYPE_SIZES } from "./ggml-type-sizes.js";

export type PoolingType = "none" | "mean" | "cls" | "last" | "rank" | "unspecified";

/** What a GGUF file says about itself, read from its header without loading weights. */
export interface GgufInspection {
    path: string;
    fileSizeBytes: number;
    architecture: string;
    name: string | undefined;
    embeddingSize: number;
    trainedContextSize: number;
    layers: number;
    /** `<arch>.pooling_type`; "unspecified" when the key is absent (a plain causal LM). */
    pooling: PoolingType;
    /** Tokens listed in the vocabulary (may exceed the tokenizer's own count: converters pad it). */
    vocabularySize: number;
    eosTokenId: number | undefined;
    /** `tokenizer.ggml.add_eos_token`: whether llama.cpp appends EOS itself when asked to add special tokens. */
    addEosToken: boolean;
    addBosToken: boolean;
    hasOutputHead: boolean;
    /** Rows of `cls.output.weight` (2 for a Qwen3 reranker converted with RANK pooling), 0 when absent. */
    classifierRows: number;
    classifierLabels: string[];
    hasRerankTemplate: boolean;
    tensorCount: number;
}

const POOLING_TYPES: Record<number, PoolingType> = { 0: "none", 1: "mean", 2: "cls", 3: "last", 4: "rank" };
const GGUF_MAGIC = Buffer.from("GGUF", "latin1");

/**
 * Reads and checks a GGUF header: the file exists, is a GGUF, is complete, and is a Qwen3 model.
 * Throws ModelFileError or UnsupportedModelError naming the problem and the fix.
 */
export async function inspectGguf(path: string): Promise<GgufInspection> {
    let size: number;
    let identity: string;
    try {
        const info = await stat(path, { bigint: true });
        if (!info.isFile()) throw new ModelFileError(`${path} is not a file; pass the path of a .gguf model file`);
        size = Number(info.size);
        identity = [path, info.dev, info.ino, info.size, info.mtimeNs, info.ctimeNs].join("\0");
    } catch (error) {
        if (error instanceof ModelFileError) throw error;
        const code = (error as NodeJS.ErrnoException).code;
        if (code === "ENOENT") {
            throw new ModelFileError(
                `Model file not found: ${path}. Pass the path of a .gguf file, or download one with \`npx qwen3-embedding pull <model>\``,
            );
        }
        throw new ModelFileError(`Cannot read the model file ${path}: ${(error as Error).message}`, { cause: error });
    }

    const head = Buffer.alloc(16);
    const handle = await open(path, "r");
    try {
        await handle.read(head, 0, 16, 0);
    } finally {
        await handle.close();
    }
    if (size < 8 || !head.subarray(0, 4).equals(GGUF_MAGIC)) {
        throw new ModelFileError(
            `${path} is not a GGUF file (it does not start with the bytes "GGUF"); qwen3-embedding loads llama.cpp GGUF models such as Qwen/Qwen3-Embedding-0.6B-GGUF`,
        );
    }

    let parsed: GgufHeader;
    try {
        parsed = await readGgufHeaderOnce(path, identity);
    } catch (error) {
        throw new ModelFileError(
            `${path} has a damaged or truncated GGUF header (${(error as Error).message}); download the file again`,
            { cause: error },
        );
    }
    // The parser reads past the end of a cut-off header without complaint; check it against the declared counts.
    const declaredTensors = size >= 16 ? head.readBigUInt64LE(8) : -1n;
    if (parsed.tensorDataOffset > BigInt(size) || BigInt(parsed.tensorInfos.length) !== declaredTensors) {
        throw new ModelFileError(
            `${path} has a damaged or truncated GGUF header (it declares ${declaredTensors} tensors and ends at byte ${size}); download the file again`,
        );
    }
    const metadata = parsed.metadata;
    const architecture = String(metadata["general.architecture"] ?? "");

    let dataEnd = 0n;
    for (const tensor of parsed.tensorInfos) {
        const type = GGML_TYPE_SIZES.get(Number(tensor.dtype));
        if (type === undefined) continue;
        const count = tensor.shape.reduce((product, dimension) => product * dimension, 1n);
        const end = tensor.offset + (count / BigInt(type.blockSize)) * BigInt(type.bytesPerBlock);
        if (end > dataEnd) dataEnd = end;
    }
    const needed = parsed.tensorDataOffset + dataEnd;
    if (BigInt(size) < needed) {
        throw new ModelFileError(
            `${path} is truncated: its tensors need ${needed} bytes but the file has ${size}; the download was probably interrupted, download it again`,
        );
    }

    if (architecture !== "qwen3") {
        throw new UnsupportedModelError(
            `${path} is a GGUF for architecture "${architecture || "unknown"}", not a Qwen3 model; qwen3-embedding runs Qwen3-Embedding and Qwen3-Reranker GGUFs (architecture qwen3)`,
        );
    }

    const number = (key: string): number | undefined => {
        const value = metadata[key];
        return typeof value === "number" ? value : typeof value === "bigint" ? Number(value) : undefined;
    };
    const labels = metadata[`${architecture}.classifier.output_labels`];
    const classifier = parsed.tensorInfos.find((tensor) => tensor.name === "cls.output.weight");
    const poolingId = number(`${architecture}.pooling_type`);

    return {
        path,
        fileSizeBytes: size,
        architecture,
        name: typeof metadata["general.name"] === "string" ? metadata["general.name"] : undefined,
        embeddingSize: number(`${architecture}.embedding_length`) ?? 0,
        trainedContextSize: number(`${architecture}.context_length`) ?? 0,
        layers: number(`${architecture}.block_count`) ?? 0,
        pooling: poolingId === undefined ? "unspecified" : (POOLING_TYPES[poolingId] ?? "unspecified"),
        vocabularySize: parsed.arrayLengths["tokenizer.ggml.tokens"] ?? 0,
        eosTokenId: number("tokenizer.ggml.eos_token_id"),
        addEosToken: metadata["tokenizer.ggml.add_eos_token"] === true,
        addBosToken: metadata["tokenizer.ggml.add_bos_token"] === true,
        hasOutputHead: parsed.tensorInfos.some((tensor) => tensor.name === "output.weight"),
        classifierRows: classifier === undefined ? 0 : Number(classifier.shape[1] ?? 1n),
        classifierLabels: Array.isArray(labels) ? labels.map(String) : [],
        hasRerankTemplate: typeof metadata["tokenizer.chat_template.rerank"] === "string",
        tensorCount: parsed.tensorInfos.length,
    };
}

/** The parsed header, with every array of more than 256 values (the tokenizer's) left out but its length kept. */
interface GgufHeader {
    metadata: Record<string, unknown>;
    arrayLengths: Record<string, number>;
    tensorInfos: GGUFParseOutput["tensorInfos"];
    tensorDataOffset: bigint;
}

/**
 * Headers parsed lately, by file identity (device, inode, size, modification and change times): each parse costs about
 * a second of CPU (~300,000 tokenizer strings), and a process that creates an embedder, a reranker and a tokenizer on
 * one file, or creates embedders again, would pay it each time. A file written or replaced since is parsed again.
 */
const recentHeaders = new Map<string, Promise<GgufHeader>>();
const RECENT_HEADERS = 8;

function readGgufHeaderOnce(path: string, identity: string): Promise<GgufHeader> {
    let header = recentHeaders.get(identity);
    if (header === undefined) {
        header = readGgufHeader(path);
        header.catch(() => recentHeaders.delete(identity));
        if (recentHeaders.size >= RECENT_HEADERS) recentHeaders.delete(recentHeaders.keys().next().value!);
        recentHeaders.set(identity, header);
    }
    return header;
}

// Parsed in a thread of its own: the tokenizer arrays (~300,000 strings) would otherwise grow this thread's heap by
// ~30 MB for the life of the process (measured: main-thread heap 60 MB with, 31 MB without).
function readGgufHeader(path: string): Promise<GgufHeader> {
    const body = `async ({ path }, importModule) => {
        const { gguf } = await importModule("@huggingface/gguf");
        const parsed = await gguf(path, { allowLocalFile: true });
        const metadata = {};
        const arrayLengths = {};
        for (const [key, value] of Object.entries(parsed.metadata)) {
            if (Array.isArray(value)) {
                arrayLengths[key] = value.length;
                if (value.length > 256) continue;
            }
            metadata[key] = value;
        }
        return { metadata, arrayLengths, tensorInfos: parsed.tensorInfos, tensorDataOffset: parsed.tensorDataOffset };
    }`;
    return runInShortLivedThread<GgufHeader>(body, { path }, ["@huggingface/gguf"]);
}
