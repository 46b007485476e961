import { describe, expect, it } from "vitest";
import { averageRanks, kendallTau, pearson, spearman } from "../../src/evaluation/rank-correlation.js";
import { summarize } from "../../src/evaluation/descriptive-statistics.js";
import { expectInvalidOption } from "../format/expect-invalid-option.js";

describe("rank correlation", () => {
    it("Pearson", () => {
        expect(pearson([1, 2, 3, 4], [2, 4, 6, 8])).toBeCloseTo(1, 12);
        expect(pearson([1, 2, 3], [3, 2, 1])).toBeCloseTo(-1, 12);
        // means 2.5; deviations x (-1.5,-0.5,0.5,1.5), y (-1.5,0.5,-0.5,1.5): covariance 4, variances 5 and 5 -> 4/5
        expect(pearson([1, 2, 3, 4], [1, 3, 2, 4])).toBeCloseTo(0.8, 12);
        expect(pearson([1, 1, 1], [1, 2, 3])).toBeNaN(); // a constant list has no correlation
        expect(pearson([1], [2])).toBeNaN();
    });

    it("average ranks share tied positions", () => {
        // 10,10 take ranks 1 and 2 -> 1.5; 20,20,20 take 3,4,5 -> 4; 30 -> 6
        expect(averageRanks([10, 20, 10, 30, 20, 20])).toEqual([1.5, 4, 1.5, 6, 4, 4]);
    });

    it("Spearman: Pearson of the average ranks", () => {
        expect(spearman([1, 10, 100, 1000], [0.1, 0.2, 0.3, 0.4])).toBeCloseTo(1, 12); // monotone, not linear
        // ranks x (1, 2.5, 2.5, 4), y (1, 2, 3, 4); deviations (-1.5, 0, 0, 1.5) and (-1.5, -0.5, 0.5, 1.5):
        // covariance 4.5, variances 4.5 and 5 -> 4.5 / sqrt(22.5) = sqrt(0.9)
        expect(spearman([1, 2, 2, 3], [1, 2, 3, 4])).toBeCloseTo(0.9486832980505138, 12);
    });

    it("Kendall tau-b, with and without ties", () => {
        // pairs of (1,2,3,4) vs (1,3,2,4): only (2nd, 3rd) is discordant: (5 - 1) / 6
        expect(kendallTau([1, 2, 3, 4], [1, 3, 2, 4])).toBeCloseTo(2 / 3, 12);
        // (1,2,2,3) vs (1,2,3,4): 5 concordant, 0 discordant, 1 pair tied in x only: 5 / sqrt((6 - 1)(6 - 0)) = 5 / sqrt(30)
        expect(kendallTau([1, 2, 2, 3], [1, 2, 3, 4])).toBeCloseTo(0.9128709291752769, 12);
        expect(kendallTau([4, 3, 2, 1], [1, 2, 3, 4])).toBeCloseTo(-1, 12);
        expect(kendallTau([2, 2, 2], [1, 2, 3])).toBeNaN();
    });

    it("refuses lists of different lengths", () => {
        expectInvalidOption(() => pearson([1, 2], [1]), "Cannot correlate lists of different lengths: 2 and 1");
        expectInvalidOption(() => kendallTau([1], [1, 2]), "Cannot correlate lists of different lengths: 1 and 2");
    });

    it("summaries: population standard deviation, median of an even count", () => {
        // mean 2.5, squared deviations 2.25 + 0.25 + 0.25 + 2.25 = 5, std sqrt(5/4)
        expect(summarize([4, 1, 3, 2])).toEqual({ count: 4, mean: 2.5, std: Math.sqrt(1.25), min: 1, median: 2.5, max: 4 });
        expect(summarize([]).mean).toBeNaN();
    });
});
