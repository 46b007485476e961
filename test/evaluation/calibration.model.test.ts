import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InvalidOptionError, createReranker, type Reranker } from "../../src/index.js";
import { errorStatistics, fitCalibration } from "../../src/evaluation/calibration-fitting.js";
import { fitIsotonic } from "../../src/evaluation/isotonic-regression.js";
import { interpolateKnots } from "../../src/facade/score-map.js";
import { builtInProbeSet } from "../../src/evaluation/probe-sets.js";
import type { ReferenceData } from "../../src/evaluation/reference-data.js";
import { CALIBRATION_TYPE, applyCalibration, calibrateReranker, loadCalibration, saveCalibration, type ScoreCalibration } from "../../src/evaluation/score-calibration.js";
import { verifyAgainstReference, type VerificationReport } from "../../src/evaluation/verification.js";
import { ensureFixtureModel } from "../fixtures/qwen3-fixture.js";
import { expectInvalidOption } from "../format/expect-invalid-option.js";

const map = (x: number[], y: number[]): ScoreCalibration => ({ type: CALIBRATION_TYPE, version: 1, method: "isotonic", x, y });

describe("isotonic regression (pool adjacent violators)", () => {
    it("pools violating neighbours into their mean", () => {
        // y 1, 3, 2, 4, 3.5: (3, 2) pool to 2.5 over x 2..3, (4, 3.5) pool to 3.75 over x 4..5
        expect(fitIsotonic([1, 2, 3, 4, 5], [1, 3, 2, 4, 3.5])).toEqual({ x: [1, 2, 3, 4, 5], y: [1, 2.5, 2.5, 3.75, 3.75] });
        // input order does not matter
        expect(fitIsotonic([5, 3, 1, 4, 2], [3.5, 2, 1, 4, 3])).toEqual({ x: [1, 2, 3, 4, 5], y: [1, 2.5, 2.5, 3.75, 3.75] });
        // equal x pooled first: x=1 -> mean(3, 1) = 2, then (2, 2) does not violate
        expect(fitIsotonic([1, 1, 2], [3, 1, 2])).toEqual({ x: [1, 2], y: [2, 2] });
        // a violation reaching back over several blocks: 1, 2, 3, 0 -> (3, 0) pool to 1.5, below 2, so (2, 3, 0) pool
        // to 5/3, above 1, which stays
        expect(fitIsotonic([1, 2, 3, 4], [1, 2, 3, 0])).toEqual({ x: [1, 2, 4], y: [1, 5 / 3, 5 / 3] });
        // interior knots of a flat run are dropped
        expect(fitIsotonic([1, 2, 3, 4], [0, 1, 1, 1])).toEqual({ x: [1, 2, 4], y: [0, 1, 1] });
    });

    it("interpolates linearly between knots and clips outside them", () => {
        const knots = { x: [1, 2, 3, 4, 5], y: [1, 2.5, 2.5, 3.75, 3.75] };
        expect(interpolateKnots(knots, 3.5)).toBe(3.125); // 2.5 + 0.5 * (3.75 - 2.5)
        expect(interpolateKnots(knots, 1.5)).toBe(1.75);
        expect(interpolateKnots(knots, 0)).toBe(1);
        expect(interpolateKnots(knots, 9)).toBe(3.75);
        expect(interpolateKnots({ x: [0.5], y: [0.7] }, 0.1)).toBe(0.7);
        expect(applyCalibration(map([0, 1], [0.2, 0.6]), 0.25)).toBeCloseTo(0.3, 12);
        expectInvalidOption(() => applyCalibration(map([0, 1], [0, 1]), Number.NaN), "Expected a finite number for score but received number NaN");
    });
});

describe("calibration files", () => {
    let dir: string;
    beforeAll(async () => {
        dir = await mkdtemp(join(tmpdir(), "qwen3-calibration-"));
    });
    afterAll(async () => {
        await rm(dir, { recursive: true, force: true });
    });

    it("round-trips and refuses malformed maps naming the field", async () => {
        const path = join(dir, "map.json");
        await saveCalibration(path, map([0.1, 0.5, 0.9], [0.2, 0.2, 0.95]));
        expect(await loadCalibration(path)).toEqual(map([0.1, 0.5, 0.9], [0.2, 0.2, 0.95]));
        const cases: [unknown, string][] = [
            [{ ...map([0, 1], [0, 1]), type: "other" }, `Expected "qwen3-embedding/score-calibration" for ${path}.type but received the string "other"`],
            [{ ...map([0, 1], [0, 1]), version: 2 }, `Expected 1 for ${path}.version but received number 2`],
            [map([0, 0], [0, 1]), `Expected a number above x[0] = 0 (x must increase) for ${path}.x[1] but received number 0`],
            [map([0, 1], [1, 0]), `Expected a number of at least y[0] = 1 (the map must be monotone) for ${path}.y[1] but received number 0`],
            [map([0, 1], [1]), `Expected an array of 2 numbers (as many as x) for ${path}.y but received an array of length 1`],
            [map([], []), `Expected a non-empty array of numbers for ${path}.x but received an array of length 0`],
        ];
        for (const [content, message] of cases) {
            await writeFile(path, JSON.stringify(content));
            await expect(loadCalibration(path)).rejects.toThrow(new InvalidOptionError(message));
        }
        await writeFile(path, "{");
        await expect(loadCalibration(path)).rejects.toThrow(`The calibration file ${path} is not valid JSON`);
        await expect(loadCalibration(join(dir, "none.json"))).rejects.toThrow(`Cannot read the calibration file ${join(dir, "none.json")}: ENOENT`);
    });

    it("needs enough pairs and a holdout share in (0, 1)", () => {
        const pairs = [0.1, 0.2, 0.3, 0.4].map((local, i) => ({ key: String(i), local, reference: local }));
        expectInvalidOption(() => fitCalibration(pairs.slice(0, 3)), "Fitting a calibration needs at least 4 scored pairs (some to fit, some held out) but received 3");
        expectInvalidOption(() => fitCalibration(pairs, { holdout: 1 }), "Expected a number between 0 and 1 (exclusive) for holdout but received 1");
    });
});

