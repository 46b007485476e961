/**
 * The Hugging Face hub cache (what `huggingface-cli download`, `huggingface_hub` and transformers fill): a GGUF
 * already there is used where it is, without a download. Read only; nothing is ever written into it.
 */
import { readFile, readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { xdgBaseDirectory } from "../internal/user-directories.js";

/**
 * The hub cache folder, as huggingface_hub finds it: `$HF_HUB_CACHE`, else `$HF_HOME/hub`, else
 * `$XDG_CACHE_HOME/huggingface/hub`, else `~/.cache/huggingface/hub` (on every platform).
 */
export function huggingFaceHubCache(env: NodeJS.ProcessEnv = process.env): string {
    const hubCache = env["HF_HUB_CACHE"]?.trim();
    if (hubCache !== undefined && hubCache !== "") return hubCache;
    return join(huggingFaceHome(env), "hub");
}

/** `$HF_HOME`, else `$XDG_CACHE_HOME/huggingface`, else `~/.cache/huggingface`: where the hub cache and the login token live. */
export function huggingFaceHome(env: NodeJS.ProcessEnv = process.env): string {
    const home = env["HF_HOME"]?.trim();
    if (home !== undefined && home !== "") return home;
    return join(xdgBaseDirectory(env, "XDG_CACHE_HOME", [".cache"]), "huggingface");
}

/**
 * The path of `file` of the model repository `repo` ("owner/name") in the hub cache, or undefined when it is not there:
 * `<cache>/models--<owner>--<name>/snapshots/<revision>/<file>`, the revision `refs/main` names first, then the other
 * snapshots, newest first. Files of an interrupted hub download are never in a snapshot (they stay `*.incomplete` blobs).
 */
export async function findInHuggingFaceCache(repo: string, file: string, hubCache: string = huggingFaceHubCache()): Promise<string | undefined> {
    const repoDir = join(hubCache, `models--${repo.split("/").join("--")}`);
    const main = (await readFile(join(repoDir, "refs", "main"), "utf8").catch(() => "")).trim();
    const snapshots = await readdir(join(repoDir, "snapshots")).catch(() => [] as string[]);
    const others = await Promise.all(
        snapshots.filter((revision) => revision !== main).map(async (revision) => ({
            revision,
            modified: (await stat(join(repoDir, "snapshots", revision)).catch(() => undefined))?.mtimeMs ?? 0,
        })),
    );
    const revisions = [...(main !== "" ? [main] : []), ...others.sort((a, b) => b.modified - a.modified).map((other) => other.revision)];
    for (const revision of revisions) {
        const path = join(repoDir, "snapshots", revision, ...file.split("/"));
        // stat follows the snapshot's link into blobs/: a dangling link (blob deleted) is not a file.
        if ((await stat(path).catch(() => undefined))?.isFile() === true) return path;
    }
    return undefined;
}
