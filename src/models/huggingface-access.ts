/**
 * How `pull` talks to the Hugging Face hub: the endpoint (`HF_ENDPOINT`, for a mirror), the access token (`HF_TOKEN`,
 * else the file `huggingface-cli login` wrote) and the URLs of a repository's files and file listing.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { InvalidOptionError } from "../internal/errors.js";
import { describeValue } from "../internal/validation.js";
import { huggingFaceHome } from "./huggingface-cache.js";

export const DEFAULT_HUGGING_FACE_ENDPOINT = "https://huggingface.co";

/** `HF_ENDPOINT` (an http:// or https:// URL, such as a mirror), else https://huggingface.co; no trailing slash. */
export function huggingFaceEndpoint(env: NodeJS.ProcessEnv = process.env): string {
    const value = env["HF_ENDPOINT"]?.trim();
    if (value === undefined || value === "") return DEFAULT_HUGGING_FACE_ENDPOINT;
    let url: URL | undefined;
    try {
        url = new URL(value);
    } catch {
        url = undefined;
    }
    if (url === undefined || (url.protocol !== "http:" && url.protocol !== "https:")) {
        throw new InvalidOptionError(`Expected an http:// or https:// URL for HF_ENDPOINT but received ${describeValue(value)}`);
    }
    return value.replace(/\/+$/, "");
}

/**
 * The token sent to the endpoint (`Authorization: Bearer`), for gated or private repositories: `HF_TOKEN`, else the
 * file `HF_TOKEN_PATH` names, else `<HF_HOME>/token` (written by `huggingface-cli login`); undefined when none.
 * Redirects to another host (Hugging Face's file CDN) do not carry it.
 */
export function huggingFaceToken(env: NodeJS.ProcessEnv = process.env): string | undefined {
    const fromEnvironment = env["HF_TOKEN"]?.trim();
    if (fromEnvironment !== undefined && fromEnvironment !== "") return fromEnvironment;
    const tokenPath = env["HF_TOKEN_PATH"]?.trim() || join(huggingFaceHome(env), "token");
    try {
        const token = readFileSync(tokenPath, "utf8").trim();
        return token === "" ? undefined : token;
    } catch {
        return undefined;
    }
}

/** `<endpoint>/<repo>/resolve/main/<file>`, each path segment encoded. */
export function huggingFaceFileUrl(repo: string, file: string, endpoint: string = DEFAULT_HUGGING_FACE_ENDPOINT): string {
    return `${endpoint}/${encodedPath(repo)}/resolve/main/${encodedPath(file)}`;
}

/** `<endpoint>/api/models/<repo>`: the repository's metadata, its files listed in `siblings[].rfilename`. */
export function huggingFaceModelInfoUrl(repo: string, endpoint: string = DEFAULT_HUGGING_FACE_ENDPOINT): string {
    return `${endpoint}/api/models/${encodedPath(repo)}`;
}

/**
 * The file of a repository listing (`/api/models/<repo>` answer) that holds a quantization: a single-file .gguf whose
 * name has the quantization as a word (not followed by "_"), ignoring case (`Qwen3-Embedding-0.6B-f16.gguf` for F16); the shortest name when
 * several do, undefined when none does or the answer has no listing.
 */
export function quantFileInListing(listing: unknown, quant: string): string | undefined {
    const siblings = (listing as { siblings?: unknown } | null)?.siblings;
    if (!Array.isArray(siblings)) return undefined;
    // Not followed by "_": Q4_K is not Q4_K_M.
    const word = new RegExp(`(^|[^a-z0-9])${quant.replace(/[^a-z0-9]/gi, (c) => `\\${c}`)}([^a-z0-9_]|$)`, "i");
    return siblings
        .map((sibling) => (sibling as { rfilename?: unknown } | null)?.rfilename)
        .filter((name): name is string => typeof name === "string" && name.toLowerCase().endsWith(".gguf"))
        .filter((name) => !/-\d{5}-of-\d{5}\.gguf$/i.test(name) && word.test(name.slice(name.lastIndexOf("/") + 1, -".gguf".length)))
        .sort((a, b) => a.length - b.length || a.localeCompare(b))[0];
}

function encodedPath(text: string): string {
    return text.split("/").map(encodeURIComponent).join("/");
}
