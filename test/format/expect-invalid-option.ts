import { expect } from "vitest";
import { InvalidOptionError } from "../../src/internal/errors.js";

/** Asserts that `action` throws an InvalidOptionError (code ERR_INVALID_OPTION) with exactly `message`. */
export function expectInvalidOption(action: () => unknown, message: string): void {
    let thrown: unknown;
    try {
        action();
    } catch (error) {
        thrown = error;
    }
    expect(thrown).toBeInstanceOf(InvalidOptionError);
    expect((thrown as InvalidOptionError).code).toBe("ERR_INVALID_OPTION");
    expect((thrown as InvalidOptionError).message).toBe(message);
}
