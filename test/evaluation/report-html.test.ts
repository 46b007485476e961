// The HTML report opened in headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core): no console
// or page errors, nothing fetched, and every plot drawn with its data.
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { describe, expect, it } from "vitest";
import type { EmbedOptions, EmbeddingResult, KvCacheType } from "../../src/index.js";
import type { ReferenceData } from "../../src/evaluation/reference-data.js";
import { writeVerificationReport } from "../../src/evaluation/report-writer.js";
import { verifyAgainstReference, type LocalEmbedder, type LocalReranker, type VerificationReport } from "../../src/evaluation/verification.js";
import { escapeHtml } from "../../src/evaluation/svg-plots.js";
import { formatNumber } from "../../src/evaluation/report-text.js";

const CHROMIUM = "/usr/bin/chromium";

/** A small deterministic generator (mulberry32), so the report's data is the same on every run. */
function random(seed: number): () => number {
    return () => {
        seed = (seed + 0x6d2b79f5) | 0;
        let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
        t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
}

/**
 * A report from the real verification code over synthetic models: 40 texts whose local vectors are the reference
 * plus small noise, and 8 queries x 10 documents whose reference scores are a monotone transform of the local ones
 * plus noise, with a calibration fitted. One text is "<script>" to prove the page escapes what it shows.
 */
async function syntheticReport(kvCacheTypes: { embedding?: KvCacheType; reranker?: KvCacheType } = { embedding: "f32", reranker: "f16" }): Promise<VerificationReport> {
    const next = random(7);
    const texts = Array.from({ length: 40 }, (_, i) => (i === 3 ? "<script>alert(1)</script> & friends" : `text ${i} ${"lorem ipsum ".repeat(i % 5)}`));
    const vectors = new Map(texts.map((text) => [text, Array.from({ length: 16 }, () => next() - 0.5)]));
    const noisy = new Map(texts.map((text, i) => [text, vectors.get(text)!.map((v) => v + (next() - 0.5) * (i === 3 ? 0.3 : 0.002))]));
    const embedder: LocalEmbedder = {
        dimensions: 16,
        ...(kvCacheTypes.embedding === undefined ? {} : { kvCacheType: kvCacheTypes.embedding }),
        async embed(inputs: readonly string[], _options?: EmbedOptions): Promise<EmbeddingResult> {
            return { embeddings: inputs.map((text) => Float32Array.from(noisy.get(text)!)), tokens: inputs.map(() => 1), totalTokens: inputs.length, truncated: inputs.map(() => false), dimensions: 16 };
        },
    };
    const local = new Map<string, number>();
    const rerankings = Array.from({ length: 8 }, (_, q) => {
        const query = `query ${q}`;
        const documents = Array.from({ length: 10 }, (_, d) => `document ${q}-${d}`);
        const scores = documents.map((document) => {
            const score = next();
            local.set(`${query}\u0000${document}`, score);
            return Math.min(1, Math.max(0, 0.1 + 0.8 * score ** 2 + (next() - 0.5) * (q === 5 ? 0.6 : 0.05)));
        });
        return { id: `q${q}`, query, documents, scores };
    });
    const reranker: LocalReranker = {
        ...(kvCacheTypes.reranker === undefined ? {} : { kvCacheType: kvCacheTypes.reranker }),
        async score(pairs) {
            return pairs.map((pair) => local.get((pair as readonly string[]).join("\u0000"))!);
        },
    };
    const reference: ReferenceData = { source: "synthetic", embeddings: texts.map((text, i) => ({ id: `t${i}`, text, embedding: vectors.get(text)! })), rerankings };
    return verifyAgainstReference({ embedder, reranker, reference, fitCalibration: 0.3, models: { embedding: "synthetic-embedder", reranker: "synthetic-reranker" } });
}

describe("numbers in reports", () => {
    it("show enough decimals that a value just below 1 never reads as 1", () => {
        expect(formatNumber(0.99999974)).toBe("0.999999740"); // 1 - x = 2.6e-7: 7 + 2 decimals
        expect(formatNumber(-0.999)).toBe("-0.999000"); // 1 - |x| = 1e-3 needs 3 + 2 decimals, fewer than the default 6
        expect(formatNumber(0.5)).toBe("0.500000");
        expect(formatNumber(1)).toBe("1.000000");
        expect(formatNumber(0.25, 2)).toBe("0.25");
        expect(formatNumber(Number.NaN)).toBe("n/a");
        expect(formatNumber(1.4e-7)).toBe("1.40e-7"); // below 1e-5 (fewer than 2 digits in 6 decimals): exponent form, not 0.000000
        expect(formatNumber(0)).toBe("0.000000");
    });
});

describe("the HTML report", () => {
    it("is one self-contained page: no scripts, no external resources, user text escaped", async () => {
        const report = await syntheticReport();
        const dir = await mkdtemp(join(tmpdir(), "qwen3-report-"));
        try {
            const { html } = await writeVerificationReport(dir, report);
            const page = await readFile(html, "utf8");
            expect(page).not.toMatch(/<script|<link|src=|@import|url\(/i);
            expect(page).toContain(escapeHtml("<script>alert(1)</script> & friends"));
            const json = JSON.parse(await readFile(join(dir, "report.json"), "utf8"));
            expect(json.checks).toHaveLength(7);
            // the mode the local models ran in, both named when they differ
            expect(json.mode).toBe("embedding exact (f32 KV cache), reranker fast (f16 KV cache)");
            expect(json.kvCacheTypes).toEqual({ embedding: "f32", reranker: "f16" });
            expect(page).toContain('<p data-field="mode">Mode: <strong>embedding exact (f32 KV cache), reranker fast (f16 KV cache)</strong></p>');
            expect((await syntheticReport({ reranker: "f32" })).mode).toBe("exact (f32 KV cache)");
            expect((await syntheticReport({})).mode).toBe("unknown");
        } finally {
            await rm(dir, { recursive: true, force: true });
        }
    });

    it("opens in headless Chromium without errors and draws its plots", async (context) => {
        if (!existsSync(CHROMIUM)) {
            if (process.env["CI"]) throw new Error(`${CHROMIUM} is missing under CI: .ci/run installs Debian's chromium package`);
            context.skip(`${CHROMIUM} is not installed (apt-get install chromium); CI installs it`);
        }
        const report = await syntheticReport();
        const dir = await mkdtemp(join(tmpdir(), "qwen3-report-"));
        const { html } = await writeVerificationReport(dir, report);
        // A fresh profile in the test's own temporary directory.
        const browser = await chromium.launchPersistentContext(join(dir, "profile"), {
            executablePath: CHROMIUM,
            args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
            viewport: { width: 1100, height: 900 },
        });
        try {
            const page = await browser.newPage();
            const problems: string[] = [];
            const requests: string[] = [];
            page.on("console", (message) => {
                if (message.type() === "error" || message.type() === "warning") problems.push(`console ${message.type()}: ${message.text()}`);
            });
            page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
            page.on("request", (request) => requests.push(request.url()));
            await page.goto(`file://${html}`, { waitUntil: "load" });

            const plots = await page.$$eval("svg.plot", (svgs) =>
                svgs.map((svg) => {
                    const box = svg.getBoundingClientRect();
                    const marks = (selector: string) => [...svg.querySelectorAll(selector)].map((mark) => mark.getBoundingClientRect()).filter((r) => r.width > 0 && r.height > 0).length;
                    return { name: svg.getAttribute("data-plot"), width: box.width, height: box.height, bars: marks("rect.bar"), points: marks("circle.point"), heldOut: svg.querySelectorAll("circle.held-out").length, fit: marks("polyline.fit") };
                }),
            );
            expect(problems).toEqual([]);
            expect(requests).toEqual([`file://${html}`]);
            expect(plots.map((plot) => plot.name)).toEqual(["cosine-histogram", "score-scatter", "rank-agreement"]);
            for (const plot of plots) {
                expect(plot.width, plot.name!).toBeGreaterThan(300);
                expect(plot.height, plot.name!).toBeGreaterThan(200);
            }
            const [histogram, scatter, agreement] = plots;
            // the histogram's bars hold every one of the 40 items
            expect(histogram!.bars).toBeGreaterThan(1);
            const counts = await page.$$eval('svg[data-plot="cosine-histogram"] rect.bar', (bars) => bars.map((bar) => Number(bar.getAttribute("data-count"))));
            expect(counts.reduce((a, b) => a + b, 0)).toBe(40);
            // one point per (query, document) pair, the held-out ones marked, and the fitted map drawn
            expect(scatter!.points).toBe(80);
            expect(scatter!.heldOut).toBe(report.calibrationFit!.heldOutPairs);
            expect(scatter!.fit).toBe(1);
            // four bars per query (nDCG, Spearman, Kendall, top-k overlap), 8 queries
            expect(agreement!.bars).toBe(32);
            // q5's scores are mostly noise: the verdict is FAIL and the failed checks are highlighted
            expect(await page.locator("h1").textContent()).toBe("qwen3-embedding verify FAIL");
            const mode = page.locator('[data-field="mode"]');
            expect(await mode.isVisible()).toBe(true);
            expect(await mode.textContent()).toBe("Mode: embedding exact (f32 KV cache), reranker fast (f16 KV cache)");
            expect(await page.locator("tr.failed").count()).toBe(report.checks.filter((check) => !check.passed).length);
            expect(report.checks.some((check) => !check.passed)).toBe(true);

            const screenshot = join(tmpdir(), `qwen3-embedding-report-${process.pid}.png`);
            await page.screenshot({ path: screenshot, fullPage: true });
            expect((await readFile(screenshot)).subarray(1, 4).toString()).toBe("PNG");
            console.log(`report screenshot: ${screenshot}`);
        } finally {
            await browser.close();
            await rm(dir, { recursive: true, force: true });
        }
    });
});
