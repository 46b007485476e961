/**
 * The facade group's workload, written once by the parent for every case: short texts, e-mails, one query with its
 * documents and a long text, with the token sequences node-llama-cpp gets (equal to what the facade evaluates).
 */
import type { Library } from "./runner.js";
import { END_OF_TEXT_TOKEN } from "../../src/format/embedding-input.js";
import { ensureFixtureModel } from "../../test/fixtures/qwen3-fixture.js";
import { benchTexts } from "./bench-texts.js";

export const COST_LENGTHS = [32, 128, 512, 2048, 8192];

export interface FacadeWorkload {
    embeddingModel: string;
    rerankModel: string;
    short: string[];
    emails: string[];
    /** The mixed-load case's bulk: e-mails of 200-400 tokens, `emails` first. */
    bulkEmails: string[];
    /** The mixed-load case: queries on the idle embedder, and e-mails embedded one at a time. */
    idleQueries: number;
    singleEmails: number;
    query: string;
    documents: string[];
    /** Token sequences (with <|endoftext|>) for node-llama-cpp, equal to what the facade evaluates. */
    shortTokens: number[][];
    emailTokens: number[][];
    /** A text of at least 8192 tokens, cut to each cost length. */
    longText: string;
    longTokens: number[];
    upperRepeats: number;
    costLengths: number[];
    latencyRequests: number;
}

export async function prepareFacadeWorkload(quick: boolean, { loadEngineModel }: Library): Promise<FacadeWorkload> {
    const embeddingModel = await ensureFixtureModel({ kind: "embedding", size: "0.6b" });
    const rerankModel = await ensureFixtureModel({ kind: "reranker-rank", size: "0.6b" });
    const tokenizer = await loadEngineModel(await ensureFixtureModel({ kind: "embedding", size: "tiny" }));
    const short: string[] = [];
    const emails: string[] = [];
    const bulkEmails: string[] = [];
    const documents: string[] = [];
    const longParts: string[] = [];
    const counts = { short: 64, emails: quick ? 8 : 16, bulkEmails: quick ? 12 : 60, documents: quick ? 30 : 100 };
    for (const item of benchTexts()) {
        const [ids] = await tokenizer.tokenize([item.text], { special: false });
        const n = ids!.length;
        // Short queries: a line of a poem or the first sentence of an e-mail, at most 31 tokens (+ <|endoftext|>).
        const line = item.text.split(/\n|(?<=[.!?。！？])\s*/).map((part) => part.trim()).find((part) => part.length >= 12);
        if (short.length < counts.short && line !== undefined) {
            const [lineIds] = await tokenizer.tokenize([line], { special: false });
            if (lineIds!.length >= 6 && lineIds!.length <= 31) short.push(line);
        }
        const email = item.source === "spam-assassin" && n >= 199 && n <= 399;
        if (email && bulkEmails.length < counts.bulkEmails) bulkEmails.push(item.text);
        if (email && emails.length < counts.emails) emails.push(item.text);
        else if (n >= 100 && n <= 400 && documents.length < counts.documents) documents.push(item.text);
        if (longParts.join("\n").length < 60_000) longParts.push(item.text);
        if (short.length >= counts.short && emails.length >= counts.emails && bulkEmails.length >= counts.bulkEmails && documents.length >= counts.documents && longParts.join("\n").length >= 60_000) break;
    }
    const withEnd = async (texts: string[]) => (await tokenizer.tokenize(texts, { special: false })).map((ids) => [...ids, END_OF_TEXT_TOKEN]);
    const longText = longParts.join("\n");
    const [longIds] = await tokenizer.tokenize([longText], { special: false });
    if (longIds!.length < 8192) throw new Error(`the long text has only ${longIds!.length} tokens`);
    const workload: FacadeWorkload = {
        embeddingModel,
        rerankModel,
        short,
        emails,
        bulkEmails,
        idleQueries: quick ? 8 : 24,
        singleEmails: quick ? 3 : 8,
        query: short[1]!,
        documents,
        shortTokens: await withEnd(short),
        emailTokens: await withEnd(emails),
        longText,
        longTokens: Array.from(longIds!),
        upperRepeats: quick ? 3 : 6,
        costLengths: quick ? COST_LENGTHS.slice(0, 4) : COST_LENGTHS,
        latencyRequests: quick ? 16 : 32,
    };
    tokenizer.dispose();
    return workload;
}
