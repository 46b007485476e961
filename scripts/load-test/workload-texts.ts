/** Deterministic synthetic texts for the mixed load test: documents, queries, memories; the same for the same numbers. */

const SUBJECTS = ["the courier", "a gardener", "our neighbour", "the pilot", "my sister", "the baker", "a student", "the mayor", "an engineer", "the old fisherman", "a nurse", "the museum guide"];
const VERBS = ["delivers", "paints", "repairs", "photographs", "describes", "orders", "forgets", "sells", "borrows", "studies", "plants", "cleans"];
const OBJECTS = ["fresh bread", "a blue bicycle", "the harbour lights", "winter boots", "a chess set", "the train timetable", "spicy noodles", "a jazz record", "the garden fence", "lemon tea", "a paper kite", "the village map"];
const WHEN = ["on monday", "before dawn", "after the storm", "every weekend", "during the festival", "in late autumn", "at noon", "next spring"];
const DETAILS = [
    "The receipt is kept in the kitchen drawer next to the spare keys.",
    "Nobody remembers why it started, but everyone agrees it should continue.",
    "北京的冬天很冷，所以要早点出门。",
    "It costs about twelve euros and takes roughly forty minutes.",
    "The instructions were written on the back of an old postcard.",
    "Afterwards they usually talk about the weather and the football results.",
];

const pick = <T>(items: readonly T[], index: number, salt: number): T => items[Math.floor(index / salt) % items.length]!;

/** A document of one or two sentences (about 15 to 40 tokens). */
export function documentText(index: number): string {
    const head = `${pick(SUBJECTS, index, 1)} ${pick(VERBS, index, 7)} ${pick(OBJECTS, index, 37)} ${pick(WHEN, index, 331)}`;
    return index % 3 === 0 ? `${head}. ${pick(DETAILS, index, 5)} (doc ${index})` : `${head} (doc ${index})`;
}

/** A short question about the documents. */
export function queryText(index: number): string {
    return `Who ${pick(VERBS, index, 1)} ${pick(OBJECTS, index, 5)} ${pick(WHEN, index, 61)}?`;
}

/** A memory of a user; distinct for distinct (user, index). */
export function memoryText(user: string, index: number): string {
    return `${user} said that ${pick(SUBJECTS, index, 1)} ${pick(VERBS, index, 7)} ${pick(OBJECTS, index, 37)} ${pick(WHEN, index, 13)} (memory ${index})`;
}

/** 1 to 4 short texts for an embeddings request. */
export function shortTexts(index: number): string[] {
    return Array.from({ length: 1 + (index % 4) }, (_, offset) => `${pick(SUBJECTS, index + offset, 1)} ${pick(VERBS, index + offset, 3)} ${pick(OBJECTS, index, 1)}`);
}

/** 10 to 20 documents for a rerank request. */
export function rerankDocuments(index: number): string[] {
    return Array.from({ length: 10 + (index % 11) }, (_, offset) => documentText(index * 7 + offset));
}
