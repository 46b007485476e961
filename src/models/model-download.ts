/**
 * `pull`: downloads a registry model into the models directory (http-download.ts: resumable, with a connect and a
 * stall timeout), unless the file is already there or in the Hugging Face hub cache, then checks that the file is the
 * kind of model the registry says it is. The only code of the model registry that touches the network.
 */
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { AbortedError, InvalidOptionError, ModelFileError, UnsupportedModelError } from "../internal/errors.js";
import { checkAbortSignal, checkInteger, checkOptionsObject, checkString, describeValue } from "../internal/validation.js";
import { inspectGguf, type GgufInspection } from "./gguf-inspection.js";
import { HttpSession, HttpStatusError, NetworkError, type HttpTimeouts, type TransferProgress } from "./http-download.js";
import { huggingFaceEndpoint, huggingFaceFileUrl, huggingFaceModelInfoUrl, huggingFaceToken, quantFileInListing } from "./huggingface-access.js";
import { classifyModel, type ModelKind } from "./model-kind.js";
import { PARTIAL_DOWNLOAD_SUFFIX, findLocalModel, locatePulledModel, pullCommand, type PulledModelLocation } from "./model-location.js";

/** Progress of a download, as passed to PullModelOptions.onProgress. */
export interface DownloadProgress {
    downloadedBytes: number;
    /** 0 while the size is not known yet. */
    totalBytes: number;
    /** Average speed of this transfer; 0 when unknown. */
    bytesPerSecond: number;
    /** Estimated time left, undefined when unknown. */
    secondsLeft: number | undefined;
}

/** What a download is about to fetch, as passed to PullModelOptions.onDownloadStart before the first request. */
export interface DownloadStart {
    /** The URL asked for (HF_ENDPOINT's host when set). */
    url: string;
    /** Where the file will be once complete. */
    path: string;
    /** Bytes an interrupted download left, which this one continues from; 0 for a fresh download. */
    resumeFromBytes: number;
}

/** Environment variable: the default connect timeout of `pull`, in milliseconds. */
export const CONNECT_TIMEOUT_ENV = "QWEN3_EMBEDDING_CONNECT_TIMEOUT";
/** Environment variable: the default stall timeout of `pull`, in milliseconds. */
export const STALL_TIMEOUT_ENV = "QWEN3_EMBEDDING_STALL_TIMEOUT";
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
export const DEFAULT_STALL_TIMEOUT_MS = 30_000;
/** The largest timeout accepted, in milliseconds (an hour). */
export const MAX_TIMEOUT_MS = 3_600_000;

export interface PullModelOptions {
    /** Quantization, such as "Q8_0" or "F16" (case-insensitive). Default: the model's default in the manifest. May also be given as "<id>:<quant>". */
    quant?: string;
    /**
     * Directory to store the file in. Default: `QWEN3_EMBEDDING_MODELS_DIR`, else the per-user cache folder
     * (`~/.cache/qwen3-embedding` on Linux; see defaultModelsDirectory).
     */
    modelsDir?: string;
    /**
     * Longest wait, in milliseconds, to resolve the host and connect to it (TCP and TLS). Default 10000, or
     * `QWEN3_EMBEDDING_CONNECT_TIMEOUT`. A host that cannot be resolved or refuses the connection fails at once.
     */
    connectTimeoutMs?: number;
    /**
     * Longest wait, in milliseconds, for the server's answer once connected, and then between two pieces of the file:
     * a stalled download fails after it (the partial file is kept). Default 30000, or `QWEN3_EMBEDDING_STALL_TIMEOUT`.
     */
    stallTimeoutMs?: number;
    /** Called once before the first request of a download (not when the file is already here), with its URL and destination. */
    onDownloadStart?: (start: DownloadStart) => void;
    /** Called as bytes arrive (at most four times a second). */
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
    /** "models-dir": the file is in the models directory; "hf-cache": it was found in the Hugging Face hub cache and is used there. */
    place: "models-dir" | "hf-cache";
}

const PULL_OPTIONS = ["quant", "modelsDir", "connectTimeoutMs", "stallTimeoutMs", "onDownloadStart", "onProgress", "signal"] as const;

