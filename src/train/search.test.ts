// Hyperparameter search: grids enumerate exactly, random draws repeat for a seed, TPE finds a
// quadratic's minimum faster than random search, median pruning, and resumption.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runSearch, shouldPrune, TrialPruned, type Trial } from './search.js';
import { checkSearchSpace, type Params, type SearchSpace } from './search-space.js';

const key = (p: Params) => JSON.stringify(Object.keys(p).sort().map((k) => [k, p[k]]));

describe('grid search', () => {
  const space = checkSearchSpace({
    depth: { type: 'int', low: 2, high: 4 },
    booster: { type: 'categorical', choices: ['a', 'b'] },
    rate: { type: 'float', low: 0.1, high: 0.3, step: 0.1 },
  });

  it('runs every point of the Cartesian product once, then stops', async () => {
    const seen: Params[] = [];
    const result = await runSearch({ space, sampler: 'grid', trials: 100, direction: 'minimize', objective: (p) => (seen.push(p), 0) });
    // Written out by hand: 3 depths × 2 boosters × 3 rates.
    const expected: Params[] = [];
    for (const depth of [2, 3, 4]) for (const booster of ['a', 'b']) for (const rate of [0.1, 0.2, 0.3]) expected.push({ depth, booster, rate });
    assert.equal(result.trials.length, 18);
    assert.deepEqual(seen.map(key), expected.map(key));
    assert.deepEqual(result.trials.map((t) => t.number), Array.from({ length: 18 }, (_, i) => i));
  });

  it('refuses a continuous parameter without choices or step', async () => {
    await assert.rejects(
      runSearch({ space: { lr: { type: 'float', low: 0, high: 1 } }, sampler: 'grid', trials: 3, direction: 'minimize', objective: () => 0 }),
      /grid search needs "choices" or a "step" for float parameter "lr"/,
    );
  });

  it('resumes without repeating grid points', async () => {
    const first = await runSearch({ space, sampler: 'grid', trials: 5, direction: 'minimize', objective: (p) => p.depth as number });
    assert.equal(first.trials.length, 5);
    const fresh: Params[] = [];
    const resumed = await runSearch({
      space, sampler: 'grid', trials: 18, direction: 'minimize', history: first.trials,
      objective: (p) => (fresh.push(p), p.depth as number),
    });
    assert.equal(fresh.length, 13);
    assert.equal(new Set([...first.trials.map((t) => key(t.params)), ...fresh.map(key)]).size, 18, 'no point twice, every point once');
    assert.deepEqual(resumed.trials.map((t) => t.number), Array.from({ length: 18 }, (_, i) => i));
  });
});

describe('random search', () => {
  const space: SearchSpace = checkSearchSpace({
    lr: { type: 'float', low: 1e-4, high: 1, log: true },
    leaves: { type: 'int', low: 4, high: 64 },
    kind: { type: 'categorical', choices: ['x', 'y', 'z'] },
  });

  it('is reproducible for a seed, differs across seeds, stays in range', async () => {
    const run = async (seed: number) => (await runSearch({ space, sampler: 'random', trials: 20, seed, direction: 'maximize', objective: () => 1 })).trials.map((t) => t.params);
    const a = await run(7);
    assert.deepEqual(await run(7), a);
    assert.notDeepEqual(await run(8), a);
    for (const p of a) {
      assert.ok((p.lr as number) >= 1e-4 && (p.lr as number) <= 1);
      assert.ok(Number.isInteger(p.leaves) && (p.leaves as number) >= 4 && (p.leaves as number) <= 64);
      assert.ok(['x', 'y', 'z'].includes(p.kind as string));
    }
    // Log-uniform: about half the draws below 1e-2 (the middle of [1e-4, 1] in log space), far more than uniform's 1 %.
    const below = (await Promise.all([1, 2, 3, 4, 5].map(run))).flat().filter((p) => (p.lr as number) < 1e-2).length;
    assert.ok(below >= 30 && below <= 70, `${below} of 100 draws below 1e-2`);
  });

  it('a resumed search draws what the uninterrupted one would have', async () => {
    const whole = await runSearch({ space, sampler: 'random', trials: 10, seed: 3, direction: 'maximize', objective: () => 1 });
    const part = await runSearch({ space, sampler: 'random', trials: 4, seed: 3, direction: 'maximize', objective: () => 1 });
    const rest = await runSearch({ space, sampler: 'random', trials: 10, seed: 3, direction: 'maximize', objective: () => 1, history: part.trials });
    assert.deepEqual(rest.trials.map((t) => t.params), whole.trials.map((t) => t.params));
  });
});

