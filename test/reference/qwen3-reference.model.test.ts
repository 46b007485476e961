/**
 * Self-checks of the float64 Qwen3 reference (no llama.cpp involved): GGUF decoding, RoPE, grouped-query
 * attention, causality, pooling, the two reranker flavours, refusals.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureFixtureModel } from "../fixtures/qwen3-fixture.js";
import { GGML_TYPE_F16, GGML_TYPE_F32, GGML_TYPE_Q8_0, GgufTensorFile, halfToNumber } from "./gguf-tensors.js";
import { writeMiniGguf } from "./mini-gguf.js";
import {
  TOKEN_NO,
  TOKEN_YES,
  applyRope,
  causalAttention,
  loadQwen3Reference,
  ropeTables,
  type Qwen3ReferenceModel,
} from "./qwen3-reference.js";

const ENDOFTEXT = 151643;

/** deterministic pseudo-random token ids below the Qwen3 BPE range */
function tokenSequence(n: number, seed: number): number[] {
  let s = seed >>> 0;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out.push(s % 151643);
  }
  return out;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), "qwen3-reference-"));
});
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

describe("GGUF tensor decoding", () => {
  it("decodes binary16 by hand", () => {
    expect(halfToNumber(0x3c00)).toBe(1);
    expect(halfToNumber(0xc000)).toBe(-2);
    expect(halfToNumber(0x3555)).toBe(0.333251953125);
    expect(halfToNumber(0x7bff)).toBe(65504);
    expect(halfToNumber(0x0001)).toBe(2 ** -24);
    expect(halfToNumber(0x8000)).toBe(-0);
    expect(halfToNumber(0x7c00)).toBe(Infinity);
    expect(halfToNumber(0x7e00)).toBeNaN();
  });

  it("reads F32, F16 and Q8_0 rows with ne[0] fastest", async () => {
    // F32: 2 rows of 3
    const f32 = new Float32Array([1.5, -2, 3.25, 4, 5, -6.5]);
    // F16: 2 rows of 2: [1, -2], [0.5, 65504]
    const f16 = new Uint16Array([0x3c00, 0xc000, 0x3800, 0x7bff]);
    // Q8_0: 2 rows of 64 (two blocks each); block b of row r has scale 2^-(r+b) and q[j] = j - 16
    const q8 = new Uint8Array(4 * 34);
    const scaleBits = [0x3c00, 0x3800, 0x3800, 0x3400]; // 1, 0.5, 0.5, 0.25
    for (let blk = 0; blk < 4; blk++) {
      const view = new DataView(q8.buffer, blk * 34, 34);
      view.setUint16(0, scaleBits[blk]!, true);
      for (let j = 0; j < 32; j++) view.setInt8(2 + j, j - 16);
    }
    const path = writeMiniGguf(
      join(tmp, "types.gguf"),
      [["general.architecture", "str", "test"]],
      [
        { name: "a", dims: [3, 2], type: GGML_TYPE_F32, data: new Uint8Array(f32.buffer) },
        { name: "b", dims: [2, 2], type: GGML_TYPE_F16, data: new Uint8Array(f16.buffer) },
        { name: "c", dims: [64, 2], type: GGML_TYPE_Q8_0, data: q8 },
      ],
    );
    const file = await GgufTensorFile.open(path);
    try {
      expect([...file.readAll("a")]).toEqual([1.5, -2, 3.25, 4, 5, -6.5]);
      expect([...file.readRow("a", 1)]).toEqual([4, 5, -6.5]);
      expect([...file.readAll("b")]).toEqual([1, -2, 0.5, 65504]);
      expect([...file.readRow("b", 1)]).toEqual([0.5, 65504]);
      const row1 = file.readRow("c", 1);
      for (let j = 0; j < 64; j++) expect(row1[j]).toBe((j < 32 ? 0.5 : 0.25) * ((j % 32) - 16));
      const all = file.readAll("c");
      expect(all.length).toBe(128);
      expect(all[0]).toBe(-16);
      expect(all[32 + 17]).toBe(0.5);
      expect(() => file.readRow("c", 2)).toThrow(/out of range/);
    } finally {
      file.close();
    }
  });
});

