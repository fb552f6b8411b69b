// Pipelines end to end on a real server, over tiny generated data (a few hundred rows the test
// writes as a dataset version): dataset → validate → train → evaluate → gate → register → rollout
// against a deliberately bad champion (the canary starts, lineage is readable); the same against a
// strong champion (the gate stops the run, the registry and the deployment stay as they were);
// caching on a rerun; bad definitions refused with 400 before anything runs.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { applyPipeline, championModel, csvOf, makeRows, runPipeline, SCHEMA, uploadDataset } from './helpers/pipeline.js';
import { BACKENDS, startTestServer, type TestServer } from './helpers/server.js';

const TRAINING = makeRows(300, 7);

function retrainYaml(name: string, opts: { champion: string; model: string; deployment: string; margin: number }): string {
  return `
name: ${name}
description: retrain on the newest flights data
steps:
  - id: data
    kind: dataset
    dataset: flights@latest
  - id: check
    kind: validate
    needs: data
    label: y
    columns: [x1, x2]
    task: binary
    min_rows: 100
  - id: fit
    kind: train
    needs: [check]
    label: y
    task: binary
    algo: gbdt
    params: { trees: 20, maxDepth: 3, learningRate: 0.3 }
    holdout: 0.25
    seed: 3
  - id: score
    kind: evaluate
    needs: [fit]
    metrics: [roc_auc, accuracy]
  - id: quality-gate
    kind: gate
    needs: [score]
    metric: roc_auc
    margin: ${opts.margin}
    champion: { ${opts.champion} }
  - id: publish
    kind: register
    needs: [quality-gate]
    model: ${opts.model}
    alias: candidate
  - id: canary
    kind: rollout
    needs: [publish]
    deployment: ${opts.deployment}
    steps: [10, 50, 100]
    interval_seconds: 3600
`;
}

