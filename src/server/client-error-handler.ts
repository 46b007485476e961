import { STATUS_CODES } from "node:http";
import type { Socket } from "node:net";
import { HttpError } from "./error-responses.js";

/**
 * What Node's HTTP parser refuses before fastify sees a request (headers too large, a malformed request line, a
 * client too slow to send its headers), answered in the same OpenAI shape as every other error.
 */
export function answerClientError(error: NodeJS.ErrnoException, socket: Socket): void {
    if (error.code === "ECONNRESET" || socket.destroyed) return;
    const http = error.code === "HPE_HEADER_OVERFLOW"
        ? new HttpError(431, "The request headers are larger than this server takes", { code: "headers_too_large" })
        : error.code === "ERR_HTTP_REQUEST_TIMEOUT"
            ? new HttpError(408, "The request was not received in time", { code: "request_timeout" })
            : new HttpError(400, "The request is not valid HTTP", { code: "invalid_http" });
    const body = JSON.stringify(http.toBody());
    if (socket.writable) {
        socket.write(
            `HTTP/1.1 ${http.status} ${STATUS_CODES[http.status]}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
            `Content-Type: application/json; charset=utf-8\r\nConnection: close\r\n\r\n${body}`,
        );
    }
    socket.destroy(error);
}
