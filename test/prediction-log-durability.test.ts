// No acknowledged prediction is lost: the built server runs as a child process under concurrent
// load through a deployment, is killed with SIGKILL, and is started again on the same store; every
// request id that got a 200 must then be in the prediction log. Labels sent afterwards as feedback
// join to those predictions, unknown ids are reported back, and repeats change nothing.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { linearModel } from '../src/onnx/index.js';
import { CLI_BUNDLE, ensureBuilt } from './helpers/cli.js';
import { createPostgresDatabase } from './helpers/postgres.js';
import { BACKENDS } from './helpers/server.js';

const TOKEN = 'durability-admin-token';

async function startServer(dataDir: string, databaseUrl: string | undefined): Promise<{ child: ChildProcess; url: string }> {
  const env = { ...process.env, PLINTH_ADMIN_TOKEN: TOKEN, ...(databaseUrl ? { PLINTH_DATABASE_URL: databaseUrl } : {}) };
  const child = spawn(process.execPath, [CLI_BUNDLE, 'server', '--port', '0', '--data-dir', dataDir, '--log-level', 'warn'], { stdio: ['ignore', 'pipe', 'pipe'], env });
  let out = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', () => {
      const match = /serving on (http:\/\/\S+)/.exec(out);
      if (match) resolve(match[1]!);
    });
    child.on('exit', (code) => reject(new Error(`server exited ${code}: ${out}`)));
  });
  return { child, url };
}

async function call(url: string, method: string, pathname: string, json?: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(url + pathname, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, ...(json !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    ...(json !== undefined ? { body: JSON.stringify(json) } : {}),
  });
  const text = await response.text();
  return { status: response.status, text, body: text ? JSON.parse(text) : undefined };
}

for (const backend of BACKENDS) {
  test(`every acknowledged prediction survives SIGKILL, and feedback joins to it (${backend})`, async () => {
    ensureBuilt();
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'plinth-durability-'));
    const databaseUrl = backend === 'postgres' ? await createPostgresDatabase() : undefined;
    let running: ChildProcess | null = null;
    try {
      const first = await startServer(dataDir, databaseUrl);
      running = first.child;
      const form = new FormData();
      form.append('artifact', new Blob([linearModel({ weights: [[1], [1]], bias: [0] })]), 'model.onnx');
      const registered = await fetch(`${first.url}/api/v1/models/sum/versions`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` }, body: form });
      assert.equal(registered.status, 201, await registered.text());
      const created = await call(first.url, 'POST', '/api/v1/deployments', { name: 'sum-live', model: 'sum@1' });
      assert.equal(created.status, 201, created.text);

      // Load from 16 concurrent clients; an id is acknowledged once its 200 arrived.
      const acknowledged: Array<{ id: string; a: number; b: number }> = [];
      let stop = false;
      let next = 0;
      const client = async () => {
        while (!stop) {
          const n = next++;
          const id = `req-${n}`;
          const row = [n % 100, 1];
          try {
            const answer = await call(first.url, 'POST', '/v2/models/sum-live/infer', { inputs: [{ name: 'input', shape: [1, 2], datatype: 'FP32', data: row }] }, { 'x-request-id': id });
            if (answer.status === 200) acknowledged.push({ id, a: row[0]!, b: row[1]! });
          } catch {
            // The connection died with the server: not acknowledged.
          }
        }
      };
      const clients = Array.from({ length: 16 }, client);
      // Killed once enough requests were answered (however busy the machine), while the load goes on.
      for (const deadline = Date.now() + 30_000; acknowledged.length < 100 && Date.now() < deadline; ) await new Promise((resolve) => setTimeout(resolve, 50));
      await new Promise((resolve) => setTimeout(resolve, 200));
      first.child.kill('SIGKILL');
      stop = true;
      await Promise.all(clients);
      await new Promise((resolve) => first.child.exitCode !== null || first.child.signalCode !== null ? resolve(null) : first.child.on('exit', resolve));
      running = null;
      assert.ok(acknowledged.length > 50, `only ${acknowledged.length} requests were answered before the kill`);

      const second = await startServer(dataDir, databaseUrl);
      running = second.child;
      const logged = new Map<string, { outputs: { output: number[][] }; label: unknown }>();
      let pageToken: string | undefined;
      do {
        const page = await call(second.url, 'GET', `/api/v1/deployments/sum-live/predictions?limit=1000${pageToken ? `&page_token=${encodeURIComponent(pageToken)}` : ''}`);
        assert.equal(page.status, 200, page.text);
        for (const item of page.body.predictions) logged.set(item.request_id, item);
        pageToken = page.body.next_page_token ?? undefined;
      } while (pageToken);
      const missing = acknowledged.filter((a) => !logged.has(a.id));
      assert.deepEqual(missing.map((m) => m.id), [], `${missing.length} of ${acknowledged.length} acknowledged predictions were lost`);
      for (const { id, a, b } of acknowledged.slice(0, 20)) assert.deepEqual(logged.get(id)!.outputs.output, [[a + b]]);

      // Feedback: labels by request id, an unknown id reported back, repeats idempotent.
      const labelled = acknowledged.slice(0, 5);
      const items = [...labelled.map((a) => ({ request_id: a.id, label: a.a + a.b })), { request_id: 'never-sent', label: 1 }];
      const feedback = await call(second.url, 'POST', '/api/v1/deployments/sum-live/feedback', { items });
      assert.equal(feedback.status, 200, feedback.text);
      assert.equal(feedback.body.accepted, 5);
      assert.deepEqual(feedback.body.unknown, ['never-sent']);
      const again = await call(second.url, 'POST', '/api/v1/deployments/sum-live/feedback', { items: items.slice(0, 5) });
      assert.equal(again.body.accepted, 0);
      assert.equal(again.body.unchanged, 5);
      const page = await call(second.url, 'GET', '/api/v1/deployments/sum-live/predictions?limit=1000');
      const byId = new Map<string, { label: unknown }>(page.body.predictions.map((p: { request_id: string; label: unknown }) => [p.request_id, p]));
      for (const a of labelled) assert.equal(byId.get(a.id)?.label, a.a + a.b, `label of ${a.id}`);
    } finally {
      running?.kill('SIGKILL');
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
}
