import type { EmbedOptions } from "../facade/embedder.js";
import { DEFAULT_INSTRUCTION, TASK_NAMES, isSymmetricTask, type TaskName } from "../format/task-instructions.js";
import { describeValue } from "../internal/validation.js";
import { HttpError, invalidField, tooManyInputs } from "./error-responses.js";
import { JINA_TASKS, JINA_TASK_NAMES, isJinaTask } from "./jina-tasks.js";
import type { RequestBody } from "./request-body.js";
import { INPUT_TYPES, PROMPT_NAMES } from "./request-fields.js";

/** Texts, or token-id sequences (OpenAI's `number[]` / `number[][]`). */
export type EmbeddingInput = { kind: "texts"; texts: string[] } | { kind: "tokens"; sequences: number[][] };


/**
 * Reads `input` (OpenAI) or `inputs` (TEI): a string, an array of strings, an array of token ids, or an array of
 * arrays of token ids; with `textObjects` (Jina's /v1/embeddings) the strings may also come as `{ text }` objects, and
 * `{ image }` objects (Jina's clip models) are refused: this server embeds text. Empty strings and empty arrays are
 * 400s; more than `maxInputs` items a 413.
 */
export function readEmbeddingInput(body: RequestBody, param: string, maxInputs: number, textObjects = false): EmbeddingInput {
    const value = body.raw(param);
    const expected = "a string, an array of strings, an array of token ids or an array of arrays of token ids";
    if (typeof value === "string") return { kind: "texts", texts: [nonEmpty(param, value)] };
    if (!Array.isArray(value)) throw invalidField(param, `Expected ${expected} for ${param} but received ${describeValue(value)}`);
    if (value.length === 0) throw new HttpError(400, `${param} is an empty array; send at least one input`, { code: "empty_input", param });
    const first = value[0];
    if (typeof first === "number") return { kind: "tokens", sequences: [tokenIds(param, value)] };
    if (value.length > maxInputs) {
        throw tooManyInputs(param, value.length, maxInputs);
    }
    if (typeof first === "string" || (textObjects && isObject(first))) {
        return { kind: "texts", texts: value.map((item, index) => textOf(param, index, item, textObjects)) };
    }
    if (Array.isArray(first)) {
        return {
            kind: "tokens",
            sequences: value.map((item, index) => {
                if (!Array.isArray(item)) throw invalidField(param, `Expected an array of token ids for ${param}[${index}] (as ${param}[0] is) but received ${describeValue(item)}`);
                if (item.length === 0) throw new HttpError(400, `${param}[${index}] is an empty array; send at least one token`, { code: "empty_input", param });
                return tokenIds(`${param}[${index}]`, item, param);
            }),
        };
    }
    throw invalidField(param, `Expected ${expected} for ${param} but ${param}[0] is ${describeValue(first)}`);
}

