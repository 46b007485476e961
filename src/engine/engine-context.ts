import { availableParallelism } from "node:os";
import { AbortedError, ContextTooSmallError, DisposedError, InvalidOptionError } from "../internal/errors.js";
import { checkAbortSignal, checkBoolean, checkInteger, checkOneOf, checkOptionsObject } from "../internal/validation.js";
import type { EngineModel } from "./engine-model.js";
import type { NativeContext, NativeContextInfo, NativeContextOptions, NativeModel } from "./native-addon.js";
import { callNative } from "./native-errors.js";

export interface EngineContextOptions {
    /** Tokens evaluated per llama.cpp decode (batch and micro-batch size). Default 2048. */
    batchTokens?: number;
    /** KV cache cells; the longest single sequence must fit. Default: the larger of batchTokens and min(8192, trained context). */
    contextSize?: number;
    /** Sequences packed into one decode, 1..min(256, batchTokens). Default batchTokens / 16 (at most 128). */
    maxSequences?: number;
    /** CPU threads per decode. Default: node-llama-cpp's count of math (physical) cores; the logical core count when the library was bound by path. */
    threads?: number;
    /**
     * Flash attention: true, false or "auto" (default: llama.cpp enables it where the backend supports it; off
     * when kvCacheType is "f32", because llama.cpp's flash attention would cast the cache back to f16). On the CPU
     * with flash attention, sequences of 64 tokens or more are decoded one per llama_decode (ggml's tiled kernel)
     * and shorter ones packed in a second context without it, so that a text gets the same result alone or in
     * any batch.
     */
    flashAttention?: boolean | "auto";
    /**
     * KV cache precision: "f16" (default, as llama.cpp), "f32", or "q8_0" (needs flash attention). "f32" is the
     * exact mode: on the F32 fixtures it matches a float64 reference to ~3e-6 in rerank score, where "f16" is
     * within ~1e-3; it costs twice the KV memory and, without flash attention, dense attention over packed batches.
     */
    kvCacheType?: "f16" | "f32" | "q8_0";
    /**
     * Verification mode: evaluate through llama.cpp's embedding mode and its own pooling (LAST / RANK) instead of
     * the fast path. Slower (it computes the vocabulary head for every token); every sequence must fit one batch.
     */
    llamaPooling?: boolean;
    /**
     * Without flash attention (or on a GPU): KV cells each packed sequence of more than 16 tokens starts at a
     * multiple of, so that its result is the same, bit for bit on the CPU, as when it is evaluated alone: ggml sums
     * attention in SIMD lanes, so the start cell changes the last bits, and 28 layers make them visible (cosine
     * 0.9999). Short sequences fill the gaps. Default 16; 0 packs back to back (results then depend on the batch).
     */
    sequenceAlignment?: number;
}

const CONTEXT_OPTIONS = ["batchTokens", "contextSize", "maxSequences", "threads", "flashAttention", "kvCacheType", "llamaPooling", "sequenceAlignment"] as const;
const KV_TYPE_IDS = { f32: 0, f16: 1, q8_0: 8 } as const;

export type TokenSequence = Int32Array | readonly number[];

/** At most the room a sequence of `tokens` takes in one of this context's decodes, alignment padding included. */
export function batchedSequenceLength(info: NativeContextInfo, tokens: number): number {
    const { sequenceAlignment: alignment, unalignedMaxTokens } = info;
    return alignment > 0 && tokens > unalignedMaxTokens ? Math.ceil(tokens / alignment) * alignment : tokens;
}

/** Options of one embedBatch / rankBatch call. */
export interface EngineCallOptions {
    /** Aborts the call, whether it is still queued or running (it stops before its next decode, or inside one on the CPU). */
    signal?: AbortSignal;
    /**
     * "interactive" calls run before queued "bulk" ones, and between the decodes of a bulk call in flight where
     * the context allows it (sequences under 64 tokens beside a long text; any call between two texts). Default "bulk".
     */
    priority?: "interactive" | "bulk";
}

/**
 * One llama.cpp context that evaluates many sequences per decode. Its calls run one at a time on a thread the
 * context owns (not libuv's pool), interactive ones first, each priority in order; use several contexts (or the
 * pool) for parallelism.
 */
export class EngineContext {
    #native: NativeContext | undefined;
    #closed: Promise<void> | undefined;
    #nextCallId = 1;
    readonly #inFlight = new Set<Promise<unknown>>();
    readonly model: EngineModel;
    readonly info: NativeContextInfo;

    /** @internal */
    constructor(native: NativeContext, model: EngineModel) {
        this.#native = native;
        this.model = model;
        this.info = native.info();
    }

    get disposed(): boolean {
        return this.#native === undefined;
    }

