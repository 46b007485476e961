import { formatNumber } from "./report-text.js";
import type { ScoreErrorStatistics } from "./score-calibration.js";
import { escapeHtml, groupedBarsSvg, histogramSvg, scatterSvg } from "./svg-plots.js";
import type { VerificationReport } from "./verification.js";

const STYLE = `
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", "Noto Sans", "Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", sans-serif; margin: 24px auto; max-width: 1000px; color: #222; padding: 0 16px; }
h1 { font-size: 22px; margin-bottom: 4px; } h2 { font-size: 18px; margin-top: 32px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
.verdict { display: inline-block; padding: 2px 10px; border-radius: 4px; color: #fff; font-weight: 600; }
.pass { background: #2e8540; } .fail { background: #c9302c; }
table { border-collapse: collapse; margin: 8px 0 16px; } td, th { border: 1px solid #ddd; padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #f4f4f4; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.failed td { background: #fbeaea; } .muted { color: #666; } .plot { display: block; margin: 8px 0 20px; background: #fff; }
.plot text { font-size: 11px; fill: #333; } .plot .axis-label { font-size: 12px; }
code { background: #f4f4f4; padding: 0 3px; }
`;

function table(headers: readonly string[], rows: readonly (readonly string[])[], rowClasses: readonly string[] = []): string {
    const head = `<tr>${headers.map((h) => `<th>${escapeHtml(h)}</th>`).join("")}</tr>`;
    const body = rows
        .map((row, i) => `<tr${rowClasses[i] ? ` class="${rowClasses[i]}"` : ""}>${row.map((cell) => (cell.startsWith("\u0000") ? `<td class="num">${escapeHtml(cell.slice(1))}</td>` : `<td>${escapeHtml(cell)}</td>`)).join("")}</tr>`)
        .join("");
    return `<table>${head}${body}</table>`;
}

/** A cell drawn right-aligned as a number. */
const num = (value: number, digits = 6) => `\u0000${formatNumber(value, digits)}`;

function errorRows(before: ScoreErrorStatistics, after: ScoreErrorStatistics): string[][] {
    const keys: [keyof ScoreErrorStatistics, string][] = [
        ["pearson", "Pearson"], ["spearman", "Spearman"], ["kendall", "Kendall tau"], ["meanAbsoluteError", "mean absolute error"], ["rootMeanSquareError", "root mean square error"],
    ];
    return keys.map(([key, label]) => [label, num(before[key], 4), num(after[key], 4)]);
}

