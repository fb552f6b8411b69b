// Several servers on one database: a pipeline run claims its pipeline in the database. Two servers
// on one PostgreSQL database asked at once to run the same pipeline start exactly one run; a server
// starting (or checking its triggers) while another executes a run leaves that run alone; a run
// whose owner stopped renewing its lease is failed, and a run that finds its claim gone stops. On SQLite, the built server is killed with
// SIGKILL in the middle of a run (after a training run that used the bundled training worker) and
// a restarted server fails that run at once, since its process is gone, and runs the pipeline again.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { SYSTEM_ACTOR } from '../src/auth/index.js';
import { newId } from '../src/core/index.js';
import { PipelineService } from '../src/pipeline/index.js';
import { CLI_BUNDLE, ensureBuilt } from './helpers/cli.js';
import { applyPipeline, csvOf, makeRows, waitForRun } from './helpers/pipeline.js';
import { BACKENDS, startTestServer, type TestServer } from './helpers/server.js';

/** A pipeline whose one step runs for `ms` milliseconds (a Node child process), writing its pid to `pidFile`. */
function slowYaml(name: string, ms: number, pidFile = ''): string {
  const script = `${pidFile ? `require('fs').writeFileSync(${JSON.stringify(pidFile)}, String(process.pid)); ` : ''}setTimeout(() => {}, ${ms})`;
  return `
name: ${name}
steps:
  - id: wait
    kind: command
    argv: [${JSON.stringify(process.execPath)}, "-e", ${JSON.stringify(script)}]
    timeout_seconds: 120
`;
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Inserts a running run of `pipeline` owned by another server, with its last heartbeat at `heartbeatAt`. */
async function foreignRun(server: TestServer, pipeline: string, owner: string, heartbeatAt: number): Promise<string> {
  const db = server.server.platform.database.db;
  const row = await db.selectFrom('pipelines').select('id').where('name', '=', pipeline).executeTakeFirstOrThrow();
  const id = newId();
  await db.insertInto('pipeline_runs').values({
    id, pipeline_id: row.id, pipeline, number: 1, trigger: 'manual', trigger_details: null, status: 'running', created_at: heartbeatAt, started_at: heartbeatAt,
    finished_at: null, tracking_run_id: null, lineage: null, error: null, created_by: 'elsewhere', owner, heartbeat_at: heartbeatAt,
  }).execute();
  return id;
}

for (const backend of BACKENDS) {
  describe(`pipeline run leases (${backend})`, () => {
    let server: TestServer;
    after(async () => server?.close());

    it('a run whose owner stopped renewing its lease is failed; a live owner\'s run is left alone', async () => {
      server = await startTestServer({ backend });
      for (const name of ['stale', 'live']) assert.equal((await applyPipeline(server, slowYaml(name, 10))).status, 201);
      // Owners on another host: only their leases tell whether they are alive (60 s by default).
      const stale = await foreignRun(server, 'stale', 'elsewhere.example#4242#a', Date.now() - 120_000);
      const live = await foreignRun(server, 'live', 'elsewhere.example#4242#b', Date.now() - 5_000);
      const blocked = await server.request('POST', '/api/v1/pipelines/live/runs');
      assert.equal(blocked.status, 409, blocked.text);
      assert.equal(blocked.body.error.code, 'PIPELINE_RUN_IN_PROGRESS');
      // Trigger checks recover abandoned runs, as the start of a server does.
      await server.server.platform.pipelineTriggers.tick();
      const staleRun = await server.request('GET', `/api/v1/pipelines/stale/runs/${stale}`);
      assert.equal(staleRun.body.status, 'failed');
      assert.match(staleRun.body.error, /stopped renewing its claim/);
      const liveRun = await server.request('GET', `/api/v1/pipelines/live/runs/${live}`);
      assert.equal(liveRun.body.status, 'running');
      // The stale pipeline runs again.
      const again = await server.request('POST', '/api/v1/pipelines/stale/runs');
      assert.equal(again.status, 202, again.text);
      assert.equal(again.body.number, 2);
      assert.equal((await waitForRun(server, 'stale', 2)).status, 'succeeded');
    });

    it('a run that loses its claim stops at once and keeps the end another server recorded', async () => {
      const platform = server.server.platform;
      // A second service on the same database, renewing its claims every 50 ms.
      const service = new PipelineService({ db: platform.database.db, artifacts: platform.artifacts, rollouts: platform.rollouts, heartbeatMs: 50 });
      const pidFile = path.join(server.dataDir, 'lost.pid');
      assert.equal((await applyPipeline(server, slowYaml('lost', 60_000, pidFile))).status, 201);
      const run = await service.startRun(SYSTEM_ACTOR, 'lost');
      await waitFor('the step to start', async () => (fs.existsSync(pidFile) && fs.readFileSync(pidFile, 'utf8') !== '' ? true : undefined));
      const pid = Number(fs.readFileSync(pidFile, 'utf8'));
      // Another server judged the run abandoned.
      await platform.database.db.updateTable('pipeline_runs').set({ status: 'failed', error: 'taken over', finished_at: Date.now() }).where('id', '=', run.id).execute();
      const t = performance.now();
      await service.stop();
      assert.ok(performance.now() - t < 20_000, 'the run went on after losing its claim');
      const ended = await server.request('GET', `/api/v1/pipelines/lost/runs/${run.id}`);
      assert.equal(ended.body.status, 'failed');
      assert.equal(ended.body.error, 'taken over');
      assert.match(ended.body.steps[0].error, /lost its claim/);
      // The step's command was killed with the run.
      await waitFor('the command to end', async () => {
        try {
          process.kill(pid, 0);
          return undefined;
        } catch {
          return true;
        }
      });
    });
  });
}

describe('two servers on one PostgreSQL database', () => {
  const servers: TestServer[] = [];
  after(async () => {
    // The later servers share the first one's data folder: close them first.
    for (const s of [...servers].reverse()) await s.close();
  });

  it('start one run of a pipeline asked for by both at once, and leave each other\'s runs alone', async () => {
    const first = await startTestServer({ backend: 'postgres' });
    servers.push(first);
    const second = await startTestServer({ backend: 'postgres', databaseUrl: first.databaseUrl!, dataDir: first.dataDir });
    servers.push(second);
    assert.equal((await applyPipeline(first, slowYaml('shared', 2500))).status, 201);

    // Ten requests at once, five to each server: exactly one run starts.
    const replies = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? first : second).request('POST', '/api/v1/pipelines/shared/runs')));
    const started = replies.filter((r) => r.status === 202);
    assert.equal(started.length, 1, replies.map((r) => `${r.status} ${r.text}`).join('\n'));
    for (const reply of replies.filter((r) => r.status !== 202)) {
      assert.equal(reply.status, 409, reply.text);
      assert.equal(reply.body.error.code, 'PIPELINE_RUN_IN_PROGRESS');
    }
    const runs = await first.request('GET', '/api/v1/pipelines/shared/runs');
    assert.deepEqual(runs.body.runs.map((r: { number: number }) => r.number), [1]);
    const owner = replies.findIndex((r) => r.status === 202) % 2 === 0 ? first : second;
    const other = owner === first ? second : first;
    const claimed = await first.server.platform.database.db.selectFrom('pipeline_runs').select(['owner', 'heartbeat_at']).executeTakeFirstOrThrow();
    assert.equal(claimed.owner, owner.server.platform.pipelines.owner);

    // A third server starts while the run executes, and the other one checks its triggers: both
    // recover abandoned runs, and this one is not abandoned.
    await waitFor('the run to start its step', async () => {
      const run = await first.request('GET', '/api/v1/pipelines/shared/runs/1');
      return run.body.steps[0].status === 'running' ? true : undefined;
    });
    const third = await startTestServer({ backend: 'postgres', databaseUrl: first.databaseUrl!, dataDir: first.dataDir });
    servers.push(third);
    await other.server.platform.pipelineTriggers.tick();
    const during = await third.request('GET', '/api/v1/pipelines/shared/runs/1');
    assert.equal(during.body.status, 'running', JSON.stringify(during.body));
    const refused = await third.request('POST', '/api/v1/pipelines/shared/runs');
    assert.equal(refused.status, 409, refused.text);

    const ended = await waitForRun(third, 'shared', 1);
    assert.equal(ended.status, 'succeeded', JSON.stringify(ended, null, 1));
    const next = await other.request('POST', '/api/v1/pipelines/shared/runs');
    assert.equal(next.status, 202, next.text);
    assert.equal(next.body.number, 2);
    assert.equal((await waitForRun(other, 'shared', 2)).status, 'succeeded');
  });
});

