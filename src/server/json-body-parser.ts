import type { FastifyInstance } from "fastify";
import { HttpError } from "./error-responses.js";

/** An error carrying one of fastify's body-parser codes, so that one mapping (toHttpError) answers it. */
function parserError(code: string, message: string): Error {
    return Object.assign(new Error(message), { code, statusCode: 400 });
}

/**
 * Rejects the keys that could reach an object's prototype once a body is copied or merged: `__proto__`, and
 * `constructor` holding `prototype`. JSON.parse itself makes them plain own properties; the danger is later code.
 */
function refusePrototypeKeys(key: string, value: unknown): unknown {
    const reaches = key === "__proto__" || (key === "constructor" && value !== null && typeof value === "object" && Object.hasOwn(value, "prototype"));
    if (reaches) {
        throw new HttpError(400, `The request body has a ${JSON.stringify(key)} key, which this server refuses (it could alter object prototypes); rename or remove that field`, {
            code: "forbidden_key",
            param: key,
        });
    }
    return value;
}

/**
 * The server's JSON body parser: fastify's errors for empty and malformed bodies, and a 400 naming the field for a
 * prototype key instead of fastify's "not valid JSON". Bodies that cannot hold such a key skip the reviver (a 16 MB
 * array of token ids parses at JSON.parse speed).
 */
export function useJsonBodyParser(app: FastifyInstance): void {
    app.removeContentTypeParser("application/json");
    app.addContentTypeParser("application/json", { parseAs: "string" }, (_request, body, done) => {
        const text = body as string;
        if (text.trim() === "") return done(parserError("FST_ERR_CTP_EMPTY_JSON_BODY", "The request body is empty"), undefined);
        try {
            const suspicious = text.includes("__proto__") || text.includes("constructor") || text.includes("\\u");
            done(null, suspicious ? JSON.parse(text, refusePrototypeKeys) : JSON.parse(text));
        } catch (error) {
            done(error instanceof HttpError ? error : parserError("FST_ERR_CTP_INVALID_JSON_BODY", "The request body is not valid JSON"), undefined);
        }
    });
}
