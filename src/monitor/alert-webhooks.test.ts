// Webhook delivery against real local HTTP receivers, on both database backends: the signature is
// checked byte for byte with an HMAC computed here over the raw bytes received; a receiver that
// fails twice (500) and then accepts sees three attempts spaced by growing delays, all recorded;
// an unreachable receiver is given up after the maximum attempts while other deliveries go on; a
// receiver that never answers times out; and a pending delivery left by a stopped sender is
// picked up by the next one.
import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SYSTEM_ACTOR } from '../auth/index.js';
import { openDatabase, type Database, type Db } from '../store/index.js';
import { BACKENDS } from '../../test/helpers/server.js';
import { createPostgresDatabase } from '../../test/helpers/postgres.js';
import { AlertService } from './alerts.js';
import { createAlertRule } from './alert-rules.js';

const SECRET = 'whsec-0123456789abcdef';

interface Received {
  at: number;
  headers: http.IncomingHttpHeaders;
  raw: Buffer;
}

/** A receiver answering each request with the next status of `statuses` (the last one repeats); `hang` never answers. */
async function receiver(statuses: Array<number | 'hang'>): Promise<{ url: string; received: Received[]; close(): Promise<void> }> {
  const received: Received[] = [];
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (c: Buffer) => chunks.push(c));
    request.on('end', () => {
      received.push({ at: Date.now(), headers: request.headers, raw: Buffer.concat(chunks) });
      const status = statuses[Math.min(received.length - 1, statuses.length - 1)]!;
      if (status === 'hang') return;
      response.writeHead(status, { 'content-type': 'text/plain' }).end(status === 200 ? 'ok' : 'nope');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/plinth?team=ml`,
    received,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 8000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function attemptsOf(db: Db, rule: string) {
  return db
    .selectFrom('alert_deliveries as d')
    .innerJoin('alert_events as e', 'e.id', 'd.event_id')
    .innerJoin('alert_rules as r', 'r.id', 'e.rule_id')
    .select(['d.attempt', 'd.status', 'd.response_status', 'd.error', 'd.at', 'd.next_attempt_at', 'e.id as event_id'])
    .where('r.name', '=', rule)
    .orderBy('d.attempt', 'asc')
    .execute();
}

function fire(service: AlertService, deployment: string, value = 1) {
  return service.evaluate({ deployment, monitor_id: 'm', monitor_name: 'quality', kind: 'quality', metrics: { 'quality.missing_rate': value }, computed_at: Date.now() });
}

for (const backend of BACKENDS) {
  describe(`alert webhooks (${backend})`, () => {
    let database: Database;
    let dataDir: string;
    before(async () => {
      dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'plinth-webhooks-'));
      database = await openDatabase({ dataDir, ...(backend === 'postgres' ? { databaseUrl: await createPostgresDatabase() } : {}) });
    });
    after(async () => {
      await database?.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    });

    it('signs the exact body, retries a failing receiver with growing delays and records every attempt', async (t) => {
      const db = database.db;
      const hook = await receiver([500, 500, 200]);
      t.after(() => hook.close());
      const service = new AlertService({ db, webhooks: { baseDelayMs: 150, maxAttempts: 5, pollMs: 50 } });
      service.start();
      t.after(() => service.stop());
      await createAlertRule(db, SYSTEM_ACTOR, { name: 'retry', deployment: 'retry', metric: 'quality.missing_rate', comparison: 'gt', threshold: 0.5, severity: 'critical', webhook_url: hook.url, webhook_secret: SECRET });
      const [event] = await fire(service, 'retry');
      assert.equal(event?.state, 'firing');

      const attempts = await waitFor('the third attempt to be delivered', async () => {
        const rows = await attemptsOf(db, 'retry');
        return rows.some((r) => r.status === 'delivered') ? rows : undefined;
      });
      assert.deepEqual(attempts.map((a) => [a.attempt, a.status, a.response_status, a.error]), [
        [1, 'failed', 500, 'HTTP 500'],
        [2, 'failed', 500, 'HTTP 500'],
        [3, 'delivered', 200, null],
      ]);
      assert.ok(attempts.every((a) => a.next_attempt_at === null));
      // Delays: 150 ms after attempt 1, 300 ms after attempt 2 (base·2^(n-1)), measured at both ends.
      const recorded = [attempts[1]!.at - attempts[0]!.at, attempts[2]!.at - attempts[1]!.at];
      const arrived = [hook.received[1]!.at - hook.received[0]!.at, hook.received[2]!.at - hook.received[1]!.at];
      for (const gaps of [recorded, arrived]) {
        assert.ok(gaps[0]! >= 150 && gaps[0]! < 1000, `first delay ${gaps[0]} ms`);
        assert.ok(gaps[1]! >= 300 && gaps[1]! < 1500, `second delay ${gaps[1]} ms`);
        assert.ok(gaps[1]! > gaps[0]!, `delays grow: ${gaps}`);
      }
      assert.equal(hook.received.length, 3);

      const bodies = new Set(hook.received.map((r) => r.raw.toString('utf8')));
      assert.equal(bodies.size, 1, 'every attempt sends the same body');
      const stored = await db.selectFrom('alert_events').select('payload').where('id', '=', event!.id).executeTakeFirstOrThrow();
      for (const [i, request] of hook.received.entries()) {
        assert.equal(request.headers['content-type'], 'application/json');
        assert.equal(request.headers['x-plinth-event'], String(event!.id));
        assert.equal(request.headers['x-plinth-attempt'], String(i + 1));
        const timestamp = request.headers['x-plinth-timestamp'] as string;
        assert.match(timestamp, /^\d+$/);
        assert.ok(Math.abs(Number(timestamp) - request.at / 1000) < 5, 'the timestamp is the attempt time in seconds');
        // Independently: HMAC-SHA256 over the timestamp, a dot and the raw bytes as received.
        const expected = Buffer.from('sha256=' + createHmac('sha256', SECRET).update(Buffer.concat([Buffer.from(timestamp + '.', 'utf8'), request.raw])).digest('hex'), 'utf8');
        const given = Buffer.from(String(request.headers['x-plinth-signature']), 'utf8');
        assert.equal(given.length, expected.length);
        assert.ok(timingSafeEqual(given, expected), 'signature matches byte for byte');
        // A body changed by one byte would not verify.
        const tampered = Buffer.from(request.raw);
        tampered[tampered.length - 2] = tampered[tampered.length - 2]! ^ 1;
        assert.notEqual('sha256=' + createHmac('sha256', SECRET).update(timestamp + '.').update(tampered).digest('hex'), given.toString());
        assert.equal(request.raw.toString('utf8'), stored.payload, 'the body is the stored payload, byte for byte');
      }
      const body = JSON.parse(hook.received[0]!.raw.toString('utf8'));
      assert.equal(body.event_id, event!.id);
      assert.equal(body.state, 'firing');
      assert.equal(body.deployment, 'retry');
      assert.equal(body.value, 1);
      assert.deepEqual(body.rule, { id: body.rule.id, name: 'retry', metric: 'quality.missing_rate', comparison: 'gt', threshold: 0.5, for_seconds: 0, severity: 'critical' });
      assert.ok(!hook.received[0]!.raw.toString('utf8').includes(SECRET), 'the secret is never sent');
    });

    it('gives up on an unreachable receiver after the maximum attempts while other deliveries go through', async (t) => {
      const db = database.db;
      const good = await receiver([200]);
      t.after(() => good.close());
      const port = await closedPort();
      const service = new AlertService({ db, webhooks: { baseDelayMs: 20, maxAttempts: 4, pollMs: 50 } });
      service.start();
      t.after(() => service.stop());
      await createAlertRule(db, SYSTEM_ACTOR, { name: 'nowhere', deployment: 'nowhere', metric: 'quality.missing_rate', comparison: 'gt', threshold: 0.5, webhook_url: `http://127.0.0.1:${port}/hook`, webhook_secret: SECRET });
      await createAlertRule(db, SYSTEM_ACTOR, { name: 'somewhere', deployment: 'somewhere', metric: 'quality.missing_rate', comparison: 'gt', threshold: 0.5, webhook_url: good.url });
      const started = Date.now();
      await fire(service, 'nowhere');
      await fire(service, 'somewhere');
      assert.ok(Date.now() - started < 2000, 'evaluation does not wait for webhooks');
      const attempts = await waitFor('giving up', async () => {
        const rows = await attemptsOf(db, 'nowhere');
        return rows.some((r) => r.status === 'gave_up') ? rows : undefined;
      });
      assert.deepEqual(attempts.map((a) => [a.attempt, a.status, a.response_status]), [
        [1, 'failed', null],
        [2, 'failed', null],
        [3, 'failed', null],
        [4, 'gave_up', null],
      ]);
      assert.ok(attempts.every((a) => /ECONNREFUSED/.test(a.error ?? '')), JSON.stringify(attempts.map((a) => a.error)));
      assert.equal((await attemptsOf(db, 'somewhere'))[0]?.status, 'delivered');
      assert.equal(good.received.length, 1);
      assert.equal(good.received[0]!.headers['x-plinth-signature'], undefined, 'no secret, no signature');
      // Nothing more is attempted after giving up.
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.equal((await attemptsOf(db, 'nowhere')).length, 4);
    });

    it('times out a receiver that never answers', async (t) => {
      const db = database.db;
      const hang = await receiver(['hang']);
      t.after(() => hang.close());
      const service = new AlertService({ db, webhooks: { baseDelayMs: 20, maxAttempts: 1, timeoutMs: 200, pollMs: 50 } });
      service.start();
      t.after(() => service.stop());
      await createAlertRule(db, SYSTEM_ACTOR, { name: 'hangs', deployment: 'hangs', metric: 'quality.missing_rate', comparison: 'gt', threshold: 0.5, webhook_url: hang.url });
      await fire(service, 'hangs');
      const [attempt] = await waitFor('the timeout', async () => {
        const rows = await attemptsOf(db, 'hangs');
        return rows[0]?.status === 'gave_up' ? rows : undefined;
      });
      assert.equal(attempt!.error, 'timed out after 200 ms');
      assert.equal(hang.received.length, 1);
    });

    it('delivers what a stopped sender left pending when the next one starts', async (t) => {
      const db = database.db;
      const hook = await receiver([200]);
      t.after(() => hook.close());
      await createAlertRule(db, SYSTEM_ACTOR, { name: 'restart', deployment: 'restart', metric: 'quality.missing_rate', comparison: 'gt', threshold: 0.5, webhook_url: hook.url, webhook_secret: SECRET });
      const first = new AlertService({ db, webhooks: { pollMs: 50 } }); // never started: the process "died" before sending
      const [event] = await fire(first, 'restart');
      await first.stop();
      assert.equal((await attemptsOf(db, 'restart'))[0]?.status, 'pending');
      assert.equal(hook.received.length, 0);
      const second = new AlertService({ db, webhooks: { pollMs: 50 } });
      second.start();
      t.after(() => second.stop());
      await waitFor('delivery after restart', async () => ((await attemptsOf(db, 'restart'))[0]?.status === 'delivered' ? true : undefined));
      assert.equal(hook.received.length, 1);
      assert.equal(JSON.parse(hook.received[0]!.raw.toString('utf8')).event_id, event!.id);
    });
  });
}