describe('TPE', () => {
  it('finds the minimum of a quadratic faster than random search (median over 10 seeds of best-of-30)', async () => {
    const space = checkSearchSpace({ x: { type: 'float', low: -10, high: 10 }, y: { type: 'float', low: -10, high: 10 } });
    const f = (p: Params) => ((p.x as number) - 1.5) ** 2 + ((p.y as number) + 2) ** 2;
    const bestOf = async (sampler: 'tpe' | 'random', seed: number) => (await runSearch({ space, sampler, trials: 30, seed, direction: 'minimize', objective: f })).best!.value!;
    const medianOf = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1]!;
    const seeds = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    const tpe = medianOf(await Promise.all(seeds.map((s) => bestOf('tpe', s))));
    const random = medianOf(await Promise.all(seeds.map((s) => bestOf('random', s))));
    assert.ok(tpe < random, `TPE median best ${tpe} should be below random's ${random}`);
  });

  it('maximises too, and keeps integer and categorical parameters valid', async () => {
    const space = checkSearchSpace({ n: { type: 'int', low: 1, high: 20 }, c: { type: 'categorical', choices: ['bad', 'good', 'worse'] } });
    const result = await runSearch({
      space, sampler: 'tpe', trials: 40, seed: 5, direction: 'maximize',
      objective: (p) => -Math.abs((p.n as number) - 13) + (p.c === 'good' ? 5 : 0),
    });
    for (const t of result.trials) assert.ok(Number.isInteger(t.params.n) && (t.params.n as number) >= 1 && (t.params.n as number) <= 20);
    // After the 10 random startup trials TPE should mostly pick the good category.
    const late = result.trials.slice(20);
    assert.ok(late.filter((t) => t.params.c === 'good').length >= 12, `good chosen ${late.filter((t) => t.params.c === 'good').length} of 20 times`);
    assert.equal(result.best!.params.c, 'good');
  });
});

describe('median pruning', () => {
  it('prunes a clearly worse trial and not a better one, only after the startup trials', async () => {
    // Trials report their value v at steps 0 and 1. Completed trials v = 1..5: the median at step 0 is 3.
    const space = checkSearchSpace({ v: { type: 'int', choices: [1, 2, 3, 4, 5, 0, 10] } });
    const result = await runSearch({
      space, sampler: 'grid', trials: 7, direction: 'maximize', pruner: { kind: 'median', startupTrials: 5, warmupSteps: 0 },
      objective: (p, report) => {
        const v = p.v as number;
        for (const step of [0, 1]) if (report(step, v)) throw new TrialPruned();
        return v;
      },
    });
    assert.deepEqual(result.trials.map((t) => [t.params.v, t.state]), [[1, 'complete'], [2, 'complete'], [3, 'complete'], [4, 'complete'], [5, 'complete'], [0, 'pruned'], [10, 'complete']]);
    assert.deepEqual(result.trials[5]!.intermediate, [{ step: 0, value: 0 }]);
    assert.equal(result.best!.params.v, 10);
  });

  it('decides as Optuna: the best value so far against the median, direction-aware', () => {
    const done = (values: number[]): Trial[] => values.map((value, number) => ({ number, params: {}, state: 'complete', value, intermediate: [{ step: 3, value }], startTime: 0, endTime: 0 }));
    const pruner = { kind: 'median' as const, startupTrials: 2 };
    // Minimise; median of 1, 2, 10, 20 is 6.
    assert.equal(shouldPrune(pruner, done([1, 2, 10, 20]), [{ step: 3, value: 7 }], 3, 'minimize'), true);
    assert.equal(shouldPrune(pruner, done([1, 2, 10, 20]), [{ step: 3, value: 5 }], 3, 'minimize'), false);
    // Best so far (4 at step 2) counts, not just the latest value.
    assert.equal(shouldPrune(pruner, done([1, 2, 10, 20]), [{ step: 2, value: 4 }, { step: 3, value: 7 }], 3, 'minimize'), false);
    assert.equal(shouldPrune(pruner, done([1, 2, 10, 20]), [{ step: 3, value: 5 }], 3, 'maximize'), true);
    assert.equal(shouldPrune(pruner, done([1]), [{ step: 3, value: 100 }], 3, 'minimize'), false, 'before the startup trials');
    assert.equal(shouldPrune(pruner, done([1, 2]), [{ step: 4, value: 100 }], 4, 'minimize'), false, 'no completed trial reported step 4');
    assert.equal(shouldPrune({ ...pruner, warmupSteps: 5 }, done([1, 2, 10, 20]), [{ step: 3, value: 70 }], 3, 'minimize'), false, 'during warm-up');
  });

  it('a failing objective fails the search after onTrial saw the trial', async () => {
    const seen: Trial[] = [];
    await assert.rejects(
      runSearch({ space: { v: { type: 'int', choices: [1, 2] } }, sampler: 'grid', trials: 2, direction: 'minimize', objective: () => { throw new Error('boom'); }, onTrial: (t) => void seen.push(t) }),
      /boom/,
    );
    assert.deepEqual(seen.map((t) => [t.state, t.error]), [['failed', 'boom']]);
  });
});
