/**
 * `npm run demo`: embeds a query and three documents and reranks them, with the real 0.6B models when they are pulled
 * (`qwen3-embedding pull qwen3-embedding-0.6b`, `... qwen3-reranker-0.6b`: the models directory or the Hugging Face
 * cache), else with the synthetic fixtures (generated on first use; their weights are random, so the numbers show the
 * pipeline working, not meaning).
 */
import { createEmbedder, createReranker, resolveModelPath } from "../src/index.js";
import { ensureFixtureModel } from "../test/fixtures/qwen3-fixture.js";

const query = "What is the capital of China?";
const documents = ["The capital of China is Beijing.", "Gravity is a force that attracts two bodies towards each other.", "北京是中华人民共和国的首都。"];

/** The pulled file of a registry model, or undefined when it is not on this machine. */
async function pulled(id: string): Promise<string | undefined> {
    return resolveModelPath(id).catch(() => undefined);
}

const embeddingModel = (await pulled("qwen3-embedding-0.6b")) ?? (await ensureFixtureModel({ kind: "embedding", size: "tiny" }));
const rerankerModel = (await pulled("qwen3-reranker-0.6b")) ?? (await ensureFixtureModel({ kind: "reranker-rank", size: "tiny" }));
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
