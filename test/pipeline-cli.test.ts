// `plinth pipeline` end to end: the real CLI bundle against a real server — apply a YAML file
// (created, then updated), list, show, run --wait with a line per step, history, one run in full
// with --json, and the exit codes of a bad file and an unknown pipeline.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runCli } from './helpers/cli.js';
import { csvOf, makeRows, uploadDataset } from './helpers/pipeline.js';
import { startTestServer, type TestServer } from './helpers/server.js';

const YAML = `
name: cli-train
description: trains a linear model on the cli dataset
triggers:
  - schedule: "30 2 * * 1"
steps:
  - { id: data, kind: dataset, dataset: cli-data@1 }
  - { id: fit, kind: train, needs: [data], label: y, task: binary, algo: linear }
  - { id: score, kind: evaluate, needs: [fit], metrics: [accuracy] }
`;

describe('plinth pipeline (sqlite)', () => {
  let server: TestServer;
  let dir: string;
  let env: { url: string; token: string };
  before(async () => {
    server = await startTestServer({ backend: 'sqlite' });
    env = { url: server.url, token: server.adminToken };
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plinth-pipeline-cli-'));
    await uploadDataset(server, 'cli-data', csvOf(makeRows(200, 5)));
  });
  after(async () => {
    await server?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('apply, list, show, run --wait, history', async () => {
    const file = path.join(dir, 'pipeline.yaml');
    fs.writeFileSync(file, YAML);
    const applied = await runCli(['pipeline', 'apply', file], env);
    assert.equal(applied.code, 0, applied.stderr);
    assert.equal(applied.stdout, 'created pipeline cli-train: data → fit → score\n');
    const again = await runCli(['pipeline', 'apply', file], env);
    assert.match(again.stdout, /^updated pipeline cli-train/);

    const list = await runCli(['pipeline', 'list'], env);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /cli-train +3 +manual; schedule 30 2 \* \* 1/);
    const show = await runCli(['pipeline', 'show', 'cli-train'], env);
    assert.equal(show.code, 0, show.stderr);
    assert.match(show.stdout, /fit +train +data/);

    const run = await runCli(['pipeline', 'run', 'cli-train', '--wait'], env);
    assert.equal(run.code, 0, run.stderr + run.stdout);
    const lines = run.stdout.split('\n');
    assert.equal(lines[0], 'run 1 of cli-train started');
    for (const step of ['data (dataset)', 'fit (train)', 'score (evaluate)']) {
      assert.ok(lines.some((l) => l.startsWith(`  ${step}: succeeded`)), `${step} in\n${run.stdout}`);
    }
    assert.match(run.stdout, /run 1: succeeded\nlineage: dataset cli-data@1 → run [0-9a-f]+/);

    const history = await runCli(['pipeline', 'history', 'cli-train'], env);
    assert.equal(history.code, 0, history.stderr);
    assert.match(history.stdout, /1 +manual +succeeded .* data:succeeded fit:succeeded score:succeeded/);
    const one = await runCli(['--json', 'pipeline', 'history', 'cli-train', '--run', '1'], env);
    assert.equal(one.code, 0, one.stderr);
    const parsed = JSON.parse(one.stdout);
    assert.equal(parsed.number, 1);
    assert.deepEqual(parsed.steps.map((s: { id: string }) => s.id), ['data', 'fit', 'score']);
    assert.equal(typeof parsed.steps[2].outputs.metrics.accuracy, 'number');
  });

  it('a bad file exits 2, an unknown pipeline 3', async () => {
    const bad = path.join(dir, 'bad.yaml');
    fs.writeFileSync(bad, 'name: bad\nsteps:\n  - {id: a, kind: dataset, dataset: x, needs: [a]}\n');
    const refused = await runCli(['pipeline', 'apply', bad], env);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /step a needs itself \[INVALID_PIPELINE\]/);
    const unknown = await runCli(['pipeline', 'run', 'nope'], env);
    assert.equal(unknown.code, 3);
    assert.match(unknown.stderr, /\[PIPELINE_NOT_FOUND\]/);
  });
});
