// Pipelines' external command steps and their triggers on a real server: a `node -e` command that
// writes an ONNX file the test prepared, registered by the next step (same bytes); a failing
// command with its exit code and stderr in the log; a cron schedule checked with an injected clock
// (ticks missed while down run once, not once per tick); one run at a time per pipeline.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PipelineScheduler } from '../src/pipeline/index.js';
import { startTestServer, type TestServer } from './helpers/server.js';
import { applyPipeline, championModel, makeRows, runPipeline, waitForRun } from './helpers/pipeline.js';

const DAY = 86_400_000;

/** The latest 03:00 UTC at or before `ms`, worked out on the calendar. */
function last0300(ms: number): number {
  const d = new Date(ms);
  const sameDay = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), 3, 0, 0);
  return sameDay <= ms ? sameDay : sameDay - DAY;
}

describe('pipeline command steps and triggers (sqlite)', () => {
  let server: TestServer;
  let dir: string;
  before(async () => {
    server = await startTestServer({ backend: 'sqlite' });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plinth-pipeline-cmd-'));
  });
  after(async () => {
    await server?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a command step writes an ONNX file that the register step registers, its output in the log', async () => {
    const bytes = championModel(makeRows(50, 1), false);
    const source = path.join(dir, 'prepared.onnx');
    fs.writeFileSync(source, bytes);
    const script = "require('node:fs').copyFileSync(process.env.SRC, process.env.PLINTH_OUTPUT); console.log('copied ' + process.env.PLINTH_STEP); console.error('a warning')";
    const yaml = `
name: external
steps:
  - id: export
    kind: command
    argv: [${JSON.stringify(process.execPath)}, "-e", ${JSON.stringify(script)}]
    env: { SRC: ${JSON.stringify(source)} }
    output: model.onnx
  - id: publish
    kind: register
    needs: [export]
    model: external-model
`;
    assert.equal((await applyPipeline(server, yaml)).status, 201);
    const run = await runPipeline(server, 'external');
    assert.equal(run.status, 'succeeded', JSON.stringify(run, null, 1));
    const [exported, published] = run.steps;
    assert.equal(exported.outputs.exit_code, 0);
    assert.match(exported.log, /\[stdout\] copied export/);
    assert.match(exported.log, /\[stderr\] a warning/);
    assert.match(exported.log, /exit code 0/);
    const sha = crypto.createHash('sha256').update(bytes).digest('hex');
    assert.equal(exported.outputs.model.sha256, sha);
    assert.equal(published.outputs.reference, 'external-model@1');
    const version = await server.request('GET', '/api/v1/models/external-model/versions/1');
    assert.equal(version.status, 200, version.text);
    assert.equal(version.body.artifact_sha256, sha);
    assert.equal(version.body.run_id, run.tracking_run_id);
    assert.equal(version.body.tags['plinth.pipeline'], 'external');
  });

  it('a failing command fails its step with the exit code and leaves the registry untouched', async () => {
    const yaml = `
name: external-fail
steps:
  - id: export
    kind: command
    argv: [${JSON.stringify(process.execPath)}, "-e", "console.error('boom'); process.exit(3)"]
    output: model.onnx
  - { id: publish, kind: register, needs: [export], model: never-registered }
`;
    assert.equal((await applyPipeline(server, yaml)).status, 201);
    const run = await runPipeline(server, 'external-fail');
    assert.equal(run.status, 'failed');
    assert.equal(run.steps[0].status, 'failed');
    assert.match(run.steps[0].error, /exited with code 3/);
    assert.match(run.steps[0].log, /\[stderr\] boom/);
    assert.equal(run.steps[1].status, 'skipped');
    const model = await server.request('GET', '/api/v1/models/never-registered');
    assert.equal(model.status, 404);
  });

  it('a schedule runs once for ticks missed while down, once per new tick after that; one run at a time', async () => {
    const yaml = `
name: nightly
triggers:
  - schedule: "0 3 * * *"
steps:
  - id: wait
    kind: command
    argv: [${JSON.stringify(process.execPath)}, "-e", "setTimeout(() => console.log('slept'), Number(process.env.SLEEP_MS))"]
    env: { SLEEP_MS: "600" }
`;
    const applied = await applyPipeline(server, yaml);
    assert.equal(applied.status, 201, applied.text);
    const createdAt = applied.body.pipeline.created_at as number;
    // The next tick as the server's clock sees it: the first 03:00 UTC after now.
    const next = applied.body.pipeline.next_scheduled_at as number;
    assert.equal(next, last0300(Date.now()) + DAY);

    let clock = createdAt + 3 * DAY + 5 * 60_000;
    const scheduler = new PipelineScheduler({ service: server.server.platform.pipelines, now: () => clock });
    const first = await scheduler.tick();
    const mine = first.filter((o) => o.pipeline === 'nightly');
    assert.equal(mine.length, 1, JSON.stringify(first));
    assert.equal(mine[0]!.trigger, 'schedule');
    assert.equal(mine[0]!.run, 1);
    assert.equal(mine[0]!.details.tick, new Date(last0300(clock)).toISOString());
    // While run 1 sleeps, a manual run is refused and a new tick is consumed without a second run.
    const busy = await server.request('POST', '/api/v1/pipelines/nightly/runs');
    assert.equal(busy.status, 409);
    assert.equal(busy.body.error.code, 'PIPELINE_RUN_IN_PROGRESS');
    clock += DAY;
    const during = (await scheduler.tick()).filter((o) => o.pipeline === 'nightly');
    assert.equal(during.length, 1);
    assert.equal(during[0]!.run, null);
    assert.match(during[0]!.skipped!, /already has a run in progress/);
    const run1 = await waitForRun(server, 'nightly', 1);
    assert.equal(run1.status, 'succeeded', JSON.stringify(run1, null, 1));
    assert.equal(run1.trigger, 'schedule');
    assert.match(run1.steps[0].log, /\[stdout\] slept/);
    // Nothing new since the last check: no run.
    assert.deepEqual((await scheduler.tick()).filter((o) => o.pipeline === 'nightly'), []);
    // The next day's tick: one run.
    clock += DAY;
    const nextDay = (await scheduler.tick()).filter((o) => o.pipeline === 'nightly');
    assert.deepEqual(nextDay.map((o) => o.run), [2]);
    assert.equal((await waitForRun(server, 'nightly', 2)).status, 'succeeded');
    const history = await server.request('GET', '/api/v1/pipelines/nightly/runs');
    assert.deepEqual(history.body.runs.map((r: { number: number; trigger: string }) => [r.number, r.trigger]), [[2, 'schedule'], [1, 'schedule']]);
  });

  it('deleting a pipeline removes it and its history', async () => {
    const deleted = await server.request('DELETE', '/api/v1/pipelines/external-fail');
    assert.equal(deleted.status, 200, deleted.text);
    assert.deepEqual(deleted.body, { deleted: 'external-fail', runs: 1 });
    const gone = await server.request('GET', '/api/v1/pipelines/external-fail');
    assert.equal(gone.status, 404);
  });
});
