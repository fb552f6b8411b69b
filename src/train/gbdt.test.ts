// Gradient-boosted trees: splits, leaf values and missing/categorical routing against hand-worked
// cases; determinism; early stopping; workers against one thread; refusals of bad input.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PlinthError } from '../core/index.js';
import { applyBinning, binOf, fitBinning } from './binning.js';
import { gbdtGainImportance, predictGbdt, trainGbdt } from './gbdt.js';
import type { FeatureMatrix } from './matrix.js';
import { Random } from './random.js';
import { CATEGORY_SPLIT, LEAF, NUMERIC_SPLIT, leafOfValues } from './tree.js';

const one = (values: number[], kind: 'numeric' | 'categorical' = 'numeric'): FeatureMatrix => ({ rows: values.length, names: ['x'], columns: [Float32Array.from(values)], kinds: [kind] });
const close = (actual: ArrayLike<number>, expected: number[], tolerance = 1e-6) =>
  expected.forEach((e, i) => assert.ok(Math.abs(actual[i]! - e) <= tolerance, `value ${i}: ${actual[i]} vs ${e}`));
const invalid = (e: unknown) => e instanceof PlinthError && e.code === 'INVALID_ARGUMENT';

describe('binning', () => {
  it('puts each distinct value of a small feature in its own bin, with float32 midpoints', () => {
    const [binning] = fitBinning(one([3, 1, 2, 2, NaN]));
    assert.deepEqual(Array.from(binning!.upper), [1.5, 2.5, Infinity]);
    assert.equal(binOf(binning!, NaN), 0);
    assert.equal(binOf(binning!, 1), 1);
    assert.equal(binOf(binning!, 1.5), 1);
    assert.equal(binOf(binning!, 2), 2);
    assert.equal(binOf(binning!, 100), 3);
  });

  it('caps a many-valued feature at maxBins with roughly equal counts', () => {
    const values = Array.from({ length: 10_000 }, (_, i) => i);
    const [binning] = fitBinning(one(values), { maxBins: 11 });
    assert.equal(binning!.bins, 11);
    const data = applyBinning(one(values), [binning!]);
    const counts = new Array(11).fill(0);
    for (const b of data.bins) counts[b]++;
    assert.equal(counts[0], 0);
    for (let b = 1; b <= 10; b++) assert.ok(Math.abs(counts[b] - 1000) <= 1, `bin ${b} holds ${counts[b]}`);
  });

  it('gives categories their own bins and rare ones a shared bin past 255', () => {
    const values = Array.from({ length: 300 }, (_, i) => i);
    const [binning] = fitBinning(one(values, 'categorical'));
    assert.equal(binning!.bins, 256);
    assert.ok(binning!.hasOther);
    const [small] = fitBinning(one([5, 7, 7], 'categorical'));
    assert.deepEqual(Array.from(small!.categories), [5, 7]);
    assert.equal(binOf(small!, 7), 2);
    assert.equal(binOf(small!, 6), 3, 'an unseen category lands past the known bins');
    // Whole columns are binned through a code table: the same bins, unseen and odd values included.
    const probe = [5, 7, 6, 0, 100_000, -1, 2.5, NaN];
    const binned = applyBinning(one(probe, 'categorical'), [small!]);
    assert.deepEqual(Array.from(binned.bins), [1, 2, 3, 3, 3, 3, 3, 0]);
    assert.deepEqual(Array.from(binned.bins), probe.map((v) => binOf(small!, v)));
  });
});