describe("kernels", () => {
  it("RoPE at position 0 is the identity and rotations preserve norms", () => {
    const D = 32;
    const { cos, sin } = ropeTables(8, D, 1e6);
    const x = Float64Array.from({ length: D }, (_, i) => Math.sin(i + 1) * 3);
    const y = x.slice();
    applyRope(y, 0, D, 0, cos, sin);
    expect([...y]).toEqual([...x]);
    const z = x.slice();
    applyRope(z, 0, D, 7, cos, sin);
    expect(Math.abs(dot(z, z) - dot(x, x))).toBeLessThan(1e-12);
    expect(maxAbsDiff(z, x)).toBeGreaterThan(1e-3);
  });

  it("RoPE pairs dimension i with i + D/2 (rotate_half) and scores depend on relative position only", () => {
    const D = 8;
    const theta = 10000;
    const { cos, sin } = ropeTables(20, D, theta);
    // unit vector e_0 at position p: (cos(p), 0, 0, 0, sin(p), 0, 0, 0) since inv_freq[0] = 1
    const e0 = new Float64Array(D);
    e0[0] = 1;
    applyRope(e0, 0, D, 3, cos, sin);
    expect(e0[0]).toBeCloseTo(Math.cos(3), 14);
    expect(e0[D / 2]).toBeCloseTo(Math.sin(3), 14);
    expect(e0[1]).toBe(0);
    // dimension 1 rotates with inv_freq[1] = theta^(-2/D)
    const e1 = new Float64Array(D);
    e1[1] = 1;
    applyRope(e1, 0, D, 5, cos, sin);
    expect(e1[1]).toBeCloseTo(Math.cos(5 * theta ** (-2 / D)), 14);
    expect(e1[1 + D / 2]).toBeCloseTo(Math.sin(5 * theta ** (-2 / D)), 14);
    const q = Float64Array.from({ length: D }, (_, i) => Math.cos(3 * i + 1));
    const k = Float64Array.from({ length: D }, (_, i) => Math.sin(2 * i - 1));
    const score = (m: number, n: number): number => {
      const a = q.slice();
      const b = k.slice();
      applyRope(a, 0, D, m, cos, sin);
      applyRope(b, 0, D, n, cos, sin);
      return dot(a, b);
    };
    expect(Math.abs(score(9, 4) - score(15, 10))).toBeLessThan(1e-12);
    expect(Math.abs(score(9, 4) - score(9, 5))).toBeGreaterThan(1e-6);
  });

  it("grouped-query attention: query head h reads kv head floor(h / group), one key gives its value", () => {
    const D = 4;
    const heads = 4;
    const kvHeads = 2;
    const q = Float64Array.from({ length: heads * D }, (_, i) => i * 0.1);
    const k = Float64Array.from({ length: kvHeads * D }, (_, i) => 1 - i * 0.05);
    const v = Float64Array.from({ length: kvHeads * D }, (_, i) => 10 + i);
    const out = new Float64Array(heads * D);
    causalAttention(q, 1, 0, k, v, 1, heads, kvHeads, D, out);
    expect([...out]).toEqual([10, 11, 12, 13, 10, 11, 12, 13, 14, 15, 16, 17, 14, 15, 16, 17]);
  });

  it("attention matches a direct softmax on a small causal example", () => {
    const D = 2;
    const n = 11; // crosses a block of eight queries
    const q = Float64Array.from({ length: n * D }, (_, i) => Math.sin(i));
    const k = Float64Array.from({ length: n * D }, (_, i) => Math.cos(2 * i));
    const v = Float64Array.from({ length: n * D }, (_, i) => i % 5);
    const out = new Float64Array(n * D);
    causalAttention(q, n, 0, k, v, n, 1, 1, D, out);
    for (let i = 0; i < n; i++) {
      const s = Array.from({ length: i + 1 }, (_, j) => (q[i * D]! * k[j * D]! + q[i * D + 1]! * k[j * D + 1]!) / Math.SQRT2);
      const w = s.map((x) => Math.exp(x));
      const z = w.reduce((a, b) => a + b, 0);
      for (let d = 0; d < D; d++) {
        const expected = w.reduce((acc, wj, j) => acc + (wj / z) * v[j * D + d]!, 0);
        expect(Math.abs(out[i * D + d]! - expected)).toBeLessThan(1e-13);
      }
    }
    // queries that start mid-sequence (the last-layer shortcut) see the same keys
    const tail = new Float64Array(3 * D);
    causalAttention(q.subarray((n - 3) * D), 3, n - 3, k, v, n, 1, 1, D, tail);
    expect(maxAbsDiff(tail, out.subarray((n - 3) * D))).toBeLessThan(1e-15);
  });
});

