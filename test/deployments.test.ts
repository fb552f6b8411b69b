// Deployments end to end over HTTP on a real server: creating and calling them through both
// protocols, traffic split and A/B stickiness, shadow mirroring, blue-green with rollback, revisions
// and audit, bad input, and canaries of deliberately bad models (one that errors, one that is slow)
// rolled back automatically with no more than their step weight of requests reaching them.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { failingModel, linearModel, slowRowModel } from '../src/onnx/index.js';
import { BACKENDS, startTestServer, type TestServer } from './helpers/server.js';

/** output = input · w + b with one output column: w = [1, 2, 3, 4], b = 0.5 (version 1), b = 10.5 (version 2). */
const STABLE = linearModel({ weights: [[1], [2], [3], [4]], bias: [0.5] });
const CANDIDATE = linearModel({ weights: [[1], [2], [3], [4]], bias: [10.5] });

function oipBody(row: number[]) {
  return { inputs: [{ name: 'input', shape: [1, 4], datatype: 'FP32', data: row }] };
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

for (const backend of BACKENDS) {
  describe(`deployments (${backend})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer({ backend });
      await server.registerModel('fraud', STABLE);
      await server.registerModel('fraud', CANDIDATE);
      const alias = await server.request('PUT', '/api/v1/models/fraud/aliases/champion', { json: { version: 1 } });
      assert.equal(alias.status, 200, alias.text);
    });
    after(async () => server.close());

    test('a deployment pins its model, answers on both protocols and says which version answered', async () => {
      const created = await server.request('POST', '/api/v1/deployments', { json: { name: 'pinned', model: 'fraud@champion', description: 'fraud scoring' } });
      assert.equal(created.status, 201, created.text);
      assert.deepEqual(created.body.routes, [{ model: 'fraud@1', role: 'stable', weight: 100 }]);
      assert.equal(created.body.revision, 1);
      assert.equal(created.body.rollout, null);

      const oip = await server.request('POST', '/v2/models/pinned/infer', { json: oipBody([1, 1, 1, 1]) });
      assert.equal(oip.status, 200, oip.text);
      assert.equal(oip.headers.get('x-plinth-model'), 'fraud@1');
      assert.equal(oip.body.model_name, 'pinned');
      assert.equal(oip.body.model_version, '1');
      assert.deepEqual(oip.body.outputs[0].data, [10.5]); // 1+2+3+4 + 0.5

      const mlflow = await server.request('POST', '/api/v1/deployments/pinned/invocations', { json: { inputs: [[0, 0, 0, 1]] } });
      assert.equal(mlflow.status, 200, mlflow.text);
      assert.equal(mlflow.headers.get('x-plinth-model'), 'fraud@1');
      assert.deepEqual(mlflow.body, { predictions: [[4.5]] });

      const metadata = await server.request('GET', '/v2/models/pinned');
      assert.equal(metadata.status, 200, metadata.text);
      assert.equal(metadata.body.inputs[0].name, 'input');

      const listed = await server.request('GET', '/api/v1/deployments');
      assert.ok(listed.body.deployments.some((d: { name: string }) => d.name === 'pinned'));
    });

    test('bad input is refused with a 4xx and changes nothing; the deployment keeps serving', async () => {
      await server.request('POST', '/api/v1/deployments', { json: { name: 'steady', model: 'fraud@1' } });
      const cases: Array<[string, string, unknown, number, string]> = [
        ['POST', '/api/v1/deployments', { name: 'steady', model: 'fraud@1' }, 409, 'DEPLOYMENT_ALREADY_EXISTS'],
        ['POST', '/api/v1/deployments', { name: 'bad/name', model: 'fraud@1' }, 400, 'INVALID_ARGUMENT'],
        ['POST', '/api/v1/deployments', { name: 'other', model: 'fraud@9' }, 404, 'MODEL_VERSION_NOT_FOUND'],
        ['POST', '/api/v1/deployments', { name: 'other', model: 'nosuch' }, 404, 'MODEL_NOT_FOUND'],
        ['POST', '/api/v1/deployments/steady/rollout', { model: 'fraud@2', strategy: 'rainbow' }, 400, 'VALIDATION_FAILED'],
        ['POST', '/api/v1/deployments/steady/rollout', { model: 'fraud@2', strategy: 'canary', steps: [50, 25, 100] }, 400, 'INVALID_ROLLOUT'],
        ['POST', '/api/v1/deployments/steady/rollout', { model: 'fraud@2', strategy: 'canary', steps: [10, 50] }, 400, 'INVALID_ROLLOUT'],
        ['POST', '/api/v1/deployments/steady/rollout', { model: 'fraud@2', strategy: 'canary', percent: 10 }, 400, 'INVALID_ROLLOUT'],
        ['POST', '/api/v1/deployments/steady/rollout', { model: 'fraud@2', strategy: 'ab', weight: 150 }, 400, 'VALIDATION_FAILED'],
        ['POST', '/api/v1/deployments/steady/rollout', { model: 'fraud@2', strategy: 'ab', sticky: { header: 'a', field: 'b' } }, 400, 'INVALID_ROLLOUT'],
        ['POST', '/api/v1/deployments/steady/rollout', { model: 'fraud@1', strategy: 'blue-green' }, 400, 'INVALID_ROLLOUT'],
        ['POST', '/api/v1/deployments/steady/rollout', { model: 'fraud@7', strategy: 'blue-green' }, 404, 'MODEL_VERSION_NOT_FOUND'],
        ['POST', '/api/v1/deployments/nosuch/rollout', { model: 'fraud@2', strategy: 'blue-green' }, 404, 'DEPLOYMENT_NOT_FOUND'],
        ['POST', '/api/v1/deployments/steady/promote', {}, 409, 'NO_ROLLOUT_IN_PROGRESS'],
        ['POST', '/api/v1/deployments/steady/rollback', {}, 409, 'NO_PREVIOUS_REVISION'],
      ];
      for (const [method, url, json, status, code] of cases) {
        const response = await server.request(method, url, { json });
        assert.equal(response.status, status, `${url} ${JSON.stringify(json)}: ${response.text}`);
        assert.equal(response.body.error.code, code, response.text);
      }
      const rollout = await server.request('POST', '/api/v1/deployments/steady/rollout', { json: { model: 'fraud@2', strategy: 'canary', interval_seconds: 3600 } });
      assert.equal(rollout.status, 200, rollout.text);
      const second = await server.request('POST', '/api/v1/deployments/steady/rollout', { json: { model: 'fraud@2', strategy: 'blue-green' } });
      assert.equal(second.status, 409, second.text);
      assert.equal(second.body.error.code, 'ROLLOUT_IN_PROGRESS');
      const deployment = await server.request('GET', '/api/v1/deployments/steady');
      assert.equal(deployment.body.revision, 2, 'only the one accepted rollout made a revision');
      assert.deepEqual(deployment.body.routes, [{ model: 'fraud@1', role: 'stable', weight: 95 }, { model: 'fraud@2', role: 'canary', weight: 5 }]);
      const served = await server.request('POST', '/v2/models/steady/infer', { json: oipBody([0, 0, 0, 0]) });
      assert.equal(served.status, 200, served.text);
      const badInference = await server.request('POST', '/v2/models/steady/infer', { json: { inputs: [{ name: 'nope', shape: [1], datatype: 'FP32', data: [1] }] } });
      assert.equal(badInference.status, 400, badInference.text);
      const rolledBack = await server.request('POST', '/api/v1/deployments/steady/rollback', { json: { reason: 'changed my mind' } });
      assert.equal(rolledBack.status, 200, rolledBack.text);
      assert.deepEqual(rolledBack.body.routes, [{ model: 'fraud@1', role: 'stable', weight: 100 }]);
      assert.equal(rolledBack.body.last_rollout.outcome, 'rolled_back');
    });

    test('a split sends each variant its weight of requests', async () => {
      await server.request('POST', '/api/v1/deployments', { json: { name: 'split', model: 'fraud@1' } });
      const rollout = await server.request('POST', '/api/v1/deployments/split/rollout', { json: { model: 'fraud@2', strategy: 'ab', weight: 30 } });
      assert.equal(rollout.status, 200, rollout.text);
      assert.deepEqual(rollout.body.routes, [{ model: 'fraud@1', role: 'a', weight: 70 }, { model: 'fraud@2', role: 'b', weight: 30 }]);
      const n = 400;
      let candidate = 0;
      for (let i = 0; i < n; i += 20) {
        const answers = await Promise.all(Array.from({ length: 20 }, () => server.request('POST', '/v2/models/split/infer', { json: oipBody([0, 0, 0, 0]) })));
        for (const answer of answers) {
          assert.equal(answer.status, 200, answer.text);
          const model = answer.headers.get('x-plinth-model');
          // The answer itself tells the variants apart: bias 0.5 for version 1, 10.5 for version 2.
          assert.equal(answer.body.outputs[0].data[0], model === 'fraud@2' ? 10.5 : 0.5);
          if (model === 'fraud@2') candidate++;
        }
      }
      // Binomial(400, 0.3) has σ ≈ 9.2; 4σ either side.
      assert.ok(Math.abs(candidate - 0.3 * n) <= 37, `candidate got ${candidate} of ${n}`);
      const analysis = await server.request('GET', '/api/v1/deployments/split/analysis');
      assert.equal(analysis.status, 200, analysis.text);
      const b = analysis.body.variants.find((v: { model: string }) => v.model === 'fraud@2');
      assert.equal(b.requests, candidate);
      assert.ok(analysis.body.ab, 'A/B tests are reported');
      const promoted = await server.request('POST', '/api/v1/deployments/split/promote', { json: {} });
      assert.equal(promoted.status, 200, promoted.text);
      assert.deepEqual(promoted.body.routes, [{ model: 'fraud@2', role: 'stable', weight: 100 }]);
    });

    test('routes set by hand: a fixed split whose weights must add up to 100', async () => {
      const created = await server.request('POST', '/api/v1/deployments', { json: { name: 'manual', routes: [{ model: 'fraud@champion', weight: 80 }, { model: 'fraud@2', weight: 20 }] } });
      assert.equal(created.status, 201, created.text);
      assert.deepEqual(created.body.routes, [{ model: 'fraud@1', role: 'stable', weight: 80 }, { model: 'fraud@2', role: 'split', weight: 20 }]);
      const bad: Array<[unknown, number, string]> = [
        [{ routes: [{ model: 'fraud@1', weight: 60 }, { model: 'fraud@2', weight: 30 }] }, 400, 'INVALID_ROUTES'],
        [{ routes: [{ model: 'fraud@1', weight: 50 }, { model: 'fraud@1', weight: 50 }] }, 400, 'INVALID_ROUTES'],
        [{ routes: [{ model: 'fraud@1', weight: 0 }, { model: 'fraud@2', weight: 100 }] }, 400, 'INVALID_ROUTES'],
        [{ routes: [{ model: 'fraud@1', weight: 50 }, { model: 'fraud@8', weight: 50 }] }, 404, 'MODEL_VERSION_NOT_FOUND'],
        [{ routes: [] }, 400, 'VALIDATION_FAILED'],
      ];
      for (const [json, status, code] of bad) {
        const response = await server.request('PUT', '/api/v1/deployments/manual/routes', { json });
        assert.equal(response.status, status, `${JSON.stringify(json)}: ${response.text}`);
        assert.equal(response.body.error.code, code, response.text);
      }
      const both = await server.request('POST', '/api/v1/deployments', { json: { name: 'manual-both', model: 'fraud@1', routes: [{ model: 'fraud@1', weight: 100 }] } });
      assert.equal(both.status, 400, both.text);
      const unchanged = await server.request('GET', '/api/v1/deployments/manual');
      assert.equal(unchanged.body.revision, 1);
      const set = await server.request('PUT', '/api/v1/deployments/manual/routes', { json: { routes: [{ model: 'fraud@2', weight: 50 }, { model: 'fraud@1', weight: 50 }] } });
      assert.equal(set.status, 200, set.text);
      assert.equal(set.body.revision, 2);
      assert.deepEqual(set.body.routes, [{ model: 'fraud@2', role: 'stable', weight: 50 }, { model: 'fraud@1', role: 'split', weight: 50 }]);
      let onTwo = 0;
      for (let i = 0; i < 20; i++) {
        const answer = await server.request('POST', '/v2/models/manual/infer', { json: oipBody([0, 0, 0, 0]) });
        if (answer.headers.get('x-plinth-model') === 'fraud@2') onTwo++;
      }
      assert.equal(onTwo, 10, 'a 50/50 split alternates exactly');
      await server.request('POST', '/api/v1/deployments/manual/rollout', { json: { model: 'fraud@1', strategy: 'ab' } }).then((r) => assert.equal(r.status, 400, r.text));
    });

    test('A/B assignment is sticky by header and by input field', async () => {
      await server.request('POST', '/api/v1/deployments', { json: { name: 'sticky', model: 'fraud@1' } });
      const rollout = await server.request('POST', '/api/v1/deployments/sticky/rollout', { json: { model: 'fraud@2', strategy: 'ab', weight: 50, sticky: { header: 'x-user-id' } } });
      assert.equal(rollout.status, 200, rollout.text);
      const users = Array.from({ length: 60 }, (_, i) => `user-${i}`);
      const seen = new Map<string, Set<string>>();
      for (let round = 0; round < 3; round++) {
        await Promise.all(users.map(async (user) => {
          const answer = await server.request('POST', '/v2/models/sticky/infer', { json: oipBody([0, 0, 0, 0]), headers: { 'x-user-id': user } });
          assert.equal(answer.status, 200, answer.text);
          const set = seen.get(user) ?? new Set<string>();
          set.add(answer.headers.get('x-plinth-model')!);
          seen.set(user, set);
        }));
      }
      for (const [user, models] of seen) assert.equal(models.size, 1, `${user} saw ${[...models].join(', ')}`);
      const onB = [...seen.values()].filter((m) => m.has('fraud@2')).length;
      // Binomial(60, 0.5): σ ≈ 3.9; 4σ either side.
      assert.ok(onB >= 14 && onB <= 46, `${onB} of 60 users on b`);

      // By input field, through the MLflow-style route: the same user id always gets the same variant.
      await server.request('POST', '/api/v1/deployments/sticky/rollback', { json: {} });
      const byField = await server.request('POST', '/api/v1/deployments/sticky/rollout', { json: { model: 'fraud@2', strategy: 'ab', weight: 50, sticky: { field: 'input' } } });
      assert.equal(byField.status, 200, byField.text);
      for (const value of [1, 2, 3, 5, 8]) {
        const models = new Set<string>();
        for (let i = 0; i < 4; i++) {
          const answer = await server.request('POST', '/api/v1/deployments/sticky/invocations', { json: { inputs: { input: [[value, 0, 0, 0]] } } });
          assert.equal(answer.status, 200, answer.text);
          models.add(answer.headers.get('x-plinth-model')!);
        }
        assert.equal(models.size, 1, `input ${value} saw ${[...models].join(', ')}`);
      }
    });

    test('a shadow gets copies whose answers are discarded and logged beside the primary', async () => {
      await server.request('POST', '/api/v1/deployments', { json: { name: 'mirror', model: 'fraud@1' } });
      const rollout = await server.request('POST', '/api/v1/deployments/mirror/rollout', { json: { model: 'fraud@2', strategy: 'shadow', percent: 100 } });
      assert.equal(rollout.status, 200, rollout.text);
      const ids: string[] = [];
      for (let i = 0; i < 10; i++) {
        const id = `shadow-${backend}-${i}`;
        ids.push(id);
        const answer = await server.request('POST', '/v2/models/mirror/infer', { json: oipBody([i, 0, 0, 0]), headers: { 'x-request-id': id } });
        assert.equal(answer.status, 200, answer.text);
        assert.equal(answer.headers.get('x-plinth-model'), 'fraud@1');
        assert.deepEqual(answer.body.outputs[0].data, [i + 0.5], 'the caller gets the stable answer');
      }
      const logged = await waitFor('shadow rows', async () => {
        const response = await server.request('GET', '/api/v1/deployments/mirror/predictions?limit=100');
        assert.equal(response.status, 200, response.text);
        const rows = response.body.predictions as Array<{ request_id: string; role: string; model: string; outputs: { output: number[][] } }>;
        return rows.filter((r) => r.role === 'shadow').length === 10 ? rows : undefined;
      });
      for (const [i, id] of ids.entries()) {
        const primary = logged.find((r) => r.request_id === id && r.role === 'primary');
        const shadow = logged.find((r) => r.request_id === id && r.role === 'shadow');
        assert.equal(primary?.model, 'fraud@1');
        assert.equal(shadow?.model, 'fraud@2');
        assert.deepEqual(primary!.outputs.output, [[i + 0.5]]);
        assert.deepEqual(shadow!.outputs.output, [[i + 10.5]]);
      }
      const analysis = await server.request('GET', '/api/v1/deployments/mirror/analysis');
      assert.equal(analysis.body.shadow.mirrored, 10, analysis.text);
      assert.equal(analysis.body.variants.find((v: { role: string }) => v.role === 'shadow').requests, 10, analysis.text);
      assert.equal(analysis.body.shadow.agreement_rate, 0, 'every answer differs by 10');
    });

    test('blue-green switches at once; rollback returns to the previous routes; history and audit record it', async () => {
      await server.request('POST', '/api/v1/deployments', { json: { name: 'bluegreen', model: 'fraud@1' } });
      const switched = await server.request('POST', '/api/v1/deployments/bluegreen/rollout', { json: { model: 'fraud@2', strategy: 'blue-green' } });
      assert.equal(switched.status, 200, switched.text);
      assert.deepEqual(switched.body.routes, [{ model: 'fraud@2', role: 'stable', weight: 100 }]);
      assert.equal(switched.body.rollout, null);
      const onGreen = await server.request('POST', '/v2/models/bluegreen/infer', { json: oipBody([0, 0, 0, 0]) });
      assert.equal(onGreen.headers.get('x-plinth-model'), 'fraud@2');

      const back = await server.request('POST', '/api/v1/deployments/bluegreen/rollback', { json: {} });
      assert.equal(back.status, 200, back.text);
      assert.deepEqual(back.body.routes, [{ model: 'fraud@1', role: 'stable', weight: 100 }]);
      assert.equal(back.body.revision, 3);
      const onBlue = await server.request('POST', '/v2/models/bluegreen/infer', { json: oipBody([0, 0, 0, 0]) });
      assert.equal(onBlue.headers.get('x-plinth-model'), 'fraud@1');

      const history = await server.request('GET', '/api/v1/deployments/bluegreen/revisions');
      assert.deepEqual(history.body.revisions.map((r: { revision: number; action: string }) => [r.revision, r.action]), [[3, 'rollback'], [2, 'rollout'], [1, 'create']]);
      assert.ok(history.body.revisions.every((r: { actor: string }) => r.actor === 'admin'));
      const audit = await server.request('GET', '/api/v1/audit?resource_type=deployment&resource_id=bluegreen');
      assert.equal(audit.status, 200, audit.text);
      const actions = (audit.body.entries ?? audit.body.audit ?? audit.body).map((e: { action: string }) => e.action);
      for (const action of ['deployment.create', 'deployment.rollout', 'deployment.rollback']) assert.ok(actions.includes(action), `${action} in ${actions}`);
    });

    test('a canary that errors is rolled back automatically; it never got more than its step weight', async () => {
      const { version } = await server.registerModel('fraud', failingModel());
      await server.request('POST', '/api/v1/deployments', { json: { name: 'canary-errors', model: 'fraud@1' } });
      const rollout = await server.request('POST', '/api/v1/deployments/canary-errors/rollout', {
        json: { model: `fraud@${version}`, strategy: 'canary', steps: [10, 50, 100], interval_seconds: 3600, min_requests: 20 },
      });
      assert.equal(rollout.status, 200, rollout.text);
      let sent = 0;
      let failed = 0;
      const deployment = await waitFor('the automatic rollback', async () => {
        for (let i = 0; i < 10; i++) {
          const answer = await server.request('POST', '/v2/models/canary-errors/infer', { json: oipBody([7, 7, 7, 7]) });
          sent++;
          if (answer.status !== 200) {
            assert.equal(answer.headers.get('x-plinth-model'), `fraud@${version}`, answer.text);
            failed++;
          }
        }
        const current = await server.request('GET', '/api/v1/deployments/canary-errors');
        return current.body.rollout === null ? current.body : undefined;
      });
      assert.deepEqual(deployment.routes, [{ model: 'fraud@1', role: 'stable', weight: 100 }]);
      assert.equal(deployment.last_rollout.outcome, 'rolled_back');
      assert.match(deployment.last_rollout.reason, /error/);
      assert.ok(failed >= 1, 'the canary was reached');
      assert.ok(failed <= Math.ceil(0.1 * sent) + 1, `${failed} of ${sent} requests reached the canary`);
      const after = await server.request('POST', '/v2/models/canary-errors/infer', { json: oipBody([7, 7, 7, 7]) });
      assert.equal(after.status, 200);
      const history = await server.request('GET', '/api/v1/deployments/canary-errors/revisions');
      assert.equal(history.body.revisions[0].action, 'rollback');
      assert.equal(history.body.revisions[0].actor, 'system');
      const metrics = await server.request('GET', '/metrics');
      assert.match(metrics.text, /plinth_rollout_events_total\{deployment="canary-errors",event="rolled_back"\} 1/);
    });

    test('a canary that is slow is rolled back by its latency analysis', async () => {
      const { version } = await server.registerModel('fraud', slowRowModel());
      await server.request('POST', '/api/v1/deployments', { json: { name: 'canary-slow', model: 'fraud@1' } });
      const rollout = await server.request('POST', '/api/v1/deployments/canary-slow/rollout', {
        json: { model: `fraud@${version}`, strategy: 'canary', steps: [20, 100], interval_seconds: 0.5, min_requests: 5, analysis: { max_latency_ratio: 2 } },
      });
      assert.equal(rollout.status, 200, rollout.text);
      let sent = 0;
      let slow = 0;
      const deployment = await waitFor('the automatic rollback', async () => {
        for (let i = 0; i < 10; i++) {
          const answer = await server.request('POST', '/v2/models/canary-slow/infer', { json: oipBody([1, 2, 3, 4]) });
          assert.equal(answer.status, 200, answer.text);
          sent++;
          if (answer.headers.get('x-plinth-model') === `fraud@${version}`) slow++;
        }
        const current = await server.request('GET', '/api/v1/deployments/canary-slow');
        return current.body.rollout === null ? current.body : undefined;
      }, 30_000);
      assert.equal(deployment.last_rollout.outcome, 'rolled_back', JSON.stringify(deployment.last_rollout));
      assert.match(deployment.last_rollout.reason, /latency|p99/);
      assert.ok(slow <= Math.ceil(0.2 * sent) + 1, `${slow} of ${sent} requests reached the canary`);
    });

    test('a healthy canary steps up and is promoted', async () => {
      await server.request('POST', '/api/v1/deployments', { json: { name: 'canary-good', model: 'fraud@1' } });
      const rollout = await server.request('POST', '/api/v1/deployments/canary-good/rollout', {
        json: { model: 'fraud@2', strategy: 'canary', steps: [25, 100], interval_seconds: 0.3, min_requests: 5, analysis: { max_prediction_psi: 1000, max_latency_ratio: 1000 } },
      });
      assert.equal(rollout.status, 200, rollout.text);
      const deployment = await waitFor('the promotion', async () => {
        await Promise.all(Array.from({ length: 10 }, () => server.request('POST', '/v2/models/canary-good/infer', { json: oipBody([0, 0, 0, 0]) })));
        const current = await server.request('GET', '/api/v1/deployments/canary-good');
        return current.body.rollout === null ? current.body : undefined;
      });
      assert.deepEqual(deployment.routes, [{ model: 'fraud@2', role: 'stable', weight: 100 }]);
      assert.equal(deployment.last_rollout.outcome, 'promoted', JSON.stringify(deployment.last_rollout));
      const history = await server.request('GET', '/api/v1/deployments/canary-good/revisions');
      assert.deepEqual(history.body.revisions.map((r: { action: string }) => r.action), ['step', 'rollout', 'create']);
    });
  });
}
