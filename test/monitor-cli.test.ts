// `plinth monitor …` against a real server: create, list, run, results, delete, and the reference
// profile's set and show, in people's form and with --json; bad input exits non-zero with one line.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { linearModel } from '../src/onnx/index.js';
import { runCli } from './helpers/cli.js';
import { startTestServer, type TestServer } from './helpers/server.js';

const MODEL = linearModel({ weights: [[1], [0]], bias: [0] });
const SCHEMA = { features: [{ name: 'amount', type: 'numeric' }, { name: 'channel', type: 'categorical', categories: ['web', 'shop'] }] };

describe('plinth monitor', () => {
  let server: TestServer;
  const cli = (...args: string[]) => runCli(args, { url: server.url, token: server.adminToken });

  before(async () => {
    server = await startTestServer();
    const form = new FormData();
    // Reference amounts 1…8, channels web×4 and shop×4.
    form.append('file', new Blob(['amount,channel\n' + Array.from({ length: 8 }, (_, i) => `${i + 1},${i < 4 ? 'web' : 'shop'}`).join('\n') + '\n']), 'train.csv');
    assert.equal((await server.request('POST', '/api/v1/datasets/payments/versions', { body: form })).status, 201);
    await server.registerModel('payments', MODEL, { feature_schema: SCHEMA, datasets: { training: 'payments@1' } });
    assert.equal((await server.request('POST', '/api/v1/deployments', { json: { name: 'pay', model: 'payments@1' } })).status, 201);
    // Live amounts 5…12: four of them above the reference maximum 8.
    const rows = Array.from({ length: 8 }, (_, i) => [i + 5, i % 2 === 0 ? 'web' : 'shop']);
    const reply = await server.request('POST', '/api/v1/deployments/pay/invocations', { json: { dataframe_split: { columns: ['amount', 'channel'], data: rows } } });
    assert.equal(reply.status, 200, reply.text);
  });
  after(async () => server?.close());

  it('creates, lists, runs and reads monitors', async () => {
    const created = await cli('monitor', 'create', 'pay', 'drift', '--kind', 'drift', '--requests', '50', '--on-demand');
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout, /created drift monitor drift of pay: last 50 requests, on demand/);
    assert.equal((await cli('monitor', 'create', 'pay', 'quality', '--kind', 'quality', '--seconds', '3600', '--every', '60')).code, 0);

    const listed = await cli('monitor', 'list', 'pay');
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, /^NAME\s+KIND\s+WINDOW/);
    assert.match(listed.stdout, /quality\s+quality\s+last 3600 s\s+60 s\s+yes/);

    const run = await cli('monitor', 'run', 'pay', 'drift');
    assert.equal(run.code, 0, run.stderr);
    // KS of 1…8 against 5…12: half of the reference lies below every live value, D = 0.5.
    assert.match(run.stdout, /amount\s+ks\s+0\.500000/);
    assert.match(run.stdout, /drifted features: \d of 2/);

    const quality = await cli('--json', 'monitor', 'run', 'pay', 'quality');
    assert.equal(quality.code, 0, quality.stderr);
    const parsed = JSON.parse(quality.stdout);
    assert.equal(parsed.status, 'anomalies');
    assert.equal(parsed.metrics['quality.feature.amount.out_of_range'], 4);
    const human = await cli('monitor', 'results', 'pay', '--kind', 'quality', '--latest');
    assert.match(human.stdout, /amount\s+numeric\s+8\s+0\s+0\s+4\s+0\s+0/);

    const results = await cli('--json', 'monitor', 'results', 'pay', 'drift');
    assert.equal(results.code, 0, results.stderr);
    assert.equal(JSON.parse(results.stdout).length, 1);

    const updated = await cli('monitor', 'update', 'pay', 'quality', '--requests', '25', '--on-demand', '--disable');
    assert.equal(updated.code, 0, updated.stderr);
    assert.match(updated.stdout, /updated quality monitor quality of pay: last 25 requests, on demand, disabled/);
    assert.match((await cli('monitor', 'list', 'pay')).stdout, /quality\s+quality\s+last 25 requests\s+on demand\s+no/);
    const nothing = await cli('monitor', 'update', 'pay', 'quality');
    assert.equal(nothing.code, 2, nothing.stderr);
    assert.match(nothing.stderr, /nothing to change/);

    const deleted = await cli('monitor', 'delete', 'pay', 'quality');
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.doesNotMatch((await cli('monitor', 'list', 'pay')).stdout, /quality/);
  });

  it('sets and shows a reference profile', async () => {
    const set = await cli('monitor', 'reference', 'set', 'payments', '1', '--deployment', 'pay');
    assert.equal(set.code, 0, set.stderr);
    assert.match(set.stdout, /set the reference of payments@1: 8 rows, 2 features and the prediction/);
    const shown = await cli('monitor', 'reference', 'show', 'payments', '1');
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /amount\s+numeric\s+8\s+0\s+5 … 12/);
    assert.match(shown.stdout, /\(prediction\)\s+numeric\s+8/);
  });

  it('bad input exits non-zero with one line', async () => {
    const unknown = await cli('monitor', 'run', 'pay', 'nosuch');
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.stderr, /no monitor named "nosuch"/);
    const both = await cli('monitor', 'create', 'pay', 'x', '--kind', 'drift', '--requests', '5', '--seconds', '5');
    assert.notEqual(both.code, 0);
    assert.match(both.stderr, /--requests or --seconds/);
    const badConfig = await cli('monitor', 'create', 'pay', 'x', '--kind', 'drift', '--config', '{"tests":{"amount":"magic"}}');
    assert.notEqual(badConfig.code, 0);
    assert.match(badConfig.stderr, /config\.tests\.amount/);
  });
});
