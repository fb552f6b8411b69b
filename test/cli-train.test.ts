// `plinth train` and `plinth search` as a child process against a real server, on small generated
// files: metrics checked against values known by construction, a registered model that serves the
// predictions of the file the CLI wrote, one child run per search trial and resumption, and bad
// input refused with exit code 2 before any run is created.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import { runCli } from './helpers/cli.js';
import { startTestServer, type TestServer } from './helpers/server.js';

/** mulberry32, so the data does not depend on the code under test. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const COLORS = ['red', 'green', 'blue'];

describe('plinth train / search', () => {
  let server: TestServer;
  let env: { url: string; token: string };
  let dir: string;
  /** 240 rows; y = "pos" exactly when x1 > 0: perfectly separable. */
  let separable: string;
  let separableRows: Array<{ x1: number; x2: number; color: string; y: string }>;

  const write = (name: string, text: string) => {
    const p = path.join(dir, name);
    fs.writeFileSync(p, text);
    return p;
  };
  const runCount = async () => (await server.request('GET', '/api/v1/runs?max_results=1000')).body.runs.length as number;

  before(async () => {
    server = await startTestServer();
    env = { url: server.url, token: server.adminToken };
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plinth-cli-train-'));
    const next = rng(42);
    separableRows = Array.from({ length: 240 }, () => {
      // Keep |x1| ≥ 0.05 so every split of the sample separates the classes by a margin.
      const x1 = (next() < 0.5 ? -1 : 1) * (0.05 + 0.95 * next());
      return { x1: Number(x1.toFixed(4)), x2: Number((next() * 2 - 1).toFixed(4)), color: COLORS[Math.floor(next() * 3)]!, y: x1 > 0 ? 'pos' : 'neg' };
    });
    separable = write('separable.csv', 'x1,x2,color,y\n' + separableRows.map((r) => `${r.x1},${r.x2},${r.color},${r.y}`).join('\n') + '\n');
  });
  after(async () => {
    await server?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('cross-validates a separable binary problem: accuracy and AUC 1 in every fold', async () => {
    const result = await runCli(['train', '--data', separable, '--label', 'y', '--task', 'binary', '--categorical', 'color', '--cv', '3', '--param', 'trees=20', '--json'], env);
    assert.equal(result.code, 0, result.stderr);
    const out = JSON.parse(result.stdout);
    assert.equal(out.rows, 240);
    assert.deepEqual(out.classes, ['neg', 'pos']);
    assert.equal(out.evaluation.kind, 'cv');
    for (const name of ['accuracy', 'roc_auc']) {
      assert.deepEqual(out.evaluation.metrics[name].folds, [1, 1, 1], name);
      assert.equal(out.evaluation.metrics[name].mean, 1);
      assert.equal(out.evaluation.metrics[name].std, 0);
    }
    assert.equal(result.stderr, '', 'no progress bar when stderr is not a terminal');
    const human = await runCli(['train', '--data', separable, '--label', 'y', '--task', 'binary', '--categorical', 'color', '--cv', '3', '--param', 'trees=20'], env);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /^cross-validation, 3 folds \(mean ± std\):$/m);
    assert.match(human.stdout, /^accuracy\s+1\s+0\s+1 1 1$/m);
  });

  it('fits an exact linear relation: holdout RMSE 0 and R² 1', async () => {
    const next = rng(7);
    const rows = Array.from({ length: 200 }, () => {
      const a = Number((next() * 10 - 5).toFixed(3));
      const b = Number((next() * 4).toFixed(3));
      return `${a},${b},${2 * a - 3 * b + 1}`;
    });
    const file = write('linear.csv', 'a,b,target\n' + rows.join('\n') + '\n');
    const result = await runCli(['--json', 'train', '--data', file, '--label', 'target', '--task', 'regression', '--algo', 'linear', '--param', 'lambda=0', '--holdout', '0.25'], env);
    assert.equal(result.code, 0, result.stderr);
    const out = JSON.parse(result.stdout);
    assert.equal(out.evaluation.kind, 'holdout');
    assert.ok(out.evaluation.metrics.rmse < 1e-6, `rmse ${out.evaluation.metrics.rmse}`);
    assert.ok(out.evaluation.metrics.r2 > 1 - 1e-9, `r2 ${out.evaluation.metrics.r2}`);
  });

  it('--register creates a version that serves what the exported model predicts, and logs a run', async () => {
    const onnxFile = path.join(dir, 'model.onnx');
    const result = await runCli(['--json', 'train', '--data', separable, '--label', 'y', '--task', 'binary', '--categorical', 'color', '--param', 'trees=15', '--out', onnxFile, '--register', 'separable', '--experiment', 'cli-train'], env);
    assert.equal(result.code, 0, result.stderr);
    const out = JSON.parse(result.stdout);
    assert.deepEqual(out.registered, { model: 'separable', version: 1 });
    const version = await server.request('GET', '/api/v1/models/separable/versions/1');
    assert.equal(version.body.run_id, out.run_id);
    assert.deepEqual(version.body.feature_schema.features.map((f: { name: string; type: string }) => [f.name, f.type]), [['x1', 'numeric'], ['x2', 'numeric'], ['color', 'categorical']]);
    const run = await server.request('GET', `/api/v1/runs/${out.run_id}`);
    assert.equal(run.body.run.info.status, 'FINISHED');
    assert.ok(run.body.run.data.metrics.some((m: { key: string }) => m.key === 'test_roc_auc'));
    assert.ok(run.body.run.data.params.some((p: { key: string; value: string }) => p.key === 'trees' && p.value === '15'));

    // Served by feature name (colors as text), against onnxruntime on the file the CLI wrote (colors as codes, sorted: blue 0, green 1, red 2).
    const sample = separableRows.slice(0, 40);
    const served = await server.request('POST', '/v2/models/separable/infer', {
      json: {
        inputs: [
          { name: 'x1', datatype: 'FP32', shape: [sample.length], data: sample.map((r) => r.x1) },
          { name: 'x2', datatype: 'FP32', shape: [sample.length], data: sample.map((r) => r.x2) },
          { name: 'color', datatype: 'BYTES', shape: [sample.length], data: sample.map((r) => r.color) },
        ],
      },
    });
    assert.equal(served.status, 200, served.text);
    const codes = ['blue', 'green', 'red'];
    const input = Float32Array.from(sample.flatMap((r) => [r.x1, r.x2, codes.indexOf(r.color)]));
    const session = await ort.InferenceSession.create(fs.readFileSync(onnxFile));
    const local = await session.run({ input: new ort.Tensor('float32', input, [sample.length, 3]) });
    await session.release();
    const output = (name: string) => served.body.outputs.find((o: { name: string }) => o.name === name).data as number[];
    assert.deepEqual(output('label'), Array.from(local.label!.data as BigInt64Array, Number));
    const probabilities = local.probabilities!.data as Float32Array;
    output('probabilities').forEach((p, i) => assert.ok(Math.abs(p - probabilities[i]!) < 1e-6, `probability ${i}`));
    // And the predictions are right: class 1 ("pos") exactly when x1 > 0.
    assert.deepEqual(output('label'), sample.map((r) => (r.y === 'pos' ? 1 : 0)));
  });

  it('search --trials 5 makes a parent run with 5 child runs; --resume continues to 7', async () => {
    const args = ['search', '--data', separable, '--label', 'y', '--task', 'binary', '--categorical', 'color', '--cv', '2',
      '--param', 'trees=5', '--param-range', 'learning_rate=0.01:0.5:log', '--param-range', 'max_depth=1:4', '--sampler', 'random', '--seed', '3', '--experiment', 'cli-search'];
    const result = await runCli(['--json', ...args, '--trials', '5'], env);
    assert.equal(result.code, 0, result.stderr);
    const out = JSON.parse(result.stdout);
    assert.equal(out.trials.length, 5);
    assert.equal(out.metric, 'cv_roc_auc_mean');
    assert.equal(out.direction, 'maximize');
    const children = async () => {
      const filter = encodeURIComponent(`tags.mlflow.parentRunId = '${out.parent_run_id}'`);
      return (await server.request('GET', `/api/v1/runs?filter=${filter}&max_results=100`)).body.runs as Array<{ info: { run_id: string; status: string }; data: { params: Array<{ key: string; value: string }>; metrics: Array<{ key: string; value: number }>; tags: Array<{ key: string; value: string }> } }>;
    };
    const first = await children();
    assert.equal(first.length, 5);
    for (const child of first) {
      assert.equal(child.info.status, 'FINISHED');
      const lr = Number(child.data.params.find((p) => p.key === 'learningRate')!.value);
      const depth = Number(child.data.params.find((p) => p.key === 'maxDepth')!.value);
      assert.ok(lr >= 0.01 && lr <= 0.5 && Number.isInteger(depth) && depth >= 1 && depth <= 4);
      assert.ok(child.data.metrics.some((m) => m.key === 'objective'));
    }
    // The best trial's value is the largest objective among the children.
    const objectives = first.map((c) => c.data.metrics.find((m) => m.key === 'objective')!.value);
    assert.equal(out.best.value, Math.max(...objectives));
    const parent = await server.request('GET', `/api/v1/runs/${out.parent_run_id}`);
    assert.equal(parent.body.run.info.status, 'FINISHED');

    const resumed = await runCli(['--json', ...args, '--trials', '7', '--resume', out.parent_run_id], env);
    assert.equal(resumed.code, 0, resumed.stderr);
    const again = JSON.parse(resumed.stdout);
    assert.equal(again.parent_run_id, out.parent_run_id);
    assert.equal(again.trials.length, 7);
    const all = await children();
    assert.equal(all.length, 7);
    const numbers = all.map((c) => Number(c.data.tags.find((t) => t.key === 'plinth.trial')!.value)).sort((a, b) => a - b);
    assert.deepEqual(numbers, [0, 1, 2, 3, 4, 5, 6]);

    const mismatch = await runCli([...args.map((a) => (a === 'random' ? 'tpe' : a)), '--trials', '8', '--resume', out.parent_run_id], env);
    assert.equal(mismatch.code, 2);
    assert.match(mismatch.stderr, /cannot resume run \S+: its sampler is "random", this search's is "tpe"/);
  });

  it('refuses bad input with exit code 2 before any run is created', async () => {
    const before = await runCount();
    const refuse = async (args: string[], pattern: RegExp) => {
      const result = await runCli(args, env);
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, pattern);
      assert.equal(result.stdout, '');
    };
    const base = ['--data', separable, '--label', 'y', '--task', 'binary', '--categorical', 'color', '--experiment', 'refused'];
    await refuse(['train', ...base.map((a) => (a === 'y' ? 'target' : a))], /the label column "target" is not in the file/);
    await refuse(['train', '--data', separable, '--label', 'y', '--task', 'binary', '--experiment', 'refused'], /column "color" holds "\w+" at data row 1, not a number/);
    await refuse(['train', ...base, '--param', 'depth=3'], /unknown gbdt parameter "depth"; known: trees, learningRate/);
    await refuse(['train', ...base, '--cv', '500'], /240 rows are too few for 500 folds/);
    await refuse(['train', ...base, '--cv', '200'], /class \d has \d+ rows, fewer than the 200 folds/);
    const single = write('single.csv', 'x,y\n1,a\n2,a\n3,a\n');
    await refuse(['train', '--data', single, '--label', 'y', '--task', 'binary', '--experiment', 'refused'], /single class/);
    const constant = write('constant.csv', 'x,y\n1,5\n2,5\n3,5\n');
    await refuse(['train', '--data', constant, '--label', 'y', '--task', 'regression', '--experiment', 'refused'], /the label is constant/);
    await refuse(['search', ...base, '--param-range', 'trees=1:5', '--sampler', 'grid', '--param-range', 'learning_rate=0.1:0.3'], /grid search needs "choices" or a "step" for float parameter "learningRate"/);
    await refuse(['train', ...base, '--task', 'ranking'], /--task must be one of binary, multiclass, regression/);
    assert.equal(await runCount(), before, 'no run was created');
  });
});