describe("tiny Qwen3 fixtures", () => {
  let emb: Qwen3ReferenceModel;
  let causal: Qwen3ReferenceModel;
  let rank: Qwen3ReferenceModel;

  beforeAll(async () => {
    const [e, c, r] = await Promise.all([
      ensureFixtureModel({ kind: "embedding", size: "tiny", seed: 1 }),
      ensureFixtureModel({ kind: "reranker-causal", size: "tiny", seed: 1 }),
      ensureFixtureModel({ kind: "reranker-rank", size: "tiny", seed: 1 }),
    ]);
    emb = await loadQwen3Reference(e);
    causal = await loadQwen3Reference(c);
    rank = await loadQwen3Reference(r);
  });
  afterAll(() => {
    emb?.close();
    causal?.close();
    rank?.close();
  });

  it("reads the hyperparameters from the GGUF metadata", () => {
    expect(emb.hiddenSize).toBe(64);
    expect(emb.layers).toBe(2);
    expect(emb.vocabSize).toBe(151936);
    expect(emb.config).toMatchObject({ heads: 4, kvHeads: 2, headDim: 32, ffnSize: 128, ropeTheta: 1e6 });
    expect(emb.config.rmsEps).toBeCloseTo(1e-6, 12);
    expect(emb.scoreHead).toBe("lm");
    expect(causal.scoreHead).toBe("lm");
    expect(rank.scoreHead).toBe("cls");
  });

  it("is causal: a prefix's last state equals that position's state inside a longer sequence", () => {
    const tokens = [...tokenSequence(40, 7), ENDOFTEXT];
    const all = emb.allHiddenStates(tokens);
    expect(all.length).toBe(tokens.length);
    for (const k of [1, 2, 9, 17, 40, 41]) {
      expect(maxAbsDiff(emb.lastHiddenState(tokens.slice(0, k)), all[k - 1]!)).toBeLessThan(1e-12);
    }
    // changing a later token leaves earlier states untouched
    const changed = tokens.slice();
    changed[30] = (changed[30]! + 1) % 151643;
    const all2 = emb.allHiddenStates(changed);
    for (let t = 0; t < 30; t++) expect(maxAbsDiff(all2[t]!, all[t]!)).toBe(0);
    expect(maxAbsDiff(all2[30]!, all[30]!)).toBeGreaterThan(1e-6);
    expect(maxAbsDiff(all2[40]!, all[40]!)).toBeGreaterThan(1e-9);
  });

  it("pools the last token: earlier tokens reach it through attention, order matters", () => {
    const a = emb.embed([100, 200, 300, ENDOFTEXT]);
    const b = emb.embed([101, 200, 300, ENDOFTEXT]);
    const c = emb.embed([300, 200, 100, ENDOFTEXT]);
    expect(maxAbsDiff(a, b)).toBeGreaterThan(1e-6);
    expect(maxAbsDiff(a, c)).toBeGreaterThan(1e-6);
  });

  it("embed is the unit-length last hidden state", () => {
    const tokens = [...tokenSequence(25, 3), ENDOFTEXT];
    const h = emb.lastHiddenState(tokens);
    const e = emb.embed(tokens);
    expect(Math.abs(dot(e, e) - 1)).toBeLessThan(1e-14);
    const norm = Math.sqrt(dot(h, h));
    expect(maxAbsDiff(e, h.map((x) => x / norm))).toBeLessThan(1e-15);
  });

  it("logitsAt uses the tied token embedding when there is no output.weight", async () => {
    const tokens = tokenSequence(12, 11);
    const h = emb.lastHiddenState(tokens);
    const ids = [0, TOKEN_YES, TOKEN_NO, ENDOFTEXT, 151935];
    const logits = emb.logitsAt(tokens, ids);
    const file = await GgufTensorFile.open(emb.path);
    try {
      expect(file.has("output.weight")).toBe(false);
      ids.forEach((id, i) => expect(Math.abs(logits[i]! - dot(file.readRow("token_embd.weight", id), h))).toBeLessThan(1e-12));
    } finally {
      file.close();
    }
  });

  it("the flavours of one seed share the transformer: same hidden states", () => {
    const tokens = tokenSequence(30, 5);
    expect(maxAbsDiff(emb.lastHiddenState(tokens), causal.lastHiddenState(tokens))).toBe(0);
    expect(maxAbsDiff(rank.lastHiddenState(tokens), causal.lastHiddenState(tokens))).toBe(0);
  });

  it("rank flavour (cls.output) and causal flavour (yes/no logits) give the same score", () => {
    for (const seed of [1, 2, 3]) {
      const tokens = tokenSequence(20 + 13 * seed, seed);
      const [yes, no] = causal.logitsAt(tokens, [TOKEN_YES, TOKEN_NO]);
      expect(causal.rankLogits(tokens)).toEqual([yes, no]);
      const [ryes, rno] = rank.rankLogits(tokens);
      expect(Math.abs(ryes - yes!)).toBeLessThan(1e-12);
      expect(Math.abs(rno - no!)).toBeLessThan(1e-12);
      const p = causal.rankScore(tokens);
      expect(p).toBeGreaterThan(0);
      expect(p).toBeLessThan(1);
      expect(Math.abs(p - 1 / (1 + Math.exp(no! - yes!)))).toBeLessThan(1e-15);
      expect(Math.abs(rank.rankScore(tokens) - p)).toBeLessThan(1e-12);
    }
  });

  it("rejects empty input and out-of-range token ids", () => {
    expect(() => emb.embed([])).toThrow(/empty/);
    expect(() => emb.embed([151936])).toThrow(/out of range/);
    expect(() => emb.embed([-1])).toThrow(/out of range/);
    expect(() => emb.logitsAt([1], [151936])).toThrow(/out of range/);
  });
});

