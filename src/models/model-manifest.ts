/** Reading `models/manifest.json`: on first use (never on import), checked once, then kept (frozen) per path. */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { ModelFileError } from "../internal/errors.js";
import { checkManifest } from "./manifest-schema.js";
import type { RegistryModel } from "./registry-model.js";

/** The manifest shipped with the package: models/manifest.json next to package.json (from src/models or dist/models). */
export function defaultManifestPath(): string {
    return fileURLToPath(new URL("../../models/manifest.json", import.meta.url));
}

const loadedManifests = new Map<string, readonly RegistryModel[]>();

/** Reads and checks a manifest file. Throws ModelFileError naming the file and the first problem found. */
export function loadModelManifest(path: string = defaultManifestPath()): readonly RegistryModel[] {
    const cached = loadedManifests.get(path);
    if (cached !== undefined) return cached;
    let text: string;
    try {
        text = readFileSync(path, "utf8");
    } catch (error) {
        throw new ModelFileError(
            `Cannot read the model manifest ${path}: ${(error as Error).message}; reinstall qwen3-embedding, or pass model file paths instead of ids`,
            { cause: error },
        );
    }
    let parsed: unknown;
    try {
        parsed = JSON.parse(text);
    } catch (error) {
        throw new ModelFileError(`The model manifest ${path} is not valid JSON: ${(error as Error).message}`, { cause: error });
    }
    const models = deepFreeze(checkManifest(parsed, path));
    loadedManifests.set(path, models);
    return models;
}

function deepFreeze<T>(value: T): T {
    if (value !== null && typeof value === "object") {
        for (const child of Object.values(value)) deepFreeze(child);
        Object.freeze(value);
    }
    return value;
}