describe('a SQLite server killed during a run', () => {
  const TOKEN = `claims-admin-${Date.now()}`;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'plinth-claims-'));
  const pidFile = path.join(dataDir, 'step.pid');
  let child: ChildProcess | null = null;
  let restarted: TestServer | null = null;
  after(async () => {
    child?.kill('SIGKILL');
    try {
      process.kill(Number(fs.readFileSync(pidFile, 'utf8')), 'SIGKILL');
    } catch {
      // the step's process has ended
    }
    await restarted?.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  async function call(url: string, method: string, pathname: string, json?: unknown, body?: FormData) {
    const response = await fetch(url + pathname, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, ...(json !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(json !== undefined ? { body: JSON.stringify(json) } : body ? { body } : {}),
    });
    const text = await response.text();
    return { status: response.status, text, body: text ? JSON.parse(text) : undefined };
  }

  it('is failed at once by the restarted server, whose own runs then proceed', async () => {
    ensureBuilt();
    child = spawn(process.execPath, [CLI_BUNDLE, 'server', '--port', '0', '--data-dir', dataDir, '--log-level', 'warn'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PLINTH_ADMIN_TOKEN: TOKEN } });
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const url = await new Promise<string>((resolve, reject) => {
      child!.stdout!.on('data', () => {
        const match = /serving on (http:\/\/\S+)/.exec(out);
        if (match) resolve(match[1]!);
      });
      child!.on('exit', (code) => reject(new Error(`server exited ${code}: ${out}`)));
    });

    // The bundled server trains through dist/train-worker.mjs.
    const form = new FormData();
    form.append('file', new Blob([csvOf(makeRows(300, 5))]), 'flights.csv');
    assert.equal((await call(url, 'POST', '/api/v1/datasets/flights/versions', undefined, form)).status, 201);
    const trainYaml = 'name: fit\nsteps:\n  - { id: data, kind: dataset, dataset: flights@1 }\n  - { id: fit, kind: train, needs: [data], label: y, task: binary, algo: gbdt, params: { trees: 10 } }\n  - { id: score, kind: evaluate, needs: [fit] }\n';
    assert.equal((await call(url, 'POST', '/api/v1/pipelines', { yaml: trainYaml })).status, 201);
    assert.equal((await call(url, 'POST', '/api/v1/pipelines/fit/runs')).status, 202);
    const trained = await waitFor('the training run', async () => {
      const run = await call(url, 'GET', '/api/v1/pipelines/fit/runs/1');
      return ['queued', 'running'].includes(run.body.status) ? undefined : run.body;
    }, 60_000);
    assert.equal(trained.status, 'succeeded', JSON.stringify(trained, null, 1));
    assert.match(trained.steps[1].log, /on a worker thread/);
    assert.ok(trained.steps[2].outputs.metrics.roc_auc > 0.8, JSON.stringify(trained.steps[2].outputs));

    assert.equal((await call(url, 'POST', '/api/v1/pipelines', { yaml: slowYaml('long', 60_000, pidFile) })).status, 201);
    assert.equal((await call(url, 'POST', '/api/v1/pipelines/long/runs')).status, 202);
    await waitFor('the step to start', async () => (fs.existsSync(pidFile) && fs.readFileSync(pidFile, 'utf8') !== '' ? true : undefined));
    child.kill('SIGKILL');
    await new Promise((resolve) => child!.once('exit', resolve));
    child = null;
    process.kill(Number(fs.readFileSync(pidFile, 'utf8')), 'SIGKILL');

    // Its lease (60 s) has not expired, but its process is gone: the run is failed at start.
    restarted = await startTestServer({ backend: 'sqlite', dataDir });
    const run = await restarted.request('GET', '/api/v1/pipelines/long/runs/1');
    assert.equal(run.status, 200, run.text);
    assert.equal(run.body.status, 'failed');
    assert.match(run.body.error, /interrupted: the server executing the run stopped/);
    assert.deepEqual(run.body.steps.map((s: { status: string }) => s.status), ['failed']);
    assert.equal((await applyPipeline(restarted, slowYaml('long', 10))).status, 200);
    const again = await restarted.request('POST', '/api/v1/pipelines/long/runs');
    assert.equal(again.status, 202, again.text);
    assert.equal((await waitForRun(restarted, 'long', 2)).status, 'succeeded');
  });
});