    get embeddingSize(): number {
        return this.info.embeddingSize;
    }

    /**
     * Final-norm hidden state of each sequence's last token, row after row (n x embeddingSize), not normalized.
     * The caller appends `<|endoftext|>` to get Qwen3 embeddings.
     */
    embedBatch(sequences: readonly TokenSequence[], options: EngineCallOptions = {}): Promise<Float32Array> {
        return this.#run("embedBatch", sequences, options);
    }

    /** p(yes) in [0, 1] for each sequence (a full reranker prompt), from the yes/no head at the last position. */
    rankBatch(sequences: readonly TokenSequence[], options: EngineCallOptions = {}): Promise<Float32Array> {
        if (this.info.rankUnavailable !== "") {
            return Promise.reject(new InvalidOptionError(`This model cannot rerank: ${this.info.rankUnavailable}`));
        }
        return this.#run("rankBatch", sequences, options);
    }

    /** llama_decode calls this context has made (for diagnostics and tests). */
    get decodeCount(): number {
        return this.#native?.decodeCount() ?? 0;
    }

    /**
     * Tokens this context did not decode because a shared prefix it keeps held them: the `Instruct: ...\nQuery` of
     * queries, the system prompt of rerank pairs (native/prefix-cache.h). Results are the same bits either way.
     */
    get prefixTokenCount(): number {
        return this.#native?.prefixTokenCount() ?? 0;
    }

