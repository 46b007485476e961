/**
 * `npm run demo`: embeds a query and three documents and reranks them, with a real model when one is in models/
 * (Qwen3-Embedding*.gguf / Qwen3-Reranker*.gguf, any case), else with the synthetic fixtures (generated on first
 * use; their weights are random, so the numbers show the pipeline working, not meaning).
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { createEmbedder, createReranker } from "../src/index.js";
import { REPO_ROOT, ensureFixtureModel } from "../test/fixtures/qwen3-fixture.js";

const query = "What is the capital of China?";
const documents = ["The capital of China is Beijing.", "Gravity is a force that attracts two bodies towards each other.", "北京是中华人民共和国的首都。"];

function findModel(prefix: string): string | undefined {
    const dir = join(REPO_ROOT, "models");
    const file = readdirSync(dir).find((name) => name.toLowerCase().startsWith(prefix) && name.endsWith(".gguf"));
    return file === undefined ? undefined : join(dir, file);
}

const embeddingModel = findModel("qwen3-embedding") ?? (await ensureFixtureModel({ kind: "embedding", size: "tiny" }));
const rerankerModel = findModel("qwen3-reranker") ?? (await ensureFixtureModel({ kind: "reranker-rank", size: "tiny" }));
console.log(`embedding model: ${embeddingModel}\nreranker model:  ${rerankerModel}\n`);

const embedder = await createEmbedder({ model: embeddingModel });
const queryEmbedding = await embedder.embedQuery(query);
const documentEmbeddings = await embedder.embedDocuments(documents);
console.log(`query: ${query}  (${queryEmbedding.tokens} tokens, ${queryEmbedding.dimensions} dimensions)`);
documents.forEach((document, i) =>
    console.log(`  cosine ${embedder.similarity(queryEmbedding.embedding as Float32Array, documentEmbeddings.embeddings[i] as Float32Array).toFixed(4)}  ${document}`),
);
embedder.dispose();

const reranker = await createReranker({ model: rerankerModel });
const { results } = await reranker.rerank(query, documents, { returnDocuments: true });
console.log(`\nrerank (${reranker.flavour}), p(yes), best first:`);
for (const item of results) console.log(`  ${item.score.toFixed(4)}  ${item.document}`);
reranker.dispose();
