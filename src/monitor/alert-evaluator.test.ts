// Alert evaluation on both database backends: the pending → firing → resolved state machine with
// for_seconds on the results' own clock, one firing event per episode (also under concurrent
// evaluation), per-deployment state of rules for all deployments, comparisons at the threshold,
// rollout rollbacks as episodes, and deliveries queued only for firing/resolved of webhook rules.
// Every expected event list is written out by hand from the rule and the input sequence.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SYSTEM_ACTOR } from '../auth/index.js';
import { openDatabase, type Database, type Db } from '../store/index.js';
import { BACKENDS } from '../../test/helpers/server.js';
import { createPostgresDatabase } from '../../test/helpers/postgres.js';
import { alertInputOfRollout, evaluateAlerts, type AlertInput } from './alert-evaluator.js';
import { createAlertRule, updateAlertRule } from './alert-rules.js';

const T = 1_700_000_000_000;
const S = 1000;

function input(deployment: string, at: number, metrics: Record<string, number>): AlertInput {
  return { deployment, monitor_id: 'm1', monitor_name: 'drift-hourly', kind: 'drift', metrics, computed_at: at };
}

async function events(db: Db, rule: string): Promise<Array<[string, string, number, number]>> {
  const rows = await db
    .selectFrom('alert_events as e')
    .innerJoin('alert_rules as r', 'r.id', 'e.rule_id')
    .select(['e.state', 'e.deployment', 'e.value', 'e.at'])
    .where('r.name', '=', rule)
    .orderBy('e.id', 'asc')
    .execute();
  return rows.map((r) => [r.state, r.deployment!, r.value!, r.at]);
}

async function ruleState(db: Db, rule: string): Promise<[string, number | null]> {
  const row = await db.selectFrom('alert_rules').select(['state', 'pending_since']).where('name', '=', rule).executeTakeFirstOrThrow();
  return [row.state, row.pending_since];
}

