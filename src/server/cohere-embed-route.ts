import type { FastifyInstance } from "fastify";
import { DEFAULT_INSTRUCTION } from "../format/task-instructions.js";
import { describeValue } from "../internal/validation.js";
import { applyModelRole, chooseEmbeddingModel, runEmbedding, type EmbeddingCall } from "./embedding-call.js";
import { EMBEDDING_ENCODINGS, encodeEmbedding, type EmbeddingEncoding } from "./embedding-encodings.js";
import { readEmbeddingInput } from "./embedding-request.js";
import { HttpError, invalidField } from "./error-responses.js";
import { described, objectSchema } from "./json-schema.js";
import { RequestBody } from "./request-body.js";
import { DIMENSIONS_FIELD, MODEL_FIELD } from "./request-fields.js";
import { bodyRoute } from "./route-docs.js";
import type { RouteContext } from "./route-context.js";

const INPUT_TYPES = ["search_document", "search_query", "classification", "clustering", "image"] as const;
const TRUNCATIONS = ["NONE", "START", "END"] as const;

const V1_FIELDS = {
    texts: described({ type: "array", items: { type: "string" }, "x-expected": "an array of strings" }, "The texts to embed"),
    images: described({ type: "array" }, "Refused: this server embeds text only"),
    model: MODEL_FIELD,
    input_type: described({ type: "string", enum: INPUT_TYPES }, "search_query (queries), search_document (documents), classification or clustering; image is refused. Required by v2"),
    embedding_types: described({ type: "array", items: { type: "string", enum: EMBEDDING_ENCODINGS } }, "The encodings to answer with (default float)"),
    truncate: described({ type: "string", enum: TRUNCATIONS }, "END cuts over-long texts (default), NONE refuses them; START is refused"),
};
const V1_BODY = objectSchema(V1_FIELDS);
const V2_BODY = objectSchema({
    ...V1_FIELDS,
    inputs: described({ type: "array" }, "Refused: this server embeds text only; send texts"),
    max_tokens: described({ type: "integer", minimum: 1 }, "Tokens per text, at most the server's --max-tokens-per-input"),
    output_dimension: { ...DIMENSIONS_FIELD, description: "Matryoshka output dimension: 32 up to the model's dimension" },
    priority: described({ type: "integer", minimum: 0 }, "Accepted and unused"),
});

/**
 * What each Cohere `input_type` makes of the texts: `search_query` queries with the default web-search instruction,
 * `search_document` documents (raw text); `classification` and `clustering` compare texts with texts like them, so
 * every text gets the symmetric "semantic-similarity" instruction (Qwen3's evaluation instructs both sides of
 * classification and clustering texts). `image` is refused: the model embeds text.
 */
function choiceOf(inputType: (typeof INPUT_TYPES)[number] | undefined): EmbeddingCall["choice"] {
    if (inputType === "search_query") return { instruction: DEFAULT_INSTRUCTION };
    if (inputType === "classification" || inputType === "clustering") return { task: "semantic-similarity" };
    if (inputType === "image") throw invalidField("input_type", 'input_type "image" needs an image model; this server embeds text');
    return {};
}

/**
 * Cohere's `POST /v1/embed` and `POST /v2/embed` (https://docs.cohere.com/reference/embed, /v2/reference/embed):
 * `texts`, `model`, `input_type` (required by v2), `embedding_types` (float, int8, uint8, binary, ubinary, base64:
 * the library's outputType bytes, base64 the float32 bytes), `truncate` (NONE refuses over-long texts, END cuts them
 * (the default); START is refused: Qwen3 inputs are cut from the end), and v2's `output_dimension` (Matryoshka,
 * 32 up to the model's dimension), `max_tokens` (at most the server's limit) and `priority` (accepted, unused).
 * Answers as Cohere does: v1 `{ response_type: "embeddings_floats", id, embeddings: [[...]], texts, meta }` without
 * `embedding_types`, `{ response_type: "embeddings_by_type", id, embeddings: { float, int8, ... }, texts, meta }`
 * with them; v2 `{ id, embeddings: { ... }, texts, meta }` (float by default). `meta` is
 * `{ api_version: { version }, billed_units: { input_tokens } }`. Errors take Cohere's shape `{ id, message }`.
 */
