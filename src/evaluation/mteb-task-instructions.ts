import { TASK_INSTRUCTIONS, TASK_NAMES, type TaskName } from "../format/task-instructions.js";

/**
 * The query-side instructions of the MTEB retrieval tasks distributed in BEIR format, as used for instruction-tuned
 * embedding models (E5-mistral, gte-Qwen, Qwen3-Embedding evaluations). Documents get no instruction.
 */
export const MTEB_RETRIEVAL_INSTRUCTIONS: Readonly<Record<string, string>> = Object.freeze({
    ArguAna: "Given a claim, find documents that refute the claim",
    ClimateFEVER: "Given a claim about climate change, retrieve documents that support or refute the claim",
    CQADupstackRetrieval: "Given a question, retrieve detailed question descriptions from Stackexchange that are duplicates to the given question",
    DBPedia: "Given a query, retrieve relevant entity descriptions from DBPedia",
    FEVER: "Given a claim, retrieve documents that support or refute the claim",
    FiQA2018: "Given a financial question, retrieve user replies that best answer the question",
    HotpotQA: "Given a multi-hop question, retrieve documents that can help answer the question",
    MSMARCO: "Given a web search query, retrieve relevant passages that answer the query",
    NFCorpus: "Given a question, retrieve relevant documents that best answer the question",
    NQ: "Given a question, retrieve Wikipedia passages that answer the question",
    QuoraRetrieval: "Given a question, retrieve questions that are semantically equivalent to the given question",
    SCIDOCS: "Given a scientific paper title, retrieve paper abstracts that are cited by the given paper",
    SciFact: "Given a scientific claim, retrieve documents that support or refute the claim",
    Touche2020: "Given a question, retrieve detailed and persuasive arguments that answer the question",
    TRECCOVID: "Given a query on COVID-19, retrieve documents that answer the query",
    T2Retrieval: "Given a Chinese search query, retrieve web passages that answer the question",
    MMarcoRetrieval: "Given a web search query, retrieve relevant passages that answer the query",
    DuRetrieval: "Given a Chinese search query, retrieve web passages that answer the question",
    CovidRetrieval: "Given a question on COVID-19, retrieve news articles that answer the question",
    CmedqaRetrieval: "Given a Chinese community medical question, retrieve replies that best answer the question",
    EcomRetrieval: "Given a user query from an e-commerce website, retrieve description sentences of relevant products",
    MedicalRetrieval: "Given a medical question, retrieve user replies that best answer the question",
    VideoRetrieval: "Given a video search query, retrieve the titles of relevant videos",
});

/** BEIR directory names (as the BEIR download script unpacks them) of the MTEB tasks above. */
const BEIR_DIRECTORY_NAMES: Readonly<Record<string, string>> = {
    arguana: "ArguAna",
    "climate-fever": "ClimateFEVER",
    cqadupstack: "CQADupstackRetrieval",
    "dbpedia-entity": "DBPedia",
    fever: "FEVER",
    fiqa: "FiQA2018",
    hotpotqa: "HotpotQA",
    msmarco: "MSMARCO",
    nfcorpus: "NFCorpus",
    nq: "NQ",
    quora: "QuoraRetrieval",
    scidocs: "SCIDOCS",
    scifact: "SciFact",
    "webis-touche2020": "Touche2020",
    "trec-covid": "TRECCOVID",
};

const byLowerName = new Map<string, string>(Object.keys(MTEB_RETRIEVAL_INSTRUCTIONS).map((name) => [name.toLowerCase(), name]));

/** The MTEB task a name or a BEIR directory name stands for, case-insensitively; undefined when unknown. */
export function findMtebTask(name: string): string | undefined {
    const lower = name.toLowerCase();
    return byLowerName.get(lower) ?? BEIR_DIRECTORY_NAMES[lower];
}

/**
 * The query instruction for `task`: one of this library's task names (web-search, code-search, ...), an MTEB task name,
 * or a BEIR directory name. Undefined when the name is none of these.
 */
export function retrievalInstruction(task: string): { task: string; instruction: string } | undefined {
    if ((TASK_NAMES as readonly string[]).includes(task)) return { task, instruction: TASK_INSTRUCTIONS[task as TaskName] };
    const mteb = findMtebTask(task);
    return mteb === undefined ? undefined : { task: mteb, instruction: MTEB_RETRIEVAL_INSTRUCTIONS[mteb]! };
}
