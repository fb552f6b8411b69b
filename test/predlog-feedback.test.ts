// Ground-truth feedback on both backends: labels join logged primary predictions, unknown ids are
// reported and not stored, repeats are idempotent, a different label replaces the old one, every
// call is audited once, bad input stores nothing; labelsFor reads them back for analysis.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { labelsFor, PredictionLog, recordFeedback } from '../src/predlog/index.js';
import { BACKENDS } from './helpers/server.js';
import { openTestStore, plainRecord, type TestStore } from './fixtures/predlog-common.js';

const ALICE = { name: 'alice', tokenId: null };

for (const backend of BACKENDS) {
  describe(`prediction feedback (${backend})`, () => {
    let store: TestStore;
    before(async () => {
      store = await openTestStore(backend);
      const log = new PredictionLog({ db: store.database.db, hashKey: 'k', sweepIntervalMs: 0 });
      await Promise.all([
        log.append(plainRecord('fraud', 'r1', 1)),
        log.append(plainRecord('fraud', 'r1', 1, { role: 'shadow' })),
        log.append(plainRecord('fraud', 'r2', 2)),
        log.append(plainRecord('fraud', 'r3', 3)),
        // Only a shadow row: the caller was never answered by it, so no label joins.
        log.append(plainRecord('fraud', 'r4', 4, { role: 'shadow' })),
        log.append(plainRecord('churn', 'c1', 1)),
      ]);
      await log.close();
    });
    after(async () => store?.close());

    const stored = async () =>
      (await store.database.db.selectFrom('prediction_feedback').select(['deployment', 'request_id', 'label', 'actor']).orderBy('deployment').orderBy('request_id').execute()).map((r) => `${r.deployment}/${r.request_id}=${r.label} by ${r.actor}`);
    const audits = async () => store.database.db.selectFrom('audit_log').select(['action', 'resource_id', 'details', 'actor']).where('action', '=', 'deployment.feedback').orderBy('id').execute();

    it('stores labels of logged requests and reports the rest as unknown', async () => {
      const result = await recordFeedback(store.database.db, 'fraud', [
        { request_id: 'r1', label: 1 },
        { request_id: 'r2', label: { a: 1, b: [true, null] } },
        { request_id: 'r4', label: 0 },
        { request_id: 'c1', label: 0 },
        { request_id: 'zz', label: 1 },
      ], ALICE);
      assert.deepEqual(result, { accepted: 2, unchanged: 0, unknown: ['r4', 'c1', 'zz'] });
      assert.deepEqual(await stored(), ['fraud/r1=1 by alice', 'fraud/r2={"a":1,"b":[true,null]} by alice']);
      const audit = await audits();
      assert.equal(audit.length, 1);
      assert.equal(audit[0]!.resource_id, 'fraud');
      assert.deepEqual(JSON.parse(audit[0]!.details), { items: 5, accepted: 2, unchanged: 0, unknown: 3 });
    });

    it('is idempotent for the same label (key order aside) and replaces a different one', async () => {
      const again = await recordFeedback(store.database.db, 'fraud', [{ request_id: 'r1', label: 1 }, { request_id: 'r2', label: { b: [true, null], a: 1 } }], { name: 'bob', tokenId: null });
      assert.deepEqual(again, { accepted: 0, unchanged: 2, unknown: [] });
      assert.deepEqual(await stored(), ['fraud/r1=1 by alice', 'fraud/r2={"a":1,"b":[true,null]} by alice']);
      const changed = await recordFeedback(store.database.db, 'fraud', [{ request_id: 'r1', label: 0 }, { request_id: 'r3', label: 'x' }, { request_id: 'r3', label: null }], { name: 'bob', tokenId: null });
      assert.deepEqual(changed, { accepted: 2, unchanged: 0, unknown: [] });
      // r3 given twice in one call: the last label wins.
      assert.deepEqual(await stored(), ['fraud/r1=0 by bob', 'fraud/r2={"a":1,"b":[true,null]} by alice', 'fraud/r3=null by bob']);
      assert.equal((await audits()).length, 3);
    });

    it('refuses bad batches whole and stores nothing', async () => {
      const before = await stored();
      const auditsBefore = (await audits()).length;
      await assert.rejects(recordFeedback(store.database.db, 'fraud', [], ALICE), { code: 'INVALID_ARGUMENT' });
      await assert.rejects(recordFeedback(store.database.db, 'fraud', [{ request_id: 'r2', label: 5 }, { request_id: 'r3', label: undefined }], ALICE), { code: 'INVALID_ARGUMENT' });
      await assert.rejects(recordFeedback(store.database.db, 'fraud', [{ request_id: 'r2', label: Infinity }], ALICE), { code: 'INVALID_ARGUMENT' });
      await assert.rejects(recordFeedback(store.database.db, 'fraud', [{ request_id: '', label: 1 }], ALICE), { code: 'INVALID_ARGUMENT' });
      await assert.rejects(recordFeedback(store.database.db, 'fraud', Array.from({ length: 10_001 }, (_, i) => ({ request_id: `x${i}`, label: 1 })), ALICE), { code: 'INVALID_ARGUMENT' });
      assert.deepEqual(await stored(), before);
      assert.equal((await audits()).length, auditsBefore);
    });

    it('takes 10,000 labels in one call', async () => {
      const result = await recordFeedback(store.database.db, 'churn', Array.from({ length: 10_000 }, (_, i) => ({ request_id: i === 9_999 ? 'c1' : `missing-${i}`, label: i })), ALICE);
      assert.equal(result.accepted, 1);
      assert.equal(result.unknown.length, 9_999);
      assert.equal(result.unknown[0], 'missing-0');
    });

    it('labelsFor answers the labels of the given requests only', async () => {
      const labels = await labelsFor(store.database.db, 'fraud', ['r1', 'r2', 'r3', 'r4', 'c1', 'r1']);
      assert.deepEqual([...labels.entries()].sort(), [['r1', 0], ['r2', { a: 1, b: [true, null] }], ['r3', null]]);
      assert.deepEqual([...(await labelsFor(store.database.db, 'churn', ['c1'])).entries()], [['c1', 9_999]]);
      assert.equal((await labelsFor(store.database.db, 'fraud', [])).size, 0);
    });
  });
}
