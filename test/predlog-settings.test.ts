// The prediction log's settings from the environment, and the generated hash key kept in the data folder.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { loadPredictionLogSettings, loadServerConfig } from '../src/core/index.js';
import { HASH_KEY_FILE, loadHashKey, openPredictionLog } from '../src/predlog/index.js';
import { BACKENDS } from './helpers/server.js';
import { MATRIX_MODEL, fp32, openTestStore } from './fixtures/predlog-common.js';
import { createHmac } from 'node:crypto';

describe('prediction log settings', () => {
  it('has documented defaults', () => {
    assert.deepEqual(loadPredictionLogSettings({}), { mode: 'durable', groupCommitMs: 0, sampleRate: 1, retentionDays: 30, maxRows: 10_000_000, sensitive: 'hash', hashKey: undefined });
    assert.equal(loadServerConfig({}, {}).predictionLog.mode, 'durable');
  });

  it('reads every PLINTH_PREDLOG_* variable', () => {
    assert.deepEqual(
      loadPredictionLogSettings({ PLINTH_PREDLOG_MODE: 'fast', PLINTH_PREDLOG_GROUP_COMMIT_MS: '3', PLINTH_PREDLOG_SAMPLE_RATE: '0.25', PLINTH_PREDLOG_RETENTION_DAYS: '0', PLINTH_PREDLOG_MAX_ROWS: '0', PLINTH_PREDLOG_SENSITIVE: 'drop', PLINTH_PREDLOG_HASH_KEY: 's3cret' }),
      { mode: 'fast', groupCommitMs: 3, sampleRate: 0.25, retentionDays: 0, maxRows: 0, sensitive: 'drop', hashKey: 's3cret' },
    );
  });

  it('refuses malformed values', () => {
    for (const env of [{ PLINTH_PREDLOG_MODE: 'lossy' }, { PLINTH_PREDLOG_SAMPLE_RATE: '1.5' }, { PLINTH_PREDLOG_SAMPLE_RATE: '-0.1' }, { PLINTH_PREDLOG_SAMPLE_RATE: 'half' }, { PLINTH_PREDLOG_SAMPLE_RATE: '' }, { PLINTH_PREDLOG_RETENTION_DAYS: '-1' }, { PLINTH_PREDLOG_MAX_ROWS: '1e3x' }, { PLINTH_PREDLOG_GROUP_COMMIT_MS: '-1' }, { PLINTH_PREDLOG_SENSITIVE: 'mask' }]) {
      assert.throws(() => loadPredictionLogSettings(env), { code: 'INVALID_ARGUMENT' }, JSON.stringify(env));
    }
  });

  it('generates a hash key once and keeps it in the data folder; a configured key wins', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plinth-hash-key-'));
    try {
      const first = loadHashKey(dir, undefined);
      assert.match(first, /^[0-9a-f]{64}$/);
      assert.equal(loadHashKey(dir, undefined), first);
      assert.equal(fs.statSync(path.join(dir, HASH_KEY_FILE)).mode & 0o777, 0o600);
      assert.equal(loadHashKey(dir, 'configured'), 'configured');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

for (const backend of BACKENDS) {
  describe(`openPredictionLog (${backend})`, () => {
    it('builds the log from the settings, with the hash key kept in the data folder', async () => {
      const store = await openTestStore(backend);
      try {
        const log = openPredictionLog(store.database, loadPredictionLogSettings({ PLINTH_PREDLOG_RETENTION_DAYS: '7' }), { dataDir: store.dataDir });
        assert.equal(log.mode, 'durable');
        assert.equal(log.retentionDays, 7);
        await log.append({ deployment: 'd', requestId: 'r', role: 'primary', model: MATRIX_MODEL, inputs: { x: fp32([1, 3], [1, 2, 3]) }, outputs: null, at: 1, latencyMs: 1, status: 500 });
        await log.close();
        const key = fs.readFileSync(path.join(store.dataDir, HASH_KEY_FILE), 'utf8').trim();
        const row = await store.database.db.selectFrom('prediction_log').select('inputs').executeTakeFirstOrThrow();
        assert.deepEqual(JSON.parse(row.inputs), { x: [[1, 'hmac:' + createHmac('sha256', key).update('2').digest('hex').slice(0, 16), 3]] });
      } finally {
        await store.close();
      }
    });
  });
}
