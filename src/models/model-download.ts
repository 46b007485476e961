/**
 * `pull`: downloads a registry model into the models directory with node-llama-cpp's resumable downloader, then checks
 * that the file is the kind of model the registry says it is. The only code in the package that touches the network.
 */
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { AbortedError, InvalidOptionError, ModelFileError, UnsupportedModelError } from "../internal/errors.js";
import { checkAbortSignal, checkOptionsObject, checkString, describeValue } from "../internal/validation.js";
import { inspectGguf, type GgufInspection } from "./gguf-inspection.js";
import { classifyModel, type ModelKind } from "./model-kind.js";
import { PARTIAL_DOWNLOAD_SUFFIX, locatePulledModel, pullCommand, type PulledModelLocation } from "./model-location.js";

/** Progress of a download, as passed to PullModelOptions.onProgress. */
export interface DownloadProgress {
    downloadedBytes: number;
    /** 0 while the size is not known yet. */
    totalBytes: number;
    /** Recent average speed; 0 when unknown. */
    bytesPerSecond: number;
    /** Estimated time left, undefined when unknown. */
    secondsLeft: number | undefined;
}

export interface PullModelOptions {
    /** Quantization, such as "Q8_0" or "F16" (case-insensitive). Default: the model's default in the manifest. May also be given as "<id>:<quant>". */
    quant?: string;
    /** Directory to store the file in. Default: `QWEN3_EMBEDDING_MODELS_DIR`, else the package's `models/` directory. */
    modelsDir?: string;
    /** Called as bytes arrive (often several times a second). */
    onProgress?: (progress: DownloadProgress) => void;
    /** Aborts the download; the partial file is kept and the next pull resumes it. */
    signal?: AbortSignal;
}

export interface PulledModel {
    /** Absolute path of the model file. */
    path: string;
    /** Size of the file in bytes. */
    bytes: number;
    /** Registry id and quantization of the file. */
    id: string;
    quant: string;
    /** False when the file was already complete and nothing was downloaded. */
    downloaded: boolean;
}

const PULL_OPTIONS = ["quant", "modelsDir", "onProgress", "signal"] as const;

/**
 * Downloads a registry model (`qwen3-embedding-0.6b`, optionally `:QUANT`) into the models directory and returns its path.
 * Interrupted downloads resume. A file already complete is not downloaded again and needs no network.
 * Hugging Face access honours `HF_TOKEN` (gated or private repositories) and `HF_ENDPOINT` (a mirror).
 * After the download the file's header is checked; a file of the wrong kind is kept, and an UnsupportedModelError says why.
 */
export async function pullModel(id: string, options?: PullModelOptions): Promise<PulledModel> {
    checkString("model id", id, { allowEmpty: false });
    const opts = checkOptionsObject<PullModelOptions>("pullModel options", options, [...PULL_OPTIONS]);
    if (opts.quant !== undefined) checkString("quant", opts.quant, { allowEmpty: false });
    if (opts.modelsDir !== undefined) checkString("modelsDir", opts.modelsDir, { allowEmpty: false });
    if (opts.onProgress !== undefined && typeof opts.onProgress !== "function") {
        throw new InvalidOptionError(`Expected a function for onProgress but received ${describeValue(opts.onProgress)}`);
    }
    const signal = checkAbortSignal("signal", opts.signal);
    const location = locatePulledModel(id, { ...(opts.quant !== undefined ? { quant: opts.quant } : {}), modelsDir: opts.modelsDir });
    if (signal?.aborted) throw abortedError(location);

    // ipull renames the partial file to the final name only once complete: a final file without a partial one is whole.
    const complete = existsSync(location.path) && !existsSync(location.path + PARTIAL_DOWNLOAD_SUFFIX);
    if (!complete) await download(location, opts.onProgress, signal);

    const inspection = await inspectPulledFile(location, complete);
    checkPulledModel(location, inspection);
    return { path: location.path, bytes: inspection.fileSizeBytes, id: location.source.id, quant: location.source.quant, downloaded: !complete };
}