describe("calibration against a known monotone transform of local scores", () => {
    let reranker: Reranker;
    let reference: ReferenceData;
    let fitted: VerificationReport;
    /** What a reference on another scale returns: a monotone, far from linear, transform of the local score. */
    const transform = (score: number) => 0.05 + 0.9 * score ** 4;

    beforeAll(async () => {
        reranker = await createReranker({ model: await ensureFixtureModel({ kind: "reranker-rank", size: "tiny" }), workers: 0 });
        const probes = builtInProbeSet();
        const rerankings = await Promise.all(
            probes.rerankings.map(async (probe) => ({ ...probe, scores: (await reranker.score(probe.documents.map((document) => [probe.query, document] as const))).map(transform) })),
        );
        reference = { source: "transformed local scores", embeddings: [], rerankings };
        fitted = await verifyAgainstReference({ reranker, reference, fitCalibration: 0.3 });
    });
    afterAll(async () => {
        await reranker?.[Symbol.asyncDispose]();
    });

    it("reduces error on held-out pairs only, and says so", async () => {
        const report = fitted;
        const fit = report.calibrationFit!;
        expect(fit.fitPairs + fit.heldOutPairs).toBe(60);
        expect(fit.heldOutPairs).toBe(18); // round(0.3 * 60)
        // The statistics are those of the held-out pairs: recompute them from the flags.
        const points = report.reranker!.points;
        const held = points.filter((_, i) => fit.heldOut[i]);
        expect(held).toHaveLength(18);
        expect(fit.before).toEqual(errorStatistics(held.map(([local]) => local), held.map(([, ref]) => ref)));
        expect(fit.after).toEqual(errorStatistics(held.map(([local]) => interpolateKnots(fit.calibration, local)), held.map(([, ref]) => ref)));
        // The map learned from the other 42 pairs brings the held-out ones much closer.
        expect(fit.after.meanAbsoluteError).toBeLessThan(fit.before.meanAbsoluteError / 4);
        expect(fit.after.rootMeanSquareError).toBeLessThan(fit.before.rootMeanSquareError / 4);
        expect(fit.after.pearson).toBeGreaterThan(fit.before.pearson);
        // A monotone map keeps the order (up to ties on flat steps).
        expect(fit.after.spearman).toBeGreaterThan(0.98);
        // The same split whatever order the pairs come in.
        const reversedReference = { ...reference, rerankings: [...reference.rerankings].reverse() };
        const reversed = await verifyAgainstReference({ reranker, reference: reversedReference, fitCalibration: 0.3 });
        const heldPairs = (data: ReferenceData, heldOut: boolean[]) =>
            data.rerankings.flatMap((item) => item.documents.map((_, d) => `${item.id}#${d}`)).filter((_, i) => heldOut[i]).sort();
        expect(heldPairs(reversedReference, reversed.calibrationFit!.heldOut)).toEqual(heldPairs(reference, fit.heldOut));
    });

    it("applied to the local scores, the fitted map makes the scores agree", async () => {
        const map = fitted.calibrationFit!.calibration;
        const raw = fitted; // fitting a map does not change the comparison of the raw scores
        expect(raw.reranker!.calibrated).toBe(false);
        const calibrated = await verifyAgainstReference({ reranker, reference, calibration: map });
        expect(calibrated.reranker!.calibrated).toBe(true);
        expect(calibrated.reranker!.absoluteError.mean).toBeLessThan(raw.reranker!.absoluteError.mean / 4);
        expect(calibrated.reranker!.pearson).toBeGreaterThan(raw.reranker!.pearson);
        await expect(verifyAgainstReference({ reranker, reference, calibration: map, fitCalibration: true })).rejects.toThrow(
            "Pass either calibration (apply a map) or fitCalibration (fit one), not both",
        );
    });

    it("calibrateReranker: the reranker's order, calibrated scores", async () => {
        const calibration = map([0, 0.5, 1], [0.1, 0.2, 0.9]);
        const wrapped = calibrateReranker(reranker, calibration);
        const probe = builtInProbeSet().rerankings[2]!;
        const raw = await reranker.rerank(probe.query, probe.documents);
        const result = await wrapped.rerank(probe.query, probe.documents);
        expect(result.results.map((item) => item.index)).toEqual(raw.results.map((item) => item.index));
        result.results.forEach((item, i) => expect(item.score).toBe(applyCalibration(calibration, raw.results[i]!.score)));
        expect(result.totalTokens).toBe(raw.totalTokens);
        const top = await wrapped.rerank(probe.query, probe.documents, { topN: 2 });
        expect(top.results).toEqual(result.results.slice(0, 2));
        const pairs = probe.documents.map((document) => [probe.query, document] as const);
        expect(await wrapped.score(pairs)).toEqual((await reranker.score(pairs)).map((score) => applyCalibration(calibration, score)));
        expectInvalidOption(() => calibrateReranker({} as never, calibration), "Expected a reranker with rerank() and score() for reranker but received an object");
        expectInvalidOption(() => calibrateReranker(reranker, map([1, 0], [0, 1])), "Expected a number above x[0] = 1 (x must increase) for calibration.x[1] but received number 0");
    });
});
