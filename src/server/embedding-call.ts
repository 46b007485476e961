import type { FastifyReply } from "fastify";
import type { EmbedOptions, EmbeddingResult } from "../facade/embedder.js";
import { overlongInputRemedy } from "../format/embedding-input.js";
import { InvalidOptionError } from "../internal/errors.js";
import { HttpError, invalidField } from "./error-responses.js";
import { readEmbeddingInput, readInstructionChoice, readTruncate, type EmbeddingInput } from "./embedding-request.js";
import type { RequestBody } from "./request-body.js";
import type { RouteContext } from "./route-context.js";
import type { ServedModel } from "./served-models.js";
import type { ServedEmbedder } from "./server-options.js";
import { tokenInputsToTexts } from "./token-input.js";

/** One validated embedding request, whichever API shape it came in. */
export interface EmbeddingCall {
    input: EmbeddingInput;
    /** The request field holding the inputs ("input" or "inputs"), for messages. */
    param: string;
    choice: Pick<EmbedOptions, "instruction" | "task">;
    dimensions: number | undefined;
    normalize: boolean;
    truncate: "end" | "error";
    /**
     * The request field and value that cut over-long inputs, for the 400 an over-long input gets: `"truncate": true`
     * (OpenAI's and TEI's bodies) unless the route's field is another.
     */
    truncateHint?: string;
}

/**
 * Embeds through the facade, admitted by the gate and under its signal, with the server's tokens-per-input limit;
 * token-id inputs are first turned into their text (see tokenInputsToTexts). Counts the tokens the model saw.
 */
export async function runEmbedding(
    context: RouteContext,
    reply: FastifyReply,
    served: ServedModel<ServedEmbedder>,
    call: EmbeddingCall,
): Promise<EmbeddingResult> {
    return context.gate.run("embedding", reply, async ({ signal, remainingMs }) => {
        const texts = call.input.kind === "texts"
            ? call.input.texts
            : await tokenInputsToTexts(await context.models.tokenCodec(served.model), call.input.sequences, call.param);
        // An instruction (or task) makes the inputs queries; OpenAI's and TEI's bodies otherwise carry documents.
        const role = call.choice.instruction === undefined && call.choice.task === undefined ? "document" : "query";
        const result = await served.model.embed(texts, {
            role,
            ...call.choice,
            ...(call.dimensions === undefined ? {} : { dimensions: call.dimensions }),
            normalize: call.normalize,
            maxTokens: served.maxTokens,
            truncate: call.truncate,
            signal,
            timeoutMs: remainingMs(),
        }).catch((error: unknown) => {
            throw error instanceof InvalidOptionError && error.option === "truncate" ? overlongInputError(error, call, served.maxTokens) : error;
        });
        context.metrics.processed("embedding", texts.length, result.totalTokens);
        return result;
    });
}

/**
 * The 400 for an input over the server's tokens-per-input limit, in the request's terms: the library's message with
 * the server's flag and the request field to send instead of the library's options; `param` is the inputs' field.
 */
function overlongInputError(error: InvalidOptionError, call: EmbeddingCall, maxTokens: number): HttpError {
    const message = error.message.replace(
        overlongInputRemedy(maxTokens),
        `but this server takes at most ${maxTokens} tokens per input (--max-tokens-per-input); send ${call.truncateHint ?? '"truncate": true'} to cut it to fit`,
    );
    return invalidField(call.param, message);
}

/**
 * Reads what both embedding routes (OpenAI's and TEI's) take: the inputs from `param`, the instruction choice,
 * `dimensions` (Matryoshka: 32 up to the model's dimension), `normalize` (default true) and `truncate`.
 */
export function readEmbeddingCall(body: RequestBody, param: "input" | "inputs", context: RouteContext, model: ServedEmbedder): EmbeddingCall {
    return {
        input: readEmbeddingInput(body, param, context.options.maxInputs),
        param,
        choice: readInstructionChoice(body),
        dimensions: body.integer("dimensions", Math.min(32, model.dimensions), model.dimensions),
        normalize: body.boolean("normalize") ?? true,
        truncate: readTruncate(body, context.options.truncate),
    };
}
