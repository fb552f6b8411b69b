// The retraining loop end to end on a real server: a deployment serves a deliberately bad champion
// trained on one distribution; live traffic comes from a shifted one, with feedback labels; a drift
// monitor's result fires an alert rule on drift.share; the alert starts the pipeline (on_alert), which
// turns the logged predictions and their labels into a dataset version, validates it, trains,
// evaluates, beats the champion at the gate, registers the new version with its lineage and starts
// a canary on the deployment. A run that fails after building such a table leaves no dataset version.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { applyPipeline, championModel, csvOf, makeRows, runPipeline, SCHEMA, uploadDataset, waitForRun } from './helpers/pipeline.js';
import { BACKENDS, startTestServer, type TestServer } from './helpers/server.js';

const TRAINING = makeRows(300, 11);
/** Live traffic: both features shifted by 0.5, the concept moved with them (y = x1 + x2 > 2). */
const LIVE = makeRows(160, 12, 0.5);

const PIPELINE = `
name: retrain-on-drift
triggers:
  - manual
  - on_alert: { deployment: flights, metric: drift.share }
steps:
  - id: feedback
    kind: dataset
    predictions: { deployment: flights, days: 1, label: y, min_rows: 100 }
  - { id: check, kind: validate, needs: [feedback], label: y, columns: [x1, x2], task: binary }
  - id: fit
    kind: train
    needs: [check]
    label: y
    task: binary
    algo: gbdt
    params: { trees: 30, maxDepth: 3, learningRate: 0.3 }
    seed: 1
  - { id: score, kind: evaluate, needs: [fit] }
  - { id: gate, kind: gate, needs: [score], metric: roc_auc, margin: 0.1, champion: { deployment: flights } }
  - { id: publish, kind: register, needs: [gate], model: delay }
  - { id: canary, kind: rollout, needs: [publish], deployment: flights, steps: [20, 100], interval_seconds: 3600 }
`;