describe("refusals", () => {
  it("refuses a file that is not GGUF", async () => {
    const path = join(tmp, "not-a-model.gguf");
    writeFileSync(path, "this is plain text, not a model\n");
    await expect(loadQwen3Reference(path)).rejects.toThrow(/not a GGUF file/);
  });

  it("refuses a GGUF of another architecture", async () => {
    const path = writeMiniGguf(
      join(tmp, "llama.gguf"),
      [
        ["general.architecture", "str", "llama"],
        ["llama.embedding_length", "u32", 64],
      ],
      [],
    );
    await expect(loadQwen3Reference(path)).rejects.toThrow(/not a Qwen3 model.*"llama"/);
  });

  it("refuses a GGUF without an architecture", async () => {
    const path = writeMiniGguf(join(tmp, "none.gguf"), [["general.name", "str", "x"]], []);
    await expect(loadQwen3Reference(path)).rejects.toThrow(/not a Qwen3 model.*missing/);
  });

  it("names a missing tensor", async () => {
    const path = writeMiniGguf(
      join(tmp, "empty-qwen3.gguf"),
      [
        ["general.architecture", "str", "qwen3"],
        ["qwen3.embedding_length", "u32", 64],
        ["qwen3.block_count", "u32", 1],
        ["qwen3.attention.head_count", "u32", 2],
        ["qwen3.feed_forward_length", "u32", 128],
        ["qwen3.attention.layer_norm_rms_epsilon", "f32", 1e-6],
      ],
      [],
    );
    await expect(loadQwen3Reference(path)).rejects.toThrow(/token_embd\.weight not found/);
  });
});