describe('trainGbdt', () => {
  it('regression stump: the split and leaf values worked out by hand', () => {
    // base 2; gradients score − y = [1, 1, −1, −1], hessians 1; best split x ≤ 2.5.
    // λ = 1: leaves −2/(2+1) = −2/3 and +2/3 → 4/3 and 8/3; gain ½(4/3 + 4/3 − 0) = 4/3.
    const model = trainGbdt({ task: 'regression', features: one([1, 2, 3, 4]), labels: [1, 1, 3, 3], params: { trees: 1, maxDepth: 1, learningRate: 1, lambda: 1, minChildWeight: 0 } });
    const tree = model.trees[0]!;
    assert.equal(tree.kind[0], NUMERIC_SPLIT);
    assert.equal(tree.threshold[0], 2.5);
    assert.ok(Math.abs(tree.gain[0]! - 4 / 3) < 1e-12);
    close(predictGbdt(model, one([0, 2.5, 2.6, 9])), [4 / 3, 4 / 3, 8 / 3, 8 / 3]);
    assert.ok(Math.abs(gbdtGainImportance(model)[0]! - 4 / 3) < 1e-12);
  });

  it('binary stump: logloss gradients and hessians', () => {
    // base logit(0.5) = 0; g = p − y = ±0.5, h = 0.25; λ = 1: leaf −(2·0.5)/(0.5 + 1) = ∓2/3.
    const model = trainGbdt({ task: 'binary', features: one([0, 0, 1, 1]), labels: [0, 0, 1, 1], params: { trees: 1, maxDepth: 1, learningRate: 1, lambda: 1, minChildWeight: 0 } });
    const p = 1 / (1 + Math.exp(-2 / 3));
    close(predictGbdt(model, one([0, 1])), [p, 1 - p, 1 - p, p]);
  });

  it('routes missing values by a learned default direction', () => {
    // Residuals from base 5: missing +5, {1, 2} −5, {3, 4} 0; depth 2, λ = 0 fits every group exactly.
    const model = trainGbdt({ task: 'regression', features: one([NaN, NaN, 1, 2, 3, 4]), labels: [10, 10, 0, 0, 5, 5], params: { trees: 1, maxDepth: 2, learningRate: 1, lambda: 0, minChildWeight: 0 } });
    close(predictGbdt(model, one([NaN, 1.5, 3.5])), [10, 0, 5]);
  });

  it('splits a categorical feature one-vs-rest', () => {
    const model = trainGbdt({ task: 'regression', features: one([0, 0, 1, 1, 2, 2], 'categorical'), labels: [0, 0, 6, 6, 0, 0], params: { trees: 1, maxDepth: 1, learningRate: 1, lambda: 0, minChildWeight: 0 } });
    const tree = model.trees[0]!;
    assert.equal(tree.kind[0], CATEGORY_SPLIT);
    assert.equal(tree.threshold[0], 1);
    // Category 1 → 6; 0, 2 and the unseen 9 → 0.
    close(predictGbdt(model, one([1, 0, 2, 9], 'categorical')), [6, 0, 0, 0]);
  });

  it('is deterministic for a seed, and subsampling depends on it', () => {
    const { features, labels } = noisy(2000, 1);
    const params = { trees: 10, subsample: 0.7, colsampleByTree: 0.67, seed: 5, threads: 1 };
    const a = predictGbdt(trainGbdt({ task: 'binary', features, labels, params }), features);
    const b = predictGbdt(trainGbdt({ task: 'binary', features, labels, params }), features);
    const c = predictGbdt(trainGbdt({ task: 'binary', features, labels, params: { ...params, seed: 6 } }), features);
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
  });

  it('stops early at the best validation round', () => {
    const train = noisy(1000, 2);
    const valid = noisy(1000, 3);
    const losses: number[] = [];
    const model = trainGbdt({
      task: 'binary', features: train.features, labels: train.labels, validation: valid,
      params: { trees: 200, learningRate: 0.5, maxDepth: 6, minChildWeight: 0, earlyStoppingRounds: 5, threads: 1 },
      onRound: (_round, loss) => losses.push(loss!),
    });
    assert.ok(losses.length < 200, `stopped after ${losses.length} rounds`);
    const best = losses.indexOf(Math.min(...losses)) + 1;
    assert.equal(model.rounds, best);
    assert.equal(losses.length, best + 5);
    assert.equal(model.trees.length, best);
  });

  it('builds the same trees on worker threads as on one thread', () => {
    const { features, labels } = noisy(30_000, 4);
    const params = { trees: 5, maxDepth: 5 };
    const serial = trainGbdt({ task: 'multiclass', features, labels: labels.map((y, i) => (y === 1 ? 1 + (i % 2) : 0)), params: { ...params, threads: 1 } });
    const parallel = trainGbdt({ task: 'multiclass', features, labels: labels.map((y, i) => (y === 1 ? 1 + (i % 2) : 0)), params: { ...params, threads: 2 } });
    assert.deepEqual(parallel.trees.map((t) => Array.from(t.feature)), serial.trees.map((t) => Array.from(t.feature)));
    assert.deepEqual(parallel.trees.map((t) => Array.from(t.bin)), serial.trees.map((t) => Array.from(t.bin)));
    const a = predictGbdt(serial, features);
    const b = predictGbdt(parallel, features);
    for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! - b[i]!) < 1e-6);
  });

  it('fits each round to the gradients of the rounds before it', () => {
    // Recomputes every leaf of rounds 2.. from the predictions of the earlier trees (tree walks on
    // raw values, not the trainer's own score bookkeeping): leaf = −Σg / (Σh + λ) · learning rate.
    const random = new Random(3);
    const rows = 3_000;
    const x = new Float32Array(rows);
    const c = new Float32Array(rows);
    const labels: number[] = [];
    for (let i = 0; i < rows; i++) {
      x[i] = random.next() < 0.1 ? NaN : random.next();
      c[i] = random.int(4);
      const p = (Number.isNaN(x[i]!) ? 0.3 : x[i]!) * 0.6 + (c[i] === 2 ? 0.3 : 0);
      labels.push(random.next() < p ? 1 : 0);
    }
    const features: FeatureMatrix = { rows, names: ['x', 'c'], columns: [x, c], kinds: ['numeric', 'categorical'] };
    const params = { trees: 4, maxDepth: 2, learningRate: 0.3, lambda: 1, minChildWeight: 0, threads: 1 };
    const model = trainGbdt({ task: 'binary', features, labels, params });
    for (let t = 1; t < model.trees.length; t++) {
      const earlier = predictGbdt({ ...model, trees: model.trees.slice(0, t) }, features);
      const tree = model.trees[t]!;
      const g = new Float64Array(tree.nodes);
      const h = new Float64Array(tree.nodes);
      for (let i = 0; i < rows; i++) {
        const p = earlier[2 * i + 1]!;
        const leaf = leafOfValues(tree, features.columns, i);
        g[leaf]! += p - labels[i]!;
        h[leaf]! += Math.max(p * (1 - p), 1e-16);
      }
      let leaves = 0;
      for (let n = 0; n < tree.nodes; n++) {
        if (tree.kind[n] !== LEAF) continue;
        leaves++;
        const expected = (-g[n]! / (h[n]! + params.lambda)) * params.learningRate;
        assert.ok(Math.abs(tree.value[n]! - expected) <= 1e-6 * Math.max(1, Math.abs(expected)), `round ${t + 1} leaf ${n}: ${tree.value[n]} vs ${expected}`);
      }
      assert.ok(leaves >= 3, `round ${t + 1} has ${leaves} leaves`);
    }
  });

  it('builds the same binary trees on worker threads as on one thread', () => {
    const { features, labels } = noisy(40_000, 6);
    const params = { trees: 6, maxDepth: 4 };
    const serial = trainGbdt({ task: 'binary', features, labels, params: { ...params, threads: 1 } });
    const parallel = trainGbdt({ task: 'binary', features, labels, params: { ...params, threads: 2 } });
    assert.deepEqual(parallel.trees.map((t) => Array.from(t.feature)), serial.trees.map((t) => Array.from(t.feature)));
    assert.deepEqual(parallel.trees.map((t) => Array.from(t.bin)), serial.trees.map((t) => Array.from(t.bin)));
    for (let t = 0; t < serial.trees.length; t++) close(parallel.trees[t]!.value, Array.from(serial.trees[t]!.value), 1e-6);
  });

  it('refuses bad input before training', () => {
    const x = one([1, 2, 3]);
    assert.throws(() => trainGbdt({ task: 'binary', features: x, labels: [1, 1, 1] }), (e) => invalid(e) && /only one class/.test((e as Error).message));
    assert.throws(() => trainGbdt({ task: 'regression', features: x, labels: [2, 2, 2] }), /constant/);
    assert.throws(() => trainGbdt({ task: 'binary', features: x, labels: [0, 1] }), /2 labels for 3 rows/);
    assert.throws(() => trainGbdt({ task: 'binary', features: x, labels: [0, 1, 2] }), /binary labels are 0 and 1/);
    assert.throws(() => trainGbdt({ task: 'regression', features: x, labels: [0, NaN, 1] }), /finite/);
    assert.throws(() => trainGbdt({ task: 'binary', features: one([0.5, 1, 2], 'categorical'), labels: [0, 1, 0] }), /non-negative integers/);
    assert.throws(() => trainGbdt({ task: 'binary', features: x, labels: [0, 1, 0], params: { learningRate: 0 } }), /learningRate/);
    assert.throws(() => trainGbdt({ task: 'binary', features: x, labels: [0, 1, 0], params: { maxBins: 300 } }), /at most 256/);
  });
});

/** Two informative features (one with missing values), one noise feature; labels with 10% flipped. */
function noisy(rows: number, seed: number): { features: FeatureMatrix; labels: number[] } {
  const random = new Random(seed);
  const a = new Float32Array(rows);
  const b = new Float32Array(rows);
  const c = new Float32Array(rows);
  const labels: number[] = [];
  for (let i = 0; i < rows; i++) {
    a[i] = random.next() < 0.1 ? NaN : random.next();
    b[i] = random.next();
    c[i] = random.next();
    const y = (Number.isNaN(a[i]!) ? 0.5 : a[i]!) + b[i]! > 1 ? 1 : 0;
    labels.push(random.next() < 0.1 ? 1 - y : y);
  }
  return { features: { rows, names: ['a', 'b', 'c'], columns: [a, b, c] }, labels };
}