function isObject(value: unknown): value is Record<string, unknown> {
    return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** One item of an array of texts: a string, or (with `textObjects`) a `{ text }` object; `{ image }` is refused. */
function textOf(param: string, index: number, item: unknown, textObjects: boolean): string {
    if (typeof item === "string") return nonEmpty(`${param}[${index}]`, item, param);
    if (textObjects && isObject(item)) {
        if ("image" in item) {
            throw new HttpError(400, `${param}[${index}] is an image ({ image }); this server embeds text only: send each input as a string or a { text } object`, {
                code: "unsupported_value", param,
            });
        }
        if (typeof item["text"] === "string") return nonEmpty(`${param}[${index}].text`, item["text"], param);
        throw invalidField(param, `Expected a string for ${param}[${index}].text but received ${describeValue(item["text"])}`);
    }
    const what = textObjects ? "a string or a { text } object" : "a string";
    throw invalidField(param, `Expected ${what} for ${param}[${index}] (as ${param}[0] is) but received ${describeValue(item)}`);
}

function nonEmpty(name: string, text: string, param = name): string {
    if (text.length === 0) throw new HttpError(400, `${name} is an empty string; every input needs some text`, { code: "empty_input", param });
    return text;
}

function tokenIds(name: string, ids: readonly unknown[], param = name): number[] {
    ids.forEach((id, index) => {
        if (typeof id !== "number" || !Number.isInteger(id)) {
            throw invalidField(param, `Expected an integer token id for ${name}[${index}] but received ${describeValue(id)}`);
        }
    });
    return ids as number[];
}

/**
 * Which instruction the inputs get. Queries get `Instruct: {instruction}\nQuery:{text}`; documents are raw text.
 * - `instruction` (or DashScope's `instruct`): free text; makes the inputs queries.
 * - `task`: a named task ("web-search", "semantic-similarity", ...); makes them queries, except that the symmetric
 *   "semantic-similarity" applies to documents too. Jina's task names (`retrieval.query`, `retrieval.passage`, ...)
 *   are read as jina-tasks.ts maps them.
 * - `input_type` ("query" | "document", also Cohere's "search_query" | "search_document"), DashScope's `text_type`,
 *   or TEI's `prompt_name` ("query" | "document"): queries get the default web-search instruction unless one is given.
 * Without any of these the inputs are documents.
 */
export function readInstructionChoice(body: RequestBody): Pick<EmbedOptions, "instruction" | "task"> {
    const instruction = body.string("instruction", { nonEmpty: true });
    const instruct = body.string("instruct", { nonEmpty: true });
    if (instruction !== undefined && instruct !== undefined) {
        throw invalidField("instruct", "Pass either instruction or instruct (its DashScope name), not both");
    }
    const text = instruction ?? instruct;
    const taskName = body.oneOf<string>("task", [...TASK_NAMES, ...JINA_TASK_NAMES]);
    const jina = taskName !== undefined && isJinaTask(taskName) ? JINA_TASKS[taskName] : undefined;
    const task: TaskName | undefined = jina !== undefined ? jina.task : taskName as TaskName | undefined;
    if (text !== undefined && task !== undefined) throw invalidField("task", "Pass either instruction or task, not both");

    const roles = (["input_type", "text_type", "prompt_name", "task"] as const)
        .map((name) => ({ name, role: name === "task" ? jina?.role : roleOf(body, name) }))
        .filter((entry): entry is { name: "input_type" | "text_type" | "prompt_name" | "task"; role: "query" | "document" } => entry.role !== undefined);
    const conflicting = roles.find((entry) => entry.role !== roles[0]!.role);
    if (conflicting !== undefined) {
        throw invalidField(conflicting.name, `${roles[0]!.name} says ${roles[0]!.role} but ${conflicting.name} says ${conflicting.role}; give one`);
    }
    const role = roles[0]?.role ?? (text !== undefined || task !== undefined ? "query" : "document");

    if (role === "document") {
        if (text !== undefined) {
            throw invalidField(instruction !== undefined ? "instruction" : "instruct", "Documents are embedded as raw text without an instruction; drop the instruction, or send the inputs as queries");
        }
        if (task !== undefined && !isSymmetricTask(task)) {
            throw invalidField("task", `Documents are embedded as raw text; task ${JSON.stringify(task)} applies to queries (only "semantic-similarity" applies to both sides)`);
        }
        return task === undefined ? {} : { task };
    }
    if (text !== undefined) return { instruction: text };
    if (task !== undefined) return { task };
    return { instruction: DEFAULT_INSTRUCTION };
}

function roleOf(body: RequestBody, name: "input_type" | "text_type" | "prompt_name"): "query" | "document" | undefined {
    const value = name === "prompt_name" ? body.oneOf(name, PROMPT_NAMES) : body.oneOf(name, INPUT_TYPES);
    if (value === undefined) return undefined;
    return value === "query" || value === "search_query" ? "query" : "document";
}

/**
 * `truncate`: true or "end" cuts inputs longer than the server's tokens-per-input limit from the end; false or
 * "error" rejects them (400). TEI's `truncation_direction` may only be "right" (the end), the one Qwen3 supports.
 */
export function readTruncate(body: RequestBody, serverDefault: boolean): "end" | "error" {
    const direction = body.raw("truncation_direction");
    if (direction !== undefined && (typeof direction !== "string" || direction.toLowerCase() !== "right")) {
        throw new HttpError(422, `Expected "right" for truncation_direction but received ${describeValue(direction)}; inputs can only be cut from the end`, {
            code: "unsupported_value", param: "truncation_direction",
        });
    }
    const value = body.raw("truncate");
    if (value === undefined) return serverDefault ? "end" : "error";
    if (value === true || value === "end") return "end";
    if (value === false || value === "error") return "error";
    throw invalidField("truncate", `Expected true, false, "end" or "error" for truncate but received ${describeValue(value)}`);
}
