import type { FastifyReply } from "fastify";
import type { EmbedOptions, EmbeddingResult } from "../facade/embedder.js";
import { overlongInputRemedy } from "../format/embedding-input.js";
import { DEFAULT_INSTRUCTION, isSymmetricTask } from "../format/task-instructions.js";
import { InvalidOptionError } from "../internal/errors.js";
import { HttpError, invalidField } from "./error-responses.js";
import { readEmbeddingInput, readInstructionChoice, readTruncate, type EmbeddingInput } from "./embedding-request.js";
import { resolveRequestedModel, type ModelRole } from "./model-names.js";
import type { RequestBody } from "./request-body.js";
import type { RouteContext } from "./route-context.js";
import type { ServedModel } from "./served-models.js";
import type { ServedEmbedder } from "./server-options.js";
import { tokenInputsToTexts } from "./token-input.js";

/** One validated embedding request, whichever API shape it came in. */
export interface EmbeddingCall {
    input: EmbeddingInput;
    /** The request field holding the inputs ("input", "inputs", "prompt", ...), for messages. */
    param: string;
    choice: Pick<EmbedOptions, "instruction" | "task">;
    dimensions: number | undefined;
    normalize: boolean;
    truncate: "end" | "error";
    /** Tokens per input for this request (Cohere's max_tokens), at most the server's; default the server's. */
    maxTokens?: number;
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
            maxTokens: call.maxTokens ?? served.maxTokens,
            truncate: call.truncate,
            signal,
            timeoutMs: remainingMs(),
        }).catch((error: unknown) => {
            throw error instanceof InvalidOptionError && error.option === "truncate" ? overlongInputError(error, call, call.maxTokens ?? served.maxTokens) : error;
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
 * Reads what the embedding routes take: the inputs from `param` (strings may be `{ text }` objects with `textObjects`), the instruction choice (with the model alias's
 * role, see applyModelRole), `dimensions` (Matryoshka: 32 up to the model's dimension), `normalize` or Jina's
 * `normalized` (default true) and `truncate`.
 */
export function readEmbeddingCall(body: RequestBody, param: string, context: RouteContext, model: EmbeddingModelChoice, textObjects = false): EmbeddingCall {
    const dimensions = model.served.model.dimensions;
    return {
        input: readEmbeddingInput(body, param, context.options.maxInputs, textObjects),
        param,
        choice: applyModelRole(readInstructionChoice(body), model.role, body, model.name),
        dimensions: body.integer("dimensions", Math.min(32, dimensions), dimensions),
        normalize: readNormalize(body),
        truncate: readTruncate(body, context.options.truncate),
    };
}

/** `normalize`, or Jina's `normalized`; both only when they agree. Default true. */
function readNormalize(body: RequestBody): boolean {
    const normalize = body.boolean("normalize");
    const normalized = body.boolean("normalized");
    if (normalize !== undefined && normalized !== undefined && normalize !== normalized) {
        throw invalidField("normalized", "normalize and normalized (its Jina name) disagree; give one");
    }
    return normalize ?? normalized ?? true;
}

/** The embedding model a request names (its `model` field, read from `field`), the name to answer with, and its role alias. */
export interface EmbeddingModelChoice {
    served: ServedModel<ServedEmbedder>;
    /** The name responses carry: the model as requested, else the model's id. */
    name: string;
    role: ModelRole | undefined;
}

/**
 * The served embedding model for a request's `model` field: a 404 listing the names unless it names this model (or
 * `name:query` / `name:document`, or anything while acceptAnyModelName holds and no other model is served).
 */
export function chooseEmbeddingModel(context: RouteContext, requested: string | undefined): EmbeddingModelChoice {
    const served = context.models.embedding();
    const { name, role } = resolveRequestedModel(requested, served.names, context.models.namesOf("reranker"), context.options.acceptAnyModelName);
    return { served, name, role };
}

/** The fields through which a body says which role its inputs have. */
const ROLE_FIELDS = ["instruction", "instruct", "task", "input_type", "text_type", "prompt_name"] as const;

/**
 * The instruction choice once a `:query` / `:document` model alias is applied: a body that says nothing takes the
 * alias's role (queries get the default instruction); a body that says the same role (or names an instruction for
 * `:query`) keeps its choice; a body that says the other role is a 400 naming `model`.
 */
export function applyModelRole(choice: EmbeddingCall["choice"], role: ModelRole | undefined, body: RequestBody, model: string): EmbeddingCall["choice"] {
    if (role === undefined) return choice;
    const explicit = ROLE_FIELDS.some((field) => body.has(field));
    if (!explicit) return role === "query" ? { instruction: DEFAULT_INSTRUCTION } : {};
    const bodyRole = choice.instruction !== undefined || (choice.task !== undefined && !isSymmetricTask(choice.task))
        ? "query"
        : choice.task === undefined ? "document" : role; // the symmetric task fits either role
    if (bodyRole !== role) {
        const plural = { query: "queries", document: "documents" } as const;
        throw invalidField("model", `The model ${JSON.stringify(model)} embeds ${plural[role]} but the request body makes the inputs ${plural[bodyRole]}; drop one of the two`);
    }
    return choice;
}
