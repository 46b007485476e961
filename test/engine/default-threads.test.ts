import { afterEach, describe, expect, it } from "vitest";
import { defaultThreads, THREADS_ENV } from "../../src/engine/engine-context.js";
import { InvalidOptionError } from "../../src/internal/errors.js";

const saved = process.env[THREADS_ENV];
afterEach(() => {
    if (saved === undefined) delete process.env[THREADS_ENV];
    else process.env[THREADS_ENV] = saved;
});

describe("CPU threads per decode when none is given", () => {
    it("are llama.cpp's math cores, or QWEN3_EMBEDDING_THREADS when set", () => {
        delete process.env[THREADS_ENV];
        expect(defaultThreads({ mathCores: 6 })).toBe(6);
        process.env[THREADS_ENV] = "3";
        expect(defaultThreads({ mathCores: 6 })).toBe(3);
        process.env[THREADS_ENV] = "";
        expect(defaultThreads({ mathCores: 6 })).toBe(6);
    });

    it("refuse a value that is not a positive integer, naming the variable", () => {
        for (const value of ["0", "two", "1.5", "-1"]) {
            process.env[THREADS_ENV] = value;
            expect(() => defaultThreads({ mathCores: 6 })).toThrow(InvalidOptionError);
            expect(() => defaultThreads({ mathCores: 6 })).toThrow(/QWEN3_EMBEDDING_THREADS/);
        }
    });
});
