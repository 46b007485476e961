import { InvalidOptionError } from "../internal/errors.js";
import type { MonotoneKnots } from "../facade/score-map.js";

interface Block {
    xMin: number;
    xMax: number;
    /** weighted mean of the block's y */
    y: number;
    weight: number;
}

/**
 * Isotonic (monotone non-decreasing) least-squares regression of y on x by the pool-adjacent-violators algorithm.
 * Points with equal x are pooled first; each pooled block becomes one knot, or two (its lowest and highest x) when it
 * spans several x values; interior knots of flat runs are dropped. Between knots the map is linear, outside it is
 * clipped to the end values (as scikit-learn's IsotonicRegression with out_of_bounds="clip").
 */
export function fitIsotonic(x: readonly number[], y: readonly number[]): MonotoneKnots {
    if (x.length !== y.length) throw new InvalidOptionError(`Cannot fit ${x.length} x values to ${y.length} y values`);
    if (x.length === 0) throw new InvalidOptionError("Cannot fit a calibration to no points");
    x.forEach((value, index) => {
        if (!Number.isFinite(value) || !Number.isFinite(y[index]!)) {
            throw new InvalidOptionError(`Expected finite numbers for point ${index} but received x ${value}, y ${y[index]}`);
        }
    });
    const order = x.map((_, index) => index).sort((a, b) => x[a]! - x[b]!);
    const blocks: Block[] = [];
    for (let start = 0; start < order.length; ) {
        let end = start;
        let sum = 0;
        while (end < order.length && x[order[end]!] === x[order[start]!]) sum += y[order[end++]!]!;
        let block: Block = { xMin: x[order[start]!]!, xMax: x[order[start]!]!, y: sum / (end - start), weight: end - start };
        // Pool backwards while the previous block is above this one.
        while (blocks.length > 0 && blocks.at(-1)!.y > block.y) {
            const previous = blocks.pop()!;
            const weight = previous.weight + block.weight;
            block = { xMin: previous.xMin, xMax: block.xMax, y: (previous.y * previous.weight + block.y * block.weight) / weight, weight };
        }
        blocks.push(block);
        start = end;
    }
    const knots: [number, number][] = [];
    for (const block of blocks) {
        knots.push([block.xMin, block.y]);
        if (block.xMax > block.xMin) knots.push([block.xMax, block.y]);
    }
    const kept = knots.filter(([, value], index) => {
        if (index === 0 || index === knots.length - 1) return true;
        return !(knots[index - 1]![1] === value && knots[index + 1]![1] === value);
    });
    return { x: kept.map(([position]) => position), y: kept.map(([, value]) => value) };
}
