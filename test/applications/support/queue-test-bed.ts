/**
 * What the in-process queue tests share: a redis-server on 127.0.0.1, the tiny fixture embedding model and an empty
 * embedded-store directory, all in a temporary folder; set up before the file's tests, stopped and removed after.
 * Read its fields inside the tests (they are filled in by beforeAll).
 */
import { rmSync } from "node:fs";
import { afterAll, beforeAll } from "vitest";
import { ensureFixtureModel } from "../../fixtures/qwen3-fixture.js";
import { startRedisServer, type RedisServer } from "./redis-server.js";
import { newStoreDirectory, temporaryDirectory } from "./store-backends.js";

export interface QueueTestBed {
    parent: string;
    redis: RedisServer;
    modelPath: string;
    /** An embedded store's directory. */
    database: string;
}

export function useQueueTestBed(prefix: string): QueueTestBed {
    const bed = { parent: temporaryDirectory(prefix) } as QueueTestBed;
    beforeAll(async () => {
        bed.modelPath = await ensureFixtureModel({ kind: "embedding", size: "tiny" });
        bed.redis = await startRedisServer(bed.parent);
        bed.database = await newStoreDirectory(bed.parent, "store");
    });
    afterAll(async () => {
        await bed.redis?.stop();
        rmSync(bed.parent, { recursive: true, force: true });
    });
    return bed;
}
