import { InvalidOptionError } from "../internal/errors.js";
import { checkOneOf, checkString } from "../internal/validation.js";

/**
 * The instruction each named task puts in front of a query (`Instruct: {instruction}\nQuery:{query}`) and, for the
 * reranker, into the `<Instruct>:` line. Instructions are English even for other languages (Qwen3 Embedding report).
 */
export const TASK_INSTRUCTIONS = {
    "web-search": "Given a web search query, retrieve relevant passages that answer the query",
    "memory-retrieval": "Given a user query, retrieve relevant memories",
    "document-retrieval": "Given a question, find relevant documents",
    "code-search": "Given a coding query, retrieve relevant code snippets",
    "question-answering": "Given a user question, retrieve the best answer",
    "semantic-similarity": "Retrieve semantically similar text",
} as const satisfies Record<string, string>;

export type TaskName = keyof typeof TASK_INSTRUCTIONS;

/** The task names, in the order error messages list them. */
export const TASK_NAMES: readonly TaskName[] = Object.freeze(Object.keys(TASK_INSTRUCTIONS) as TaskName[]);

/** The task used when the caller names neither an instruction nor a task. */
export const DEFAULT_TASK: TaskName = "web-search";

/** The official default for both embedding queries and reranking: the "web-search" instruction. */
export const DEFAULT_INSTRUCTION: string = TASK_INSTRUCTIONS[DEFAULT_TASK];

/** Tasks whose instruction goes on both sides (queries and documents), as for STS and pair classification. */
const SYMMETRIC_TASKS: ReadonlySet<TaskName> = new Set<TaskName>(["semantic-similarity"]);

export function instructionFor(task: TaskName): string {
    return TASK_INSTRUCTIONS[checkOneOf("task", task, TASK_NAMES)];
}

/** True when the task compares like with like, so documents get the instruction too, not only queries. */
export function isSymmetricTask(task: TaskName): boolean {
    return SYMMETRIC_TASKS.has(task);
}

/** The caller's choice of instruction: a free-form instruction, a named task, or neither. */
export interface InstructionChoice {
    /** Free-form instruction text, English recommended. Must not be empty. */
    instruction?: string | undefined;
    /** One of {@link TASK_NAMES}. */
    task?: TaskName | undefined;
}

/**
 * Resolves `{ instruction, task }` to the instruction string: the instruction as given, or the named task's
 * instruction. Returns `undefined` when both are undefined, so the caller decides what "no instruction" means
 * (documents: raw text; queries and reranking: {@link DEFAULT_INSTRUCTION}). Validates at run time for JavaScript
 * callers.
 *
 * @param optionPrefix put in front of the option names in error messages, e.g. `"options."`.
 * @throws InvalidOptionError when both are given, the instruction is not a non-empty string, or the task is unknown.
 */
export function resolveInstruction(choice: InstructionChoice, optionPrefix = ""): string | undefined {
    const { instruction, task } = choice;
    if (instruction !== undefined && task !== undefined) {
        throw new InvalidOptionError(`Pass either ${optionPrefix}instruction or ${optionPrefix}task, not both`);
    }
    if (instruction !== undefined) return checkString(`${optionPrefix}instruction`, instruction, { allowEmpty: false });
    if (task !== undefined) return TASK_INSTRUCTIONS[checkOneOf(`${optionPrefix}task`, task, TASK_NAMES)];
    return undefined;
}