for (const backend of BACKENDS) {
  describe(`a drift alert triggers retraining and a canary (${backend})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer({ backend });
      await uploadDataset(server, 'flights-train', csvOf(TRAINING));
      await server.registerModel('delay', championModel(TRAINING, true), { feature_schema: SCHEMA, datasets: { training: 'flights-train@1' } });
      const created = await server.request('POST', '/api/v1/deployments', { json: { name: 'flights', model: 'delay@1' } });
      assert.equal(created.status, 201, created.text);
      for (let i = 0; i < LIVE.length; i++) {
        const [x1, x2] = LIVE[i]!;
        const reply = await server.request('POST', '/v2/models/flights/infer', {
          headers: { 'x-request-id': `r${i}` },
          json: { inputs: [{ name: 'input', shape: [1, 2], datatype: 'FP32', data: [x1, x2] }] },
        });
        assert.equal(reply.status, 200, reply.text);
      }
      const feedback = await server.request('POST', '/api/v1/deployments/flights/feedback', { json: { items: LIVE.map((r, i) => ({ request_id: `r${i}`, label: r[2] })) } });
      assert.equal(feedback.status, 200, feedback.text);
      assert.equal(feedback.body.accepted, LIVE.length);
      const rule = await server.request('POST', '/api/v1/alerts/rules', { json: { name: 'flights-drift', deployment: 'flights', metric: 'drift.share', comparison: 'gt', threshold: 0.3 } });
      assert.equal(rule.status, 201, rule.text);
      const monitor = await server.request('POST', '/api/v1/deployments/flights/monitors', { json: { name: 'drift', kind: 'drift', window: { requests: 1000 }, schedule_seconds: null } });
      assert.equal(monitor.status, 201, monitor.text);
    });
    after(async () => server?.close());

    it('the alert starts the pipeline, which trains on the labelled traffic, passes the gate and rolls out', async () => {
      assert.equal((await applyPipeline(server, PIPELINE)).status, 201);
      const result = await server.request('POST', '/api/v1/deployments/flights/monitors/drift/run');
      assert.equal(result.status, 200, result.text);
      // Both features moved by half their range: both drift, so the share is 2/2.
      assert.equal(result.body.metrics['drift.share'], 1);
      const events = await server.request('GET', '/api/v1/alerts/events?rule=flights-drift');
      assert.deepEqual(events.body.events.map((e: { state: string }) => e.state), ['firing']);

      // The alert check runs right after the result's alerts are recorded.
      let runs: any[] = [];
      for (let tries = 0; runs.length === 0; tries++) {
        assert.ok(tries < 100, 'no run was started by the alert');
        runs = (await server.request('GET', '/api/v1/pipelines/retrain-on-drift/runs')).body.runs;
        if (runs.length === 0) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.equal(runs.length, 1);
      assert.equal(runs[0].trigger, 'alert');
      assert.equal(runs[0].trigger_details.rule, 'flights-drift');
      assert.equal(runs[0].trigger_details.deployment, 'flights');
      assert.equal(runs[0].trigger_details.alert_event_id, events.body.events[0].id);
      const run = await waitForRun(server, 'retrain-on-drift', runs[0].number);
      assert.equal(run.status, 'succeeded', JSON.stringify(run, null, 1));

      // Every served request was labelled: 160 rows, stored as a dataset version of their own.
      const table = run.steps[0].outputs;
      assert.equal(table.rows, LIVE.length);
      assert.equal(table.dataset, 'retrain-on-drift-feedback');
      assert.deepEqual(table.columns, ['x1', 'x2', 'y']);
      const stored = await server.request('GET', `/api/v1/datasets/retrain-on-drift-feedback/versions/${table.version}`);
      assert.equal(stored.status, 200, stored.text);
      // The labels as sent: count the positives independently.
      const positives = LIVE.filter((r) => r[2] === 1).length;
      const labelProfile = stored.body.profile.columns.find((c: { name: string }) => c.name === 'y');
      assert.ok(labelProfile, JSON.stringify(stored.body.profile));
      assert.equal(Math.round(labelProfile.mean * LIVE.length), positives);

      const gate = run.steps.find((s: { id: string }) => s.id === 'gate').outputs;
      assert.equal(gate.passed, true);
      assert.ok(gate.candidate > 0.85, `candidate ${gate.candidate}`);
      assert.ok(gate.champion < 0.3, `champion ${gate.champion}`);
      assert.deepEqual(run.lineage.datasets.map((d: { reference: string }) => d.reference), [`retrain-on-drift-feedback@${table.version}`]);
      assert.deepEqual(run.lineage.model_versions.map((m: { reference: string; datasets: string[] }) => [m.reference, m.datasets]), [['delay@2', [`retrain-on-drift-feedback@${table.version}`]]]);
      assert.deepEqual(run.lineage.deployments.map((d: { deployment: string; model: string }) => [d.deployment, d.model]), [['flights', 'delay@2']]);
      const deployment = await server.request('GET', '/api/v1/deployments/flights');
      assert.equal(deployment.body.rollout.strategy, 'canary');
      assert.equal(deployment.body.rollout.model, 'delay@2');
      assert.equal(deployment.body.rollout.stable, 'delay@1');

      // The same alert does not start it again: events are consumed once.
      await server.server.platform.pipelineTriggers.tick();
      const again = (await server.request('GET', '/api/v1/pipelines/retrain-on-drift/runs')).body.runs;
      assert.equal(again.length, 1);
    });

    it('a run that fails after building a table from the logged predictions leaves the datasets as they were', async () => {
      const datasets = async () => (await server.request('GET', '/api/v1/datasets')).body.datasets.map((d: { name: string; version_count: number }) => [d.name, d.version_count]);
      const before = await datasets();
      const failing = `
name: feedback-then-fail
steps:
  - id: feedback
    kind: dataset
    predictions: { deployment: flights, days: 1, label: target, register_as: feedback-table, min_rows: 100 }
  - { id: check, kind: validate, needs: [feedback], label: target, columns: [x1, x2], task: binary, min_rows: 100 }
  - { id: fit, kind: train, needs: [check], label: target, task: binary, algo: linear }
  - { id: score, kind: evaluate, needs: [fit] }
  - { id: gate, kind: gate, needs: [score], metric: roc_auc, margin: 5, champion: { model: delay@1 } }
  - { id: publish, kind: register, needs: [gate], model: never-registered }
`;
      assert.equal((await applyPipeline(server, failing)).status, 201);
      const run = await runPipeline(server, 'feedback-then-fail');
      // No AUC beats another by 5: the gate stops the run after the table was built, checked and trained on.
      assert.equal(run.status, 'stopped', JSON.stringify(run, null, 1));
      assert.deepEqual(run.steps.map((s: { status: string }) => s.status), ['succeeded', 'succeeded', 'succeeded', 'succeeded', 'failed', 'skipped']);
      assert.equal(run.steps[0].outputs.rows, LIVE.length);
      assert.equal(run.steps[0].outputs.version, null);
      assert.equal(run.steps[1].outputs.rows, LIVE.length);
      assert.deepEqual(run.lineage.datasets, []);
      assert.deepEqual(await datasets(), before);
      assert.equal((await server.request('GET', '/api/v1/datasets/feedback-table')).status, 404);
      assert.equal((await server.request('GET', '/api/v1/models/never-registered')).status, 404);

      // Without the gate the run succeeds, and only then is the table stored as a dataset version.
      assert.equal((await applyPipeline(server, failing.replace('name: feedback-then-fail', 'name: feedback-only').split('\n  - { id: fit')[0] + '\n')).status, 201);
      const stored = await runPipeline(server, 'feedback-only');
      assert.equal(stored.status, 'succeeded', JSON.stringify(stored, null, 1));
      assert.equal(stored.steps[0].outputs.dataset, 'feedback-table');
      assert.equal(stored.steps[0].outputs.version, 1);
      assert.deepEqual(stored.lineage.datasets.map((d: { reference: string }) => d.reference), ['feedback-table@1']);
      const version = await server.request('GET', '/api/v1/datasets/feedback-table/versions/1');
      assert.equal(version.status, 200, version.text);
      assert.equal(version.body.row_count, LIVE.length);
      assert.deepEqual(await datasets(), [...before, ['feedback-table', 1]].sort((a, b) => (a[0] < b[0] ? -1 : 1)));
    });
  });
}
