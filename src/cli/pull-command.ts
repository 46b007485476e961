import { UsageError, asUsageError, writeLine, type Command } from "./command.js";
import { checkInteger } from "../internal/validation.js";
import { CONNECT_TIMEOUT_ENV, MAX_TIMEOUT_MS, STALL_TIMEOUT_ENV, formatProgress, pullModel } from "../models/model-download.js";
import { MODELS_DIR_ENV } from "../models/model-location.js";

/** `pull`: says where the file comes from and goes before the first byte, progress on stderr, `{path, bytes}` on stdout. */
export const pullCommand: Command = {
    summary: "Download a model from the registry into the models directory (resumable, progress on stderr)",
    usage: [
        "qwen3-embedding pull <id> [--quant Q8_0] [--models-dir <dir>] [--connect-timeout <ms>] [--stall-timeout <ms>]",
        "  (ids: see `qwen3-embedding models`)",
        `--models-dir         where to store it (default: ${MODELS_DIR_ENV}, else ~/.cache/qwen3-embedding or the platform's cache folder)`,
        `--connect-timeout    ms to resolve and connect to the host (default 10000, env ${CONNECT_TIMEOUT_ENV})`,
        `--stall-timeout      ms without a byte from the server before giving up (default 30000, env ${STALL_TIMEOUT_ENV})`,
        "A file already in the models directory or in the Hugging Face cache is not downloaded again. HF_ENDPOINT names a",
        "mirror, HF_TOKEN a token for gated repositories. The partial file of a failed or interrupted pull is kept and resumed.",
    ].join("\n"),
    options: {
        quant: { type: "string" }, "models-dir": { type: "string" },
        "connect-timeout": { type: "string" }, "stall-timeout": { type: "string" },
    },
    positionals: true,
    async run(values, positionals) {
        if (positionals.length !== 1) throw new UsageError("pull takes exactly one model id");
        const id = positionals[0]!;
        let progressShown = false;
        const result = await pullModel(id, {
            ...(values["quant"] !== undefined ? { quant: values["quant"] as string } : {}),
            ...(values["models-dir"] !== undefined ? { modelsDir: values["models-dir"] as string } : {}),
            ...milliseconds(values, "connect-timeout", "connectTimeoutMs"),
            ...milliseconds(values, "stall-timeout", "stallTimeoutMs"),
            onDownloadStart: ({ url, path, resumeFromBytes }) => {
                if (progressShown) process.stderr.write("\n");
                const resuming = resumeFromBytes > 0 ? ` (resuming after ${(resumeFromBytes / 1e6).toFixed(1)} MB)` : "";
                process.stderr.write(`Downloading ${url}\n  into ${path}${resuming}\n`);
            },
            onProgress: (progress) => {
                progressShown = true;
                process.stderr.write(`\r${formatProgress(progress)}`);
            },
        });
        if (progressShown) process.stderr.write("\n");
        if (!result.downloaded) {
            const where = result.place === "hf-cache" ? "in the Hugging Face cache, used where it is" : "downloaded";
            process.stderr.write(`${result.id} (${result.quant}) is already ${where}: ${result.path}\n`);
        }
        writeLine({ path: result.path, bytes: result.bytes });
    },
};

/** `--flag <ms>` as a pull option, checked with the flag's name in the message. */
function milliseconds(values: Record<string, unknown>, flag: string, option: string): Record<string, number> {
    const raw = values[flag];
    if (raw === undefined) return {};
    const value = typeof raw === "string" && /^\d+$/.test(raw) ? Number(raw) : raw;
    return { [option]: asUsageError(() => checkInteger(`--${flag}`, value, 1, MAX_TIMEOUT_MS)) };
}