export function registerCohereEmbedRoutes(app: FastifyInstance, context: RouteContext): void {
    for (const version of [1, 2] as const) {
        const schema = version === 1 ? V1_BODY : V2_BODY;
        app.post(`/v${version}/embed`, bodyRoute({ summary: `Embed texts (Cohere v${version})`, tags: ["Cohere"] }, schema, "cohere"), async (request, reply) => {
            const body = new RequestBody(request.body, schema);
            const chosen = chooseEmbeddingModel(context, body.string("model"));
            for (const field of ["images", "inputs"]) {
                if (body.has(field)) throw invalidField(field, `This server embeds text only; send the texts in texts instead of ${field}`);
            }
            if (!Array.isArray(body.raw("texts"))) throw invalidField("texts", `Expected an array of strings for texts but received ${describeValue(body.raw("texts"))}`);
            const input = readEmbeddingInput(body, "texts", context.options.maxInputs);
            if (input.kind !== "texts") throw invalidField("texts", "Expected an array of strings for texts but received arrays of numbers");
            const inputType = body.oneOf("input_type", INPUT_TYPES);
            if (version === 2 && inputType === undefined) {
                throw invalidField("input_type", "Expected one of search_document, search_query, classification, clustering for input_type (required by v2) but received undefined", "missing_field");
            }
            const types = readEmbeddingTypes(body);
            const truncation = body.oneOf("truncate", TRUNCATIONS) ?? "END";
            if (truncation === "START") {
                throw new HttpError(422, 'truncate "START" is not supported: Qwen3 inputs are cut from the end (the appended <|endoftext|> is kept); send "END" or "NONE"', {
                    code: "unsupported_value", param: "truncate",
                });
            }
            const dimensions = chosen.served.model.dimensions;
            const outputDimension = body.integer("output_dimension", Math.min(32, dimensions), dimensions);
            const maxTokens = body.integer("max_tokens", 1, chosen.served.maxTokens);
            body.integer("priority", 0, Number.MAX_SAFE_INTEGER);
            const result = await runEmbedding(context, reply, chosen.served, {
                input,
                param: "texts",
                choice: applyModelRole(choiceOf(inputType), chosen.role, body, chosen.name),
                dimensions: outputDimension,
                normalize: true,
                truncate: truncation === "NONE" ? "error" : "end",
                truncateHint: '"truncate": "END"',
                ...(maxTokens === undefined ? {} : { maxTokens }),
            });
            const vectors = result.embeddings as Float32Array[];
            const meta = { api_version: { version: String(version) }, billed_units: { input_tokens: result.totalTokens } };
            const byType = () => Object.fromEntries((types ?? ["float"]).map((type) => [type, vectors.map((vector) => encodeEmbedding(vector, type))]));
            if (version === 2) return { id: request.id, embeddings: byType(), texts: input.texts, meta };
            if (types === undefined) {
                return { response_type: "embeddings_floats", id: request.id, embeddings: vectors.map((vector) => Array.from(vector)), texts: input.texts, meta };
            }
            return { response_type: "embeddings_by_type", id: request.id, embeddings: byType(), texts: input.texts, meta };
        });
    }
}

/** `embedding_types`: a non-empty array of Cohere's type names, each once; undefined when absent. */
function readEmbeddingTypes(body: RequestBody): EmbeddingEncoding[] | undefined {
    const value = body.raw("embedding_types");
    if (value === undefined) return undefined;
    const expected = `a non-empty array of ${EMBEDDING_ENCODINGS.join(", ")}`;
    if (!Array.isArray(value) || value.length === 0) throw invalidField("embedding_types", `Expected ${expected} for embedding_types but received ${describeValue(value)}`);
    value.forEach((type, index) => {
        if (!(EMBEDDING_ENCODINGS as readonly unknown[]).includes(type)) {
            throw invalidField("embedding_types", `Expected one of ${EMBEDDING_ENCODINGS.join(", ")} for embedding_types[${index}] but received ${describeValue(type)}`);
        }
    });
    return [...new Set(value as EmbeddingEncoding[])];
}