/** One self-contained HTML page (inline CSS and SVG, no scripts, nothing fetched): readable offline. */
export function renderVerificationHtml(report: VerificationReport): string {
    const failed = report.checks.filter((check) => !check.passed).length;
    const parts: string[] = [];
    parts.push(`<h1>qwen3-embedding verify <span class="verdict ${report.passed ? "pass" : "fail"}">${report.passed ? "PASS" : "FAIL"}</span></h1>`);
    parts.push(`<p class="muted">${escapeHtml(report.date)} · reference <code>${escapeHtml(report.reference)}</code>${report.models.embedding ? ` · embedding model <code>${escapeHtml(report.models.embedding)}</code>` : ""}${report.models.reranker ? ` · reranker model <code>${escapeHtml(report.models.reranker)}</code>` : ""}</p>`);
    parts.push(`<p data-field="mode">Mode: <strong>${escapeHtml(report.mode)}</strong></p>`);
    parts.push(`<h2>Checks</h2><p>${failed === 0 ? `All ${report.checks.length} checks passed.` : `${failed} of ${report.checks.length} checks failed.`}</p>`);
    parts.push(
        table(
            ["", "statistic", "value", "threshold", "option"],
            report.checks.map((check) => [check.passed ? "PASS" : "FAIL", check.metric, num(check.value), `≥ ${check.threshold}`, check.name]),
            report.checks.map((check) => (check.passed ? "" : "failed")),
        ),
    );

    const embeddings = report.embeddings;
    if (embeddings !== undefined) {
        parts.push(`<h2>Embeddings</h2><p>${embeddings.count} items, ${embeddings.dimensions} dimensions.</p>`);
        parts.push(
            table(
                ["", "mean", "std", "min", "median", "max"],
                [
                    ["cosine", num(embeddings.cosine.mean), num(embeddings.cosine.std), num(embeddings.cosine.min), num(embeddings.cosine.median), num(embeddings.cosine.max)],
                    ["Euclidean distance", num(embeddings.distance.mean), num(embeddings.distance.std), num(embeddings.distance.min), num(embeddings.distance.median), num(embeddings.distance.max)],
                ],
            ),
        );
        parts.push(histogramSvg(embeddings.items.map((item) => item.cosine), { name: "cosine-histogram", title: "Cosine similarity of local and reference embeddings", xLabel: "cosine (local, reference)" }));
        parts.push("<h3>Worst items</h3>");
        parts.push(table(["id", "role", "cosine", "distance", "text"], embeddings.worst.map((item) => [item.id, item.role, num(item.cosine), num(item.distance), item.text])));
    }

    const reranker = report.reranker;
    if (reranker !== undefined) {
        parts.push(`<h2>Reranker</h2><p>${reranker.queries} queries, ${reranker.pairs} (query, document) pairs${reranker.calibrated ? "; local scores passed through the given calibration" : ""}.</p>`);
        parts.push(
            table(
                ["", "Pearson", "Spearman", "Kendall tau", `top-${reranker.topK} overlap`, "nDCG@10", "|local − reference|"],
                [
                    ["all pairs", num(reranker.pearson, 4), num(reranker.spearman, 4), num(reranker.kendall, 4), "", "", `mean ${formatNumber(reranker.absoluteError.mean, 4)}, max ${formatNumber(reranker.absoluteError.max, 4)}`],
                    ["mean over queries", num(reranker.meanQuery.pearson, 4), num(reranker.meanQuery.spearman, 4), num(reranker.meanQuery.kendall, 4), num(reranker.meanQuery.topKOverlap, 4), num(reranker.meanQuery.ndcgAt10, 4), ""],
                ],
            ),
        );
        const fit = report.calibrationFit;
        const curve = fit?.calibration ?? report.appliedCalibration;
        parts.push(
            scatterSvg(reranker.points, {
                name: "score-scatter",
                title: "Local against reference reranker scores" + (fit ? " (hollow: held out of the fit; line: fitted map)" : ""),
                xLabel: reranker.calibrated ? "local score (calibrated)" : "local score",
                yLabel: "reference score",
                heldOut: fit?.heldOut,
                // An applied map has already moved the points onto the reference scale; drawing it again would mislead.
                curve: reranker.calibrated ? undefined : curve,
            }),
        );
        const shown = reranker.perQuery.length > 200 ? [...reranker.perQuery].sort((a, b) => a.ndcgAt10 - b.ndcgAt10).slice(0, 200) : reranker.perQuery;
        parts.push(`<h3>Rank agreement per query</h3>${shown.length < reranker.perQuery.length ? `<p class="muted">The ${shown.length} queries with the lowest nDCG@10.</p>` : ""}`);
        parts.push(
            groupedBarsSvg(
                shown.map((query) => query.id),
                [
                    { label: "nDCG@10", color: "#3b6fb6", values: shown.map((query) => query.ndcgAt10) },
                    { label: "Spearman", color: "#2e8540", values: shown.map((query) => query.spearman) },
                    { label: "Kendall tau", color: "#e08a00", values: shown.map((query) => query.kendall) },
                    { label: `top-${reranker.topK} overlap`, color: "#8e44ad", values: shown.map((query) => query.topKOverlap) },
                ],
                { name: "rank-agreement", title: "Rank agreement per query" },
            ),
        );
        parts.push("<h3>Worst queries</h3>");
        parts.push(table(["id", "nDCG@10", "Spearman", "Kendall tau", `top-${reranker.topK} overlap`, "query"], reranker.worstQueries.map((q) => [q.id, num(q.ndcgAt10, 4), num(q.spearman, 4), num(q.kendall, 4), num(q.topKOverlap, 2), q.query])));
        parts.push("<h3>Worst pairs</h3>");
        parts.push(table(["query", "document", "local", "reference", "document text"], reranker.worstPairs.map((p) => [p.queryId, String(p.documentIndex), num(p.local, 4), num(p.reference, 4), p.document])));
    }

    const fit = report.calibrationFit;
    if (fit !== undefined) {
        parts.push(`<h2>Calibration</h2><p>An isotonic (monotone) map from local to reference scores with ${fit.calibration.x.length} knots, fitted on ${fit.fitPairs} pairs. The figures below are measured on the ${fit.heldOutPairs} pairs held out of the fit only.</p>`);
        parts.push(table(["held-out pairs", "before", "after"], errorRows(fit.before, fit.after)));
    }
    return `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>qwen3-embedding verify: ${report.passed ? "PASS" : "FAIL"}</title><style>${STYLE}</style></head><body>${parts.join("\n")}</body></html>\n`;
}