/**
 * Downloads a registry model (`qwen3-embedding-0.6b`, optionally `:QUANT`) into the models directory and returns its path.
 * A file already complete there, or already in the Hugging Face hub cache (`HF_HUB_CACHE`, else `HF_HOME/hub`, else
 * `~/.cache/huggingface/hub`), is not downloaded again and needs no network. Interrupted downloads resume. Nothing is
 * retried: a host that cannot be resolved or reached fails at once, a silent one after the connect or stall timeout.
 * Hugging Face access honours `HF_TOKEN` (gated or private repositories) and `HF_ENDPOINT` (a mirror).
 * After the download the file's header is checked; a file of the wrong kind is kept, and an UnsupportedModelError says why.
 */
export async function pullModel(id: string, options?: PullModelOptions): Promise<PulledModel> {
    checkString("model id", id, { allowEmpty: false });
    const opts = checkOptionsObject<PullModelOptions>("pullModel options", options, [...PULL_OPTIONS]);
    if (opts.quant !== undefined) checkString("quant", opts.quant, { allowEmpty: false });
    if (opts.modelsDir !== undefined) checkString("modelsDir", opts.modelsDir, { allowEmpty: false });
    const timeouts: HttpTimeouts = {
        connectTimeoutMs: timeoutOption("connectTimeoutMs", opts.connectTimeoutMs, CONNECT_TIMEOUT_ENV, DEFAULT_CONNECT_TIMEOUT_MS),
        stallTimeoutMs: timeoutOption("stallTimeoutMs", opts.stallTimeoutMs, STALL_TIMEOUT_ENV, DEFAULT_STALL_TIMEOUT_MS),
    };
    checkCallback("onDownloadStart", opts.onDownloadStart);
    checkCallback("onProgress", opts.onProgress);
    const signal = checkAbortSignal("signal", opts.signal);
    const location = locatePulledModel(id, { ...(opts.quant !== undefined ? { quant: opts.quant } : {}), modelsDir: opts.modelsDir });
    if (signal?.aborted) throw abortedError(location);

    const found = await findLocalModel(location);
    const present = found !== undefined && found.place !== "partial" ? found : undefined;
    if (present === undefined) await download(location, { ...opts, timeouts, signal });

    const path = present?.path ?? location.path;
    const inspection = await inspectPulledFile(location, path, present !== undefined);
    checkPulledModel(location, path, inspection);
    return {
        path,
        bytes: inspection.fileSizeBytes,
        id: location.source.id,
        quant: location.source.quant,
        downloaded: present === undefined,
        place: present?.place === "hf-cache" ? "hf-cache" : "models-dir",
    };
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

/** A timeout option: the option when given, else its environment variable, else the default; an integer of milliseconds. */
function timeoutOption(name: string, value: number | undefined, environmentVariable: string, fallback: number): number {
    if (value !== undefined) return checkInteger(name, value, 1, MAX_TIMEOUT_MS);
    const raw = process.env[environmentVariable]?.trim();
    if (raw === undefined || raw === "") return fallback;
    return checkInteger(environmentVariable, /^\d+$/.test(raw) ? Number(raw) : raw, 1, MAX_TIMEOUT_MS);
}

function checkCallback(name: string, value: unknown): void {
    if (value !== undefined && typeof value !== "function") {
        throw new InvalidOptionError(`Expected a function for ${name} but received ${describeValue(value)}`, { option: name });
    }
}

async function download(
    location: PulledModelLocation,
    options: Pick<PullModelOptions, "onDownloadStart" | "onProgress"> & { timeouts: HttpTimeouts; signal: AbortSignal | undefined },
): Promise<void> {
    const { source, modelsDir } = location;
    const { signal, onDownloadStart, onProgress } = options;
    const endpoint = huggingFaceEndpoint();
    const token = huggingFaceToken();
    let url = huggingFaceFileUrl(source.repo, source.file, endpoint);
    await mkdir(modelsDir, { recursive: true });
    const session = new HttpSession(options.timeouts, token === undefined ? {} : { authorization: `Bearer ${token}` });
    const fetchFile = (fileUrl: string): Promise<void> =>
        session.downloadFile(fileUrl, location.path, {
            partialSuffix: PARTIAL_DOWNLOAD_SUFFIX,
            signal,
            onStart: ({ resumeFromBytes }) => onDownloadStart?.({ url: fileUrl, path: location.path, resumeFromBytes }),
            onProgress: onProgress === undefined ? undefined : (progress) => onProgress(toDownloadProgress(progress)),
        });
    try {
        try {
            await fetchFile(url);
        } catch (error) {
            if (signal?.aborted || !isNotFound(error)) throw error;
            // The repository renamed the file: ask it which file holds this quantization, and still save it under our name.
            const listed = quantFileInListing(await session.getJson(huggingFaceModelInfoUrl(source.repo, endpoint), signal), source.quant);
            if (listed === undefined) throw error;
            url = huggingFaceFileUrl(source.repo, listed, endpoint);
            await fetchFile(url);
        }
    } catch (error) {
        if (signal?.aborted) throw abortedError(location);
        throw new ModelFileError(`Downloading ${source.id} (${source.quant}) from ${url} failed: ${describeFailure(error)}${failureHint(location, error)}`, { cause: error });
    } finally {
        await session.close();
    }
}

function describeFailure(error: unknown): string {
    if (error instanceof HttpStatusError) return `HTTP ${error.status}`;
    return error instanceof Error ? error.message : String(error);
}

/** What to do about a failed download, after the reason. */
function failureHint(location: PulledModelLocation, error: unknown): string {
    const again = `run \`${pullCommand(location)}\` again`;
    if (isNotFound(error)) {
        return `; the repository has no such file, so the registry entry is out of date: download a ${location.source.quant} GGUF of ${location.model.name} by hand and pass its path`;
    }
    if (error instanceof HttpStatusError && (error.status === 401 || error.status === 403)) {
        return `; the repository needs a login: set HF_TOKEN to a Hugging Face access token and ${again}`;
    }
    if (error instanceof NetworkError && error.kind === "unreachable") {
        return `; check the network connection (or set HF_ENDPOINT to a mirror you can reach), then ${again}`;
    }
    if (error instanceof NetworkError && error.kind === "timeout") {
        return `; ${again} to resume, or raise the timeouts for a slow network (${CONNECT_TIMEOUT_ENV}, ${STALL_TIMEOUT_ENV}, in ms)`;
    }
    return `; ${again} to resume, set HF_TOKEN if the repository needs a login, or HF_ENDPOINT to use a mirror`;
}

function toDownloadProgress(progress: TransferProgress): DownloadProgress {
    const { downloadedBytes, totalBytes, bytesPerSecond } = progress;
    return {
        downloadedBytes,
        totalBytes,
        bytesPerSecond,
        secondsLeft: totalBytes > 0 && bytesPerSecond > 0 ? Math.max(0, totalBytes - downloadedBytes) / bytesPerSecond : undefined,
    };
}

function isNotFound(error: unknown): boolean {
    return error instanceof HttpStatusError && error.status === 404;
}

function abortedError(location: PulledModelLocation): AbortedError {
    const partial = location.path + PARTIAL_DOWNLOAD_SUFFIX;
    return new AbortedError(
        existsSync(partial)
            ? `Downloading ${location.source.id} (${location.source.quant}) was aborted; the partial file ${partial} is kept and \`${pullCommand(location)}\` resumes it`
            : `Downloading ${location.source.id} (${location.source.quant}) was aborted`,
    );
}

async function inspectPulledFile(location: PulledModelLocation, path: string, alreadyPresent: boolean): Promise<GgufInspection> {
    try {
        return await inspectGguf(path);
    } catch (error) {
        if (!(error instanceof ModelFileError)) throw error;
        throw new ModelFileError(
            `${alreadyPresent ? "The existing file" : "The downloaded file"} is not a usable GGUF: ${error.message}. ` +
            `Delete ${path} and run \`${pullCommand(location)}\``,
            { cause: error },
        );
    }
}

/** Refuses (keeping the file) a GGUF whose kind or shape is not the registry model's. */
function checkPulledModel(location: PulledModelLocation, path: string, inspection: GgufInspection): void {
    const { model, source } = location;
    const refuse = (reason: string): never => {
        throw new UnsupportedModelError(
            `${path} is not a usable ${model.name} ${model.kind} model: ${reason}. The file was kept; ` +
            `it came from ${path === location.path ? source.url : "the Hugging Face cache"}: delete it, or pull another quantization (${model.id}:<quant>)`,
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
