// Binds llama.cpp in this process with each option set given as a JSON argument, in order (none: one bind with no
// options, the way llama-library-setup.ts uses it), and prints one JSON line per attempt: the library bound, or the
// error's code and message. For tests that need a process of their own: a binding is per process.
import { bindLlamaLibrary } from "../../src/engine/llama-library.js";
import { loadNativeAddon } from "../../src/engine/native-addon.js";

const attempts = process.argv.length > 2 ? process.argv.slice(2).map((arg) => JSON.parse(arg) as object) : [{}];
for (const options of attempts) {
    try {
        const library = await bindLlamaLibrary(options);
        process.stdout.write(JSON.stringify(library) + "\n");
    } catch (error) {
        const { code, message } = error as { code?: string; message: string };
        process.stdout.write(JSON.stringify({ code, message, boundLibraryPath: loadNativeAddon().boundLibraryPath() }) + "\n");
    }
}
