/**
 * Writes a tiny GGUF whose header looks like a Qwen3 embedding model or reranker (no real weights), for tests of the
 * model registry, location and download checks. Built with the reference's mini GGUF writer.
 */
import { writeFileSync } from "node:fs";
import { buildMiniGguf, type MiniKv, type MiniTensor } from "../reference/mini-gguf.js";

export type HeaderFlavour = "embedding-last" | "embedding-unpooled" | "reranker-rank" | "reranker-causal" | "mean-pooled";

export interface HeaderShape {
    hiddenSize: number;
    layers: number;
    /** general.name; "" leaves the key out. Default: "Qwen3 Reranker" or "Qwen3 Embedding" by flavour. */
    name?: string;
}

const F32 = 0;
const POOLING_ID = { last: 3, rank: 4, mean: 1 } as const;

function f32Tensor(name: string, dims: number[]): MiniTensor {
    const count = dims.reduce((product, dimension) => product * dimension, 1);
    return { name, dims, type: F32, data: new Uint8Array(count * 4) };
}

/** Writes the file and returns its path. Tensors are 4-wide stand-ins; only their names and row counts matter. */
export function writeQwen3HeaderFile(path: string, flavour: HeaderFlavour, shape: HeaderShape): string {
    writeFileSync(path, qwen3HeaderBytes(flavour, shape));
    return path;
}

/** The bytes writeQwen3HeaderFile writes. */
export function qwen3HeaderBytes(flavour: HeaderFlavour, shape: HeaderShape): Buffer {
    const name = shape.name ?? (flavour.startsWith("reranker") ? "Qwen3 Reranker" : "Qwen3 Embedding");
    const kvs: MiniKv[] = [
        ["general.architecture", "str", "qwen3"],
        ...(name === "" ? [] : [["general.name", "str", name] as MiniKv]),
        ["qwen3.embedding_length", "u32", shape.hiddenSize],
        ["qwen3.block_count", "u32", shape.layers],
        ["qwen3.context_length", "u32", 32768],
    ];
    const tensors: MiniTensor[] = [f32Tensor("token_embd.weight", [4, 8])];
    if (flavour === "embedding-last") kvs.push(["qwen3.pooling_type", "u32", POOLING_ID.last]);
    if (flavour === "mean-pooled") kvs.push(["qwen3.pooling_type", "u32", POOLING_ID.mean]);
    if (flavour === "reranker-rank") {
        kvs.push(["qwen3.pooling_type", "u32", POOLING_ID.rank]);
        tensors.push(f32Tensor("cls.output.weight", [4, 2]));
    }
    if (flavour === "reranker-causal") tensors.push(f32Tensor("output.weight", [4, 8]));
    return buildMiniGguf(kvs, tensors);
}
