import type { FastifyInstance } from "fastify";
import { formatQuery, END_OF_TEXT_TOKEN } from "../format/embedding-input.js";
import { DEFAULT_INSTRUCTION } from "../format/task-instructions.js";
import { describeValue } from "../internal/validation.js";
import { HttpError, invalidField } from "./error-responses.js";
import { described, objectSchema, type JsonSchema } from "./json-schema.js";
import { RequestBody } from "./request-body.js";
import { PROMPT_NAME_FIELD, PROMPT_NAMES } from "./request-fields.js";
import { bodyRoute } from "./route-docs.js";
import type { RouteContext } from "./route-context.js";
import type { TokenCodec } from "./token-input.js";

const TOKENIZE_BODY = objectSchema({
    inputs: {
        description: "The texts to tokenize",
        "x-expected": "a string or an array of strings",
        anyOf: [{ type: "string" }, { type: "array", items: { type: "string" } }],
    },
    add_special_tokens: described({ type: "boolean" }, "Append <|endoftext|> as the model sees it (default true)"),
    prompt_name: PROMPT_NAME_FIELD,
}, ["inputs"]);

const IDS: JsonSchema = { type: "array", items: { type: "integer", minimum: 0, maximum: 151_935, "x-expected": "a token id (an integer from 0 to 151935)" } };
const DECODE_BODY = objectSchema({
    ids: {
        description: "Token ids, or an array of sequences of them",
        "x-expected": "an array of token ids (integers from 0 to 151935) or an array of them",
        anyOf: [IDS, { type: "array", items: IDS }],
    },
    skip_special_tokens: described({ type: "boolean" }, "Leave the special tokens out of the text (default true)"),
}, ["ids"]);

/** Qwen3's special tokens by id, for `skip_special_tokens: false` (QWEN3_SPEC.md); other added ids render as nothing. */
const SPECIAL_TOKENS: ReadonlyMap<number, string> = new Map([
    [151643, "<|endoftext|>"], [151644, "<|im_start|>"], [151645, "<|im_end|>"], [151667, "<think>"], [151668, "</think>"],
]);

/**
 * text-embeddings-inference `POST /tokenize` and `POST /decode` (docs/openapi.json) with the embedding model's
 * tokenizer, run under the same admission gate as the model calls:
 * - `/tokenize { inputs: string | string[], add_special_tokens (default true), prompt_name }` →
 *   `[[{ id, text, special, start, stop }]]`: what the model sees, so `add_special_tokens` appends `<|endoftext|>`
 *   (special, start and stop null) and `prompt_name: "query"` puts the default instruction in front; `start` /
 *   `stop` are UTF-8 byte offsets into that text (TEI's), a token that ends inside a character spanning the
 *   whole character.
 * - `/decode { ids: number[] | number[][], skip_special_tokens (default true) }` → `[text, ...]`.
 * Errors take TEI's shape `{ error, error_type }`.
 */
export function registerTeiTokenizeRoutes(app: FastifyInstance, context: RouteContext): void {
    app.post("/tokenize", bodyRoute({ summary: "Tokenize texts (TEI)", tags: ["TEI"] }, TOKENIZE_BODY, "tei"), async (request, reply) => {
        const served = context.models.embedding();
        const body = new RequestBody(request.body, TOKENIZE_BODY);
        const inputs = readTexts(body, context.options.maxInputs);
        const addSpecial = body.boolean("add_special_tokens") ?? true;
        const asQuery = body.oneOf("prompt_name", PROMPT_NAMES) === "query";
        const texts = asQuery ? inputs.map((text) => formatQuery(DEFAULT_INSTRUCTION, text)) : inputs;
        return context.gate.run("embedding", reply, async () => {
            const codec = await context.models.tokenCodec(served.model);
            const encoded = await codec.tokenize(texts);
            return Promise.all(encoded.map(async (ids, index) => {
                const tokens = await tokensOf(codec, ids, texts[index]!);
                return addSpecial ? [...tokens, { id: END_OF_TEXT_TOKEN, text: SPECIAL_TOKENS.get(END_OF_TEXT_TOKEN)!, special: true, start: null, stop: null }] : tokens;
            }));
        });
    });

    app.post("/decode", bodyRoute({ summary: "Decode token ids to text (TEI)", tags: ["TEI"] }, DECODE_BODY, "tei"), async (request, reply) => {
        const served = context.models.embedding();
        const body = new RequestBody(request.body, DECODE_BODY);
        const sequences = readIds(body, context.options.maxInputs);
        const skipSpecial = body.boolean("skip_special_tokens") ?? true;
        return context.gate.run("embedding", reply, async () => {
            const codec = await context.models.tokenCodec(served.model);
            return Promise.all(sequences.map((ids) => decode(codec, ids, skipSpecial)));
        });
    });
}

