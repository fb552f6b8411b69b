// The training worker: jobs run on a worker thread started from the TypeScript sources, results and
// errors (with their PlinthError codes) come back, one worker serves the jobs of a run one after the
// other, and aborting a job terminates the thread while the StepWorker can start a fresh one.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { PlinthError } from '../core/index.js';
import { exportLinearToOnnx, type LinearModel } from '../train/index.js';
import { StepWorker } from './train-worker.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plinth-train-worker-'));

/** Rows x1, x2 on a grid with y = 1 when x1 + x2 > 1 (ties excluded): `n` × `n` rows. */
function gridCsv(n: number): { file: string; rows: number } {
  const lines = ['x1,x2,y'];
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const x1 = (i + 0.25) / n;
      const x2 = (j + 0.5) / n;
      lines.push(`${x1},${x2},${x1 + x2 > 1 ? 1 : 0}`);
    }
  }
  const file = path.join(dir, `grid-${n}.csv`);
  fs.writeFileSync(file, lines.join('\n') + '\n');
  return { file, rows: n * n };
}

/** A logistic model whose score rises with x1 + x2: it ranks every positive above every negative. */
function oracle(sign: 1 | -1): Uint8Array {
  const model: LinearModel = {
    algorithm: 'linear', task: 'binary', classes: 2, featureNames: ['x1', 'x2'],
    means: Float64Array.from([0, 0]), scales: Float64Array.from([1, 1]),
    coefficients: Float64Array.from([sign * 10, sign * 10]), intercepts: Float64Array.from([-sign * 10]),
    iterations: 0, params: { lambda: 1, maxIterations: 500, tolerance: 1e-6 },
  };
  return exportLinearToOnnx(model);
}

describe('the training worker', () => {
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('runs check, train and score jobs of one run on one thread', async () => {
    const { file, rows } = gridCsv(20);
    const worker = new StepWorker();
    try {
      const checked = await worker.run({ kind: 'check', file, label: 'y', task: 'binary' });
      assert.deepEqual(checked, { kind: 'check', rows });
      const lines: string[] = [];
      const trained = await worker.run(
        { kind: 'train', file, params: { label: 'y', task: 'binary', algo: 'gbdt', params: { trees: 5 }, holdout: 0.25, seed: 1, search: { sampler: 'random', trials: 2, space: { maxDepth: { type: 'int', low: 2, high: 3 } } } } },
        { log: (line) => lines.push(line) },
      );
      // 400 rows, a quarter held out.
      assert.equal(trained.trainRows, 300);
      assert.equal(trained.holdoutRows, 100);
      assert.deepEqual(trained.features, ['x1', 'x2']);
      assert.deepEqual(trained.classes, ['0', '1']);
      assert.equal(trained.search?.trials, 2);
      assert.equal(lines.filter((l) => /^trial \d complete/.test(l)).length, 2);
      assert.ok(trained.onnx.length > 100);
      // The oracle ranks the holdout perfectly (AUC 1), its mirror image backwards (AUC 0).
      const scored = await worker.run({ kind: 'score', file, params: { label: 'y', task: 'binary', algo: 'gbdt', holdout: 0.25, seed: 1 }, models: [{ bytes: oracle(1), schema: null }, { bytes: oracle(-1), schema: null }], metrics: ['roc_auc'] });
      assert.equal(scored.holdoutRows, 100);
      assert.deepEqual(scored.scores, [[1], [0]]);
    } finally {
      await worker.close();
    }
    assert.equal(worker.started, false);
  });

  it('hands back a job\'s PlinthError with its code, and keeps serving the run', async () => {
    const { file } = gridCsv(4);
    const worker = new StepWorker();
    try {
      await assert.rejects(worker.run({ kind: 'check', file, label: 'nope', task: 'binary' }), (error: unknown) => {
        assert.ok(error instanceof PlinthError);
        assert.equal(error.code, 'INVALID_ARGUMENT');
        assert.match(error.message, /"nope"/);
        return true;
      });
      assert.deepEqual(await worker.run({ kind: 'check', file, label: 'y', task: 'binary' }), { kind: 'check', rows: 16 });
    } finally {
      await worker.close();
    }
  });

  it('terminates the thread when a job is aborted; the next job starts a fresh one', async () => {
    const { file } = gridCsv(150);
    const worker = new StepWorker();
    try {
      const controller = new AbortController();
      const long = worker.run({ kind: 'train', file, params: { label: 'y', task: 'binary', algo: 'gbdt', params: { trees: 100_000, maxDepth: 8 } } }, { signal: controller.signal });
      assert.equal(worker.started, true);
      setTimeout(() => controller.abort(new Error('the run lost its claim')), 200);
      await assert.rejects(long, /the run lost its claim/);
      assert.equal(worker.started, false);
      assert.deepEqual(await worker.run({ kind: 'check', file, label: 'y', task: 'binary' }), { kind: 'check', rows: 22_500 });
    } finally {
      await worker.close();
    }
  });
});
