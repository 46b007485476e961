import type { FastifyRequest } from "fastify";

interface LoggedError {
    [field: string]: unknown;
    type: string;
    code?: unknown;
    message: string;
    stack: string;
    cause?: LoggedError;
}

/** A query string with its values replaced: `?user_id=alice&limit=5` logs as `?user_id=…&limit=…`. */
export function redactQuery(url: string): string {
    const at = url.indexOf("?");
    if (at < 0) return url;
    const keys = url.slice(at + 1).split("&").map((pair) => `${pair.split("=")[0]}=…`);
    return `${url.slice(0, at)}?${keys.join("&")}`;
}

function loggedError(error: unknown, depth = 0): LoggedError {
    if (!(error instanceof Error)) return { type: typeof error, message: "a thrown non-Error value", stack: "" };
    const code = (error as { code?: unknown }).code;
    return {
        type: error.name,
        ...(code === undefined ? {} : { code }),
        message: error.message,
        stack: error.stack ?? "",
        ...(error.cause === undefined || depth >= 2 ? {} : { cause: loggedError(error.cause, depth + 1) }),
    };
}

/**
 * Log serializers that keep requests' content out of the log: no query-string values (user ids travel there), and
 * errors reduced to their type, code, message and stack (a database error's own fields can quote the statement's
 * parameters: vectors, user ids, filter values).
 */
export const PRIVATE_LOG_SERIALIZERS = {
    req(request: FastifyRequest) {
        return {
            method: request.method,
            url: redactQuery(request.url),
            host: request.host,
            remoteAddress: request.ip,
            remotePort: request.socket?.remotePort,
        };
    },
    err: (error: unknown) => loggedError(error),
};