interface SimpleToken {
    id: number;
    text: string;
    special: boolean;
    start: number | null;
    stop: number | null;
}

/**
 * Each token with its byte span in `text`. A token whose own text is not whole UTF-8 (a byte of a longer character)
 * is decoded together with the tokens that follow until they are, and each token of that run gets the run's span.
 */
async function tokensOf(codec: TokenCodec, ids: Int32Array, text: string): Promise<SimpleToken[]> {
    const bytes = Buffer.from(text, "utf8");
    const tokens: SimpleToken[] = [];
    let offset = 0;
    for (let first = 0; first < ids.length;) {
        let last = first;
        let piece = await codec.detokenize(ids.subarray(first, last + 1));
        while (piece.includes("\uFFFD") && last + 1 < ids.length && !text.includes("\uFFFD")) {
            last++;
            piece = await codec.detokenize(ids.subarray(first, last + 1));
        }
        const stop = Math.min(bytes.length, offset + Buffer.byteLength(piece, "utf8"));
        const span = bytes.subarray(offset, stop).toString("utf8");
        for (let index = first; index <= last; index++) tokens.push({ id: ids[index]!, text: span, special: false, start: offset, stop });
        offset = stop;
        first = last + 1;
    }
    return tokens;
}

async function decode(codec: TokenCodec, ids: readonly number[], skipSpecial: boolean): Promise<string> {
    if (skipSpecial) return codec.detokenize(ids.filter((id) => id < END_OF_TEXT_TOKEN));
    let text = "";
    let run: number[] = [];
    for (const id of ids) {
        if (id < END_OF_TEXT_TOKEN) {
            run.push(id);
            continue;
        }
        text += (run.length > 0 ? await codec.detokenize(run) : "") + (SPECIAL_TOKENS.get(id) ?? "");
        run = [];
    }
    return text + (run.length > 0 ? await codec.detokenize(run) : "");
}

/** TEI's TokenizeInput: a string or an array of strings; empty is a 400 (TEI's error_type "empty"). */
function readTexts(body: RequestBody, maxInputs: number): string[] {
    const value = body.raw("inputs");
    if (typeof value === "string") return [value];
    if (!Array.isArray(value) || value.some((item) => typeof item !== "string")) {
        throw invalidField("inputs", `Expected a string or an array of strings for inputs but received ${describeValue(value)}`);
    }
    if (value.length === 0) throw new HttpError(400, "`inputs` cannot be empty", { code: "empty_input", param: "inputs" });
    if (value.length > maxInputs) throw new HttpError(413, `inputs has ${value.length} items but this server takes at most ${maxInputs} per request (--max-inputs)`, { code: "too_many_inputs", param: "inputs" });
    return value as string[];
}

/** TEI's InputIds: an array of token ids, or an array of them; ids must lie in the vocabulary. */
function readIds(body: RequestBody, maxInputs: number): number[][] {
    const value = body.raw("ids");
    const sequences = Array.isArray(value) && value.length > 0 && value.every(Array.isArray) ? value as unknown[][] : [value];
    if (sequences.length > maxInputs) throw new HttpError(413, `ids has ${sequences.length} sequences but this server takes at most ${maxInputs} per request (--max-inputs)`, { code: "too_many_inputs", param: "ids" });
    return sequences.map((ids, index) => {
        if (!Array.isArray(ids) || ids.some((id) => typeof id !== "number" || !Number.isInteger(id) || id < 0 || id > 151_935)) {
            throw invalidField("ids", `Expected an array of token ids (integers from 0 to 151935) or an array of them for ids but ids${sequences.length > 1 ? `[${index}]` : ""} is ${describeValue(ids)}`);
        }
        return ids as number[];
    });
}
