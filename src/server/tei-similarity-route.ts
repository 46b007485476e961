import type { FastifyInstance } from "fastify";
import { describeValue } from "../internal/validation.js";
import { runEmbedding } from "./embedding-call.js";
import { readInstructionChoice, readTruncate } from "./embedding-request.js";
import { HttpError, invalidField } from "./error-responses.js";
import { described, objectSchema } from "./json-schema.js";
import { RequestBody } from "./request-body.js";
import { PROMPT_NAME_FIELD, TRUNCATE_FIELD, TRUNCATION_DIRECTION_FIELD } from "./request-fields.js";
import { bodyRoute } from "./route-docs.js";
import type { RouteContext } from "./route-context.js";

const INPUTS = objectSchema({
    source_sentence: described({ type: "string", minLength: 1 }, "The sentence the others are compared with"),
    sentences: described({ type: "array", items: { type: "string", minLength: 1 }, "x-expected": "an array of non-empty strings" }, "The sentences to score"),
}, ["source_sentence", "sentences"], "TEI's SimilarityInput");
const PARAMETERS = objectSchema({
    prompt_name: PROMPT_NAME_FIELD,
    truncate: TRUNCATE_FIELD,
    truncation_direction: TRUNCATION_DIRECTION_FIELD,
}, [], "TEI's SimilarityParameters");
const BODY = objectSchema({ inputs: INPUTS, parameters: PARAMETERS }, ["inputs"]);

/**
 * text-embeddings-inference `POST /similarity` (docs/openapi.json, SimilarityRequest): `{ inputs: { source_sentence,
 * sentences }, parameters: { prompt_name, truncate, truncation_direction } }` → `[score, ...]`, the cosine similarity
 * of the source sentence with each sentence, in order. As in TEI every text is embedded the same way:
 * `prompt_name: "query"` gives all of them the default instruction, none leaves them documents.
 *
 * `POST /embed_all` (token-level vectors) is answered with a 400 that says why: the engine reads one pooled output
 * per input, its last token (see jina-embedding-fields.ts on late_chunking). Errors take TEI's shape.
 */
export function registerTeiSimilarityRoutes(app: FastifyInstance, context: RouteContext): void {
    app.post("/similarity", bodyRoute({ summary: "Cosine similarity of a sentence with others (TEI)", tags: ["TEI"] }, BODY, "tei"), async (request, reply) => {
        const served = context.models.embedding();
        const body = new RequestBody(request.body, BODY);
        const inputs = new RequestBody(body.raw("inputs"), INPUTS);
        const source = inputs.requiredString("source_sentence");
        const sentences = inputs.raw("sentences");
        if (!Array.isArray(sentences) || sentences.some((item) => typeof item !== "string" || item.length === 0)) {
            throw invalidField("sentences", `Expected an array of non-empty strings for inputs.sentences but received ${describeValue(sentences)}`);
        }
        if (sentences.length === 0) throw new HttpError(400, "`inputs.sentences` cannot be empty", { code: "empty_input", param: "sentences" });
        if (sentences.length + 1 > context.options.maxInputs) {
            throw new HttpError(413, `batch size ${sentences.length + 1} > maximum allowed batch size ${context.options.maxInputs} (--max-inputs)`, { code: "too_many_inputs", param: "sentences" });
        }
        const parameters = new RequestBody(body.raw("parameters") ?? {}, PARAMETERS);
        const result = await runEmbedding(context, reply, served, {
            input: { kind: "texts", texts: [source, ...(sentences as string[])] },
            param: "inputs",
            choice: readInstructionChoice(parameters),
            dimensions: undefined,
            normalize: true,
            truncate: readTruncate(parameters, context.options.truncate),
        });
        const [first, ...rest] = result.embeddings as Float32Array[];
        return rest.map((vector) => vector.reduce((sum, x, i) => sum + x * first![i]!, 0));
    });

    const embedAll = { summary: "Token-level vectors (TEI): refused with a 400 saying why", tags: ["TEI"] } as const;
    app.post("/embed_all", bodyRoute(embedAll, { description: "TEI's EmbedAllRequest: any body, the route is refused" }, "tei"), async () => {
        context.models.embedding();
        throw new HttpError(400, "/embed_all is not supported: this server's engine reads one pooled output per input (its last token) " +
            "and has no token-level vectors to return; use /embed", { code: "unsupported_route" });
    });
}
