import { checkAbortSignal, checkInteger } from "../internal/validation.js";
/** The signal and time limit of one model call, validated; absent ones left out (they are spread into options). */
export interface CallLimits {
    signal?: AbortSignal;
    timeoutMs?: number;
}

export function callLimits(options: { signal?: unknown; timeoutMs?: unknown }): CallLimits {
    const signal = checkAbortSignal("signal", options.signal);
    const timeoutMs = options.timeoutMs === undefined ? undefined : checkInteger("timeoutMs", options.timeoutMs, 1, 2 ** 31 - 1);
    return { ...(signal === undefined ? {} : { signal }), ...(timeoutMs === undefined ? {} : { timeoutMs }) };
}