for (const backend of BACKENDS) {
  describe(`alert evaluation (${backend})`, () => {
    let database: Database;
    let dataDir: string;
    before(async () => {
      dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'plinth-alerts-'));
      database = await openDatabase({ dataDir, ...(backend === 'postgres' ? { databaseUrl: await createPostgresDatabase() } : {}) });
    });
    after(async () => {
      await database?.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    });

    it('goes pending, fires after for_seconds, fires once per episode, resolves, and clears a pending that never fired', async () => {
      const db = database.db;
      await createAlertRule(db, SYSTEM_ACTOR, { name: 'share-high', deployment: 'fraud', metric: 'drift.share', comparison: 'gt', threshold: 0.5, for_seconds: 60 });
      const steps: Array<[number, number | undefined, string, number | null]> = [
        // [time, value (undefined: metric absent), rule state after, pending_since after]
        [T, 0.6, 'pending', T],
        [T + 30 * S, 0.7, 'pending', T],
        [T + 59 * S, 0.9, 'pending', T], // 59 s < 60 s
        [T + 60 * S, 0.8, 'firing', null], // 60 s held: fires
        [T + 90 * S, 0.9, 'firing', null], // still firing: no second event
        [T + 100 * S, undefined, 'firing', null], // metric absent: unchanged
        [T + 120 * S, 0.5, 'inactive', null], // 0.5 is not > 0.5: resolved
        [T + 150 * S, 0.3, 'inactive', null],
        [T + 180 * S, 0.55, 'pending', T + 180 * S],
        [T + 170 * S, 0.1, 'pending', T + 180 * S], // older than the newest event: ignored
        [T + 200 * S, 0.2, 'inactive', null], // cleared before firing
      ];
      for (const [at, value, state, since] of steps) {
        const metrics: Record<string, number> = value === undefined ? { 'quality.missing_rate': 0.9 } : { 'drift.share': value };
        await evaluateAlerts(db, input('fraud', at, metrics));
        assert.deepEqual(await ruleState(db, 'share-high'), [state, since], `after t=${(at - T) / S}s`);
      }
      assert.deepEqual(await events(db, 'share-high'), [
        ['pending', 'fraud', 0.6, T],
        ['firing', 'fraud', 0.8, T + 60 * S],
        ['resolved', 'fraud', 0.5, T + 120 * S],
        ['pending', 'fraud', 0.55, T + 180 * S],
        ['inactive', 'fraud', 0.2, T + 200 * S],
      ]);
      const firing = await db.selectFrom('alert_events').select('payload').where('state', '=', 'firing').where('value', '=', 0.8).executeTakeFirstOrThrow();
      const payload = JSON.parse(firing.payload);
      assert.equal(payload.since, T, 'a firing event says when the condition began to hold');
      assert.equal(payload.rule.name, 'share-high');
      assert.deepEqual(payload.source, { kind: 'drift', monitor_id: 'm1', monitor: 'drift-hourly' });
      assert.equal(typeof payload.event_id, 'number');
      const resolved = JSON.parse((await db.selectFrom('alert_events').select('payload').where('state', '=', 'resolved').where('value', '=', 0.5).executeTakeFirstOrThrow()).payload);
      assert.equal(resolved.since, T + 60 * S, 'a resolved event says when the alert fired');
    });

    it('ignores other deployments and disabled rules; for_seconds 0 fires at once; comparisons at the threshold', async () => {
      const db = database.db;
      await createAlertRule(db, SYSTEM_ACTOR, { name: 'gt-now', deployment: 'ads', metric: 'x', comparison: 'gt', threshold: 1 });
      await createAlertRule(db, SYSTEM_ACTOR, { name: 'gte-now', deployment: 'ads', metric: 'x', comparison: 'gte', threshold: 1 });
      await createAlertRule(db, SYSTEM_ACTOR, { name: 'lt-now', deployment: 'ads', metric: 'x', comparison: 'lt', threshold: 1 });
      await createAlertRule(db, SYSTEM_ACTOR, { name: 'lte-now', deployment: 'ads', metric: 'x', comparison: 'lte', threshold: 1 });
      await createAlertRule(db, SYSTEM_ACTOR, { name: 'off', deployment: 'ads', metric: 'x', comparison: 'gte', threshold: 0, enabled: false });
      await createAlertRule(db, SYSTEM_ACTOR, { name: 'elsewhere', deployment: 'search', metric: 'x', comparison: 'gte', threshold: 0 });
      await evaluateAlerts(db, input('ads', T, { x: 1 }));
      assert.deepEqual(await events(db, 'gt-now'), []);
      assert.deepEqual(await events(db, 'gte-now'), [['firing', 'ads', 1, T]]);
      assert.deepEqual(await events(db, 'lt-now'), []);
      assert.deepEqual(await events(db, 'lte-now'), [['firing', 'ads', 1, T]]);
      assert.deepEqual(await events(db, 'off'), []);
      assert.deepEqual(await events(db, 'elsewhere'), []);
      await evaluateAlerts(db, input('ads', T + S, { x: 0.5 }));
      assert.deepEqual(await events(db, 'gte-now'), [['firing', 'ads', 1, T], ['resolved', 'ads', 0.5, T + S]]);
      assert.deepEqual(await events(db, 'lt-now'), [['firing', 'ads', 0.5, T + S]]);
      assert.deepEqual(await events(db, 'lte-now'), [['firing', 'ads', 1, T]], 'still firing: no second event');
    });

    it('keeps one state per deployment for a rule on every deployment', async () => {
      const db = database.db;
      await createAlertRule(db, SYSTEM_ACTOR, { name: 'all-missing', metric: 'quality.missing_rate', comparison: 'gte', threshold: 0.1, for_seconds: 10 });
      await evaluateAlerts(db, input('a', T, { 'quality.missing_rate': 0.2 }));
      assert.deepEqual(await ruleState(db, 'all-missing'), ['pending', T]);
      await evaluateAlerts(db, input('b', T + 5 * S, { 'quality.missing_rate': 0.3 }));
      assert.deepEqual(await ruleState(db, 'all-missing'), ['pending', T], 'the earliest pending deployment');
      await evaluateAlerts(db, input('a', T + 10 * S, { 'quality.missing_rate': 0.25 })); // a: held 10 s → fires
      await evaluateAlerts(db, input('b', T + 12 * S, { 'quality.missing_rate': 0.3 })); // b: held 7 s → still pending
      assert.deepEqual(await ruleState(db, 'all-missing'), ['firing', null]);
      await evaluateAlerts(db, input('b', T + 15 * S, { 'quality.missing_rate': 0.3 })); // b: held 10 s → fires
      await evaluateAlerts(db, input('a', T + 20 * S, { 'quality.missing_rate': 0 })); // a resolves, b still firing
      assert.deepEqual(await ruleState(db, 'all-missing'), ['firing', null]);
      await evaluateAlerts(db, input('b', T + 21 * S, { 'quality.missing_rate': 0.05 }));
      assert.deepEqual(await ruleState(db, 'all-missing'), ['inactive', null]);
      assert.deepEqual(await events(db, 'all-missing'), [
        ['pending', 'a', 0.2, T],
        ['pending', 'b', 0.3, T + 5 * S],
        ['firing', 'a', 0.25, T + 10 * S],
        ['firing', 'b', 0.3, T + 15 * S],
        ['resolved', 'a', 0, T + 20 * S],
        ['resolved', 'b', 0.05, T + 21 * S],
      ]);
    });

    it('ends open episodes when a rule is disabled or retargeted, and not when its threshold changes', async () => {
      const db = database.db;
      await createAlertRule(db, SYSTEM_ACTOR, { name: 'changing', metric: 'm', comparison: 'gt', threshold: 0, for_seconds: 30, webhook_url: 'https://example.com/h' });
      await evaluateAlerts(db, input('p', T, { m: 1 }));
      await evaluateAlerts(db, input('p', T + 30 * S, { m: 1 })); // p fires
      await evaluateAlerts(db, input('q', T + 31 * S, { m: 1 })); // q pending
      await updateAlertRule(db, SYSTEM_ACTOR, 'changing', { threshold: 0.5 });
      assert.deepEqual(await ruleState(db, 'changing'), ['firing', null], 'a new threshold does not end the episode');
      assert.equal((await events(db, 'changing')).length, 3);
      const disabled = await updateAlertRule(db, SYSTEM_ACTOR, 'changing', { enabled: false });
      assert.equal(disabled.state, 'inactive');
      const rows = await db
        .selectFrom('alert_events as e')
        .innerJoin('alert_rules as r', 'r.id', 'e.rule_id')
        .select(['e.id', 'e.state', 'e.deployment', 'e.value', 'e.payload'])
        .where('r.name', '=', 'changing')
        .orderBy('e.id', 'asc')
        .execute();
      assert.deepEqual(rows.map((r) => [r.state, r.deployment, r.value]), [
        ['pending', 'p', 1],
        ['firing', 'p', 1],
        ['pending', 'q', 1],
        ['resolved', 'p', null],
        ['inactive', 'q', null],
      ]);
      assert.equal(JSON.parse(rows[3]!.payload).details.reason, 'rule disabled');
      assert.equal(JSON.parse(rows[3]!.payload).since, T + 30 * S);
      const deliveries = await db.selectFrom('alert_deliveries').select('event_id').where('event_id', 'in', rows.map((r) => Number(r.id))).orderBy('event_id', 'asc').execute();
      assert.deepEqual(deliveries.map((d) => Number(d.event_id)), [Number(rows[1]!.id), Number(rows[3]!.id)], 'the firing and the resolution are notified');
      await evaluateAlerts(db, input('p', T + 60 * S, { m: 1 }));
      assert.equal((await events(db, 'changing')).length, 5, 'a disabled rule is not evaluated');
    });

    it('fires once when the same firing result is evaluated many times at once', async () => {
      const db = database.db;
      await createAlertRule(db, SYSTEM_ACTOR, { name: 'race', deployment: 'race', metric: 'drift.share', comparison: 'gt', threshold: 0 });
      await Promise.all(Array.from({ length: 8 }, (_, i) => evaluateAlerts(db, input('race', T + i, { 'drift.share': 1 }))));
      assert.deepEqual((await events(db, 'race')).map((e) => e[0]), ['firing']);
    });

    it('queues a delivery for firing and resolved events of a rule with a webhook, and none for pending', async () => {
      const db = database.db;
      let woken = 0;
      await createAlertRule(db, SYSTEM_ACTOR, { name: 'hooked', deployment: 'hook', metric: 'm', comparison: 'gt', threshold: 0, for_seconds: 1, webhook_url: 'http://127.0.0.1:9/alerts', webhook_secret: 'a-secret-of-sixteen+' });
      const options = { now: () => 42, onQueued: () => woken++ };
      await evaluateAlerts(db, input('hook', T, { m: 1 }), options);
      await evaluateAlerts(db, input('hook', T + S, { m: 1 }), options);
      await evaluateAlerts(db, input('hook', T + 2 * S, { m: 0 }), options);
      const rows = await db
        .selectFrom('alert_deliveries as d')
        .innerJoin('alert_events as e', 'e.id', 'd.event_id')
        .select(['e.state', 'd.attempt', 'd.status', 'd.next_attempt_at'])
        .where('e.deployment', '=', 'hook')
        .orderBy('d.id', 'asc')
        .execute();
      assert.deepEqual(rows, [
        { state: 'firing', attempt: 1, status: 'pending', next_attempt_at: 42 },
        { state: 'resolved', attempt: 1, status: 'pending', next_attempt_at: 42 },
      ]);
      assert.equal(woken, 2);
    });

    it('turns each automatic rollback into its own firing episode, resolved by an automatic promotion', async () => {
      const db = database.db;
      await createAlertRule(db, SYSTEM_ACTOR, { name: 'rollbacks', metric: 'rollout.rolled_back', comparison: 'gte', threshold: 1, severity: 'critical' });
      const rollout = (type: 'step' | 'promoted' | 'rolled_back', revision: number) => ({ type, deployment: 'checkout', model: 'fraud@3', revision, reason: type === 'rolled_back' ? 'error rate 0.9 > 0.05' : null });
      assert.equal(alertInputOfRollout(rollout('step', 2), T), null);
      await evaluateAlerts(db, alertInputOfRollout(rollout('rolled_back', 3), T)!);
      await evaluateAlerts(db, alertInputOfRollout(rollout('rolled_back', 5), T + S)!);
      await evaluateAlerts(db, alertInputOfRollout(rollout('promoted', 7), T + 2 * S)!);
      assert.deepEqual(await events(db, 'rollbacks'), [
        ['firing', 'checkout', 1, T],
        ['resolved', 'checkout', 1, T + S],
        ['firing', 'checkout', 1, T + S],
        ['resolved', 'checkout', 0, T + 2 * S],
      ]);
      const first = JSON.parse((await db.selectFrom('alert_events').select('payload').where('state', '=', 'firing').where('deployment', '=', 'checkout').orderBy('id', 'asc').executeTakeFirstOrThrow()).payload);
      assert.equal(first.source.kind, 'rollout');
      assert.deepEqual(first.details, { rollout_event: 'rolled_back', model: 'fraud@3', revision: 3, reason: 'error rate 0.9 > 0.05' });
    });
  });
}
