import type { Summary } from "./descriptive-statistics.js";
import type { ScoreErrorStatistics } from "./score-calibration.js";
import type { VerificationReport } from "./verification.js";

/**
 * A number for people: NaN (undefined statistic) as "n/a", otherwise `digits` decimals, or more for a value just
 * below 1 in magnitude, so that a cosine of 0.9999997 never shows as 1.000000 (up to 10 decimals); tiny non-zero
 * values in exponent form.
 */
export function formatNumber(value: number, digits = 6): string {
    if (!Number.isFinite(value)) return "n/a";
    // tiny spreads and errors (a std of cosines of 1e-7) in exponent form rather than as 0.000000
    if (value !== 0 && Math.abs(value) < 10 ** -(digits - 1)) return value.toExponential(2);
    const gap = 1 - Math.abs(value);
    const needed = gap > 0 && gap < 0.01 ? Math.ceil(-Math.log10(gap)) + 2 : 0;
    return value.toFixed(Math.min(10, Math.max(digits, needed)));
}

function summaryLine(label: string, summary: Summary, digits = 6): string {
    return `  ${label.padEnd(9)} mean ${formatNumber(summary.mean, digits)}  std ${formatNumber(summary.std, digits)}  min ${formatNumber(summary.min, digits)}  max ${formatNumber(summary.max, digits)}`;
}

function errorLine(label: string, stats: ScoreErrorStatistics): string {
    return `  ${label.padEnd(7)} Pearson ${formatNumber(stats.pearson, 4)}  Spearman ${formatNumber(stats.spearman, 4)}  Kendall ${formatNumber(stats.kendall, 4)}  MAE ${formatNumber(stats.meanAbsoluteError, 4)}  RMSE ${formatNumber(stats.rootMeanSquareError, 4)}`;
}

/** The verification as text: verdict, statistics, the worst items by name, and every check. */
export function formatVerificationText(report: VerificationReport): string {
    const failed = report.checks.filter((check) => !check.passed).length;
    const lines = [
        `qwen3-embedding verify: ${report.passed ? "PASS" : "FAIL"} (${failed === 0 ? `all ${report.checks.length} checks passed` : `${failed} of ${report.checks.length} checks failed`})`,
        `reference: ${report.reference}`,
        `mode: ${report.mode}`,
    ];
    const embeddings = report.embeddings;
    if (embeddings !== undefined) {
        lines.push("", `embeddings: ${embeddings.count} items, ${embeddings.dimensions} dimensions (model ${report.models.embedding ?? "?"})`);
        lines.push(summaryLine("cosine", embeddings.cosine), summaryLine("distance", embeddings.distance));
        lines.push("  worst items (lowest cosine):");
        for (const item of embeddings.worst) {
            lines.push(`    ${item.id} (${item.role})  cosine ${formatNumber(item.cosine)}  distance ${formatNumber(item.distance)}  ${JSON.stringify(item.text.slice(0, 60))}`);
        }
    }
    const reranker = report.reranker;
    if (reranker !== undefined) {
        lines.push("", `reranker: ${reranker.queries} queries, ${reranker.pairs} pairs (model ${report.models.reranker ?? "?"})${reranker.calibrated ? ", local scores calibrated" : ""}`);
        lines.push(`  all pairs   Pearson ${formatNumber(reranker.pearson, 4)}  Spearman ${formatNumber(reranker.spearman, 4)}  Kendall ${formatNumber(reranker.kendall, 4)}  |local - reference| mean ${formatNumber(reranker.absoluteError.mean, 4)} max ${formatNumber(reranker.absoluteError.max, 4)}`);
        const mean = reranker.meanQuery;
        lines.push(`  query mean  Pearson ${formatNumber(mean.pearson, 4)}  Spearman ${formatNumber(mean.spearman, 4)}  Kendall ${formatNumber(mean.kendall, 4)}  top-${reranker.topK} overlap ${formatNumber(mean.topKOverlap, 4)}  nDCG@10 ${formatNumber(mean.ndcgAt10, 4)}`);
        lines.push("  worst queries (lowest nDCG@10, then Spearman):");
        for (const query of reranker.worstQueries) {
            lines.push(`    ${query.id}  nDCG@10 ${formatNumber(query.ndcgAt10, 4)}  Spearman ${formatNumber(query.spearman, 4)}  Kendall ${formatNumber(query.kendall, 4)}  top-${reranker.topK} overlap ${formatNumber(query.topKOverlap, 2)}  ${JSON.stringify(query.query.slice(0, 60))}`);
        }
        lines.push("  worst pairs (largest |local - reference|):");
        for (const pair of reranker.worstPairs) {
            lines.push(`    ${pair.queryId} document ${pair.documentIndex}  local ${formatNumber(pair.local, 4)}  reference ${formatNumber(pair.reference, 4)}  ${JSON.stringify(pair.document.slice(0, 50))}`);
        }
    }
    const fit = report.calibrationFit;
    if (fit !== undefined) {
        lines.push("", `calibration: isotonic map with ${fit.calibration.x.length} knots, fitted on ${fit.fitPairs} pairs, measured on ${fit.heldOutPairs} held-out pairs:`);
        lines.push(errorLine("before", fit.before), errorLine("after", fit.after));
    }
    lines.push("", "checks:");
    for (const check of report.checks) {
        lines.push(`  ${check.passed ? "PASS" : "FAIL"}  ${check.metric} ${formatNumber(check.value)} ${check.passed ? ">=" : "<"} ${check.threshold}  (${check.name})`);
    }
    return lines.join("\n");
}
