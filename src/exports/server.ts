// qwen3-embedding/server: the HTTP server (fastify is loaded on the first createServer / startServer call).
export { createServer, startServer, type Qwen3Server, type RunningServer } from "../server/server-entry.js";
export type { ServerOptions, ServedEmbedder, ServedReranker, SchedulerQueueStats, SchedulerBatchEvent, LogLevel } from "../server/server-options.js";
export type { ApiKeySpec } from "../server/api-key-access.js";
export { registerApplicationRoutes, type ApplicationRoutesOptions } from "../server/application-routes.js";
