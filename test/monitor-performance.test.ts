// Live performance and concept drift end to end on a real server, on both stores: a classifier and
// a regressor behind deployments, traffic through the OIP endpoint with known request ids, labels
// through the feedback route, then performance and concept monitors run on demand; every figure is
// checked against values worked out in the test from the inputs and labels (pair counts for ROC AUC,
// direct sums for log loss and the regression errors), and the reference metrics against the
// version's tags and tracked run.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { buildModel, linearModel } from '../src/onnx/index.js';
import { BACKENDS, startTestServer, type TestServer } from './helpers/server.js';

/** p(1) = x, p(0) = 1 − x, label = argmax: outputs `label` INT64 [N] and `probabilities` FP32 [N, 2]. */
function classifier(): Uint8Array {
  return buildModel({
    inputs: [{ name: 'input', datatype: 'FP32', shape: ['batch', 1] }],
    outputs: [
      { name: 'label', datatype: 'INT64', shape: ['batch'] },
      { name: 'probabilities', datatype: 'FP32', shape: ['batch', 2] },
    ],
    initializers: [{ name: 'one', datatype: 'FP32', dims: [1], values: [1] }],
    nodes: [
      { opType: 'Sub', inputs: ['one', 'input'], outputs: ['negative'] },
      { opType: 'Concat', inputs: ['negative', 'input'], outputs: ['probabilities'], attributes: { axis: { i: 1 } } },
      { opType: 'ArgMax', inputs: ['probabilities'], outputs: ['label'], attributes: { axis: { i: 1 }, keepdims: { i: 0 } } },
    ],
    producerName: 'plinth-test',
  });
}

/** The shadow candidate: p(1) = 1 − x, p(0) = 1 − p(1), label = argmax. */
function flippedClassifier(): Uint8Array {
  return buildModel({
    inputs: [{ name: 'input', datatype: 'FP32', shape: ['batch', 1] }],
    outputs: [
      { name: 'label', datatype: 'INT64', shape: ['batch'] },
      { name: 'probabilities', datatype: 'FP32', shape: ['batch', 2] },
    ],
    initializers: [{ name: 'one', datatype: 'FP32', dims: [1], values: [1] }],
    nodes: [
      { opType: 'Sub', inputs: ['one', 'input'], outputs: ['positive'] },
      { opType: 'Sub', inputs: ['one', 'positive'], outputs: ['negative'] },
      { opType: 'Concat', inputs: ['negative', 'positive'], outputs: ['probabilities'], attributes: { axis: { i: 1 } } },
      { opType: 'ArgMax', inputs: ['probabilities'], outputs: ['label'], attributes: { axis: { i: 1 }, keepdims: { i: 0 } } },
    ],
    producerName: 'plinth-test',
  });
}

const close = (actual: unknown, expected: number, tolerance = 1e-9) =>
  assert.ok(typeof actual === 'number' && Math.abs(actual - expected) <= tolerance * Math.max(1, Math.abs(expected)), `${String(actual)} ≠ ${expected}`);

async function infer(server: TestServer, deployment: string, requestId: string, xs: number[]): Promise<void> {
  const response = await server.request('POST', `/v2/models/${deployment}/infer`, {
    headers: { 'x-request-id': requestId },
    json: { inputs: [{ name: 'input', shape: [xs.length, 1], datatype: 'FP32', data: xs }] },
  });
  assert.equal(response.status, 200, response.text);
}

// The classifier's traffic: 40 single-row requests with p = (k + 0.5)/40 in a shuffled order, and
// one request of two rows. Labels for the first 36 single-row requests and the two-row one.
const SINGLE = Array.from({ length: 40 }, (_, i) => ((i * 37) % 40 + 0.5) / 40);
const labelOf = (p: number, i: number) => (p > 0.5 ? (i % 4 === 0 ? 0 : 1) : (i % 5 === 0 ? 1 : 0));
const LABELLED = 36;
const PAIR = { xs: [0.95, 0.05], labels: [1, 0] };

/**
 * What the monitor must report, worked out from the float32 values the model sees: the primary
 * model's p(1) = x, p(0) = 1 − x, or the shadow's p(1) = 1 − x, p(0) = 1 − p(1).
 */
function expectedClassification(flipped = false) {
  const rows: Array<{ p1: number; p0: number; y: number }> = [];
  const probabilities = (x: number) => {
    const f = Math.fround(x);
    const p1 = flipped ? Math.fround(1 - f) : f;
    return { p1, p0: flipped ? Math.fround(1 - p1) : Math.fround(1 - f) };
  };
  SINGLE.slice(0, LABELLED).forEach((p, i) => rows.push({ ...probabilities(p), y: labelOf(p, i) }));
  PAIR.xs.forEach((x, j) => rows.push({ ...probabilities(x), y: PAIR.labels[j]! }));
  let tp = 0, fp = 0, fn = 0, right = 0, logLoss = 0;
  for (const r of rows) {
    const predicted = r.p1 > r.p0 ? 1 : 0;
    if (predicted === r.y) right++;
    if (predicted === 1 && r.y === 1) tp++;
    if (predicted === 1 && r.y === 0) fp++;
    if (predicted === 0 && r.y === 1) fn++;
    logLoss -= Math.log(r.y === 1 ? r.p1 : r.p0);
  }
  // ROC AUC by counting every (positive, negative) pair, ties one half.
  let pairs = 0, wins = 0;
  for (const a of rows) for (const b of rows) {
    if (a.y !== 1 || b.y !== 0) continue;
    pairs++;
    wins += a.p1 > b.p1 ? 1 : a.p1 === b.p1 ? 0.5 : 0;
  }
  const precision = tp + fp === 0 ? 0 : tp / (tp + fp);
  const recall = tp / (tp + fn);
  return { rows: rows.length, accuracy: right / rows.length, precision, recall, f1: precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall), roc_auc: wins / pairs, log_loss: logLoss / rows.length };
}

