// The trainer's kernels against plain re-computations: the generated histogram kernel against a
// per-feature loop, the stable partition against a filter, the gradient update against Math.exp.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { histogramKernelSource, partitionSlice, scatterSplit, updateGradients } from './kernels.js';
import { Random } from './random.js';

const random = new Random(11);
const rows = 500;
const features = 3;
const binsRow = Uint8Array.from({ length: rows * features }, () => random.int(6));
const binsCol = new Uint8Array(rows * features);
for (let r = 0; r < rows; r++) for (let j = 0; j < features; j++) binsCol[j * rows + r] = binsRow[r * features + j]!;

describe('training kernels', () => {
  it('the generated histogram kernel sums gradients, hessians and counts per bin', () => {
    const gh = Float32Array.from({ length: 2 * rows }, () => random.next() - 0.5);
    const index = Int32Array.from({ length: rows }, (_, i) => i).filter((i) => i % 3 !== 0);
    // Features 2 and 0, at histogram offsets 0 and 6 bins.
    const kernel = new Function('binsRow', 'gh', 'index', 'start', 'end', 'all', 'hist', histogramKernelSource([2, 0], [0, 18], features));
    const hist = new Float64Array(12 * 3);
    kernel(binsRow, gh, index, 0, index.length, false, hist);
    const expected = new Float64Array(12 * 3);
    [[2, 0], [0, 6]].forEach(([j, offset]) => {
      for (const r of index) {
        const k = (offset! + binsCol[j! * rows + r]!) * 3;
        expected[k]! += gh[2 * r]!;
        expected[k + 1]! += gh[2 * r + 1]!;
        expected[k + 2]! += 1;
      }
    });
    for (let i = 0; i < expected.length; i++) assert.ok(Math.abs(hist[i]! - expected[i]!) < 1e-9, `slot ${i}: ${hist[i]} vs ${expected[i]}`);
    assert.equal(hist.filter((_, i) => i % 3 === 2).reduce((a, b) => a + b, 0), 2 * index.length);
  });

  it('partitions stably: numeric bins ≤ cut left, missing by the default direction', () => {
    const index = Int32Array.from({ length: rows }, (_, i) => i);
    const scratch = new Int32Array(rows);
    const start = 100;
    const end = 400;
    const original = Array.from(index.subarray(start, end));
    const goesLeft = (r: number) => { const b = binsCol[1 * rows + r]!; return b === 0 ? true : b <= 3; };
    const left = partitionSlice(binsCol, rows, index, scratch, start, end, 1, 3, false, true);
    assert.deepEqual(Array.from(index.subarray(start, start + left)), original.filter(goesLeft));
    assert.deepEqual(Array.from(scratch.subarray(start, start + (end - start - left))), original.filter((r) => !goesLeft(r)));
    const categorical = Int32Array.from(original);
    const n = partitionSlice(binsCol, rows, categorical, new Int32Array(rows), 0, categorical.length, 0, 2, true, false);
    assert.deepEqual(Array.from(categorical.subarray(0, n)), original.filter((r) => binsCol[r] === 2));
  });

  it('routes a final split to its two leaf values without reordering', () => {
    const index = Int32Array.from({ length: rows }, (_, i) => rows - 1 - i);
    const delta = new Float32Array(rows);
    scatterSplit(binsCol, rows, index, 0, rows, 2, 4, false, false, 1.5, -2.5, new Float64Array(2), delta);
    for (let r = 0; r < rows; r++) {
      const b = binsCol[2 * rows + r]!;
      assert.equal(delta[r], b !== 0 && b <= 4 ? 1.5 : -2.5, `row ${r} bin ${b}`);
    }
    assert.equal(index[0], rows - 1);
  });

  it('computes logloss gradients as the sigmoid with Math.exp does, scores beyond ±40 included', () => {
    const n = 2_000;
    const scores = Float64Array.from({ length: n }, (_, i) => (i < 10 ? (i - 5) * 20 : random.next() * 60 - 30));
    const delta = Float32Array.from({ length: n }, () => random.next() - 0.5);
    const labels = Float32Array.from({ length: n }, () => random.int(2));
    const expected = Array.from(scores, (s, r) => {
      const p = 1 / (1 + Math.exp(-(s + delta[r]!)));
      return [Math.fround(p - labels[r]!), Math.fround(Math.max(p * (1 - p), 1e-16)), s + delta[r]!];
    });
    const gh = new Float32Array(2 * n);
    updateGradients(scores, delta, labels, gh, 0, n, true, 1e-16);
    for (let r = 0; r < n; r++) {
      const [g, h, s] = expected[r]!;
      assert.equal(scores[r], s);
      // Relative to float32 precision; scores beyond ±40 are clamped, which moves p by under 5e-18.
      assert.ok(Math.abs(gh[2 * r]! - g!) <= 1e-7 * Math.abs(g!) + 5e-18, `row ${r} gradient ${gh[2 * r]} vs ${g}`);
      assert.ok(Math.abs(gh[2 * r + 1]! - h!) <= 1e-7 * h! + 5e-18, `row ${r} hessian ${gh[2 * r + 1]} vs ${h}`);
    }
  });
});