/**
 * One progress line for a terminal, meant to be rewritten in place with "\r":
 * `[########------------]  312.4/639.2 MB   48.9%   12.3 MB/s   ETA 27s`
 */
export function formatProgress(progress: DownloadProgress, { barWidth = 20 }: { barWidth?: number } = {}): string {
    const { downloadedBytes, totalBytes, bytesPerSecond, secondsLeft } = progress;
    const megabytes = (bytes: number): string => (bytes / 1e6).toFixed(1);
    const speed = bytesPerSecond > 0 ? `${megabytes(bytesPerSecond)} MB/s` : "-- MB/s";
    if (!(totalBytes > 0)) return `${megabytes(downloadedBytes)} MB   ${speed}`;
    const fraction = Math.min(1, Math.max(0, downloadedBytes / totalBytes));
    const filled = Math.round(fraction * barWidth);
    const bar = `[${"#".repeat(filled)}${"-".repeat(barWidth - filled)}]`;
    const sizes = `${megabytes(downloadedBytes).padStart(megabytes(totalBytes).length)}/${megabytes(totalBytes)} MB`;
    const percent = `${(fraction * 100).toFixed(1).padStart(5)}%`;
    const eta = secondsLeft !== undefined && Number.isFinite(secondsLeft) && fraction < 1 ? `   ETA ${formatDuration(secondsLeft)}` : "";
    return `${bar}  ${sizes}  ${percent}   ${speed}${eta}`;
}

function formatDuration(seconds: number): string {
    const whole = Math.max(0, Math.round(seconds));
    if (whole < 60) return `${whole}s`;
    if (whole < 3600) return `${Math.floor(whole / 60)}m${String(whole % 60).padStart(2, "0")}s`;
    return `${Math.floor(whole / 3600)}h${String(Math.floor((whole % 3600) / 60)).padStart(2, "0")}m`;
}

interface DownloaderProgressStatus {
    totalSize: number;
    downloadedSize: number;
    estimatedTimeLeft: number;
    averageSpeed: number;
}

async function download(
    location: PulledModelLocation,
    onProgress: ((progress: DownloadProgress) => void) | undefined,
    signal: AbortSignal | undefined,
): Promise<void> {
    const { source, modelsDir } = location;
    await mkdir(modelsDir, { recursive: true });
    // node-llama-cpp is only loaded here, when a download is really wanted.
    const { createModelDownloader } = await import("node-llama-cpp");
    const fetchFile = async (modelUri: string): Promise<void> => {
        const downloader = await createModelDownloader({
            modelUri,
            dirPath: modelsDir,
            fileName: source.file,
            skipExisting: true,
            deleteTempFileOnCancel: false,
            ...(onProgress !== undefined ? { onProgress: (status: DownloaderProgressStatus) => onProgress(toDownloadProgress(status)) } : {}),
        });
        await downloader.download(signal !== undefined ? { signal } : {});
        // On abort, node-llama-cpp cancels the transfer and may return normally: the file is then still partial.
        if (signal?.aborted) throw signal.reason;
    };

    try {
        try {
            // `hf:<repo>/<file>` resolves to https://huggingface.co/<repo>/resolve/main/<file> (or HF_ENDPOINT's host).
            await fetchFile(`hf:${source.repo}/${source.file}`);
        } catch (error) {
            if (signal?.aborted || !isNotFound(error)) throw error;
            // The repository renamed the file: ask it which file holds this quantization, and still save it under our name.
            await fetchFile(`hf:${source.repo}:${source.quant}`);
        }
    } catch (error) {
        if (signal?.aborted) throw abortedError(location);
        const reason = error instanceof Error ? error.message : String(error);
        const hint = isNotFound(error)
            ? `; the repository has no such file, so the registry entry is out of date: download a ${source.quant} GGUF of ${location.model.name} by hand and pass its path`
            : `; run \`${pullCommand(location)}\` again to resume, set HF_TOKEN if the repository needs a login, or HF_ENDPOINT to use a mirror`;
        throw new ModelFileError(`Downloading ${source.id} (${source.quant}) from ${source.url} failed: ${reason}${hint}`, { cause: error });
    }
}