// The regressor: ŷ = 2x + 1 on x = i/4; labels off by (i mod 5 − 2)/2.
const REG_X = Array.from({ length: 35 }, (_, i) => i / 4);
const regLabel = (i: number) => 2 * REG_X[i]! + 1 + ((i % 5) - 2) / 2;

function expectedRegression() {
  const y = REG_X.map((_, i) => regLabel(i));
  const yhat = REG_X.map((x) => 2 * x + 1);
  const n = y.length;
  const mean = y.reduce((a, b) => a + b, 0) / n;
  let abs = 0, sq = 0, tot = 0, pct = 0;
  for (let i = 0; i < n; i++) {
    abs += Math.abs(y[i]! - yhat[i]!);
    sq += (y[i]! - yhat[i]!) ** 2;
    tot += (y[i]! - mean) ** 2;
    pct += Math.abs(y[i]! - yhat[i]!) / Math.abs(y[i]!);
  }
  return { mae: abs / n, rmse: Math.sqrt(sq / n), r2: 1 - sq / tot, mape: pct / n };
}

for (const backend of BACKENDS) {
  describe(`live performance and concept monitors (${backend})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer({ backend });
      // A tracked run with a held-out ROC AUC, and a tag with the reference accuracy.
      const run = await server.request('POST', '/api/v1/runs', { json: {} });
      assert.equal(run.status, 201, run.text);
      const runId = run.body.run.info.run_id as string;
      const logged = await server.request('POST', `/api/v1/runs/${runId}/log-batch`, { json: { metrics: [{ key: 'test_roc_auc', value: 0.93 }, { key: 'log_loss', value: 0.41 }] } });
      assert.equal(logged.status, 200, logged.text);
      await server.registerModel('clf', classifier(), { run_id: runId, tags: { 'reference.accuracy': '0.99' } });
      await server.registerModel('clf', flippedClassifier());
      await server.registerModel('reg', linearModel({ weights: [[2]], bias: [1] }));
      for (const [name, model] of [['scoring', 'clf@1'], ['pricing', 'reg@1']]) {
        const created = await server.request('POST', '/api/v1/deployments', { json: { name, model } });
        assert.equal(created.status, 201, created.text);
      }
      // clf@2 sees a copy of every request as a shadow: logged, scored apart, never answered.
      const shadow = await server.request('POST', '/api/v1/deployments/scoring/rollout', { json: { model: 'clf@2', strategy: 'shadow' } });
      assert.equal(shadow.status, 200, shadow.text);
      for (let i = 0; i < SINGLE.length; i++) await infer(server, 'scoring', `c${i}`, [SINGLE[i]!]);
      await infer(server, 'scoring', 'pair', PAIR.xs);
      // Shadow rows are written after the answers: wait for all 41.
      for (let tries = 0; ; tries++) {
        const logged = await server.request('GET', '/api/v1/deployments/scoring/predictions?role=shadow&limit=100');
        if (logged.body.predictions.length === 41) break;
        assert.ok(tries < 100, `only ${logged.body.predictions.length} shadow rows logged`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      // Labels in the forms clients send: numbers, booleans, numeric strings; one array for the pair.
      const items: Array<{ request_id: string; label: unknown }> = SINGLE.slice(0, LABELLED).map((p, i) => {
        const y = labelOf(p, i);
        return { request_id: `c${i}`, label: i % 3 === 0 ? y === 1 : i % 3 === 1 ? String(y) : y };
      });
      items.push({ request_id: 'pair', label: PAIR.labels });
      const feedback = await server.request('POST', '/api/v1/deployments/scoring/feedback', { json: { items } });
      assert.equal(feedback.status, 200, feedback.text);
      assert.equal(feedback.body.accepted, LABELLED + 1);
      for (let i = 0; i < REG_X.length; i++) await infer(server, 'pricing', `p${i}`, [REG_X[i]!]);
      // A request of two rows labelled with one number: the label does not fit, so it is not scored.
      await infer(server, 'pricing', 'two-rows', [1, 2]);
      const regItems = [...REG_X.map((_, i) => ({ request_id: `p${i}`, label: regLabel(i) as unknown })), { request_id: 'two-rows', label: 3 }];
      const regFeedback = await server.request('POST', '/api/v1/deployments/pricing/feedback', { json: { items: regItems } });
      assert.equal(regFeedback.status, 200, regFeedback.text);
    });
    after(async () => server?.close());

    async function runMonitor(deployment: string, body: Record<string, unknown>) {
      const created = await server.request('POST', `/api/v1/deployments/${deployment}/monitors`, { json: { window: { requests: 1000 }, schedule_seconds: null, ...body } });
      assert.equal(created.status, 201, created.text);
      const ran = await server.request('POST', `/api/v1/deployments/${deployment}/monitors/${body.name as string}/run`, { json: {} });
      assert.equal(ran.status, 200, ran.text);
      return ran.body;
    }

    it('classification: metrics, label coverage and the reference, as worked out from the traffic', async () => {
      const expected = expectedClassification();
      const result = await runMonitor('scoring', { name: 'quality-of-answers', kind: 'performance', config: { max_drop: 0.05 } });
      const m = result.metrics as Record<string, number>;
      assert.equal(result.rows, 41);
      assert.equal(m['performance.requests'], 41);
      assert.equal(m['performance.labelled_requests'], 37);
      assert.equal(m['performance.label_coverage'], 37 / 41);
      assert.equal(m['performance.labelled_rows'], expected.rows);
      for (const name of ['accuracy', 'precision', 'recall', 'f1', 'roc_auc', 'log_loss'] as const) close(m[`performance.${name}`], expected[name]);
      close(m['performance.version.clf@1.accuracy'], expected.accuracy);
      assert.equal(m['performance.version.clf@1.label_coverage'], 37 / 41);
      // The shadow is scored on the same labels, apart from the window's figures.
      const shadow = expectedClassification(true);
      for (const name of ['accuracy', 'precision', 'recall', 'f1', 'roc_auc', 'log_loss'] as const) close(m[`performance.shadow.clf@2.${name}`], shadow[name]);
      assert.notEqual(shadow.accuracy, expected.accuracy);
      assert.deepEqual(result.result.versions.map((v: { model: string; role: string }) => `${v.role} ${v.model}`), ['primary clf@1', 'shadow clf@2']);
      // The reference: the tag for accuracy, the run's test_roc_auc and log_loss.
      assert.equal(m['performance.reference.accuracy'], 0.99);
      assert.equal(m['performance.reference.roc_auc'], 0.93);
      assert.equal(m['performance.reference.log_loss'], 0.41);
      assert.equal(result.result.task, 'binary');
      assert.match(result.result.reference.sources.roc_auc, /metric test_roc_auc$/);
      // Accuracy is more than max_drop below the reference 0.99: degraded, by exactly the gap.
      assert.ok(expected.accuracy < 0.94);
      assert.equal(result.status, 'degraded');
      close(result.result.degraded['clf@1'].accuracy, 0.99 - expected.accuracy);
      // The latest performance result through the kind's read route.
      const latest = await server.request('GET', '/api/v1/deployments/scoring/performance');
      assert.equal(latest.status, 200);
      assert.equal(latest.body.latest[0].metrics['performance.accuracy'], m['performance.accuracy']);
    });

    it('regression: MAE, RMSE, R² and MAPE', async () => {
      const expected = expectedRegression();
      const result = await runMonitor('pricing', { name: 'errors', kind: 'performance', config: {} });
      const m = result.metrics as Record<string, number>;
      assert.equal(result.status, 'ok');
      assert.equal(result.result.task, 'regression');
      // 36 answered requests; 35 labels fit their rows, one (a single number for two rows) does not.
      assert.equal(m['performance.requests'], 36);
      assert.equal(m['performance.labelled_requests'], 35);
      assert.equal(m['performance.label_coverage'], 35 / 36);
      assert.equal(result.result.unusable_labels, 1);
      assert.equal(m['performance.labelled_rows'], 35);
      for (const name of ['mae', 'rmse', 'r2', 'mape'] as const) close(m[`performance.${name}`], expected[name]);
      // The version has no run and no tags: no reference metrics.
      assert.equal(m['performance.reference.mae'], undefined);
    });

    it('concept: the error stream of the labelled answers, and not enough labels', async () => {
      const expected = expectedClassification();
      const result = await runMonitor('scoring', { name: 'concept', kind: 'concept', config: {} });
      assert.equal(result.result.labelled_rows, expected.rows);
      close(result.metrics['concept.error_rate'], 1 - expected.accuracy);
      assert.deepEqual(result.result.detectors.map((d: { detector: string }) => d.detector), ['adwin', 'ddm', 'page_hinkley']);
      assert.ok(['ok', 'warning', 'drifted'].includes(result.status));
      const few = await runMonitor('scoring', { name: 'concept-strict', kind: 'concept', config: { min_labels: 500 } });
      assert.equal(few.status, 'not_enough_data');
      const bad = await server.request('POST', '/api/v1/deployments/scoring/monitors', { json: { name: 'bad', kind: 'concept', window: { requests: 10 }, config: { detectors: { adwin: { delta: 5 } } } } });
      assert.equal(bad.status, 400);
      assert.equal(bad.body.error.code, 'INVALID_ARGUMENT');
      assert.match(bad.body.error.message, /config\.detectors\.adwin\.delta/);
    });
  });
}
