// Prints the libllama that node-llama-cpp resolves here (see llama-library-setup.ts).
import { bindLlamaLibrary } from "../../src/engine/llama-library.js";

const library = await bindLlamaLibrary();
process.stdout.write(JSON.stringify(library) + "\n");