function toDownloadProgress(status: DownloaderProgressStatus): DownloadProgress {
    const millisecondsLeft = status.estimatedTimeLeft;
    return {
        downloadedBytes: status.downloadedSize,
        totalBytes: status.totalSize,
        bytesPerSecond: Number.isFinite(status.averageSpeed) ? status.averageSpeed : 0,
        secondsLeft: Number.isFinite(millisecondsLeft) && millisecondsLeft > 0 ? millisecondsLeft / 1000 : undefined,
    };
}

function isNotFound(error: unknown): boolean {
    if (error === null || typeof error !== "object") return false;
    if ((error as { statusCode?: unknown }).statusCode === 404) return true;
    const message = (error as { message?: unknown }).message;
    return typeof message === "string" && (/\b(status code|status):? 404\b/i.test(message) || /Cannot get quantization/.test(message));
}

function abortedError(location: PulledModelLocation): AbortedError {
    const partial = location.path + PARTIAL_DOWNLOAD_SUFFIX;
    return new AbortedError(
        existsSync(partial)
            ? `Downloading ${location.source.id} (${location.source.quant}) was aborted; the partial file ${partial} is kept and \`${pullCommand(location)}\` resumes it`
            : `Downloading ${location.source.id} (${location.source.quant}) was aborted`,
    );
}

async function inspectPulledFile(location: PulledModelLocation, alreadyPresent: boolean): Promise<GgufInspection> {
    try {
        return await inspectGguf(location.path);
    } catch (error) {
        if (!(error instanceof ModelFileError)) throw error;
        throw new ModelFileError(
            `${alreadyPresent ? "The existing file" : "The downloaded file"} is not a usable GGUF: ${error.message}. ` +
            `Delete ${location.path} and run \`${pullCommand(location)}\``,
            { cause: error },
        );
    }
}

/** Refuses (keeping the file) a GGUF whose kind or shape is not the registry model's. */
function checkPulledModel(location: PulledModelLocation, inspection: GgufInspection): void {
    const { model, path, source } = location;
    const refuse = (reason: string): never => {
        throw new UnsupportedModelError(
            `${path} is not a usable ${model.name} ${model.kind} model: ${reason}. The file was kept; ` +
            `it came from ${source.url}: delete it, or pull another quantization (${model.id}:<quant>)`,
        );
    };
    let kind: ModelKind | undefined;
    try {
        kind = kindFromHeader(inspection);
    } catch (error) {
        if (!(error instanceof UnsupportedModelError)) throw error;
        return refuse(error.message);
    }
    if (kind !== undefined && kind !== model.kind) {
        const found = kind === "embedding"
            ? `it is an embedding model (pooling ${inspection.pooling})`
            : `it is a reranker (${inspection.pooling === "rank" ? `RANK pooling, ${inspection.classifierRows} classifier rows` : "a plain causal LM"})`;
        refuse(found);
    }
    if (inspection.embeddingSize !== model.hiddenSize) refuse(`its hidden size is ${inspection.embeddingSize}, not ${model.hiddenSize}`);
    if (inspection.layers !== model.layers) refuse(`it has ${inspection.layers} layers, not ${model.layers}`);
}

/**
 * The kind a header declares. Pooled files say it themselves (classifyModel); a file without a pooling key can be an
 * old embedding conversion or a causal-LM reranker, and only its general.name tells which: undefined when it does not.
 * (The file name proves nothing here: pull chose it from the registry.)
 */
function kindFromHeader(inspection: GgufInspection): ModelKind | undefined {
    if (inspection.pooling !== "unspecified" && inspection.pooling !== "none") return classifyModel(inspection).kind;
    const name = (inspection.name ?? "").toLowerCase();
    if (name.includes("rerank")) return "reranker";
    if (name.includes("embed")) return "embedding";
    return undefined;
}
