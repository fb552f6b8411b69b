// Alerts end to end on a real server, on both backends: rule validation over HTTP (bad input is a
// 400 and stores nothing, the webhook secret is never returned), changes, deletion and audit; the
// event history and its filters; an unreachable webhook that leaves the server answering; an
// automatic canary rollback that becomes a firing alert with a signed webhook; and the CLI.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { failingModel, linearModel } from '../src/onnx/index.js';
import { runCli } from './helpers/cli.js';
import { BACKENDS, startTestServer, type TestServer } from './helpers/server.js';

const SECRET = 'hook-secret-0123456789';
const STABLE = linearModel({ weights: [[1], [2], [3], [4]], bias: [0.5] });

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function receiver(): Promise<{ url: string; received: Array<{ headers: http.IncomingHttpHeaders; raw: Buffer }>; close(): Promise<void> }> {
  const received: Array<{ headers: http.IncomingHttpHeaders; raw: Buffer }> = [];
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (c: Buffer) => chunks.push(c));
    request.on('end', () => {
      received.push({ headers: request.headers, raw: Buffer.concat(chunks) });
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/alerts`,
    received,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

const RULE = { name: 'share-high', deployment: 'fraud', metric: 'drift.share', comparison: 'gt', threshold: 0.5, for_seconds: 0, severity: 'critical' };

for (const backend of BACKENDS) {
  describe(`alerts (${backend})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer({ backend });
    });
    after(async () => server.close());

    test('rules: created, read without their secret, changed, deleted, audited', async () => {
      const created = await server.request('POST', '/api/v1/alerts/rules', { json: { ...RULE, webhook_url: 'https://hooks.example.com/plinth', webhook_secret: SECRET } });
      assert.equal(created.status, 201, created.text);
      assert.equal(created.body.webhook_secret_set, true);
      assert.equal(created.body.state, 'inactive');
      assert.equal(created.body.enabled, true);
      assert.equal(created.body.created_by, 'admin');
      for (const reply of [created, await server.request('GET', '/api/v1/alerts/rules'), await server.request('GET', '/api/v1/alerts/rules/share-high')]) {
        assert.equal(reply.status, 200 + (reply === created ? 1 : 0), reply.text);
        assert.ok(!reply.text.includes(SECRET), 'the secret is never returned');
        assert.ok(!reply.text.includes('"webhook_secret"'), 'no webhook_secret field');
      }
      const listed = (await server.request('GET', '/api/v1/alerts/rules')).body.rules.find((r: { name: string }) => r.name === 'share-high');
      assert.deepEqual({ ...listed, id: undefined, created_at: undefined }, {
        ...RULE, id: undefined, created_at: undefined, webhook_url: 'https://hooks.example.com/plinth', webhook_secret_set: true, enabled: true, state: 'inactive', pending_since: null, created_by: 'admin',
      });

      const patched = await server.request('PATCH', '/api/v1/alerts/rules/share-high', { json: { threshold: 0.7, enabled: false } });
      assert.equal(patched.status, 200, patched.text);
      assert.equal(patched.body.threshold, 0.7);
      assert.equal(patched.body.enabled, false);
      assert.equal(patched.body.webhook_secret_set, true, 'other fields stay');
      const unhooked = await server.request('PATCH', '/api/v1/alerts/rules/share-high', { json: { webhook_url: null } });
      assert.equal(unhooked.body.webhook_url, null);
      assert.equal(unhooked.body.webhook_secret_set, false, 'removing the webhook removes its secret');

      const deleted = await server.request('DELETE', '/api/v1/alerts/rules/share-high');
      assert.equal(deleted.status, 200, deleted.text);
      assert.equal((await server.request('DELETE', '/api/v1/alerts/rules/share-high')).body.error.code, 'ALERT_RULE_NOT_FOUND');
      assert.equal((await server.request('GET', '/api/v1/alerts/rules/share-high')).status, 404);

      const audit = await server.request('GET', '/api/v1/audit?resource_type=alert_rule&resource_id=share-high');
      assert.deepEqual(audit.body.entries.map((e: { action: string }) => e.action), ['alert.rule.create', 'alert.rule.update', 'alert.rule.update', 'alert.rule.delete']);
      assert.ok(!audit.text.includes(SECRET), 'the audit log never holds the secret');
    });

    test('bad rules are refused with a 400 (or 409) and store nothing', async () => {
      const good = await server.request('POST', '/api/v1/alerts/rules', { json: { ...RULE, name: 'keeper' } });
      assert.equal(good.status, 201, good.text);
      const rulesBefore = (await server.request('GET', '/api/v1/alerts/rules')).text;
      const auditBefore = (await server.request('GET', '/api/v1/audit?resource_type=alert_rule')).body.entries.length;
      const cases: Array<[Record<string, unknown>, number, string]> = [
        [{ ...RULE, name: 'keeper' }, 409, 'ALERT_RULE_ALREADY_EXISTS'],
        [{ ...RULE, name: 'a/b' }, 400, 'INVALID_ARGUMENT'],
        [{ ...RULE, name: 'x', metric: '' }, 400, 'VALIDATION_FAILED'],
        [{ ...RULE, name: 'x', metric: 'drift.share\n' }, 400, 'INVALID_ARGUMENT'],
        [{ ...RULE, name: 'x', comparison: 'eq' }, 400, 'VALIDATION_FAILED'],
        [{ ...RULE, name: 'x', threshold: 'high' }, 400, 'VALIDATION_FAILED'],
        [{ name: 'x', metric: 'drift.share', comparison: 'gt' }, 400, 'VALIDATION_FAILED'],
        [{ ...RULE, name: 'x', for_seconds: -1 }, 400, 'VALIDATION_FAILED'],
        [{ ...RULE, name: 'x', for_seconds: 1.5 }, 400, 'VALIDATION_FAILED'],
        [{ ...RULE, name: 'x', severity: 'fatal' }, 400, 'VALIDATION_FAILED'],
        [{ ...RULE, name: 'x', deployment: 'bad/name' }, 400, 'INVALID_ARGUMENT'],
        [{ ...RULE, name: 'x', webhook_url: 'ftp://example.com/hook' }, 400, 'INVALID_ARGUMENT'],
        [{ ...RULE, name: 'x', webhook_url: 'file:///etc/passwd' }, 400, 'INVALID_ARGUMENT'],
        [{ ...RULE, name: 'x', webhook_url: 'not a url' }, 400, 'INVALID_ARGUMENT'],
        [{ ...RULE, name: 'x', webhook_url: 'https://example.com/h', webhook_secret: 'short' }, 400, 'VALIDATION_FAILED'],
        [{ ...RULE, name: 'x', webhook_secret: SECRET }, 400, 'INVALID_ARGUMENT'],
        [{ ...RULE, name: 'x', metric: 'rollout.rolled_back', comparison: 'gte', threshold: 1, for_seconds: 60 }, 400, 'INVALID_ARGUMENT'],
        [{ ...RULE, name: 'x', extra: true }, 400, 'VALIDATION_FAILED'],
      ];
      for (const [body, status, code] of cases) {
        const reply = await server.request('POST', '/api/v1/alerts/rules', { json: body });
        assert.equal(reply.status, status, `${JSON.stringify(body)}: ${reply.text}`);
        assert.equal(reply.body.error.code, code, JSON.stringify(body));
      }
      const patches: Array<[Record<string, unknown>, number]> = [
        [{}, 400],
        [{ webhook_url: 'gopher://x' }, 400],
        [{ webhook_secret: SECRET }, 400], // no webhook_url on the rule
        [{ metric: 'rollout.rolled_back', for_seconds: 5 }, 400],
        [{ severity: 'loud' }, 400],
      ];
      for (const [body, status] of patches) {
        const reply = await server.request('PATCH', '/api/v1/alerts/rules/keeper', { json: body });
        assert.equal(reply.status, status, `${JSON.stringify(body)}: ${reply.text}`);
      }
      assert.equal((await server.request('PATCH', '/api/v1/alerts/rules/nothing', { json: { threshold: 1 } })).status, 404);
      assert.equal((await server.request('GET', '/api/v1/alerts/rules')).text, rulesBefore, 'nothing changed');
      assert.equal((await server.request('GET', '/api/v1/audit?resource_type=alert_rule')).body.entries.length, auditBefore, 'nothing audited');

      const viewer = await server.tokenWithRole('viewer');
      assert.equal((await server.request('GET', '/api/v1/alerts/rules', { token: viewer })).status, 200);
      assert.equal((await server.request('GET', '/api/v1/alerts/events', { token: viewer })).status, 200);
      assert.equal((await server.request('POST', '/api/v1/alerts/rules', { token: viewer, json: { ...RULE, name: 'viewer-rule' } })).status, 403);
      assert.equal((await server.request('DELETE', '/api/v1/alerts/rules/keeper', { token: viewer })).status, 403);
      await server.request('DELETE', '/api/v1/alerts/rules/keeper');
    });

    test('events: history newest first, filtered by rule, deployment and state, with webhook attempts', async () => {
      const alerts = server.server.platform.alerts;
      assert.equal((await server.request('POST', '/api/v1/alerts/rules', { json: { name: 'missing-any', metric: 'quality.missing_rate', comparison: 'gte', threshold: 0.2 } })).status, 201);
      const t0 = Date.now();
      const result = (deployment: string, at: number, value: number) => ({ deployment, monitor_id: 'm', monitor_name: 'quality', kind: 'quality', metrics: { 'quality.missing_rate': value }, computed_at: at });
      await alerts.evaluate(result('alpha', t0, 0.3));
      await alerts.evaluate(result('beta', t0 + 1, 0.4));
      await alerts.evaluate(result('alpha', t0 + 2, 0.1));
      const all = await server.request('GET', '/api/v1/alerts/events?rule=missing-any');
      assert.equal(all.status, 200, all.text);
      assert.deepEqual(all.body.events.map((e: { deployment: string; state: string; value: number }) => [e.deployment, e.state, e.value]), [
        ['alpha', 'resolved', 0.1],
        ['beta', 'firing', 0.4],
        ['alpha', 'firing', 0.3],
      ]);
      assert.equal(all.body.events[0].rule, 'missing-any');
      assert.equal(all.body.events[0].delivery, null, 'no webhook, no delivery');
      const firing = await server.request('GET', '/api/v1/alerts/events?rule=missing-any&state=firing&deployment=alpha');
      assert.deepEqual(firing.body.events.map((e: { deployment: string; state: string }) => [e.deployment, e.state]), [['alpha', 'firing']]);
      const page = await server.request('GET', '/api/v1/alerts/events?rule=missing-any&limit=2');
      assert.equal(page.body.events.length, 2);
      const rest = await server.request('GET', `/api/v1/alerts/events?rule=missing-any&limit=2&before_id=${page.body.next_before_id}`);
      assert.deepEqual(rest.body.events.map((e: { deployment: string; state: string }) => [e.deployment, e.state]), [['alpha', 'firing']]);
      const one = await server.request('GET', `/api/v1/alerts/events/${firing.body.events[0].id}`);
      assert.equal(one.status, 200, one.text);
      assert.deepEqual(one.body.deliveries, []);
      assert.equal((await server.request('GET', '/api/v1/alerts/events?rule=nope')).body.error.code, 'ALERT_RULE_NOT_FOUND');
      assert.equal((await server.request('GET', '/api/v1/alerts/events?state=exploded')).status, 400);
      assert.equal((await server.request('GET', '/api/v1/alerts/events?limit=0')).status, 400);
      assert.equal((await server.request('GET', '/api/v1/alerts/events/999999')).body.error.code, 'ALERT_EVENT_NOT_FOUND');
      assert.equal((await server.request('GET', '/api/v1/alerts/events/abc')).status, 400);
    });

    test('an unreachable webhook is recorded as a failed attempt and the server keeps answering', async () => {
      const probe = http.createServer();
      await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
      const port = (probe.address() as AddressInfo).port;
      await new Promise<void>((resolve) => probe.close(() => resolve()));
      const created = await server.request('POST', '/api/v1/alerts/rules', { json: { name: 'dead-hook', deployment: 'dead', metric: 'm', comparison: 'gt', threshold: 0, webhook_url: `http://127.0.0.1:${port}/x`, webhook_secret: SECRET } });
      assert.equal(created.status, 201, created.text);
      const [event] = await server.server.platform.alerts.evaluate({ deployment: 'dead', monitor_id: null, monitor_name: null, kind: 'drift', metrics: { m: 1 }, computed_at: Date.now() });
      const detail = await waitFor('the first attempt', async () => {
        const reply = await server.request('GET', `/api/v1/alerts/events/${event!.id}`);
        return reply.body.deliveries.length >= 2 ? reply.body : undefined;
      });
      assert.equal(detail.deliveries[0].status, 'failed');
      assert.match(detail.deliveries[0].error, /ECONNREFUSED/);
      assert.equal(detail.deliveries[1].status, 'pending');
      assert.ok(detail.deliveries[1].next_attempt_at - detail.deliveries[0].at >= 1000, 'the retry waits the base delay (1 s by default)');
      assert.equal(detail.delivery.status, 'pending');
      assert.equal((await server.request('GET', '/healthz')).status, 200);
      assert.equal((await server.request('GET', '/api/v1/alerts/rules/dead-hook')).status, 200);
    });

    test('a monitor run on live traffic fires a rule on its metric before the run answers', async () => {
      await server.registerModel('live', STABLE);
      assert.equal((await server.request('POST', '/api/v1/deployments', { json: { name: 'live-q', model: 'live@1' } })).status, 201);
      for (let i = 0; i < 3; i++) {
        const answer = await server.request('POST', '/v2/models/live-q/infer', { json: { inputs: [{ name: 'input', shape: [1, 4], datatype: 'FP32', data: [i, 1, 2, 3] }] } });
        assert.equal(answer.status, 200, answer.text);
      }
      const monitor = await server.request('POST', '/api/v1/deployments/live-q/monitors', { json: { name: 'quality', kind: 'quality', schedule_seconds: null, config: { features: ['input[0]', 'input[1]'] } } });
      assert.equal(monitor.status, 201, monitor.text);
      const rule = await server.request('POST', '/api/v1/alerts/rules', { json: { name: 'rows-seen', deployment: 'live-q', metric: 'quality.rows', comparison: 'gte', threshold: 3 } });
      assert.equal(rule.status, 201, rule.text);
      const run = await server.request('POST', '/api/v1/deployments/live-q/monitors/quality/run');
      assert.equal(run.status, 200, run.text);
      assert.equal(run.body.metrics['quality.rows'], 3, run.text);
      const events = (await server.request('GET', '/api/v1/alerts/events?rule=rows-seen')).body.events;
      assert.deepEqual(events.map((e: { state: string; value: number }) => [e.state, e.value]), [['firing', 3]]);
      assert.deepEqual(events[0].payload.source, { kind: 'quality', monitor_id: run.body.monitor_id, monitor: 'quality' });
      assert.equal(events[0].payload.details.result_id, run.body.id);
      assert.equal(events[0].at, run.body.computed_at, 'evaluated on the result\'s clock');
      const again = await server.request('POST', '/api/v1/deployments/live-q/monitors/quality/run');
      assert.equal(again.status, 200, again.text);
      assert.equal((await server.request('GET', '/api/v1/alerts/events?rule=rows-seen')).body.events.length, 1, 'still firing: no second event');
      assert.equal((await server.request('GET', '/api/v1/alerts/rules/rows-seen')).body.state, 'firing');
    });

    test('an automatic canary rollback fires an alert and a signed webhook', async (t) => {
      const hook = await receiver();
      t.after(() => hook.close());
      await server.registerModel('rb', STABLE);
      const { version } = await server.registerModel('rb', failingModel());
      const rule = await server.request('POST', '/api/v1/alerts/rules', {
        json: { name: 'rollbacks', metric: 'rollout.rolled_back', comparison: 'gte', threshold: 1, severity: 'critical', webhook_url: hook.url, webhook_secret: SECRET },
      });
      assert.equal(rule.status, 201, rule.text);
      assert.equal((await server.request('POST', '/api/v1/deployments', { json: { name: 'rb-canary', model: 'rb@1' } })).status, 201);
      const rollout = await server.request('POST', '/api/v1/deployments/rb-canary/rollout', {
        json: { model: `rb@${version}`, strategy: 'canary', steps: [10, 50, 100], interval_seconds: 3600, min_requests: 20 },
      });
      assert.equal(rollout.status, 200, rollout.text);
      const body = { inputs: [{ name: 'input', shape: [1, 4], datatype: 'FP32', data: [7, 7, 7, 7] }] };
      await waitFor('the automatic rollback', async () => {
        for (let i = 0; i < 10; i++) await server.request('POST', '/v2/models/rb-canary/infer', { json: body });
        const current = await server.request('GET', '/api/v1/deployments/rb-canary');
        return current.body.rollout === null ? current.body : undefined;
      });
      const events = await waitFor('the alert event', async () => {
        const reply = await server.request('GET', '/api/v1/alerts/events?rule=rollbacks');
        return reply.body.events.length > 0 ? reply.body.events : undefined;
      });
      assert.equal(events.length, 1);
      assert.equal(events[0].state, 'firing');
      assert.equal(events[0].deployment, 'rb-canary');
      assert.equal(events[0].severity, 'critical');
      assert.equal(events[0].payload.source.kind, 'rollout');
      assert.equal(events[0].payload.details.rollout_event, 'rolled_back');
      assert.equal(events[0].payload.details.model, `rb@${version}`);
      assert.match(events[0].payload.details.reason, /error/);
      await waitFor('the webhook', async () => (hook.received.length > 0 ? true : undefined));
      const [request] = hook.received;
      const timestamp = String(request!.headers['x-plinth-timestamp']);
      const expected = 'sha256=' + createHmac('sha256', SECRET).update(Buffer.concat([Buffer.from(`${timestamp}.`), request!.raw])).digest('hex');
      assert.equal(request!.headers['x-plinth-signature'], expected);
      const payload = JSON.parse(request!.raw.toString('utf8'));
      assert.equal(payload.event_id, events[0].id);
      assert.equal(payload.rule.name, 'rollbacks');
      const delivered = await waitFor('the delivery record', async () => {
        const reply = await server.request('GET', `/api/v1/alerts/events/${events[0].id}`);
        return reply.body.deliveries[0]?.status === 'delivered' ? reply.body : undefined;
      });
      assert.equal(delivered.deliveries[0].response_status, 204);
      const rules = await server.request('GET', '/api/v1/alerts/rules/rollbacks');
      assert.equal(rules.body.state, 'firing');
    });

    if (backend === 'sqlite') {
      test('the CLI creates, lists and deletes rules and reads the history', async () => {
        const env = { url: server.url, token: server.adminToken };
        const created = await runCli(['alerts', 'rules', 'create', 'cli-rule', '--metric', 'performance.accuracy', '--comparison', 'lt', '--threshold', '0.9', '--for-seconds', '300', '--deployment', 'fraud', '--severity', 'info', '--webhook-url', 'https://example.com/h', '--webhook-secret', SECRET], env);
        assert.equal(created.code, 0, created.stderr);
        assert.match(created.stdout, /condition:\s+performance\.accuracy < 0\.9 for 300s/);
        assert.ok(!created.stdout.includes(SECRET));
        const bad = await runCli(['alerts', 'rules', 'create', 'cli-bad', '--metric', 'm', '--comparison', 'gt', '--threshold', 'lots'], env);
        assert.equal(bad.code, 2, bad.stderr);
        const listed = await runCli(['--json', 'alerts', 'rules', 'list'], env);
        assert.equal(listed.code, 0, listed.stderr);
        const rule = JSON.parse(listed.stdout).find((r: { name: string }) => r.name === 'cli-rule');
        assert.deepEqual([rule.metric, rule.comparison, rule.threshold, rule.for_seconds, rule.severity, rule.webhook_secret_set], ['performance.accuracy', 'lt', 0.9, 300, 'info', true]);
        const table = await runCli(['alerts', 'rules', 'list'], env);
        assert.match(table.stdout, /cli-rule\s+fraud\s+performance\.accuracy < 0\.9 for 300s\s+info\s+inactive\s+signed/);
        const events = await runCli(['alerts', 'events', '--rule', 'missing-any', '--state', 'firing'], env);
        assert.equal(events.code, 0, events.stderr);
        assert.match(events.stdout, /missing-any\s+beta\s+firing/);
        assert.doesNotMatch(events.stdout, /resolved/);
        const deleted = await runCli(['alerts', 'rules', 'delete', 'cli-rule'], env);
        assert.equal(deleted.code, 0, deleted.stderr);
        const missing = await runCli(['alerts', 'rules', 'delete', 'cli-rule'], env);
        assert.equal(missing.code, 3);
        assert.match(missing.stderr, /ALERT_RULE_NOT_FOUND/);
      });
    }
  });
}