for (const backend of BACKENDS) {
  describe(`pipelines (${backend})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer({ backend });
      await uploadDataset(server, 'flights', csvOf(TRAINING));
      // The bad champion serves deployment "flights"; a strong one serves "steady".
      await server.registerModel('delay', championModel(TRAINING, true), { feature_schema: SCHEMA });
      await server.registerModel('steady-delay', championModel(TRAINING, false), { feature_schema: SCHEMA });
      for (const [name, model] of [['flights', 'delay@1'], ['steady', 'steady-delay@1']]) {
        const created = await server.request('POST', '/api/v1/deployments', { json: { name, model } });
        assert.equal(created.status, 201, created.text);
      }
    });
    after(async () => server?.close());

    it('dataset → validate → train → evaluate → gate → register → rollout beats a bad champion and starts a canary', async () => {
      const applied = await applyPipeline(server, retrainYaml('retrain', { champion: 'deployment: flights', model: 'delay', deployment: 'flights', margin: 0.1 }));
      assert.equal(applied.status, 201, applied.text);
      assert.deepEqual(applied.body.pipeline.steps.map((s: { id: string }) => s.id), ['data', 'check', 'fit', 'score', 'quality-gate', 'publish', 'canary']);
      const run = await runPipeline(server, 'retrain');
      assert.equal(run.status, 'succeeded', JSON.stringify(run, null, 1));
      assert.deepEqual(run.steps.map((s: { status: string }) => s.status), Array(7).fill('succeeded'));
      const gate = run.steps.find((s: { id: string }) => s.id === 'quality-gate').outputs;
      // The concept is x1 + x2 > 1: boosted trees rank the holdout well, the inverted champion ranks it backwards.
      assert.equal(gate.passed, true);
      assert.ok(gate.candidate > 0.9, `candidate AUC ${gate.candidate}`);
      assert.ok(gate.champion < 0.2, `champion AUC ${gate.champion}`);
      assert.equal(gate.champion_model, 'delay@1');
      // 300 rows, holdout 0.25 → 75 rows scored by both.
      assert.equal(gate.holdout_rows, 75);
      const score = run.steps.find((s: { id: string }) => s.id === 'score').outputs;
      assert.equal(score.metrics.roc_auc, gate.candidate);

      // Lineage: dataset → tracking run → model version → deployment.
      assert.deepEqual(run.lineage.datasets.map((d: { reference: string }) => d.reference), ['flights@1']);
      assert.deepEqual(run.lineage.model_versions.map((m: { reference: string }) => m.reference), ['delay@2']);
      assert.deepEqual(run.lineage.deployments.map((d: { deployment: string; model: string }) => [d.deployment, d.model]), [['flights', 'delay@2']]);
      assert.equal(run.lineage.tracking_run_id, run.tracking_run_id);
      const version = await server.request('GET', '/api/v1/models/delay/versions/2');
      assert.equal(version.status, 200, version.text);
      assert.equal(version.body.run_id, run.tracking_run_id);
      assert.deepEqual(version.body.datasets.map((d: { reference: string; role: string }) => [d.reference, d.role]), [['flights@1', 'training']]);
      assert.deepEqual(version.body.aliases, ['candidate']);
      assert.deepEqual(version.body.feature_schema.features.map((f: { name: string }) => f.name), ['x1', 'x2']);
      // The tracking run holds the train step's params and the holdout metrics.
      const tracked = await server.request('GET', `/api/v1/runs/${run.tracking_run_id}`);
      assert.equal(tracked.status, 200, tracked.text);
      const params = Object.fromEntries(tracked.body.run.data.params.map((p: { key: string; value: string }) => [p.key, p.value]));
      assert.equal(params['fit.algorithm'], 'gbdt');
      assert.equal(params['fit.trees'], '20');
      const metrics = Object.fromEntries(tracked.body.run.data.metrics.map((m: { key: string; value: number }) => [m.key, m.value]));
      assert.equal(metrics['holdout.roc_auc'], gate.candidate);
      assert.equal(tracked.body.run.info.status, 'FINISHED');

      const deployment = await server.request('GET', '/api/v1/deployments/flights');
      assert.equal(deployment.status, 200, deployment.text);
      assert.equal(deployment.body.rollout.strategy, 'canary');
      assert.equal(deployment.body.rollout.model, 'delay@2');
      assert.equal(deployment.body.rollout.stable, 'delay@1');
      assert.deepEqual(deployment.body.rollout.steps, [10, 50, 100]);

      const history = await server.request('GET', '/api/v1/pipelines/retrain/runs');
      assert.equal(history.status, 200, history.text);
      assert.deepEqual(history.body.runs.map((r: { number: number; status: string }) => [r.number, r.status]), [[1, 'succeeded']]);

      // Run again while the canary is in progress: the gate still passes against the stable delay@1,
      // but the rollout could not start, so the run stops before registering anything.
      const again = await runPipeline(server, 'retrain');
      assert.equal(again.status, 'failed');
      assert.deepEqual(again.steps.map((s: { status: string }) => s.status), ['succeeded', 'succeeded', 'succeeded', 'succeeded', 'succeeded', 'failed', 'skipped']);
      assert.match(again.steps[5].error, /rollout of delay@2 in progress/);
      const versions = await server.request('GET', '/api/v1/models/delay/versions');
      assert.deepEqual(versions.body.versions.map((v: { version: number }) => v.version).sort(), [1, 2]);
    });

    it('a gate the candidate fails stops the run: nothing registered, the deployment unchanged', async () => {
      const applied = await applyPipeline(server, retrainYaml('retrain-steady', { champion: 'model: steady-delay@1', model: 'steady-delay', deployment: 'steady', margin: 0.2 }));
      assert.equal(applied.status, 201, applied.text);
      const before = await server.request('GET', '/api/v1/deployments/steady');
      const run = await runPipeline(server, 'retrain-steady');
      assert.equal(run.status, 'stopped', JSON.stringify(run, null, 1));
      assert.match(run.error, /quality-gate .*the gate failed/);
      assert.deepEqual(run.steps.map((s: { status: string }) => s.status), ['succeeded', 'succeeded', 'succeeded', 'succeeded', 'failed', 'skipped', 'skipped']);
      const gate = run.steps[4].outputs;
      assert.equal(gate.passed, false);
      // The strong champion ranks the holdout almost perfectly: no AUC can beat it by 0.2.
      assert.ok(gate.champion > 0.95, `champion AUC ${gate.champion}`);
      const versions = await server.request('GET', '/api/v1/models/steady-delay/versions');
      assert.equal(versions.status, 200, versions.text);
      assert.deepEqual(versions.body.versions.map((v: { version: number }) => v.version), [1]);
      const afterwards = await server.request('GET', '/api/v1/deployments/steady');
      assert.equal(afterwards.body.revision, before.body.revision);
      assert.equal(afterwards.body.rollout, null);
      assert.deepEqual(run.lineage.model_versions, []);
      assert.deepEqual(run.lineage.deployments, []);
    });

    it('a rerun with nothing changed reuses the outputs; a new dataset version does not', async () => {
      const yaml = `
name: train-only
steps:
  - { id: data, kind: dataset, dataset: flights }
  - { id: check, kind: validate, needs: [data], label: y }
  - { id: fit, kind: train, needs: [check], label: y, task: binary, algo: linear, params: { lambda: 0.1 } }
  - { id: score, kind: evaluate, needs: [fit] }
`;
      assert.equal((await applyPipeline(server, yaml)).status, 201);
      const first = await runPipeline(server, 'train-only');
      assert.equal(first.status, 'succeeded', JSON.stringify(first, null, 1));
      assert.deepEqual(first.steps.map((s: { cached: boolean }) => s.cached), [false, false, false, false]);
      const second = await runPipeline(server, 'train-only');
      assert.equal(second.status, 'succeeded');
      // The dataset step always resolves its reference; the others are reused.
      assert.deepEqual(second.steps.map((s: { cached: boolean }) => s.cached), [false, true, true, true]);
      assert.deepEqual(second.steps[2].outputs.model, first.steps[2].outputs.model);
      assert.deepEqual(second.steps[3].outputs.metrics, first.steps[3].outputs.metrics);
      assert.match(second.steps[2].log, /reused the outputs of run 1, step fit/);

      await uploadDataset(server, 'flights', csvOf(makeRows(300, 8)));
      const third = await runPipeline(server, 'train-only');
      assert.equal(third.status, 'succeeded');
      assert.deepEqual(third.steps.map((s: { cached: boolean }) => s.cached), [false, false, false, false]);
      assert.equal(third.steps[0].outputs.version, 2);
      assert.notEqual(third.steps[2].outputs.model.sha256, first.steps[2].outputs.model.sha256);
      // Applying the same name again updates the definition (200), and a changed parameter misses the cache.
      const updated = await applyPipeline(server, yaml.replace('lambda: 0.1', 'lambda: 0.2'));
      assert.equal(updated.status, 200, updated.text);
      assert.equal(updated.body.created, false);
      const fourth = await runPipeline(server, 'train-only');
      assert.deepEqual(fourth.steps.map((s: { cached: boolean }) => s.cached), [false, true, false, false]);
    });

    it('a train step with a search block picks its params first and logs them', async () => {
      const yaml = `
name: searched
steps:
  - { id: data, kind: dataset, dataset: flights@1 }
  - id: fit
    kind: train
    needs: [data]
    label: y
    task: binary
    algo: gbdt
    params: { trees: 5 }
    search: { sampler: random, trials: 3, metric: roc_auc, space: { maxDepth: { type: int, low: 1, high: 4 } } }
`;
      assert.equal((await applyPipeline(server, yaml)).status, 201);
      const run = await runPipeline(server, 'searched');
      assert.equal(run.status, 'succeeded', JSON.stringify(run, null, 1));
      const fit = run.steps[1].outputs;
      assert.equal(fit.search.trials, 3);
      assert.equal(fit.search.metric, 'roc_auc');
      const depth = fit.search.best.maxDepth;
      assert.ok(Number.isInteger(depth) && depth >= 1 && depth <= 4, String(depth));
      assert.equal(fit.params.maxDepth, depth);
      assert.equal(fit.params.trees, 5);
      assert.equal((run.steps[1].log.match(/^trial \d+ complete/gm) ?? []).length, 3);
      const tracked = await server.request('GET', `/api/v1/runs/${run.tracking_run_id}`);
      const params = Object.fromEntries(tracked.body.run.data.params.map((p: { key: string; value: string }) => [p.key, p.value]));
      assert.equal(params['fit.maxDepth'], String(depth));
    });

    it('bad definitions are refused with 400 before anything is stored or run', async () => {
      const listed = async () => (await server.request('GET', '/api/v1/pipelines')).body.pipelines.map((p: { name: string }) => p.name);
      const names = await listed();
      const cases: Array<[string, RegExp]> = [
        ['name: x\nsteps: [ {id: a, kind: dataset', /not valid YAML/],
        ['name: x\nsteps:\n  - {id: a, kind: teleport}', /unknown step kind "teleport"/],
        ['name: x\nsteps:\n  - {id: a, kind: dataset, dataset: flights, needs: [b]}', /needs "b", which is not a step/],
        ['name: x\nsteps:\n  - {id: a, kind: dataset, dataset: flights, needs: [c]}\n  - {id: b, kind: validate, label: y, needs: [a]}\n  - {id: c, kind: validate, label: y, needs: [b]}', /cycle among a, b, c/],
        ['name: x\nsteps:\n  - {id: a, kind: dataset, dataset: flights}\n  - {id: b, kind: train, needs: [a], label: y, algo: gbdt}', /missing required parameter "task"/],
        ['name: x\nsteps:\n  - {id: a, kind: dataset, dataset: flights}\n  - {id: b, kind: train, needs: [a], label: y, task: binary, algo: gbdt, colour: red}', /unknown parameter "colour"/],
        ['name: x\nsteps:\n  - {id: a, kind: validate, label: y}', /provides a table/],
        ['name: x\nsteps:\n  - {id: a, kind: dataset}', /exactly one of dataset/],
        ['name: x\ntriggers:\n  - schedule: "61 * * * *"\nsteps:\n  - {id: a, kind: dataset, dataset: flights}', /minute field/],
        [retrainYaml('x', { champion: 'deployment: flights', model: 'm', deployment: 'flights', margin: 0 }).replace('needs: [quality-gate]', 'needs: [score]'), /must come after the gate quality-gate/],
      ];
      for (const [yaml, message] of cases) {
        const reply = await applyPipeline(server, yaml);
        assert.equal(reply.status, 400, `${yaml}\n${reply.text}`);
        assert.equal(reply.body.error.code, 'INVALID_PIPELINE');
        assert.match(reply.body.error.message, message);
      }
      assert.deepEqual(await listed(), names);
      const missing = await server.request('POST', '/api/v1/pipelines/nope/runs');
      assert.equal(missing.status, 404);
      assert.equal(missing.body.error.code, 'PIPELINE_NOT_FOUND');
      const noRun = await server.request('GET', '/api/v1/pipelines/retrain/runs/99');
      assert.equal(noRun.status, 404);
      assert.equal(noRun.body.error.code, 'PIPELINE_RUN_NOT_FOUND');
      const viewer = await server.tokenWithRole('viewer');
      const denied = await server.request('POST', '/api/v1/pipelines/retrain/runs', { token: viewer });
      assert.equal(denied.status, 403);
    });
  });
}
