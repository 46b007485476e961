// native-addon.ts declares the addon's surface by hand; this holds the declaration to the compiled addon. The
// NATIVE_* lists are tied to the interfaces at compile time (keyList), and here to the real objects at run time,
// so a name added, removed or renamed on either side fails one or the other.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bindLlamaLibrary } from "../../src/engine/llama-library.js";
import {
    loadNativeAddon,
    NATIVE_ADDON_KEYS,
    NATIVE_BUILT_FOR_KEYS,
    NATIVE_CONTEXT_INFO_KEYS,
    NATIVE_CONTEXT_METHODS,
    NATIVE_LIBRARY_INFO_KEYS,
    NATIVE_MODEL_INFO_KEYS,
    NATIVE_MODEL_METHODS,
    type NativeAddon,
    type NativeContext,
    type NativeModel,
} from "../../src/engine/native-addon.js";
import { ensureFixtureModel } from "../fixtures/qwen3-fixture.js";

let addon: NativeAddon;
let model: NativeModel;
let context: NativeContext;

beforeAll(async () => {
    const path = await ensureFixtureModel({ kind: "reranker-rank", size: "tiny" });
    await bindLlamaLibrary();
    addon = loadNativeAddon();
    model = await addon.loadModel(path, {});
    context = await model.createContext({
        batchTokens: 64,
        contextSize: 256,
        maxSequences: 4,
        threads: 1,
        flashAttention: 2,
        kvCacheType: 1,
        sequenceAlignment: 16,
        llamaPooling: false,
    });
});

afterAll(() => {
    context?.dispose();
    model?.dispose();
});

/** The methods a wrapped native object has: those of its class's prototype, and no own properties. */
function methodNames(object: object): string[] {
    expect(Object.keys(object)).toEqual([]);
    const prototype = Object.getPrototypeOf(object) as object;
    return Object.getOwnPropertyNames(prototype).filter((name) => name !== "constructor");
}

const sorted = (names: readonly string[]) => [...names].sort();

describe("the native addon's surface matches native-addon.ts", () => {
    it("exports exactly NATIVE_ADDON_KEYS: builtFor, a frozen object of NATIVE_BUILT_FOR_KEYS strings, and functions", () => {
        expect(sorted(Object.keys(addon))).toEqual(sorted(NATIVE_ADDON_KEYS));
        for (const name of NATIVE_ADDON_KEYS) expect(typeof addon[name]).toBe(name === "builtFor" ? "object" : "function");
        expect(sorted(Object.keys(addon.builtFor))).toEqual(sorted(NATIVE_BUILT_FOR_KEYS));
        for (const name of NATIVE_BUILT_FOR_KEYS) expect(addon.builtFor[name]).toMatch(/^\S+$/);
        expect(Object.isFrozen(addon.builtFor)).toBe(true);
    });

    it("init() answers exactly NATIVE_LIBRARY_INFO_KEYS", () => {
        expect(sorted(Object.keys(addon.init()))).toEqual(sorted(NATIVE_LIBRARY_INFO_KEYS));
    });

    it("a model has exactly NATIVE_MODEL_METHODS, and its info() exactly NATIVE_MODEL_INFO_KEYS", () => {
        expect(sorted(methodNames(model))).toEqual(sorted(NATIVE_MODEL_METHODS));
        expect(sorted(Object.keys(model.info()))).toEqual(sorted(NATIVE_MODEL_INFO_KEYS));
    });

    it("a context has exactly NATIVE_CONTEXT_METHODS, and its info() exactly NATIVE_CONTEXT_INFO_KEYS", () => {
        expect(sorted(methodNames(context))).toEqual(sorted(NATIVE_CONTEXT_METHODS));
        expect(sorted(Object.keys(context.info()))).toEqual(sorted(NATIVE_CONTEXT_INFO_KEYS));
    });
});
