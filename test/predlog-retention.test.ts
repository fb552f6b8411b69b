// Retention of the prediction log on both backends: rows older than the retention and rows beyond
// the row limit are deleted (oldest first) with the labels of their requests, on demand and on the
// log's timer.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SYSTEM_ACTOR } from '../src/auth/index.js';
import { PredictionLog, recordFeedback, sweepPredictionLog } from '../src/predlog/index.js';
import { BACKENDS } from './helpers/server.js';
import { openTestStore, plainRecord, type TestStore } from './fixtures/predlog-common.js';

const DAY = 86_400_000;
const NOW = 1_800_000_000_000;

for (const backend of BACKENDS) {
  describe(`prediction log retention (${backend})`, () => {
    let store: TestStore;
    before(async () => {
      store = await openTestStore(backend);
    });
    after(async () => store?.close());

    const ids = async (deployment: string) =>
      (await store.database.db.selectFrom('prediction_log').select('request_id').where('deployment', '=', deployment).orderBy('id').execute()).map((r) => r.request_id);
    const labelled = async (deployment: string) =>
      (await store.database.db.selectFrom('prediction_feedback').select('request_id').where('deployment', '=', deployment).orderBy('request_id').execute()).map((r) => r.request_id);
    const clear = async () => {
      await store.database.db.deleteFrom('prediction_feedback').execute();
      await store.database.db.deleteFrom('prediction_log').execute();
    };

    it('deletes rows older than the retention, with their labels, and keeps the rest', async () => {
      await clear();
      const log = new PredictionLog({ db: store.database.db, hashKey: 'k', retentionDays: 30, maxRows: 0, sweepIntervalMs: 0, now: () => NOW });
      // 7 old rows (31..37 days), then 5 young (1..5 days), one shadow row among the old ones.
      const appends = [];
      for (let i = 0; i < 7; i++) appends.push(log.append(plainRecord('age', `old-${i}`, i, { at: NOW - (37 - i) * DAY })));
      appends.push(log.append(plainRecord('age', 'old-0', 0, { role: 'shadow', at: NOW - 37 * DAY })));
      for (let i = 0; i < 5; i++) appends.push(log.append(plainRecord('age', `young-${i}`, i, { at: NOW - (5 - i) * DAY })));
      await Promise.all(appends);
      await recordFeedback(store.database.db, 'age', [{ request_id: 'old-1', label: 1 }, { request_id: 'young-2', label: 0 }], SYSTEM_ACTOR);
      const result = await log.sweep();
      assert.deepEqual(result, { expired: 8, overLimit: 0, feedback: 1 });
      assert.deepEqual(await ids('age'), ['young-0', 'young-1', 'young-2', 'young-3', 'young-4']);
      assert.deepEqual(await labelled('age'), ['young-2']);
      // A second sweep has nothing to do.
      assert.deepEqual(await log.sweep(), { expired: 0, overLimit: 0, feedback: 0 });
      const audit = await store.database.db.selectFrom('audit_log').select(['action', 'details']).where('action', '=', 'prediction_log.sweep').execute();
      assert.equal(audit.length, 1);
      assert.equal(JSON.parse(audit[0]!.details).expired, 8);
      await log.close();
    });

    it('deletes in chunks until every expired row is gone', async () => {
      await clear();
      const log = new PredictionLog({ db: store.database.db, hashKey: 'k', sweepIntervalMs: 0 });
      await Promise.all(Array.from({ length: 23 }, (_, i) => log.append(plainRecord('chunks', `c-${i}`, i, { at: i < 19 ? NOW - 40 * DAY : NOW }))));
      await log.close();
      const result = await sweepPredictionLog(store.database.db, { retentionDays: 30, maxRows: 0, now: NOW, chunkRows: 4 });
      assert.equal(result.expired, 19);
      assert.deepEqual(await ids('chunks'), ['c-19', 'c-20', 'c-21', 'c-22']);
    });

    it('keeps at most max rows, deleting the oldest first across deployments', async () => {
      await clear();
      const log = new PredictionLog({ db: store.database.db, hashKey: 'k', retentionDays: 0, maxRows: 4, sweepIntervalMs: 0 });
      for (let i = 0; i < 10; i++) await log.append(plainRecord(i % 2 === 0 ? 'even' : 'odd', `m-${i}`, i, { at: NOW }));
      await recordFeedback(store.database.db, 'even', [{ request_id: 'm-0', label: 'a' }, { request_id: 'm-8', label: 'b' }], SYSTEM_ACTOR);
      const result = await log.sweep();
      assert.deepEqual(result, { expired: 0, overLimit: 6, feedback: 1 });
      assert.deepEqual(await ids('even'), ['m-6', 'm-8']);
      assert.deepEqual(await ids('odd'), ['m-7', 'm-9']);
      assert.deepEqual(await labelled('even'), ['m-8']);
      await log.close();
    });

    it('sweeps on its own timer', async () => {
      await clear();
      const log = new PredictionLog({ db: store.database.db, hashKey: 'k', retentionDays: 1, maxRows: 0, sweepIntervalMs: 40 });
      await log.append(plainRecord('timer', 'stale', 1, { at: Date.now() - 2 * DAY }));
      await log.append(plainRecord('timer', 'fresh', 2, { at: Date.now() }));
      const deadline = Date.now() + 5000;
      while ((await ids('timer')).length > 1 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      assert.deepEqual(await ids('timer'), ['fresh']);
      await log.close();
    });

    it('keeps everything when retention and the row limit are off', async () => {
      await clear();
      const log = new PredictionLog({ db: store.database.db, hashKey: 'k', retentionDays: 0, maxRows: 0, sweepIntervalMs: 0 });
      await log.append(plainRecord('forever', 'ancient', 1, { at: 0 }));
      assert.deepEqual(await log.sweep(), { expired: 0, overLimit: 0, feedback: 0 });
      assert.deepEqual(await ids('forever'), ['ancient']);
      await log.close();
    });
  });
}
