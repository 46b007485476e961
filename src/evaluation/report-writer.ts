import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { renderVerificationHtml } from "./report-html.js";
import type { VerificationReport } from "./verification.js";

/** The report as JSON: undefined statistics (NaN) become null. */
export function verificationJson(report: VerificationReport): string {
    return JSON.stringify(report, null, 2) + "\n";
}

/** Writes `report.json` and `report.html` into `dir` (created when missing); returns their paths. */
export async function writeVerificationReport(dir: string, report: VerificationReport): Promise<{ json: string; html: string }> {
    await mkdir(dir, { recursive: true });
    const json = join(dir, "report.json");
    const html = join(dir, "report.html");
    await writeFile(json, verificationJson(report));
    await writeFile(html, renderVerificationHtml(report));
    return { json, html };
}
