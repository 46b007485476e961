import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { InvalidOptionError } from "../internal/errors.js";
import { userDataDirectory } from "../internal/user-directories.js";
import { describeValue } from "../internal/validation.js";

/** The platform's per-user data folder (see internal/user-directories.ts), where the embedded database lives by default. */
export { userDataDirectory };

/** Environment variable naming the default database: a directory or a postgres:// URL. */
export const DATABASE_ENV = "QWEN3_EMBEDDING_DATABASE";

/** What a `database` argument names. */
export type DatabaseLocation =
    | { kind: "directory"; path: string }
    | { kind: "memory" }
    | { kind: "postgres"; url: string };

/** The database used when none is named: `QWEN3_EMBEDDING_DATABASE`, else `<user data folder>/store`. */
export function defaultDatabase(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
    const fromEnvironment = env[DATABASE_ENV]?.trim();
    if (fromEnvironment !== undefined && fromEnvironment !== "") return fromEnvironment;
    return join(userDataDirectory(env, platform), "store");
}

/**
 * Reads a `database` argument: `postgres://` or `postgresql://` URLs go to a PostgreSQL server, `memory` (or
 * `:memory:`) is an embedded database that vanishes on close, anything else is a directory for the embedded one
 * (`~/` expanded, relative to the working directory).
 */
export function parseDatabaseLocation(database: unknown, name = "database"): DatabaseLocation {
    if (typeof database !== "string" || database.trim() === "") {
        throw new InvalidOptionError(`Expected a directory, "memory" or a postgres:// URL for ${name} but received ${describeValue(database)}`);
    }
    const value = database.trim();
    if (/^postgres(ql)?:\/\//i.test(value)) {
        try {
            new URL(value);
        } catch {
            throw new InvalidOptionError(`Expected a valid postgres:// URL for ${name} but received an unparsable URL`);
        }
        return { kind: "postgres", url: value };
    }
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
        throw new InvalidOptionError(`Expected a directory, "memory" or a postgres:// URL for ${name} but received a ${value.split(":")[0]}:// URL`);
    }
    if (value === "memory" || value === ":memory:") return { kind: "memory" };
    const expanded = /^~([/\\]|$)/.test(value) ? join(homedir(), value.slice(1)) : value;
    return { kind: "directory", path: resolve(expanded) };
}
