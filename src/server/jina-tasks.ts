import type { TaskName } from "../format/task-instructions.js";

/**
 * Jina's embedding `task` values (https://jina.ai/embeddings, jina-embeddings-v3 API) and what each means for Qwen3:
 * - `retrieval.query`: queries, with the default web-search instruction;
 * - `retrieval.passage`: documents (raw text);
 * - `text-matching`, `classification`, `separation` (clustering): every text compared with texts like it, so every
 *   text gets the symmetric "semantic-similarity" instruction (as Qwen3's own evaluation instructs both sides of
 *   STS, classification and clustering texts);
 * - `code.query`: queries with the "code-search" instruction; `code.passage`: documents.
 */
export const JINA_TASKS = {
    "retrieval.query": { role: "query", task: undefined },
    "retrieval.passage": { role: "document", task: undefined },
    "text-matching": { role: "document", task: "semantic-similarity" },
    classification: { role: "document", task: "semantic-similarity" },
    separation: { role: "document", task: "semantic-similarity" },
    "code.query": { role: "query", task: "code-search" },
    "code.passage": { role: "document", task: undefined },
} as const satisfies Record<string, { role: "query" | "document"; task: TaskName | undefined }>;

export type JinaTask = keyof typeof JINA_TASKS;

export const JINA_TASK_NAMES: readonly JinaTask[] = Object.freeze(Object.keys(JINA_TASKS) as JinaTask[]);

export function isJinaTask(name: string): name is JinaTask {
    return Object.hasOwn(JINA_TASKS, name);
}
