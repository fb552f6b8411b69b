// TPE's pieces against Optuna's definitions worked out by hand: gamma, weights, the good/bad split,
// and samples that respect bounds, steps and log scales.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Random } from './random.js';
import { checkSearchSpace } from './search-space.js';
import { defaultGamma, defaultWeights, splitTrials, tpeSample, type ObservedTrial } from './tpe.js';

const trial = (number: number, value: number | null, state: 'complete' | 'pruned' = 'complete', intermediate: ObservedTrial['intermediate'] = []): ObservedTrial =>
  ({ number, params: { x: number }, state, value, intermediate });

describe('TPE', () => {
  it("gamma is min(ceil(0.1 n), 25) and weights are Optuna's default_weights", () => {
    assert.deepEqual([1, 10, 11, 20, 21, 249, 250, 251, 1000].map(defaultGamma), [1, 1, 2, 2, 3, 25, 25, 25, 25]);
    assert.deepEqual(defaultWeights(3), [1, 1, 1]);
    // n = 27: numpy.linspace(1/27, 1, 2) = [1/27, 1], then 25 ones.
    const w = defaultWeights(27);
    assert.equal(w.length, 27);
    assert.ok(Math.abs(w[0]! - 1 / 27) < 1e-15);
    assert.equal(w[1], 1);
    assert.ok(w.slice(2).every((v) => v === 1));
    assert.deepEqual(defaultWeights(26), [1 / 26, ...Array(25).fill(1)]);
  });

  it('splits finished trials into good and bad by value, pruned ones ranked last', () => {
    // 12 trials: gamma(12) = 2. Minimise: the two smallest values (trials 7 and 3) are good.
    const values = [5, 6, 7, 0.5, 8, 9, 10, 0.1, 11, 12, 13];
    const trials = [...values.map((v, i) => trial(i, v)), trial(11, null, 'pruned', [{ step: 0, value: -100 }])];
    const { good, bad } = splitTrials(trials, 'minimize');
    assert.deepEqual(good.map((t) => t.number), [3, 7]);
    assert.deepEqual(bad.map((t) => t.number), [0, 1, 2, 4, 5, 6, 8, 9, 10, 11]);
    const max = splitTrials(trials, 'maximize');
    assert.deepEqual(max.good.map((t) => t.number), [9, 10]);
  });

  it('samples stay within bounds, on steps, and on integers for log-scaled ints', () => {
    const space = checkSearchSpace({
      a: { type: 'float', low: 0.001, high: 10, log: true },
      b: { type: 'float', low: 0, high: 1, step: 0.25 },
      c: { type: 'int', low: 1, high: 1000, log: true },
      d: { type: 'int', choices: [3, 5, 9] },
    });
    const random = new Random(1);
    const history: ObservedTrial[] = [];
    for (let n = 0; n < 40; n++) {
      const params = tpeSample(space, history, random, { direction: 'minimize' });
      const a = params.a as number;
      const b = params.b as number;
      const c = params.c as number;
      assert.ok(a >= 0.001 && a <= 10, `a = ${a}`);
      assert.ok([0, 0.25, 0.5, 0.75, 1].includes(b), `b = ${b}`);
      assert.ok(Number.isInteger(c) && c >= 1 && c <= 1000, `c = ${c}`);
      assert.ok([3, 5, 9].includes(params.d as number));
      history.push({ number: n, params, state: 'complete', value: Math.abs(Math.log10(a)) + b, intermediate: [] });
    }
  });
});
