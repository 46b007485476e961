import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadAddonBinary } from "./addon-binary.js";
import type { LlamaBuild } from "./llama-build-guard.js";

/** The shape of the compiled addon, qwen3_embedding.node (native/addon.cc, addon-model.cc, addon-context.cc). */
export interface NativeAddon {
    /** The llama.cpp build this binary was compiled for (recorded at its build; see llama-build-guard.ts). */
    readonly builtFor: LlamaBuild;
    init(libraryPath?: string): NativeLibraryInfo;
    /** The libllama this process is bound to, or "" before a binding succeeded. */
    boundLibraryPath(): string;
    findLoadedLibrary(prefix: string): string;
    loadModel(path: string, options: { gpuLayers?: number; useMmap?: boolean; extraBufferTypes?: boolean }): Promise<NativeModel>;
    /** Models loaded in this process right now, across all threads. */
    liveModelCount(): number;
}

export interface NativeLibraryInfo {
    libraryPath: string;
    gpuOffloadSupported: boolean;
}

export interface NativeModelInfo {
    description: string;
    architecture: string;
    embeddingSize: number;
    trainedContextSize: number;
    layers: number;
    vocabularySize: number;
    eosToken: number;
    parameters: number;
    sizeBytes: number;
    classifierLabels: string[];
    gpuOffloadSupported: boolean;
}

export interface NativeModel {
    info(): NativeModelInfo;
    tokenize(texts: string[], parseSpecial: boolean): Promise<Int32Array[]>;
    detokenize(ids: Int32Array, renderSpecial: boolean): Promise<string>;
    createContext(options: NativeContextOptions): Promise<NativeContext>;
    dispose(): void;
}

export interface NativeContextOptions {
    batchTokens: number;
    contextSize: number;
    maxSequences: number;
    threads: number;
    /** 0 off, 1 on, 2 auto */
    flashAttention: 0 | 1 | 2;
    /** ggml type id: 0 f32, 1 f16, 8 q8_0 */
    kvCacheType: number;
    sequenceAlignment: number;
    llamaPooling: boolean;
}

export interface NativeContextInfo {
    contextSize: number;
    batchTokens: number;
    maxSequences: number;
    embeddingSize: number;
    flashAttention: "on" | "off" | "auto";
    /** See EngineContextOptions.sequenceAlignment (0 with llamaPooling). */
    sequenceAlignment: number;
    /** Sequences of at most this many tokens are packed unaligned, into the gaps (0 when nothing is aligned). */
    unalignedMaxTokens: number;
    rankMethod: "classifier-rows" | "yes-no-logits" | "llama-rank-pooling";
    rankUnavailable: string;
}

/**
 * Calls run on a thread the context owns (native/context-thread.h), interactive ones first and between the decodes
 * of a bulk call in flight. `callId` names a call for abort(); `abort()` without one aborts every call so far.
 */
export interface NativeContext {
    info(): NativeContextInfo;
    embedBatch(tokens: Int32Array, lengths: Uint32Array, callId: number, interactive: boolean): Promise<Float32Array>;
    rankBatch(tokens: Int32Array, lengths: Uint32Array, callId: number, interactive: boolean): Promise<Float32Array>;
    abort(callId?: number): void;
    /** Aborts the calls queued or running; resolves once the llama.cpp contexts are freed (on the context's thread). */
    dispose(): Promise<void>;
    /** llama_decode calls made so far. */
    decodeCount(): number;
    /** Tokens not decoded so far because a kept shared prefix held them (native/prefix-cache.h). */
    prefixTokenCount(): number;
}

/**
 * Lists T's keys: the list must name every key of T and nothing else, or it does not compile. With the lists
 * below, test/engine/native-addon-surface.test.ts holds these interfaces to what the compiled addon really has.
 */
function keyList<T>() {
    return <const K extends readonly (keyof T)[]>(
        ...keys: K & ([Exclude<keyof T, K[number]>] extends [never] ? unknown : { missingKeys: Exclude<keyof T, K[number]> })
    ): K => keys;
}

export const NATIVE_ADDON_KEYS = keyList<NativeAddon>()("builtFor", "init", "boundLibraryPath", "findLoadedLibrary", "loadModel", "liveModelCount");
export const NATIVE_BUILT_FOR_KEYS = keyList<LlamaBuild>()("nodeLlamaCppVersion", "llamaCppRelease", "llamaCppCommit", "ggmlVersion");
export const NATIVE_LIBRARY_INFO_KEYS = keyList<NativeLibraryInfo>()("libraryPath", "gpuOffloadSupported");
export const NATIVE_MODEL_METHODS = keyList<NativeModel>()("info", "tokenize", "detokenize", "createContext", "dispose");
export const NATIVE_MODEL_INFO_KEYS = keyList<NativeModelInfo>()(
    "description",
    "architecture",
    "embeddingSize",
    "trainedContextSize",
    "layers",
    "vocabularySize",
    "eosToken",
    "parameters",
    "sizeBytes",
    "classifierLabels",
    "gpuOffloadSupported",
);
export const NATIVE_CONTEXT_METHODS = keyList<NativeContext>()("info", "embedBatch", "rankBatch", "abort", "dispose", "decodeCount", "prefixTokenCount");
export const NATIVE_CONTEXT_INFO_KEYS = keyList<NativeContextInfo>()(
    "contextSize",
    "batchTokens",
    "maxSequences",
    "embeddingSize",
    "flashAttention",
    "sequenceAlignment",
    "unalignedMaxTokens",
    "rankMethod",
    "rankUnavailable",
);

let addon: { path: string; exports: NativeAddon } | undefined;

/** The package root: src/engine/ or dist/engine/, two folders up. */
const PACKAGE_ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** Loads the compiled addon on first use (never on import): a local build, else the prebuilt binary (addon-binary.ts). */
export function loadNativeAddon(): NativeAddon {
    return loadedAddon().exports;
}

/** The file loadNativeAddon loaded the addon from, for another thread to load the same one. */
export function nativeAddonPath(): string {
    return loadedAddon().path;
}

function loadedAddon(): { path: string; exports: NativeAddon } {
    addon ??= loadAddonBinary(PACKAGE_ROOT) as { path: string; exports: NativeAddon };
    return addon;
}
