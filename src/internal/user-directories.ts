/** The platform's per-user folders for this package: data (the embedded database) and cache (downloaded models). */
import { homedir } from "node:os";
import { isAbsolute, join } from "node:path";

const PACKAGE_FOLDER = "qwen3-embedding";

/**
 * The per-user data folder: `$XDG_DATA_HOME/qwen3-embedding` (else `~/.local/share/qwen3-embedding`) on Linux and
 * other Unixes, `~/Library/Application Support/qwen3-embedding` on macOS, `%LOCALAPPDATA%\qwen3-embedding` on Windows.
 */
export function userDataDirectory(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
    return userDirectory(env, platform, { xdgVariable: "XDG_DATA_HOME", xdgDefault: [".local", "share"], macOs: "Application Support" });
}

/**
 * The per-user cache folder, where `pull` stores models: `$XDG_CACHE_HOME/qwen3-embedding` (else
 * `~/.cache/qwen3-embedding`) on Linux and other Unixes, `~/Library/Caches/qwen3-embedding` on macOS,
 * `%LOCALAPPDATA%\qwen3-embedding` on Windows.
 */
export function userCacheDirectory(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
    return userDirectory(env, platform, { xdgVariable: "XDG_CACHE_HOME", xdgDefault: [".cache"], macOs: "Caches" });
}

/** An XDG base directory: the variable when set to an absolute path (the spec says to ignore relative ones), else `~/<default>`. */
export function xdgBaseDirectory(env: NodeJS.ProcessEnv, variable: string, fallback: readonly string[]): string {
    const value = env[variable];
    return value !== undefined && value !== "" && isAbsolute(value) ? value : join(homedir(), ...fallback);
}

function userDirectory(
    env: NodeJS.ProcessEnv,
    platform: NodeJS.Platform,
    kind: { xdgVariable: string; xdgDefault: readonly string[]; macOs: string },
): string {
    if (platform === "win32") {
        const base = env["LOCALAPPDATA"] ?? join(env["USERPROFILE"] ?? homedir(), "AppData", "Local");
        return join(base, PACKAGE_FOLDER);
    }
    if (platform === "darwin") return join(homedir(), "Library", kind.macOs, PACKAGE_FOLDER);
    return join(xdgBaseDirectory(env, kind.xdgVariable, kind.xdgDefault), PACKAGE_FOLDER);
}
