// The fast test project's guard. vitest.config.ts runs it as the fast project's setup file, with
// QWEN3_EMBEDDING_TEST_PROJECT=fast; it adds itself to NODE_OPTIONS, so that it also runs first in every Node.js
// process those tests start (a CLI run, a child holding a lock). There, loading the native addon or llama.cpp
// throws, and so does ensureFixtureModel (test/fixtures/qwen3-fixture.ts): a test that needs a model but was left in
// the fast project fails at once and says where it belongs, instead of quietly slowing the fast project down.
import process from "node:process";
import { fileURLToPath } from "node:url";

const INSTALLED = Symbol.for("qwen3-embedding.fast-project-guard");

if (process.env["QWEN3_EMBEDDING_TEST_PROJECT"] === "fast" && process[INSTALLED] === undefined) {
    process[INSTALLED] = true;
    const dlopen = process.dlopen;
    process.dlopen = function guardedDlopen(module, filename, ...rest) {
        if (/qwen3_embedding\.node$|llama/i.test(String(filename))) {
            throw new Error(
                `The fast test project loads no model and starts no engine, but this test loads ${filename}: ` +
                    "name its file *.model.test.ts to run it in the model project (see vitest.config.ts)",
            );
        }
        return dlopen.call(this, module, filename, ...rest);
    };
    const preload = `--import="${fileURLToPath(import.meta.url)}"`;
    const options = process.env["NODE_OPTIONS"] ?? "";
    if (!options.includes(preload)) process.env["NODE_OPTIONS"] = `${options} ${preload}`.trim();
}
