// Durability of the prediction log in durable mode: a child process appends records with many in
// flight and prints each request id once its append resolved; the parent kills it with SIGKILL and
// reopens the SQLite store: every printed id must be there.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { openDatabase } from '../src/store/index.js';

describe('prediction log durability (sqlite)', () => {
  for (const mode of ['query-layer', 'writer-thread']) it(`keeps every acknowledged append when the process is killed with SIGKILL (${mode})`, async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'plinth-predlog-kill-'));
    try {
      const child = spawn(process.execPath, ['--import', 'tsx', path.join('test', 'fixtures', 'predlog-writer.ts'), dataDir, mode], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.on('exit', (code, signal) => resolve(signal ?? code)));
      // Kill it mid-stream: once it has acknowledged a couple of thousand appends (or after 20 s at most).
      const deadline = Date.now() + 20_000;
      let lines = 0;
      child.stdout.on('data', (chunk: string) => {
        for (let i = chunk.indexOf('\n'); i !== -1; i = chunk.indexOf('\n', i + 1)) lines++;
      });
      while (lines < 2000 && Date.now() < deadline && child.exitCode === null) await new Promise((resolve) => setTimeout(resolve, 10));
      child.kill('SIGKILL');
      assert.equal(await exited, 'SIGKILL', `the writer stopped on its own: ${stderr}`);
      // Only complete lines were acknowledged.
      const acknowledged = stdout.split('\n').slice(0, -1);
      assert.ok(acknowledged.length >= 500, `only ${acknowledged.length} appends acknowledged before the kill; stderr: ${stderr}`);

      const database = await openDatabase({ dataDir });
      try {
        const rows = await database.db.selectFrom('prediction_log').select('request_id').where('deployment', '=', 'durable').execute();
        const stored = new Set(rows.map((r) => r.request_id));
        const missing = acknowledged.filter((id) => !stored.has(id));
        assert.deepEqual(missing.slice(0, 10), [], `${missing.length} of ${acknowledged.length} acknowledged ids are missing`);
        // More rows may be stored than the parent saw acknowledged (appends in flight, lines not yet read).
        assert.ok(stored.size >= acknowledged.length, `${stored.size} rows for ${acknowledged.length} acknowledged`);
      } finally {
        await database.close();
      }
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
