import { queueStatus } from "../queue/queue-status.js";
import { asUsageErrorAsync, requireString, UsageError, writeLine, type Command } from "./command.js";

export const queueCommand: Command = {
    summary: "`queue status`: the jobs of an index queue by state, and the failed ones with their reasons",
    usage: [
        "qwen3-embedding queue status --queue <redis-url> [--queue-name <name>] [--failed N]",
        "Prints one JSON line {queueName, counts: {waiting, active, delayed, prioritized, completed, failed}, workers, failed: [...]}:",
        "the last N (default 20) jobs moved aside after their last try, with the reason, tries and documents of each.",
    ].join("\n"),
    options: { queue: { type: "string" }, "queue-name": { type: "string" }, failed: { type: "string" } },
    positionals: true,
    async run(values, positionals) {
        if (positionals.length !== 1 || positionals[0] !== "status") throw new UsageError(`Expected "status" after queue but received ${JSON.stringify(positionals.join(" "))}`);
        const queue = requireString(values, "queue");
        const raw = values["failed"];
        if (raw !== undefined && (typeof raw !== "string" || !/^\d+$/.test(raw))) throw new UsageError(`Expected a non-negative integer for --failed but received ${JSON.stringify(raw)}`);
        const status = await asUsageErrorAsync(() => queueStatus({
            queue,
            ...(values["queue-name"] === undefined ? {} : { queueName: values["queue-name"] as string }),
            ...(raw === undefined ? {} : { failedLimit: Number(raw) }),
        }));
        writeLine(status);
    },
};