    /**
     * Frees the llama.cpp context on its own thread: calls queued or running are aborted (a running one stops
     * before its next decode) and reject with DisposedError; resolves once the context is freed. Later calls
     * throw DisposedError; calling it again waits for the same.
     */
    async dispose(): Promise<void> {
        if (this.#closed === undefined) {
            const native = this.#native;
            this.#native = undefined;
            this.#closed = native === undefined ? Promise.resolve() : callNative(() => native.dispose());
        }
        await Promise.allSettled([...this.#inFlight]);
        await this.#closed;
    }

    async [Symbol.asyncDispose](): Promise<void> {
        await this.dispose();
    }

    #run(method: "embedBatch" | "rankBatch", sequences: readonly TokenSequence[], options: EngineCallOptions): Promise<Float32Array> {
        const native = this.#native;
        let packed: { tokens: Int32Array; lengths: Uint32Array };
        let signal: AbortSignal | undefined;
        let priority: "interactive" | "bulk";
        try {
            if (native === undefined) throw new DisposedError("The context was disposed; create a new one");
            const opts = checkOptionsObject<EngineCallOptions>(`${method} options`, options, ["signal", "priority"]);
            signal = checkAbortSignal("signal", opts.signal);
            priority = checkOneOf("priority", opts.priority ?? "bulk", ["interactive", "bulk"] as const);
            packed = this.#pack(sequences);
            if (signal?.aborted) throw new AbortedError();
        } catch (error) {
            return Promise.reject(error);
        }
        const callId = this.#nextCallId++;
        const onAbort = () => native.abort(callId);
        const call = (async (): Promise<Float32Array> => {
            signal?.addEventListener("abort", onAbort, { once: true });
            try {
                return await callNative(() => native[method](packed.tokens, packed.lengths, callId, priority === "interactive"));
            } catch (error) {
                // dispose() stops the calls in flight through their abort flags: say which it was.
                if ((error instanceof AbortedError || error instanceof DisposedError) && this.#native === undefined && !signal?.aborted) {
                    throw new DisposedError("The context was disposed while the batch was queued or running; create a new one");
                }
                throw error;
            } finally {
                signal?.removeEventListener("abort", onAbort);
            }
        })();
        const settled = call.then(() => undefined, () => undefined);
        this.#inFlight.add(settled);
        void settled.then(() => this.#inFlight.delete(settled));
        return call;
    }

    #pack(sequences: readonly TokenSequence[]): { tokens: Int32Array; lengths: Uint32Array } {
        if (!Array.isArray(sequences)) {
            throw new InvalidOptionError(`Expected an array of token sequences but received ${typeof sequences}`);
        }
        const vocabulary = this.model.info.vocabularySize;
        const lengths = new Uint32Array(sequences.length);
        let total = 0;
        sequences.forEach((sequence, index) => {
            if (!(sequence instanceof Int32Array) && !Array.isArray(sequence)) {
                throw new InvalidOptionError(`Expected sequences[${index}] to be an Int32Array or an array of token ids`);
            }
            if (sequence.length === 0) throw new InvalidOptionError(`sequences[${index}] is empty; every sequence needs at least one token`);
            if (sequence.length > this.info.contextSize) {
                throw new ContextTooSmallError(
                    `sequences[${index}] has ${sequence.length} tokens but the context holds ${this.info.contextSize}; truncate it or create the context with a larger contextSize`,
                );
            }
            lengths[index] = sequence.length;
            total += sequence.length;
        });
        const tokens = new Int32Array(total);
        let at = 0;
        sequences.forEach((sequence, index) => {
            for (let i = 0; i < sequence.length; i++) {
                const id = sequence[i]!;
                if (!Number.isInteger(id) || id < 0 || id >= vocabulary) {
                    throw new InvalidOptionError(
                        `Expected token ids between 0 and ${vocabulary - 1} but sequences[${index}][${i}] is ${String(id)}`,
                    );
                }
                tokens[at++] = id;
            }
        });
        return { tokens, lengths };
    }
}

/** The context options checked and resolved; `threads` stays undefined when not given (the library's core count decides). */
export type CheckedContextOptions = Omit<NativeContextOptions, "threads" | "flashAttention" | "kvCacheType"> & {
    threads: number | undefined;
    flashAttention: boolean | "auto";
    kvCacheType: keyof typeof KV_TYPE_IDS;
};

/**
 * Checks every context option against the model's trained context (from its GGUF header), so a caller can refuse a
 * bad option before any weights load.
 */
export function checkContextOptions(options: EngineContextOptions, trainedContextSize: number, label = "createContext options"): CheckedContextOptions {
    const opts = checkOptionsObject<EngineContextOptions>(label, options, CONTEXT_OPTIONS);
    const batchTokens = opts.batchTokens === undefined ? 2048 : checkInteger("batchTokens", opts.batchTokens, 1, 1 << 20);
    const trained = trainedContextSize > 0 ? trainedContextSize : 8192;
    const contextSize = opts.contextSize === undefined
        ? Math.max(batchTokens, Math.min(8192, trained))
        : checkInteger("contextSize", opts.contextSize, batchTokens, Math.max(batchTokens, trained));
    // llama.cpp reserves a vocabulary-wide logits row per sequence (600 KB each for Qwen3), so the default assumes
    // sequences of 16 tokens or more on average; a decode cannot hold more sequences than tokens.
    const maxSequences = opts.maxSequences === undefined
        ? Math.max(1, Math.min(128, Math.floor(batchTokens / 16)))
        : checkInteger("maxSequences", opts.maxSequences, 1, Math.min(256, batchTokens));
    const threads = opts.threads === undefined ? undefined : checkInteger("threads", opts.threads, 1, 1024);
    const kvCacheType = checkOneOf("kvCacheType", opts.kvCacheType ?? "f16", ["f16", "f32", "q8_0"] as const);
    const flashAttention = opts.flashAttention ?? (kvCacheType === "f32" ? false : "auto");
    if (flashAttention !== "auto") checkBoolean("flashAttention", flashAttention);
    const llamaPooling = opts.llamaPooling === undefined ? false : checkBoolean("llamaPooling", opts.llamaPooling);
    const sequenceAlignment = opts.sequenceAlignment === undefined ? 16 : checkInteger("sequenceAlignment", opts.sequenceAlignment, 0, 256);
    return { batchTokens, contextSize, maxSequences, threads, flashAttention, kvCacheType, llamaPooling, sequenceAlignment };
}

/** The environment variable that sets the default CPU threads per decode, for every context of the process. */
export const THREADS_ENV = "QWEN3_EMBEDDING_THREADS";

/**
 * CPU threads per decode when the caller gives none: QWEN3_EMBEDDING_THREADS (for several processes sharing a machine,
 * which would otherwise each take every core and spin-wait on each other), else the cores llama.cpp counts (physical
 * cores), else this machine's parallelism. Not llama.cpp's own default (4 threads whatever the machine): on 2 cores
 * that ran 10x slower.
 */
export function defaultThreads(library: { mathCores: number | undefined }): number {
    const value = process.env[THREADS_ENV];
    if (value !== undefined && value !== "") return checkInteger(THREADS_ENV, /^\d+$/.test(value) ? Number(value) : value, 1, 1024);
    return library.mathCores ?? availableParallelism();
}

export async function createEngineContext(native: NativeModel, model: EngineModel, options: EngineContextOptions): Promise<EngineContext> {
    const checked = checkContextOptions(options, model.info.trainedContextSize);
    const threads = checked.threads ?? defaultThreads(model.library);
    const { flashAttention, kvCacheType } = checked;
    const native_ = await callNative(() =>
        native.createContext({
            ...checked,
            threads,
            flashAttention: flashAttention === "auto" ? 2 : flashAttention ? 1 : 0,
            kvCacheType: KV_TYPE_IDS[kvCacheType],
        }),
    );
    return new EngineContext(native_, model);
}
