// qwen3-embedding/engine: the batched llama.cpp engine under the facade, for callers who schedule their own batches.
export { loadEngineModel, EngineModel, type LoadEngineModelOptions } from "../engine/engine-model.js";
export { EngineContext, type EngineContextOptions, type TokenSequence } from "../engine/engine-context.js";
export { addonLlamaBuild, bindLlamaLibrary, type GpuOption, type LlamaLibrary } from "../engine/llama-library.js";
export type { LlamaBuild } from "../engine/llama-build-guard.js";
export type { NativeContextInfo, NativeModelInfo } from "../engine/native-addon.js";
export { classifyModel } from "../models/model-kind.js";
