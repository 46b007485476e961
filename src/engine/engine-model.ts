import { ModelFileError, DisposedError } from "../internal/errors.js";
import { inspectGguf, type GgufInspection } from "../models/gguf-inspection.js";
import { checkBoolean, checkInteger, checkOneOf, checkOptionsObject, checkString } from "../internal/validation.js";
import { createEngineContext, type EngineContext, type EngineContextOptions } from "./engine-context.js";
import { bindLlamaLibrary, GPU_CHOICES, type GpuOption, type LlamaLibrary } from "./llama-library.js";
import { callNative } from "./native-errors.js";
import { loadNativeAddon, type NativeModel, type NativeModelInfo } from "./native-addon.js";

export interface LoadEngineModelOptions {
    /** llama.cpp build to use; default "auto" (node-llama-cpp's pick). Env: QWEN3_EMBEDDING_GPU. */
    gpu?: GpuOption;
    /** Layers to offload to the GPU: a count or "max" (default). Ignored on CPU builds. */
    gpuLayers?: number | "max";
    /** Memory-map the weights (default true). */
    useMmap?: boolean;
    /**
     * Let llama.cpp repack weights for this CPU's fastest kernels (its "extra buffer types": AMX on Intel Xeons,
     * repacked Q4_0/IQ4_NL layouts on x86 and ARM). Default true. Where it applies, the repacked weights are a second
     * copy in memory on top of the mapped file; false keeps memory at the file's size, at that speed's cost (see
     * README, "Memory"). On CPUs where nothing is repacked it changes nothing.
     */
    repackWeights?: boolean;
    /** Bind to this libllama shared library instead of node-llama-cpp's. Env: QWEN3_EMBEDDING_LLAMA_LIBRARY. */
    libraryPath?: string;
}

export const LOAD_OPTIONS = ["gpu", "gpuLayers", "useMmap", "repackWeights", "libraryPath"] as const;

/** A GGUF model loaded once per process and shared by every context and worker thread that loads the same file. */
export class EngineModel {
    #native: NativeModel | undefined;
    readonly path: string;
    readonly inspection: GgufInspection;
    readonly info: NativeModelInfo;
    readonly library: LlamaLibrary;

    /** @internal */
    constructor(path: string, inspection: GgufInspection, native: NativeModel, library: LlamaLibrary) {
        this.path = path;
        this.inspection = inspection;
        this.#native = native;
        this.info = native.info();
        this.library = library;
    }

    get disposed(): boolean {
        return this.#native === undefined;
    }

    /**
     * Tokenizes texts. `special: false` (user text) keeps spelled-out control tokens such as `<|im_end|>` as plain
     * text; `special: true` (template text) parses them. Nothing is added (no BOS/EOS).
     */
    async tokenize(texts: readonly string[], { special }: { special: boolean }): Promise<Int32Array[]> {
        const native = this.#use();
        if (!Array.isArray(texts)) checkString("texts", texts);
        texts.forEach((text, index) => checkString(`texts[${index}]`, text));
        checkBoolean("special", special);
        return callNative(() => native.tokenize([...texts], special));
    }

    async detokenize(ids: Int32Array | readonly number[], { special = false }: { special?: boolean } = {}): Promise<string> {
        const native = this.#use();
        checkBoolean("special", special);
        const array = ids instanceof Int32Array ? ids : Int32Array.from(ids);
        return callNative(() => native.detokenize(array, special));
    }

    async createContext(options: EngineContextOptions = {}): Promise<EngineContext> {
        return createEngineContext(this.#use(), this, options);
    }

    /**
     * Releases this handle (at once: the promise resolves when it is released); the weights are freed once no
     * context or other handle uses them. Calling it again does nothing.
     */
    async dispose(): Promise<void> {
        this.#native?.dispose();
        this.#native = undefined;
    }

    async [Symbol.asyncDispose](): Promise<void> {
        await this.dispose();
    }

    #use(): NativeModel {
        if (this.#native === undefined) throw new DisposedError(`The model ${this.path} was disposed; load it again`);
        return this.#native;
    }
}

/** Loads a Qwen3 GGUF after checking the file (exists, complete, GGUF, Qwen3). */
export async function loadEngineModel(path: string, options: LoadEngineModelOptions = {}): Promise<EngineModel> {
    checkString("path", path, { allowEmpty: false });
    const checked = checkLoadOptions(options); // before reading the file, so a bad option is reported first
    return loadChecked(await inspectGguf(path), checked);
}

/** Loads a model whose header was already read and checked with inspectGguf. */
export async function loadInspectedEngineModel(inspection: GgufInspection, options: LoadEngineModelOptions = {}): Promise<EngineModel> {
    return loadChecked(inspection, checkLoadOptions(options));
}

async function loadChecked(
    inspection: GgufInspection,
    { gpu, gpuLayers, useMmap, repackWeights, libraryPath }: ReturnType<typeof checkLoadOptions>,
): Promise<EngineModel> {
    const path = inspection.path;
    const library = await bindLlamaLibrary({ gpu, ...(libraryPath === undefined ? {} : { libraryPath }) });
    const native = await callNative(() => loadNativeAddon().loadModel(path, { gpuLayers, useMmap, extraBufferTypes: repackWeights }));
    const model = new EngineModel(path, inspection, native, library);
    if (model.info.embeddingSize !== inspection.embeddingSize) {
        await model.dispose();
        throw new ModelFileError(`${path}: llama.cpp reports ${model.info.embeddingSize} dimensions but the header says ${inspection.embeddingSize}`);
    }
    return model;
}

export function checkLoadOptions(options: LoadEngineModelOptions) {
    const opts = checkOptionsObject<LoadEngineModelOptions>("loadEngineModel options", options, LOAD_OPTIONS);
    const gpu = opts.gpu ?? parseGpuEnv();
    if (gpu !== false) checkOneOf("gpu", gpu, GPU_CHOICES);
    const gpuLayers = opts.gpuLayers === undefined || opts.gpuLayers === "max" ? -1 : checkInteger("gpuLayers", opts.gpuLayers, 0, 100_000);
    const useMmap = opts.useMmap === undefined ? true : checkBoolean("useMmap", opts.useMmap);
    const repackWeights = opts.repackWeights === undefined ? true : checkBoolean("repackWeights", opts.repackWeights);
    if (opts.libraryPath !== undefined) checkString("libraryPath", opts.libraryPath, { allowEmpty: false });
    return { gpu, gpuLayers, useMmap, repackWeights, libraryPath: opts.libraryPath };
}

function parseGpuEnv(): GpuOption {
    const value = process.env["QWEN3_EMBEDDING_GPU"];
    if (value === undefined || value === "") return "auto";
    if (value === "false" || value === "cpu") return false;
    return checkOneOf("QWEN3_EMBEDDING_GPU", value, GPU_CHOICES);
}
