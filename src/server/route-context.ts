import type { ModelCallGate } from "./model-call-gate.js";
import type { ServedModels } from "./served-models.js";
import type { ServerMetrics } from "./server-metrics.js";
import type { ResolvedServerOptions } from "./server-options.js";

/** What every route handler shares: the options, the models, the admission gate and the metrics. */
export interface RouteContext {
    options: ResolvedServerOptions;
    models: ServedModels;
    gate: ModelCallGate;
    metrics: ServerMetrics;
}
