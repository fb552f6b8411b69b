// The prediction log's writer against both database backends: group commit (many concurrent appends,
// few transactions, every row visible once its append resolved), failures answered with 503 and never
// a hang, fast mode, deterministic sampling, and sensitive features hashed or dropped.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { PredictionLog, readableTensorsJson, redactionOf, SensitiveMasker, tensorMapJson } from '../src/predlog/index.js';
import type { FeatureSchema } from '../src/registry/index.js';
import { BACKENDS, type Backend } from './helpers/server.js';
import { fp32, MATRIX_MODEL, openTestStore, plainRecord, signature, type TestStore } from './fixtures/predlog-common.js';

const KEY = 'test-hash-key';

function expectedHmac(value: string): string {
  return 'hmac:' + createHmac('sha256', KEY).update(value).digest('hex').slice(0, 16);
}

// SQLite through the query layer, SQLite with the writer thread, PostgreSQL.
const VARIANTS: Array<{ backend: Backend; writerThread: boolean }> = BACKENDS.flatMap((backend): Array<{ backend: Backend; writerThread: boolean }> => (backend === 'sqlite' ? [{ backend, writerThread: false }, { backend, writerThread: true }] : [{ backend, writerThread: false }]));

for (const { backend, writerThread } of VARIANTS) {
  describe(`prediction log writer (${backend}${writerThread ? ', writer thread' : ''})`, () => {
    let store: TestStore;
    before(async () => {
      store = await openTestStore(backend);
    });
    after(async () => store?.close());
    /** Options every log of this variant takes. */
    const base = () => ({ db: store.database.db , ...(writerThread ? { sqliteFile: path.join(store.dataDir, 'plinth.db') } : {}) });

    const count = async (deployment: string) =>
      Number((await store.database.db.selectFrom('prediction_log').select((eb) => eb.fn.countAll().as('n')).where('deployment', '=', deployment).executeTakeFirstOrThrow()).n);

    it('group-commits concurrent appends: one transaction for a burst, every row visible when its append resolves', async () => {
      const log = new PredictionLog({ ...base(), hashKey: KEY });
      const n = 1000;
      const seenAtResolve: number[] = [];
      const appends = Array.from({ length: n }, (_, i) =>
        log.append(plainRecord('burst', `b-${i}`, i)).then(async () => {
          // Checked for a few: the row is already committed when the promise resolves.
          if (i % 250 === 0) {
            const row = await store.database.db.selectFrom('prediction_log').select('request_id').where('deployment', '=', 'burst').where('request_id', '=', `b-${i}`).executeTakeFirst();
            seenAtResolve.push(row ? 1 : 0);
          }
        }),
      );
      await Promise.all(appends);
      assert.deepEqual(seenAtResolve, [1, 1, 1, 1]);
      assert.equal(await count('burst'), n);
      const stats = log.stats();
      // 1000 rows appended in one event-loop turn: one batch, written as 4 statements of ≤256 rows in one transaction.
      assert.equal(stats.batches, 1);
      assert.equal(stats.written, n);
      await log.close();
    });

    it('rows appended while a flush runs form the next batch', async () => {
      const log = new PredictionLog({ ...base(), hashKey: KEY });
      const first = Array.from({ length: 100 }, (_, i) => log.append(plainRecord('waves', `w1-${i}`, i)));
      // Let the first flush start, then append a second wave.
      await new Promise((resolve) => setImmediate(resolve));
      const second = Array.from({ length: 100 }, (_, i) => log.append(plainRecord('waves', `w2-${i}`, i)));
      await Promise.all([...first, ...second]);
      assert.equal(log.stats().batches, 2);
      assert.equal(await count('waves'), 200);
      await log.close();
    });

    it('stores inputs and outputs as JSON nested by shape, and the other columns as given', async () => {
      const log = new PredictionLog({ ...base(), hashKey: KEY });
      await log.append({
        deployment: 'shapes',
        requestId: 'r-1',
        role: 'shadow',
        model: { ...MATRIX_MODEL, featureSchema: null },
        inputs: {
          x: fp32([2, 2], [1, 2.5, -3, 4]),
          ids: { datatype: 'INT64', shape: [3], data: BigInt64Array.from([1n, -2n, 9007199254740993n]) },
          words: { datatype: 'BYTES', shape: [1, 2], data: ['a"b', 'ü'] },
          flags: { datatype: 'BOOL', shape: [2], data: Uint8Array.from([1, 0]) },
          odd: fp32([1], [NaN]),
        },
        outputs: null,
        at: 1234.4,
        latencyMs: 7.25,
        status: 503,
        error: 'model not ready',
      });
      const row = await store.database.db.selectFrom('prediction_log').selectAll().where('deployment', '=', 'shapes').executeTakeFirstOrThrow();
      // Numeric tensors are stored as their bytes; readers get them nested by shape.
      assert.match(row.inputs, /"x":\{"dt":"FP32","shape":\[2,2\],"b64":"/);
      assert.equal(readableTensorsJson(row.inputs), '{"x":[[1,2.5],[-3,4]],"ids":[1,-2,9007199254740993],"words":[["a\\"b","ü"]],"flags":[true,false],"odd":["NaN"]}');
      assert.deepEqual(
        { role: row.role, model_name: row.model_name, model_version: row.model_version, at: Number(row.at), latency_ms: row.latency_ms, status: row.status, outputs: row.outputs, error: row.error },
        { role: 'shadow', model_name: 'fraud', model_version: 3, at: 1234, latency_ms: 7.25, status: 503, outputs: null, error: 'model not ready' },
      );
      await log.close();
    });

    it('hashes a sensitive column of a matrix input with the keyed HMAC, or drops it', async () => {
      const hashing = new PredictionLog({ ...base(), hashKey: KEY });
      const dropping = new PredictionLog({ ...base(), sensitive: 'drop' });
      const inputs = { x: fp32([2, 3], [30, 1234567, 5000, 41, 7654321, 6000]) };
      const outputs = { score: fp32([2, 1], [0.5, 0.25]) };
      const common = { role: 'primary' as const, model: MATRIX_MODEL, inputs, outputs, at: 1, latencyMs: 1, status: 200 };
      await hashing.append({ ...common, deployment: 'sensitive', requestId: 'h' });
      await dropping.append({ ...common, deployment: 'sensitive', requestId: 'd' });
      const rows = await store.database.db.selectFrom('prediction_log').select(['request_id', 'inputs', 'outputs']).where('deployment', '=', 'sensitive').orderBy('request_id').execute();
      assert.deepEqual(JSON.parse(readableTensorsJson(rows[1]!.inputs)), { x: [[30, expectedHmac('1234567'), 5000], [41, expectedHmac('7654321'), 6000]] });
      assert.deepEqual(JSON.parse(readableTensorsJson(rows[0]!.inputs)), { x: [[30, null, 5000], [41, null, 6000]] });
      assert.ok(!rows[0]!.inputs.includes('1234567') && !rows[1]!.inputs.includes('1234567'));
      // Outputs are not features: kept as they are.
      assert.deepEqual(JSON.parse(readableTensorsJson(rows[1]!.outputs!)), { score: [[0.5], [0.25]] });
      // The caller's tensors are not changed.
      assert.equal(inputs.x.data[1], 1234567);
      await hashing.close();
      await dropping.close();
    });

    it('hashes a sensitive feature that has an input of its own', async () => {
      const log = new PredictionLog({ ...base(), hashKey: KEY });
      const model = {
        name: 'people',
        version: 1,
        signature: signature([{ name: 'age', datatype: 'INT64', shape: [-1] }, { name: 'email', datatype: 'BYTES', shape: [-1, 1] }]),
        featureSchema: { features: [{ name: 'age', type: 'numeric', nullable: false, sensitive: false }, { name: 'email', type: 'text', nullable: false, sensitive: true }] } as FeatureSchema,
      };
      await log.append({
        deployment: 'per-input',
        requestId: 'p',
        role: 'primary',
        model,
        inputs: { age: { datatype: 'INT64', shape: [2], data: BigInt64Array.from([33n, 44n]) }, email: { datatype: 'BYTES', shape: [2, 1], data: ['a@x.org', 'b@y.org'] } },
        outputs: null,
        at: 1,
        latencyMs: 1,
        status: 500,
        error: 'boom',
      });
      const row = await store.database.db.selectFrom('prediction_log').select('inputs').where('deployment', '=', 'per-input').executeTakeFirstOrThrow();
      assert.deepEqual(JSON.parse(readableTensorsJson(row.inputs)), { age: [33, 44], email: [[expectedHmac('a@x.org')], [expectedHmac('b@y.org')]] });
      await log.close();
    });

    it('masks every input when the feature schema cannot be mapped onto the inputs', () => {
      // Two features cannot be the columns of a [-1, 5] input: the plan is unusable.
      const model = {
        signature: signature([{ name: 'x', datatype: 'FP32', shape: [-1, 5] }]),
        featureSchema: { features: [{ name: 'a', type: 'numeric', nullable: false, sensitive: true }, { name: 'b', type: 'numeric', nullable: false, sensitive: false }] } as FeatureSchema,
      };
      const text = tensorMapJson({ x: fp32([1, 5], [1, 2, 3, 4, 5]) }, redactionOf(model.signature, model.featureSchema), new SensitiveMasker('drop', 'k'));
      assert.equal(text, '{"x":[[null,null,null,null,null]]}');
    });

    it('samples per request id: deterministic, primary and shadow together, at the configured rate', async () => {
      const log = new PredictionLog({ ...base(), hashKey: KEY, sampleRate: 0.3 });
      const n = 20_000;
      let kept = 0;
      for (let i = 0; i < n; i++) {
        const id = `req-${i}`;
        const s = log.sampled(id);
        assert.equal(log.sampled(id), s);
        if (s) kept++;
      }
      // Binomial(20000, 0.3): mean 6000, sd √(20000·0.3·0.7) ≈ 64.8; 5 sd ≈ 324.
      assert.ok(Math.abs(kept - 6000) < 324, `kept ${kept} of ${n}`);
      const appends: Promise<void>[] = [];
      for (let i = 0; i < 400; i++) {
        appends.push(log.append(plainRecord('sampled', `s-${i}`, i)));
        appends.push(log.append(plainRecord('sampled', `s-${i}`, i, { role: 'shadow' })));
      }
      await Promise.all(appends);
      const rows = await store.database.db.selectFrom('prediction_log').select('request_id').where('deployment', '=', 'sampled').execute();
      const perId = new Map<string, number>();
      for (const r of rows) perId.set(r.request_id, (perId.get(r.request_id) ?? 0) + 1);
      assert.ok([...perId.values()].every((c) => c === 2), 'a request is kept with both its rows or not at all');
      const expected = Array.from({ length: 400 }, (_, i) => `s-${i}`).filter((id) => log.sampled(id));
      assert.deepEqual([...perId.keys()].sort(), expected.sort());
      assert.equal(log.stats().sampledOut, 2 * (400 - expected.length));
      const all = new PredictionLog({ ...base(), hashKey: KEY, sampleRate: 1 });
      const none = new PredictionLog({ ...base(), hashKey: KEY, sampleRate: 0 });
      assert.ok(all.sampled('x') && !none.sampled('x'));
      await Promise.all([log.close(), all.close(), none.close()]);
    });

    it('rejects the appends of a batch the database refused with PREDICTION_LOG_UNAVAILABLE (503), then recovers', async () => {
      const log = new PredictionLog({ ...base(), hashKey: KEY });
      await sql`alter table prediction_log rename to prediction_log_away`.execute(store.database.db);
      let results: PromiseSettledResult<void>[];
      try {
        results = await Promise.allSettled([log.append(plainRecord('failing', 'f-1', 1)), log.append(plainRecord('failing', 'f-2', 2))]);
      } finally {
        await sql`alter table prediction_log_away rename to prediction_log`.execute(store.database.db);
      }
      for (const result of results) {
        assert.equal(result.status, 'rejected');
        const reason = (result as PromiseRejectedResult).reason;
        assert.equal(reason.code, 'PREDICTION_LOG_UNAVAILABLE');
        assert.equal(reason.status, 503);
      }
      assert.equal(log.stats().failed, 2);
      await log.append(plainRecord('failing', 'f-3', 3));
      assert.deepEqual((await store.database.db.selectFrom('prediction_log').select('request_id').where('deployment', '=', 'failing').execute()).map((r) => r.request_id), ['f-3']);
      await log.close();
      await assert.rejects(log.append(plainRecord('failing', 'f-4', 4)), { code: 'PREDICTION_LOG_UNAVAILABLE' });
    });

    it('refuses appends beyond the pending-row bound instead of queueing without end', async () => {
      const log = new PredictionLog({ ...base(), hashKey: KEY, maxPendingRows: 3 });
      const results = await Promise.allSettled(Array.from({ length: 5 }, (_, i) => log.append(plainRecord('bounded', `q-${i}`, i))));
      assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'rejected']);
      assert.equal(await count('bounded'), 3);
      await log.close();
    });

    it('fast mode: append resolves at once, rows follow within the flush interval, close writes the rest', async () => {
      const log = new PredictionLog({ ...base(), hashKey: KEY, mode: 'fast', fastFlushMs: 50 });
      for (let i = 0; i < 10; i++) await log.append(plainRecord('fast', `fa-${i}`, i));
      assert.equal(await count('fast'), 0, 'nothing is written before the interval');
      // Written by the timer, not by a later append or close: poll (a writer thread may still be starting on a busy machine).
      for (const deadline = Date.now() + 5000; (await count('fast')) < 10 && Date.now() < deadline; ) await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(await count('fast'), 10);
      for (let i = 10; i < 15; i++) await log.append(plainRecord('fast', `fa-${i}`, i));
      await log.close();
      assert.equal(await count('fast'), 15);
    });

    if (backend === 'postgres') {
      it('an append whose batch cannot commit in time is rejected with 503, not left hanging', async () => {
        const log = new PredictionLog({ ...base(), hashKey: KEY, flushTimeoutMs: 300 });
        // Another session holds the table locked, so the insert waits.
        const locker = await store.database.db.connection().execute(async (connection) => {
          await sql`begin`.execute(connection);
          await sql`lock table prediction_log in access exclusive mode`.execute(connection);
          const started = Date.now();
          const outcome = await log.append(plainRecord('locked', 'l-1', 1)).then(() => 'resolved', (e: { code: string }) => e.code);
          const waited = Date.now() - started;
          await sql`commit`.execute(connection);
          return { outcome, waited };
        });
        assert.equal(locker.outcome, 'PREDICTION_LOG_UNAVAILABLE');
        assert.ok(locker.waited >= 250 && locker.waited < 5000, `waited ${locker.waited} ms`);
        await log.close();
      });
    }
  });
}
