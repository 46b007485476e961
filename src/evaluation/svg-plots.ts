/**
 * Small inline SVG plots for the offline HTML report: no scripts, no external resources. Every mark carries a class
 * (`bar`, `point`, `fit`) and a <title> tooltip, so the page can be checked and read without a plotting library.
 */

export function escapeHtml(text: string): string {
    return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

interface Range {
    min: number;
    max: number;
}

function rangeOf(values: readonly number[], pad = 0): Range {
    const finite = values.filter(Number.isFinite);
    let min = finite.length === 0 ? 0 : Math.min(...finite);
    let max = finite.length === 0 ? 1 : Math.max(...finite);
    if (max - min < 1e-12) {
        const half = Math.max(Math.abs(max) * 1e-6, 1e-9);
        min -= half;
        max += half;
    }
    const margin = (max - min) * pad;
    return { min: min - margin, max: max + margin };
}

/** Decimals that tell ticks `span / 4` apart. */
function decimalsFor(span: number): number {
    return Math.min(10, Math.max(0, Math.ceil(-Math.log10(span / 4)) + 1));
}

function ticks(range: Range, count = 5, integers = false): { value: number; label: string }[] {
    if (integers) {
        // counts: whole numbers only, never the same label twice
        const step = Math.max(1, Math.ceil((range.max - range.min) / (count - 1)));
        const values: number[] = [];
        for (let value = Math.ceil(range.min); value <= range.max; value += step) values.push(value);
        return values.map((value) => ({ value, label: String(value) }));
    }
    const digits = decimalsFor(range.max - range.min);
    return Array.from({ length: count }, (_, i) => {
        const value = range.min + ((range.max - range.min) * i) / (count - 1);
        return { value, label: value.toFixed(digits) };
    });
}

const f = (value: number) => (Math.round(value * 100) / 100).toString();

interface Frame {
    width: number;
    height: number;
    left: number;
    right: number;
    top: number;
    bottom: number;
}

function axes(frame: Frame, x: Range, y: Range, xLabel: string, yLabel: string, sx: (v: number) => number, sy: (v: number) => number, integerY = false): string {
    const parts: string[] = [];
    const x0 = frame.left;
    const x1 = frame.width - frame.right;
    const y0 = frame.height - frame.bottom;
    const y1 = frame.top;
    parts.push(`<rect class="frame" x="${x0}" y="${y1}" width="${x1 - x0}" height="${y0 - y1}" fill="none" stroke="#999"/>`);
    for (const tick of ticks(x)) {
        const px = f(sx(tick.value));
        parts.push(`<line x1="${px}" x2="${px}" y1="${y0}" y2="${y0 + 4}" stroke="#666"/><text x="${px}" y="${y0 + 16}" text-anchor="middle">${tick.label}</text>`);
    }
    for (const tick of ticks(y, 5, integerY)) {
        const py = f(sy(tick.value));
        parts.push(`<line x1="${x0 - 4}" x2="${x0}" y1="${py}" y2="${py}" stroke="#666"/><text x="${x0 - 6}" y="${py}" text-anchor="end" dominant-baseline="middle">${tick.label}</text>`);
    }
    parts.push(`<text x="${f((x0 + x1) / 2)}" y="${frame.height - 4}" text-anchor="middle" class="axis-label">${escapeHtml(xLabel)}</text>`);
    parts.push(`<text transform="translate(12 ${f((y0 + y1) / 2)}) rotate(-90)" text-anchor="middle" class="axis-label">${escapeHtml(yLabel)}</text>`);
    return parts.join("");
}

function svg(name: string, frame: Frame, title: string, body: string): string {
    return `<svg class="plot" data-plot="${name}" xmlns="http://www.w3.org/2000/svg" width="${frame.width}" height="${frame.height}" viewBox="0 0 ${frame.width} ${frame.height}" role="img" aria-label="${escapeHtml(title)}"><title>${escapeHtml(title)}</title>${body}</svg>`;
}

/** A histogram of `values` over their own range (so cosines of 0.99999x are spread out, not one bar at 1). */
export function histogramSvg(values: readonly number[], options: { name: string; title: string; xLabel: string; bins?: number }): string {
    const frame: Frame = { width: 640, height: 300, left: 56, right: 40, top: 16, bottom: 44 };
    const bins = options.bins ?? 20;
    const x = rangeOf(values);
    const counts = new Array<number>(bins).fill(0);
    for (const value of values) {
        if (!Number.isFinite(value)) continue;
        counts[Math.min(bins - 1, Math.max(0, Math.floor(((value - x.min) / (x.max - x.min)) * bins)))]! += 1;
    }
    const y: Range = { min: 0, max: Math.max(1, ...counts) };
    const sx = (v: number) => frame.left + ((v - x.min) / (x.max - x.min)) * (frame.width - frame.left - frame.right);
    const sy = (v: number) => frame.height - frame.bottom - ((v - y.min) / (y.max - y.min)) * (frame.height - frame.top - frame.bottom);
    const digits = decimalsFor(x.max - x.min) + 1;
    const bars = counts
        .map((count, i) => {
            const lo = x.min + ((x.max - x.min) * i) / bins;
            const hi = x.min + ((x.max - x.min) * (i + 1)) / bins;
            const px = sx(lo);
            const width = Math.max(1, sx(hi) - px - 1);
            const top = sy(count);
            return count === 0
                ? ""
                : `<rect class="bar" data-count="${count}" x="${f(px)}" y="${f(top)}" width="${f(width)}" height="${f(sy(0) - top)}" fill="#3b6fb6"><title>${lo.toFixed(digits)} – ${hi.toFixed(digits)}: ${count}</title></rect>`;
        })
        .join("");
    return svg(options.name, frame, options.title, axes(frame, x, y, options.xLabel, "count", sx, sy, true) + bars);
}

/**
 * Local (x) against reference (y) scores: held-out points hollow, the fitted map as a line, y = x dashed where the two
 * ranges overlap.
 */
export function scatterSvg(
    points: readonly (readonly [number, number])[],
    options: { name: string; title: string; xLabel: string; yLabel: string; heldOut?: readonly boolean[] | undefined; curve?: { x: readonly number[]; y: readonly number[] } | undefined },
): string {
    const frame: Frame = { width: 520, height: 460, left: 64, right: 40, top: 16, bottom: 44 };
    const x = rangeOf(points.map(([px]) => px).concat(options.curve ? [...options.curve.x] : []), 0.04);
    const y = rangeOf(points.map(([, py]) => py).concat(options.curve ? [...options.curve.y] : []), 0.04);
    const sx = (v: number) => frame.left + ((v - x.min) / (x.max - x.min)) * (frame.width - frame.left - frame.right);
    const sy = (v: number) => frame.height - frame.bottom - ((v - y.min) / (y.max - y.min)) * (frame.height - frame.top - frame.bottom);
    const parts = [axes(frame, x, y, options.xLabel, options.yLabel, sx, sy)];
    const lo = Math.max(x.min, y.min);
    const hi = Math.min(x.max, y.max);
    if (hi > lo) parts.push(`<line class="diagonal" x1="${f(sx(lo))}" y1="${f(sy(lo))}" x2="${f(sx(hi))}" y2="${f(sy(hi))}" stroke="#aaa" stroke-dasharray="4 3"><title>y = x</title></line>`);
    points.forEach(([px, py], i) => {
        if (!Number.isFinite(px) || !Number.isFinite(py)) return;
        const held = options.heldOut?.[i] === true;
        parts.push(
            `<circle class="point${held ? " held-out" : ""}" cx="${f(sx(px))}" cy="${f(sy(py))}" r="3.2" fill="${held ? "none" : "#3b6fb6"}" stroke="${held ? "#d9534f" : "none"}" stroke-width="1.4" fill-opacity="0.7"><title>local ${px.toPrecision(6)}, reference ${py.toPrecision(6)}${held ? " (held out)" : ""}</title></circle>`,
        );
    });
    if (options.curve !== undefined && options.curve.x.length > 0) {
        const cx = [x.min, ...options.curve.x, x.max];
        const cy = [options.curve.y[0]!, ...options.curve.y, options.curve.y.at(-1)!];
        const path = cx.map((v, i) => `${f(sx(v))},${f(sy(cy[i]!))}`).join(" ");
        parts.push(`<polyline class="fit" points="${path}" fill="none" stroke="#e08a00" stroke-width="2"><title>fitted monotone map</title></polyline>`);
    }
    return svg(options.name, frame, options.title, parts.join(""));
}

export interface BarSeries {
    label: string;
    color: string;
    values: readonly number[];
}

/** One row per item, one horizontal bar per series, on [-1, 1] (correlations) with 0 marked. */
export function groupedBarsSvg(rows: readonly string[], series: readonly BarSeries[], options: { name: string; title: string }): string {
    const barHeight = 5;
    const rowHeight = series.length * barHeight + 8;
    const frame: Frame = { width: 640, height: 0, left: 150, right: 24, top: 28, bottom: 36 };
    frame.height = frame.top + frame.bottom + rows.length * rowHeight;
    const x: Range = { min: -1, max: 1 };
    const sx = (v: number) => frame.left + ((v - x.min) / (x.max - x.min)) * (frame.width - frame.left - frame.right);
    const parts: string[] = [];
    for (const tick of ticks(x)) {
        const px = f(sx(tick.value));
        parts.push(`<line x1="${px}" x2="${px}" y1="${frame.top}" y2="${frame.height - frame.bottom}" stroke="${tick.value === 0 ? "#666" : "#ddd"}"/><text x="${px}" y="${frame.height - frame.bottom + 16}" text-anchor="middle">${tick.label}</text>`);
    }
    series.forEach((s, i) => {
        parts.push(`<rect x="${frame.left + i * 120}" y="6" width="10" height="10" fill="${s.color}"/><text x="${frame.left + i * 120 + 14}" y="15">${escapeHtml(s.label)}</text>`);
    });
    rows.forEach((row, r) => {
        const top = frame.top + r * rowHeight + 4;
        parts.push(`<text x="${frame.left - 6}" y="${f(top + (series.length * barHeight) / 2)}" text-anchor="end" dominant-baseline="middle">${escapeHtml(row.length > 22 ? row.slice(0, 21) + "…" : row)}</text>`);
        series.forEach((s, i) => {
            const value = s.values[r]!;
            if (!Number.isFinite(value)) return;
            const a = sx(Math.min(0, value));
            const b = sx(Math.max(0, value));
            parts.push(
                `<rect class="bar" x="${f(a)}" y="${top + i * barHeight}" width="${f(Math.max(1, b - a))}" height="${barHeight - 1}" fill="${s.color}"><title>${escapeHtml(row)}: ${s.label} ${value.toFixed(4)}</title></rect>`,
            );
        });
    });
    return svg(options.name, frame, options.title, parts.join(""));
}
