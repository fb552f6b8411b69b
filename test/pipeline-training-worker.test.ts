// A pipeline's training runs on a worker thread: while a gradient-boosting model of 150,000 rows
// trains (seconds), the same server keeps answering its health check within a small fraction of the
// fit time. Were the fit on the main thread, a check sent as it starts would wait for all of it.
// The store plays no part here, so this runs on SQLite only.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { applyPipeline, uploadDataset, waitForRun } from './helpers/pipeline.js';
import { startTestServer, type TestServer } from './helpers/server.js';

const ROWS = 150_000;

/** Rows of four features in [0, 1) and a noisy label (a seeded LCG, independent of the code under test). */
function bigCsv(): string {
  let s = 12345;
  const next = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
  const lines = ['x1,x2,x3,x4,y'];
  for (let i = 0; i < ROWS; i++) {
    const x = [next(), next(), next(), next()];
    const y = x[0]! + x[1]! + 0.3 * x[2]! * x[3]! + 0.4 * (next() - 0.5) > 1 ? 1 : 0;
    lines.push(`${x.map((v) => v.toFixed(4)).join(',')},${y}`);
  }
  return lines.join('\n') + '\n';
}

describe('pipeline training on a worker thread', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ backend: 'sqlite' });
    await uploadDataset(server, 'big', bigCsv());
  });
  after(async () => server?.close());

  it('health checks answer quickly while a big model trains', async (t) => {
    const yaml = `
name: big-train
steps:
  - { id: data, kind: dataset, dataset: big@1 }
  - id: fit
    kind: train
    needs: [data]
    label: y
    task: binary
    algo: gbdt
    params: { trees: 200, maxDepth: 6, learningRate: 0.05 }
    seed: 1
`;
    assert.equal((await applyPipeline(server, yaml)).status, 201);
    const started = await server.request('POST', '/api/v1/pipelines/big-train/runs');
    assert.equal(started.status, 202, started.text);

    // Health checks one after the other until the run has ended, each timed from send to answer.
    const checks: Array<{ sentAt: number; latencyMs: number }> = [];
    let ended = false;
    const prober = (async () => {
      while (!ended) {
        const sentAt = Date.now();
        const t = performance.now();
        const reply = await fetch(`${server.url}/healthz`);
        await reply.text();
        assert.equal(reply.status, 200);
        checks.push({ sentAt, latencyMs: performance.now() - t });
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    const run = await waitForRun(server, 'big-train', started.body.number as number, 180_000);
    ended = true;
    await prober;
    assert.equal(run.status, 'succeeded', JSON.stringify(run, null, 1));

    const fit = run.steps[1];
    assert.match(fit.log, /on a worker thread/);
    const fitMs = Number(/ in (\d+) ms on a worker thread/.exec(fit.log)?.[1]);
    // The model must be big enough for a blocked event loop to show: seconds of fitting on a 2-core
    // machine today, and still at least half a second should the trainer get several times faster.
    assert.ok(fitMs >= 500, `the fit took only ${fitMs} ms; make the model bigger`);
    assert.equal(fit.outputs.train_rows, ROWS * 0.8);
    const during = checks.filter((c) => c.sentAt >= fit.started_at && c.sentAt <= fit.finished_at);
    // Training overlapped the checks: many were sent while the step ran.
    assert.ok(during.length >= 10, `${during.length} health checks overlapped the train step (of ${checks.length})`);
    const worst = Math.max(...during.map((c) => c.latencyMs));
    t.diagnostic(`fit ${fitMs} ms; ${during.length} health checks during the step, the slowest ${worst.toFixed(1)} ms`);
    // A blocked loop would hold a check for most of the fit; a free one answers in milliseconds.
    assert.ok(worst < fitMs / 3, `the slowest health check took ${worst.toFixed(0)} ms while the fit took ${fitMs} ms`);
  });
});
