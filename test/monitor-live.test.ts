// Live monitoring end to end on a real server: a model version registered with a feature schema and
// a training dataset link, a deployment, traffic through the serving routes, the reference profile
// built from the dataset (or set from a window of traffic), drift and quality monitors run on demand
// and by the scheduler, results checked against values worked out by hand here (KS by brute force
// and an exact lattice-path count, chi-square with two degrees of freedom in closed form), the
// gauge on /metrics, and bad input.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildModel, linearModel } from '../src/onnx/index.js';
import { BACKENDS, startTestServer, type TestServer } from './helpers/server.js';

/** output = age (the first input column): the prediction equals the age. */
const MODEL = linearModel({ weights: [[1], [0], [0]], bias: [0] });
const SCHEMA = {
  features: [
    { name: 'age', type: 'numeric' },
    { name: 'country', type: 'categorical', categories: ['FR', 'DE', 'IT', 'ES'] },
    { name: 'member', type: 'boolean', nullable: true },
  ],
};

// Reference (training data): ages 20…29; FR 5, DE 3, IT 2; member alternating.
const REF_COUNTRIES = ['FR', 'FR', 'FR', 'FR', 'FR', 'DE', 'DE', 'DE', 'IT', 'IT'];
const TRAINING_CSV = 'age,country,member,label\n' + Array.from({ length: 10 }, (_, i) => `${20 + i},${REF_COUNTRIES[i]},${i % 2 === 0 ? 'true' : 'false'},${i % 2}`).join('\n') + '\n';
// Live traffic: ages 25…34; FR 2, DE 3, IT 5; member alternating.
const LIVE_COUNTRIES = ['FR', 'FR', 'DE', 'DE', 'DE', 'IT', 'IT', 'IT', 'IT', 'IT'];
const LIVE_ROWS = Array.from({ length: 10 }, (_, i) => [25 + i, LIVE_COUNTRIES[i]!, i % 2 === 0]);

/** Sums each row, whatever its width: input [batch, cols] (both dynamic) → output [batch, 1]. */
const ROW_SUM = buildModel({
  inputs: [{ name: 'input', datatype: 'FP32', shape: ['batch', 'cols'] }],
  outputs: [{ name: 'sum', datatype: 'FP32', shape: ['batch', 1] }],
  initializers: [{ name: 'axes', datatype: 'INT64', dims: [1], values: [1n] }],
  nodes: [{ opType: 'ReduceSum', inputs: ['input', 'axes'], outputs: ['sum'], attributes: { keepdims: { i: 1 } } }],
});

/** sup |F_a − F_b| by brute force over every value of both samples. */
function ksStatistic(a: number[], b: number[]): number {
  let d = 0;
  for (const x of [...a, ...b]) {
    const fa = a.filter((v) => v <= x).length / a.length;
    const fb = b.filter((v) => v <= x).length / b.length;
    d = Math.max(d, Math.abs(fa - fb));
  }
  return d;
}

/** Exact two-sided P(D ≥ d) for two samples of n values each: lattice paths with |i − j| < d·n at every step, over C(2n, n). */
function ksExactEqualSizes(n: number, d: number): number {
  const limit = d * n;
  let row = new Array<number>(n + 1).fill(0);
  for (let i = 0; i <= n; i++) {
    const next = new Array<number>(n + 1).fill(0);
    for (let j = 0; j <= n; j++) {
      if (Math.abs(i - j) >= limit - 1e-9) continue;
      if (i === 0 && j === 0) next[j] = 1;
      else next[j] = (i > 0 ? row[j]! : 0) + (j > 0 ? next[j - 1]! : 0);
    }
    row = next;
  }
  let total = 1;
  for (let k = 1; k <= n; k++) total = (total * (n + k)) / k;
  return 1 - row[n]! / total;
}

function close(actual: number, expected: number, tolerance = 1e-9): void {
  assert.ok(Math.abs(actual - expected) <= tolerance * Math.max(1, Math.abs(expected)), `${actual} ≠ ${expected}`);
}

