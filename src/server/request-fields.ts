import { TASK_NAMES } from "../format/task-instructions.js";
import { EMBEDDING_ENCODINGS } from "./embedding-encodings.js";
import { described, type JsonSchema } from "./json-schema.js";
import { JINA_TASK_NAMES } from "./jina-tasks.js";

/**
 * The schemas of the body fields several routes share (each route's body schema is made of these and its own).
 * The words in `x-expected` are those of the 400 a wrong value gets.
 */

const STRING: JsonSchema = { type: "string" };
const NON_EMPTY_STRING: JsonSchema = { type: "string", minLength: 1 };
const TOKEN_ID: JsonSchema = { type: "integer", "x-expected": "an integer token id" };
const TOKEN_IDS: JsonSchema = { type: "array", items: TOKEN_ID, "x-expected": "an array of token ids" };

export const MODEL_FIELD = described(STRING, "The served model's name (see GET /v1/models); `name:query` / `name:document` fix the inputs' role");

/** Texts or token ids: what OpenAI's `input`, TEI's `inputs`, Ollama's `input` and llama-server's `content` take. */
export const TEXT_INPUT_FIELD: JsonSchema = {
    description: "A string, an array of strings, an array of Qwen3 token ids or an array of arrays of token ids",
    "x-expected": "a string, an array of strings, an array of token ids or an array of arrays of token ids",
    anyOf: [STRING, { type: "array", items: STRING }, TOKEN_IDS, { type: "array", items: TOKEN_IDS }],
};

export const INPUT_TYPES = ["query", "document", "search_query", "search_document"] as const;
export const PROMPT_NAMES = ["query", "document"] as const;

/** The fields through which an embedding body picks the instruction (see readInstructionChoice). */
export const INSTRUCTION_FIELDS = {
    instruction: described(NON_EMPTY_STRING, "An instruction for the inputs, which makes them queries (`Instruct: …\\nQuery:…`)"),
    instruct: described(NON_EMPTY_STRING, "DashScope's name for instruction"),
    task: described(
        { type: "string", enum: [...TASK_NAMES, ...JINA_TASK_NAMES] },
        "A named task (its instruction), or one of Jina's tasks (retrieval.query, retrieval.passage, text-matching, …)",
    ),
    input_type: described({ type: "string", enum: INPUT_TYPES }, "query or document (also Cohere's search_query, search_document)"),
    text_type: described({ type: "string", enum: INPUT_TYPES }, "DashScope's name for input_type"),
} as const satisfies Record<string, JsonSchema>;

export const PROMPT_NAME_FIELD = described({ type: "string", enum: PROMPT_NAMES }, "TEI's prompt: query gives the inputs the default web-search instruction");

/** Its range is the loaded model's: the route checks it ("between 32 and 1024"); the schema, that it is an integer. */
export const DIMENSIONS_FIELD = described(
    { type: "integer", "x-expected": "an integer from 32 up to the model's dimension" },
    "Matryoshka output dimension: 32 up to the model's dimension",
);
export const NORMALIZE_FIELD = described({ type: "boolean" }, "L2-normalize the vectors (default true)");

export const TRUNCATE_FIELD: JsonSchema = {
    description: 'true or "end" cuts over-long inputs from the end; false or "error" refuses them (default: the server\'s --truncate)',
    "x-expected": 'true, false, "end" or "error"',
    anyOf: [{ type: "boolean" }, { type: "string", enum: ["end", "error"] }],
};

export const TRUNCATION_DIRECTION_FIELD = described(STRING, 'TEI\'s truncation direction: only "right" (the end) is supported');

/** OpenAI's `encoding_format` and Jina's `embedding_type`. */
export const ENCODING_FORMAT_FIELD = described({ type: "string", enum: ["float", "base64"] }, "float, or base64 (little-endian float32)");
export const EMBEDDING_TYPE_FIELD = described({ type: "string", enum: EMBEDDING_ENCODINGS }, "Jina's vector encoding");

/** Documents to rerank: strings, or Jina's / Cohere's `{ text }` objects. */
export const RERANK_DOCUMENTS_FIELD: JsonSchema = {
    type: "array",
    description: "The documents to score against the query",
    items: {
        "x-expected": "a string or an object with a string text field",
        anyOf: [STRING, { type: "object", properties: { text: STRING }, required: ["text"] }],
    },
};

export const QUERY_FIELD = described(NON_EMPTY_STRING, "The query the documents are scored against");
export const TOP_N_FIELD = described({ type: "integer", minimum: 1 }, "How many of the best documents to return (default all)");
export const RERANK_INSTRUCTION_FIELD = described(NON_EMPTY_STRING, "The reranker's instruction (default: Qwen3's web-search one)");