for (const backend of BACKENDS) {
  describe(`live monitoring (${backend})`, () => {
    let server: TestServer;

    const send = async (deployment: string, rows: unknown[][]) => {
      const reply = await server.request('POST', `/api/v1/deployments/${deployment}/invocations`, { json: { dataframe_split: { columns: ['age', 'country', 'member'], data: rows } } });
      assert.equal(reply.status, 200, reply.text);
    };
    const createDeployment = async (name: string, model: string) => {
      const reply = await server.request('POST', '/api/v1/deployments', { json: { name, model } });
      assert.equal(reply.status, 201, reply.text);
    };
    const createMonitor = async (deployment: string, body: unknown) => {
      const reply = await server.request('POST', `/api/v1/deployments/${deployment}/monitors`, { json: body });
      assert.equal(reply.status, 201, reply.text);
      return reply.body;
    };
    const run = async (deployment: string, monitor: string) => {
      const reply = await server.request('POST', `/api/v1/deployments/${deployment}/monitors/${monitor}/run`);
      assert.equal(reply.status, 200, reply.text);
      assert.notEqual(reply.body.status, 'error', reply.text);
      return reply.body;
    };

    before(async () => {
      server = await startTestServer({ backend });
      const form = new FormData();
      form.append('file', new Blob([TRAINING_CSV]), 'train.csv');
      const up = await server.request('POST', '/api/v1/datasets/people/versions', { body: form });
      assert.equal(up.status, 201, up.text);
      await server.registerModel('scorer', MODEL, { feature_schema: SCHEMA, datasets: { training: 'people@1' } });
      await server.registerModel('scorer', MODEL, { feature_schema: SCHEMA });
    });
    after(async () => server?.close());

    it('drift of live traffic against the training dataset: KS and chi-square as worked out by hand, the verdict, the gauge', async () => {
      await createDeployment('d-drift', 'scorer@1');
      // Two requests of five rows each: a logged request may hold several rows.
      await send('d-drift', LIVE_ROWS.slice(0, 5));
      await send('d-drift', LIVE_ROWS.slice(5));
      await createMonitor('d-drift', { name: 'drift', kind: 'drift', window: { requests: 100 }, schedule_seconds: null });
      const result = await run('d-drift', 'drift');
      assert.equal(result.kind, 'drift');
      assert.equal(result.rows, 2);
      assert.equal(result.result.window.rows, 10);
      assert.equal(result.result.window.model, 'scorer@1');
      assert.equal(result.result.reference.source.dataset, 'people@1');
      assert.equal(result.result.reference.source.automatic, true);

      const byName = Object.fromEntries(result.result.features.map((f: { feature: string }) => [f.feature, f]));
      assert.deepEqual(Object.keys(byName).sort(), ['age', 'country', 'member']);
      const refAges = Array.from({ length: 10 }, (_, i) => 20 + i);
      const liveAges = LIVE_ROWS.map((r) => r[0] as number);
      const d = ksStatistic(refAges, liveAges);
      assert.equal(d, 0.5);
      assert.equal(byName.age.test, 'ks');
      close(byName.age.statistic, d);
      close(byName.age.p_value, ksExactEqualSizes(10, d), 1e-9);
      assert.equal(byName.age.drifted, false);
      // χ² with expected counts 5, 3, 2 (reference shares × 10) against observed 2, 3, 5; df = 2, so p = e^(−χ²/2).
      const chi = (2 - 5) ** 2 / 5 + (3 - 3) ** 2 / 3 + (5 - 2) ** 2 / 2;
      assert.equal(byName.country.test, 'chisquare');
      close(byName.country.statistic, chi);
      close(byName.country.p_value, Math.exp(-chi / 2));
      assert.equal(byName.country.drifted, true);
      // Five true and five false on both sides: z = 0, p = 1.
      assert.equal(byName.member.test, 'z');
      close(byName.member.p_value, 1);
      assert.equal(byName.member.drifted, false);
      assert.equal(result.result.dataset.drifted_features, 1);
      close(result.result.dataset.share, 1 / 3);
      assert.equal(result.status, 'ok');
      // The reference's prediction comes from running the model on the dataset's rows: output = age.
      assert.equal(result.result.reference.source.prediction, 'model');
      assert.equal(result.result.reference.source.prediction_rows, 10);
      assert.equal(result.result.prediction.status, 'ok');
      assert.equal(result.result.prediction.test, 'ks');
      close(result.result.prediction.statistic, d);
      close(result.result.prediction.p_value, ksExactEqualSizes(10, d));

      close(result.metrics['drift.share'], 1 / 3);
      close(result.metrics['drift.feature.country.statistic'], chi);
      assert.equal(result.metrics['drift.feature.country.drifted'], 1);
      close(result.metrics['drift.prediction.statistic'], d);
      for (const value of Object.values(result.metrics)) assert.ok(Number.isFinite(value as number));

      const drift = await server.request('GET', '/api/v1/deployments/d-drift/drift');
      assert.equal(drift.status, 200, drift.text);
      assert.equal(drift.body.latest.length, 1);
      assert.equal(drift.body.latest[0].id, result.id);
      assert.equal(drift.body.history.length, 1);

      const metrics = await server.request('GET', '/metrics', { token: null });
      const line = metrics.text.split('\n').find((l) => l.startsWith('plinth_monitor_metric{') && l.includes('deployment="d-drift"') && l.includes('metric="drift.feature.country.statistic"'));
      assert.ok(line, 'the gauge shows the chi-square statistic');
      close(Number(line.split(' ').pop()), chi, 1e-12);

      const reference = await server.request('GET', '/api/v1/models/scorer/versions/1/reference');
      assert.equal(reference.status, 200, reference.text);
      const age = reference.body.profile.features.find((f: { name: string }) => f.name === 'age');
      assert.deepEqual([age.min, age.max, age.count], [20, 29, 10]);
      assert.equal(reference.body.summary.rows, 10);
    });

    it('a reference set from a window of traffic includes the prediction; the prediction drifts with the age', async () => {
      await createDeployment('d-traffic', 'scorer@2');
      // No reference and no training link yet: a clear status.
      await send('d-traffic', LIVE_ROWS.map((r) => [Number(r[0]) - 5, r[1], r[2]]));
      await createMonitor('d-traffic', { name: 'drift', kind: 'drift', window: { requests: 1 }, schedule_seconds: null });
      const none = await run('d-traffic', 'drift');
      assert.equal(none.status, 'no_reference');
      const set = await server.request('PUT', '/api/v1/models/scorer/versions/2/reference', { json: { deployment: 'd-traffic' } });
      assert.equal(set.status, 200, set.text);
      assert.equal(set.body.summary.prediction, true);
      await send('d-traffic', LIVE_ROWS);
      const result = await run('d-traffic', 'drift');
      const ageReference = Array.from({ length: 10 }, (_, i) => 20 + i);
      const d = ksStatistic(ageReference, LIVE_ROWS.map((r) => r[0] as number));
      assert.equal(result.result.prediction.status, 'ok');
      assert.equal(result.result.prediction.test, 'ks');
      close(result.result.prediction.statistic, d);
      close(result.metrics['drift.prediction.statistic'], d);
      close(result.result.prediction.p_value, ksExactEqualSizes(10, d));
    });

    it('a window answered by two versions is compared with the reference of the version that answered most of it', async () => {
      await createDeployment('d-mixed', 'scorer@1');
      for (let i = 0; i < 3; i++) await send('d-mixed', LIVE_ROWS.slice(0, 4));
      const routes = await server.request('PUT', '/api/v1/deployments/d-mixed/routes', { json: { routes: [{ model: 'scorer@2', weight: 100 }] } });
      assert.equal(routes.status, 200, routes.text);
      await send('d-mixed', LIVE_ROWS);
      await createMonitor('d-mixed', { name: 'drift', kind: 'drift', schedule_seconds: null });
      const result = await run('d-mixed', 'drift');
      assert.deepEqual(result.result.window.versions, { 'scorer@1': 3, 'scorer@2': 1 });
      assert.equal(result.result.window.model, 'scorer@1');
      assert.equal(result.result.window.other_version_requests, 1);
      assert.equal(result.rows, 3);
      assert.equal(result.result.window.rows, 12);
      assert.equal(result.result.reference.model, 'scorer@1');
      const age = result.result.features.find((f: { feature: string }) => f.feature === 'age');
      const repeated = [...LIVE_ROWS.slice(0, 4), ...LIVE_ROWS.slice(0, 4), ...LIVE_ROWS.slice(0, 4)].map((r) => r[0] as number);
      close(age.statistic, ksStatistic(Array.from({ length: 10 }, (_, i) => 20 + i), repeated));
    });

    it('quality: missing values, out-of-range values and unseen categories counted per feature', async () => {
      await createDeployment('d-quality', 'scorer@1');
      await send('d-quality', [
        [25, 'FR', true],
        [100, 'ES', null], // above the reference maximum 29; ES never in the reference; member missing
        [10, 'DE', false], // below the reference minimum 20
        [29, 'IT', null], // member missing
      ]);
      await createMonitor('d-quality', { name: 'quality', kind: 'quality', window: { seconds: 3600 }, schedule_seconds: null });
      const result = await run('d-quality', 'quality');
      assert.equal(result.status, 'anomalies');
      const byName = Object.fromEntries(result.result.features.map((f: { feature: string }) => [f.feature, f]));
      assert.deepEqual(byName.age.counts, { missing_value: 0, type_mismatch: 0, out_of_range: 2, unseen_category: 0, missing_field: 0 });
      assert.deepEqual(byName.country.counts, { missing_value: 0, type_mismatch: 0, out_of_range: 0, unseen_category: 1, missing_field: 0 });
      assert.deepEqual(byName.member.counts, { missing_value: 2, type_mismatch: 0, out_of_range: 0, unseen_category: 0, missing_field: 0 });
      assert.equal(byName.member.missing_rate, 0.5);
      assert.deepEqual(byName.age.reference, { min: 20, max: 29 });
      assert.equal(result.metrics['quality.out_of_range'], 2);
      assert.equal(result.metrics['quality.feature.member.missing_value'], 2);
      close(result.metrics['quality.missing_rate'], 2 / 12);
      close(result.metrics['quality.anomaly_rate'], 5 / 12);
      const quality = await server.request('GET', '/api/v1/deployments/d-quality/quality?limit=5');
      assert.equal(quality.status, 200, quality.text);
      assert.equal(quality.body.latest[0].status, 'anomalies');
    });

    it('the scheduler runs due monitors on its own and stores each run', async () => {
      await createDeployment('d-sched', 'scorer@1');
      await send('d-sched', LIVE_ROWS);
      await createMonitor('d-sched', { name: 'every-second', kind: 'quality', window: { requests: 10 }, schedule_seconds: 1 });
      const deadline = Date.now() + 20_000;
      let results: Array<{ status: string; computed_at: number }> = [];
      while (Date.now() < deadline) {
        const reply = await server.request('GET', '/api/v1/deployments/d-sched/monitors/every-second/results');
        assert.equal(reply.status, 200, reply.text);
        results = reply.body.results;
        if (results.length >= 2) break;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      assert.ok(results.length >= 2, `the scheduler ran the monitor ${results.length} time(s)`);
      assert.ok(results[0]!.computed_at - results[1]!.computed_at >= 1000, 'runs are a schedule apart');
      const listed = await server.request('GET', '/api/v1/deployments/d-sched/monitors');
      // Ages 30…34 lie above the reference maximum 29.
      assert.equal(results[0]!.status, 'anomalies');
      assert.equal((results[0] as unknown as { metrics: Record<string, number> }).metrics['quality.out_of_range'], 5);
      assert.equal(listed.body.monitors[0].latest.status, 'anomalies');

      // Disabled, it runs no more on its own (on demand still works); enabled again, it is due at once.
      const disabled = await server.request('PATCH', '/api/v1/deployments/d-sched/monitors/every-second', { json: { enabled: false, window: { requests: 20 } } });
      assert.equal(disabled.status, 200, disabled.text);
      assert.equal(disabled.body.enabled, false);
      assert.equal(disabled.body.next_run_at, null);
      assert.deepEqual(disabled.body.window, { requests: 20 });
      const count = async () => (await server.request('GET', '/api/v1/deployments/d-sched/monitors/every-second/results?limit=1000')).body.results.length as number;
      const before = await count();
      await new Promise((resolve) => setTimeout(resolve, 2500));
      assert.equal(await count(), before, 'a disabled monitor is not run by the scheduler');
      const onDemand = await server.request('POST', '/api/v1/deployments/d-sched/monitors/every-second/run');
      assert.equal(onDemand.status, 200, onDemand.text);
      assert.equal(await count(), before + 1);
      // (The next test relies on this monitor running every second again.)
      const enabled = await server.request('PATCH', '/api/v1/deployments/d-sched/monitors/every-second', { json: { enabled: true, schedule_seconds: 1 } });
      assert.equal(enabled.body.enabled, true);
      assert.equal(enabled.body.schedule_seconds, 1);
      assert.ok(enabled.body.next_run_at !== null && enabled.body.next_run_at <= Date.now());
    });

    it('a failing monitor stores an error result on schedule and on demand; the server and other monitors carry on', async () => {
      const form = new FormData();
      // Bytes of its own (the store is content-addressed): one more row than the training data.
      form.append('file', new Blob([TRAINING_CSV + '40,FR,true,1\n']), 'train.csv');
      const up = await server.request('POST', '/api/v1/datasets/fragile/versions', { body: form });
      assert.equal(up.status, 201, up.text);
      await server.registerModel('fragile', MODEL, { feature_schema: SCHEMA, datasets: { training: 'fragile@1' } });
      // The training data's bytes disappear from the artifact store: building the reference must fail.
      const sha: string = up.body.content_sha256;
      fs.rmSync(path.join(server.dataDir, 'artifacts', 'sha256', sha.slice(0, 2), sha));
      await createDeployment('d-fragile', 'fragile@1');
      await send('d-fragile', LIVE_ROWS);
      await createMonitor('d-fragile', { name: 'drift', kind: 'drift', schedule_seconds: 1 });
      const reply = await server.request('POST', '/api/v1/deployments/d-fragile/monitors/drift/run');
      assert.equal(reply.status, 200, reply.text);
      assert.equal(reply.body.status, 'error');
      assert.equal(reply.body.result.error.code, 'ARTIFACT_NOT_FOUND');
      assert.deepEqual(reply.body.metrics, {});
      const before = (await server.request('GET', '/api/v1/deployments/d-sched/monitors/every-second/results?limit=1')).body.results[0].computed_at;
      const deadline = Date.now() + 20_000;
      let scheduled: Array<{ status: string }> = [];
      while (Date.now() < deadline) {
        scheduled = (await server.request('GET', '/api/v1/deployments/d-fragile/monitors/drift/results')).body.results;
        if (scheduled.length >= 3) break;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      assert.ok(scheduled.length >= 3, `scheduled runs: ${scheduled.length}`);
      assert.ok(scheduled.every((r) => r.status === 'error'));
      const latest = (await server.request('GET', '/api/v1/deployments/d-sched/monitors/every-second/results?limit=1')).body.results[0].computed_at;
      assert.ok(latest > before, 'the other monitor kept running');
      await send('d-fragile', LIVE_ROWS);
      assert.equal((await server.request('GET', '/healthz', { token: null })).status, 200);
      const deleted = await server.request('DELETE', '/api/v1/deployments/d-fragile/monitors/drift');
      assert.equal(deleted.status, 200, deleted.text);
    });

    it('empty windows, a one-row reference and a constant column give clear statuses, never NaN', async () => {
      await createDeployment('d-empty', 'scorer@1');
      await createMonitor('d-empty', { name: 'drift', kind: 'drift', schedule_seconds: null });
      await createMonitor('d-empty', { name: 'quality', kind: 'quality', schedule_seconds: null });
      for (const name of ['drift', 'quality']) {
        const result = await run('d-empty', name);
        assert.equal(result.status, 'not_enough_data');
        assert.equal(result.rows, 0);
      }
      // A one-row reference whose country is constant.
      const form = new FormData();
      form.append('file', new Blob(['age,country,member\n30,FR,true\n']), 'one.csv');
      const up = await server.request('POST', '/api/v1/datasets/one-row/versions', { body: form });
      assert.equal(up.status, 201, up.text);
      const set = await server.request('PUT', '/api/v1/models/scorer/versions/1/reference', { json: { dataset: 'one-row@1' } });
      assert.equal(set.status, 200, set.text);
      assert.equal(set.body.source.prediction, 'model');
      await send('d-empty', LIVE_ROWS);
      const result = await run('d-empty', 'drift');
      assert.equal(result.status, 'not_enough_data');
      assert.equal(result.result.dataset.drifted, null);
      assert.equal(result.result.dataset.share, null);
      for (const f of result.result.features) {
        assert.equal(f.status, 'not_enough_data');
        assert.equal(f.drifted, null);
        assert.match(f.reason, /reference has 1 value/);
      }
      assert.equal(result.metrics['drift.share'], undefined);
      for (const value of Object.values(result.metrics)) assert.ok(Number.isFinite(value as number));
      // Restore the training reference for the other tests' version.
      const restored = await server.request('PUT', '/api/v1/models/scorer/versions/1/reference', { json: {} });
      assert.equal(restored.status, 200, restored.text);
      assert.equal(restored.body.source.dataset, 'people@1');
    });

    it('without a schema columns are named after the tensors; sensitive features are skipped; extra tensor columns are counted', async () => {
      await server.registerModel('plain', ROW_SUM);
      await server.registerModel('guarded', ROW_SUM, { feature_schema: { features: [{ name: 'x', type: 'numeric' }, { name: 'secret', type: 'numeric', sensitive: true }] } });
      const infer = async (deployment: string, data: number[]) => {
        const reply = await server.request('POST', `/v2/models/${deployment}/infer`, { json: { inputs: [{ name: 'input', datatype: 'FP32', shape: [2, 3], data }] } });
        assert.equal(reply.status, 200, reply.text);
      };
      await createDeployment('d-plain', 'plain@1');
      await infer('d-plain', [1, 2, 3, 4, 5, 6]);
      await createMonitor('d-plain', { name: 'quality', kind: 'quality', schedule_seconds: null });
      const plain = await run('d-plain', 'quality');
      assert.equal(plain.result.window.columns_from, 'tensors');
      assert.deepEqual(plain.result.features.map((f: { feature: string }) => f.feature), ['input[0]', 'input[1]', 'input[2]']);
      assert.deepEqual(plain.result.features[0].not_checked.map((n: { code: string }) => n.code), ['out_of_range']);
      const set = await server.request('PUT', '/api/v1/models/plain/versions/1/reference', { json: { deployment: 'd-plain', last: 10 } });
      assert.equal(set.status, 200, set.text);
      await createMonitor('d-plain', { name: 'drift', kind: 'drift', schedule_seconds: null });
      const drift = await run('d-plain', 'drift');
      assert.deepEqual(drift.result.features.map((f: { feature: string; statistic: number }) => [f.feature, f.statistic]), [['input[0]', 0], ['input[1]', 0], ['input[2]', 0]]);
      assert.equal(drift.result.prediction.statistic, 0);
      assert.equal(drift.status, 'ok');

      // A schema of two features on a dynamic [-1, -1] input sent three columns: the third is an extra field.
      await createDeployment('d-guarded', 'guarded@1');
      await infer('d-guarded', [1, 2, 3, 4, 5, 6]);
      await createMonitor('d-guarded', { name: 'quality', kind: 'quality', schedule_seconds: null });
      const guarded = await run('d-guarded', 'quality');
      assert.equal(guarded.result.window.columns_from, 'feature_schema');
      assert.deepEqual(guarded.result.features.map((f: { feature: string }) => f.feature), ['x']);
      assert.deepEqual(guarded.result.window.skipped.map((s: { feature: string }) => s.feature), ['secret']);
      assert.deepEqual(guarded.result.extra_fields, [{ field: 'input[2]', rows: 2 }]);
      assert.equal(guarded.metrics['quality.extra_field'], 2);
      assert.equal(guarded.status, 'anomalies');
    });

    it('a dataset reference takes its prediction from a column, or from the model with refused rows skipped', async () => {
      const form = new FormData();
      // The second row lacks the age, which the model needs (not nullable): the model cannot score it.
      form.append('file', new Blob(['age,country,member,score\n20,FR,true,0.5\n,DE,false,0.25\n22,IT,false,0.75\n']), 'gappy.csv');
      const up = await server.request('POST', '/api/v1/datasets/gappy/versions', { body: form });
      assert.equal(up.status, 201, up.text);
      const byModel = await server.request('PUT', '/api/v1/models/scorer/versions/2/reference', { json: { dataset: 'gappy@1' } });
      assert.equal(byModel.status, 200, byModel.text);
      assert.deepEqual([byModel.body.source.prediction, byModel.body.source.prediction_rows, byModel.body.source.prediction_skipped_rows], ['model', 2, 1]);
      const shown = await server.request('GET', '/api/v1/models/scorer/versions/2/reference');
      assert.deepEqual([shown.body.profile.prediction.min, shown.body.profile.prediction.max, shown.body.profile.prediction.count], [20, 22, 2]);
      const age = shown.body.profile.features.find((f: { name: string }) => f.name === 'age');
      assert.deepEqual([age.count, age.missing], [2, 1]);
      const member = shown.body.profile.features.find((f: { name: string }) => f.name === 'member');
      assert.deepEqual(member.top, [{ value: 'false', count: 2 }, { value: 'true', count: 1 }]);
      // Columns the schema does not name (score) are not features.
      assert.deepEqual(shown.body.profile.features.map((f: { name: string }) => f.name), ['age', 'country', 'member']);

      const byColumn = await server.request('PUT', '/api/v1/models/scorer/versions/2/reference', { json: { dataset: 'gappy@1', prediction_column: 'score' } });
      assert.equal(byColumn.status, 200, byColumn.text);
      assert.equal(byColumn.body.source.prediction, 'column');
      const column = await server.request('GET', '/api/v1/models/scorer/versions/2/reference');
      assert.deepEqual([column.body.profile.prediction.min, column.body.profile.prediction.max, column.body.profile.prediction.count], [0.25, 0.75, 3]);
    });

    it('refuses bad input with a 4xx naming the field, and changes nothing', async () => {
      await createDeployment('d-bad', 'scorer@1');
      // On demand only: a scheduled run during the checks would change what they compare.
      await createMonitor('d-bad', { name: 'm', kind: 'drift', schedule_seconds: null });
      const cases: Array<[string, string, unknown, number, string, RegExp?]> = [
        ['POST', '/api/v1/deployments/nosuch/monitors', { name: 'm', kind: 'drift' }, 404, 'DEPLOYMENT_NOT_FOUND'],
        ['POST', '/api/v1/deployments/d-bad/monitors', { name: 'm', kind: 'drift' }, 409, 'MONITOR_ALREADY_EXISTS'],
        ['POST', '/api/v1/deployments/d-bad/monitors', { name: 'x', kind: 'weather' }, 400, 'INVALID_ARGUMENT', /^kind:/],
        ['POST', '/api/v1/deployments/d-bad/monitors', { name: 'x', kind: 'drift', window: { requests: 0 } }, 400, 'INVALID_ARGUMENT', /^window\.requests:/],
        ['POST', '/api/v1/deployments/d-bad/monitors', { name: 'x', kind: 'drift', window: { requests: 5, seconds: 5 } }, 400, 'INVALID_ARGUMENT', /^window:/],
        ['POST', '/api/v1/deployments/d-bad/monitors', { name: 'x', kind: 'drift', config: { tests: { age: 'magic' } } }, 400, 'INVALID_ARGUMENT', /^config\.tests\.age:/],
        ['POST', '/api/v1/deployments/d-bad/monitors', { name: 'x', kind: 'drift', config: { drift_share: 2 } }, 400, 'INVALID_ARGUMENT', /^config\.drift_share:/],
        ['POST', '/api/v1/deployments/d-bad/monitors', { name: 'x', kind: 'quality', config: { colour: 1 } }, 400, 'INVALID_ARGUMENT', /^config\.colour:/],
        ['POST', '/api/v1/deployments/d-bad/monitors', { name: 'x', kind: 'drift', schedule_seconds: 0 }, 400, 'INVALID_ARGUMENT', /^schedule_seconds:/],
        ['POST', '/api/v1/deployments/d-bad/monitors', { name: 'bad/name', kind: 'drift' }, 400, 'INVALID_ARGUMENT'],
        ['POST', '/api/v1/deployments/d-bad/monitors/nosuch/run', undefined, 404, 'MONITOR_NOT_FOUND'],
        ['POST', '/api/v1/deployments/nosuch/monitors/m/run', undefined, 404, 'DEPLOYMENT_NOT_FOUND'],
        ['DELETE', '/api/v1/deployments/d-bad/monitors/nosuch', undefined, 404, 'MONITOR_NOT_FOUND'],
        ['PATCH', '/api/v1/deployments/d-bad/monitors/nosuch', { enabled: false }, 404, 'MONITOR_NOT_FOUND'],
        ['PATCH', '/api/v1/deployments/d-bad/monitors/m', {}, 400, 'VALIDATION_FAILED'],
        ['PATCH', '/api/v1/deployments/d-bad/monitors/m', { window: { requests: 0 } }, 400, 'INVALID_ARGUMENT', /^window\.requests:/],
        ['PATCH', '/api/v1/deployments/d-bad/monitors/m', { config: { drift_share: 2 } }, 400, 'INVALID_ARGUMENT', /^config\.drift_share:/],
        ['PATCH', '/api/v1/deployments/d-bad/monitors/m', { schedule_seconds: 0, enabled: false }, 400, 'INVALID_ARGUMENT', /^schedule_seconds:/],
        ['GET', '/api/v1/deployments/nosuch/drift', undefined, 404, 'DEPLOYMENT_NOT_FOUND'],
        ['GET', '/api/v1/deployments/d-bad/drift?since=yesterday', undefined, 400, 'INVALID_ARGUMENT'],
        ['GET', '/api/v1/deployments/d-bad/drift?monitor=nosuch', undefined, 404, 'MONITOR_NOT_FOUND'],
        ['PUT', '/api/v1/models/scorer/versions/2/reference', {}, 400, 'INVALID_ARGUMENT', /^dataset:/],
        ['PUT', '/api/v1/models/scorer/versions/2/reference', { dataset: 'people@1', deployment: 'd-bad' }, 400, 'INVALID_ARGUMENT'],
        ['PUT', '/api/v1/models/scorer/versions/2/reference', { dataset: 'people@9' }, 404, 'DATASET_VERSION_NOT_FOUND'],
        ['PUT', '/api/v1/models/scorer/versions/2/reference', { dataset: 'people@1', prediction_column: 'nope' }, 400, 'INVALID_ARGUMENT', /^prediction_column:/],
        ['PUT', '/api/v1/models/scorer/versions/2/reference', { deployment: 'nosuch' }, 404, 'DEPLOYMENT_NOT_FOUND'],
        ['PUT', '/api/v1/models/scorer/versions/9/reference', { dataset: 'people@1' }, 404, 'MODEL_VERSION_NOT_FOUND'],
        ['GET', '/api/v1/models/nosuch/versions/1/reference', undefined, 404, 'MODEL_NOT_FOUND'],
      ];
      const before = await server.request('GET', '/api/v1/deployments/d-bad/monitors');
      for (const [method, path, json, status, code, message] of cases) {
        const reply = await server.request(method, path, json === undefined ? {} : { json });
        assert.equal(reply.status, status, `${method} ${path} ${JSON.stringify(json)}: ${reply.text}`);
        assert.equal(reply.body.error.code, code, `${method} ${path}: ${reply.text}`);
        if (message) assert.match(reply.body.error.message, message);
      }
      const afterwards = await server.request('GET', '/api/v1/deployments/d-bad/monitors');
      assert.deepEqual(afterwards.body, before.body);
      const viewer = await server.tokenWithRole('viewer');
      const denied = await server.request('POST', '/api/v1/deployments/d-bad/monitors', { token: viewer, json: { name: 'v', kind: 'drift' } });
      assert.equal(denied.status, 403, denied.text);
      const deleted = await server.request('DELETE', '/api/v1/deployments/d-bad/monitors/m');
      assert.equal(deleted.status, 200, deleted.text);
      const gone = await server.request('GET', '/api/v1/deployments/d-bad/monitors/m');
      assert.equal(gone.status, 404, gone.text);
    });
  });
}
