// `plinth deploy …`: the parsing of its flags and files (durations, steps, rollout bodies, feedback
// files), the refusals it makes before any request, and the commands end to end as a child process
// against a running server.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it, before, after } from 'node:test';
import {
  feedbackFormatOf,
  parseDuration,
  parseSteps,
  parseTime,
  readFeedbackItems,
  rolloutBody,
  routesSummary,
  type FeedbackItem,
} from '../src/cli/commands/deploy.js';
import { isPlinthError } from '../src/core/index.js';
import { linearModel } from '../src/onnx/index.js';
import { CLI_BUNDLE, runCli } from './helpers/cli.js';
import { startTestServer, type TestServer } from './helpers/server.js';

function throwsCode(fn: () => unknown, code: string, message?: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(isPlinthError(error), `expected a PlinthError, got ${String(error)}`);
    assert.equal(error.code, code);
    if (message) assert.match(error.message, message);
    return true;
  });
}

async function readAll(file: string, format: 'jsonl' | 'csv'): Promise<FeedbackItem[]> {
  const items: FeedbackItem[] = [];
  for await (const item of readFeedbackItems(file, format)) items.push(item);
  return items;
}

describe('plinth deploy: flags', () => {
  it('reads durations as seconds', () => {
    assert.equal(parseDuration('90'), 90);
    assert.equal(parseDuration('30s'), 30);
    assert.equal(parseDuration('5m'), 300);
    assert.equal(parseDuration('1h'), 3600);
    assert.equal(parseDuration('1m30s'), 90);
    assert.equal(parseDuration('1h2m3s'), 3723);
    assert.equal(parseDuration('500ms'), 0.5);
    assert.equal(parseDuration('1.5m'), 90);
    for (const bad of ['', '5x', 'm', '-5', '5 m', '1d', '0', '0s']) throwsCode(() => parseDuration(bad), 'INVALID_ARGUMENT');
  });

  it('reads canary steps as increasing percents ending at 100', () => {
    assert.deepEqual(parseSteps('5,25,50,100'), [5, 25, 50, 100]);
    assert.deepEqual(parseSteps(' 10 , 100'), [10, 100]);
    assert.deepEqual(parseSteps('100'), [100]);
    assert.deepEqual(parseSteps('0.5,100'), [0.5, 100]);
    throwsCode(() => parseSteps('5,x,100'), 'INVALID_ARGUMENT');
    throwsCode(() => parseSteps('0,100'), 'INVALID_ARGUMENT');
    throwsCode(() => parseSteps('5,150'), 'INVALID_ARGUMENT');
    throwsCode(() => parseSteps('50,25,100'), 'INVALID_ROLLOUT', /increase/);
    throwsCode(() => parseSteps('25,25,100'), 'INVALID_ROLLOUT', /increase/);
    throwsCode(() => parseSteps('5,50'), 'INVALID_ROLLOUT', /last step must be 100/);
  });

  it('reads times as epoch milliseconds', () => {
    assert.equal(parseTime('1700000000000', '--since'), 1_700_000_000_000);
    assert.equal(parseTime('2026-11-22T10:00:00Z', '--since'), Date.UTC(2026, 10, 22, 10, 0, 0));
    assert.equal(parseTime('2026-11-22T10:00:00.250+01:00', '--until'), Date.UTC(2026, 10, 22, 9, 0, 0, 250));
    throwsCode(() => parseTime('yesterday', '--since'), 'INVALID_ARGUMENT', /--since/);
  });

  it('builds the rollout body of each strategy, with only the fields given', () => {
    assert.deepEqual(
      rolloutBody({
        model: 'fraud@4', strategy: 'canary', steps: '10,50,100', interval: '2m', minRequests: '200',
        maxErrorRate: '0.01', maxLatencyRatio: '1.2', maxP99Ms: '40', maxPsi: '0.1', maxQualityDrop: '0.02', qualityMetric: 'mae',
      }),
      {
        model: 'fraud@4', strategy: 'canary', steps: [10, 50, 100], interval_seconds: 120, min_requests: 200,
        analysis: { max_error_rate: 0.01, max_latency_ratio: 1.2, max_p99_ms: 40, max_prediction_psi: 0.1, max_quality_drop: 0.02, quality_metric: 'mae' },
      },
    );
    assert.deepEqual(rolloutBody({ model: 'fraud@4', strategy: 'canary' }), { model: 'fraud@4', strategy: 'canary' });
    assert.deepEqual(rolloutBody({ model: 'fraud@4', strategy: 'ab', weight: '30', stickyHeader: 'x-user-id' }), { model: 'fraud@4', strategy: 'ab', weight: 30, sticky: { header: 'x-user-id' } });
    assert.deepEqual(rolloutBody({ model: 'fraud', strategy: 'ab', stickyField: 'user_id' }), { model: 'fraud', strategy: 'ab', sticky: { field: 'user_id' } });
    assert.deepEqual(rolloutBody({ model: 'fraud@5', strategy: 'shadow', percent: '20' }), { model: 'fraud@5', strategy: 'shadow', percent: 20 });
    assert.deepEqual(rolloutBody({ model: 'fraud@champion', strategy: 'Blue-Green' }), { model: 'fraud@champion', strategy: 'blue-green' });
  });

  it('refuses malformed rollouts before any request', () => {
    throwsCode(() => rolloutBody({ model: 'm@1', strategy: 'linear' }), 'INVALID_ROLLOUT', /canary, ab, shadow, blue-green/);
    throwsCode(() => rolloutBody({ model: 'm@1', strategy: 'ab', stickyHeader: 'x-user', stickyField: 'user' }), 'INVALID_ROLLOUT', /not both/);
    throwsCode(() => rolloutBody({ model: 'm@1', strategy: 'canary', weight: '10' }), 'INVALID_ROLLOUT', /--weight does not apply to a canary/);
    throwsCode(() => rolloutBody({ model: 'm@1', strategy: 'blue-green', steps: '50,100' }), 'INVALID_ROLLOUT', /--steps/);
    throwsCode(() => rolloutBody({ model: 'm@1', strategy: 'shadow', stickyField: 'u' }), 'INVALID_ROLLOUT', /--sticky-field/);
    throwsCode(() => rolloutBody({ model: 'm@1', strategy: 'canary', interval: 'soon' }), 'INVALID_ARGUMENT', /--interval/);
    throwsCode(() => rolloutBody({ model: 'm@1', strategy: 'canary', minRequests: '2.5' }), 'INVALID_ARGUMENT', /--min-requests/);
    throwsCode(() => rolloutBody({ model: 'm@1', strategy: 'canary', maxErrorRate: '1.5' }), 'INVALID_ARGUMENT', /--max-error-rate/);
    throwsCode(() => rolloutBody({ model: 'm@1', strategy: 'canary', minRequests: '0' }), 'INVALID_ARGUMENT', /--min-requests 0 must be an integer ≥ 1/);
    throwsCode(() => rolloutBody({ model: 'm@1', strategy: 'canary', maxLatencyRatio: '0.9' }), 'INVALID_ARGUMENT', /--max-latency-ratio/);
    throwsCode(() => rolloutBody({ model: 'm@1', strategy: 'canary', qualityMetric: 'f1' }), 'INVALID_ROLLOUT', /accuracy or mae/);
    throwsCode(() => rolloutBody({ model: 'm@1', strategy: 'ab', weight: '101' }), 'INVALID_ARGUMENT', /--weight/);
    throwsCode(() => rolloutBody({ model: 'm@1', strategy: 'shadow', percent: '0' }), 'INVALID_ARGUMENT', /--percent/);
  });

  it('summarises routes', () => {
    assert.equal(routesSummary([{ model: 'fraud@3', role: 'stable', weight: 100 }]), 'fraud@3 100%');
    assert.equal(
      routesSummary([{ model: 'fraud@3', role: 'stable', weight: 95 }, { model: 'fraud@4', role: 'canary', weight: 5 }, { model: 'fraud@5', role: 'shadow', weight: 20 }]),
      'fraud@3 95% · fraud@4 5% (canary) · fraud@5 mirrors 20% (shadow)',
    );
  });
});

describe('plinth deploy: feedback files', () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plinth-deploy-feedback-'));
  });
  after(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('reads JSON Lines with any JSON label, skipping blank lines', async () => {
    const file = path.join(dir, 'labels.jsonl');
    fs.writeFileSync(file, '\uFEFF{"request_id":"r1","label":1}\n\n{"request_id":"r2","label":"fraud"}\r\n{"request_id":"r3","label":[0.5,2],"extra":true}\n{"request_id":"r4","label":null}\n');
    assert.equal(feedbackFormatOf(file), 'jsonl');
    assert.deepEqual(await readAll(file, 'jsonl'), [
      { request_id: 'r1', label: 1 },
      { request_id: 'r2', label: 'fraud' },
      { request_id: 'r3', label: [0.5, 2] },
      { request_id: 'r4', label: null },
    ]);
  });

  it('reads CSV with numeric labels as numbers and other labels as text', async () => {
    const file = path.join(dir, 'labels.csv');
    fs.writeFileSync(file, 'label,request_id,note\n1,r1,x\n0.25,r2,\nfraud,r3,y\n-3e2,r4,\n007x,r5,\n');
    assert.equal(feedbackFormatOf(file), 'csv');
    assert.deepEqual(await readAll(file, 'csv'), [
      { request_id: 'r1', label: 1 },
      { request_id: 'r2', label: 0.25 },
      { request_id: 'r3', label: 'fraud' },
      { request_id: 'r4', label: -300 },
      { request_id: 'r5', label: '007x' },
    ]);
    const sniffed = path.join(dir, 'labels-no-extension');
    fs.writeFileSync(sniffed, '  {"request_id":"a","label":0}\n');
    assert.equal(feedbackFormatOf(sniffed), 'jsonl');
  });

  it('names the line of a malformed item', async () => {
    const cases: Array<[string, 'jsonl' | 'csv', string, RegExp]> = [
      ['bad.jsonl', 'jsonl', '{"request_id":"r1","label":1}\n{"request_id":"r2",\n', /line 2 is not JSON/],
      ['nolabel.jsonl', 'jsonl', '{"request_id":"r1","label":1}\n\n{"request_id":"r3"}\n', /line 3: label is missing/],
      ['array.jsonl', 'jsonl', '[1,2]\n', /line 1 must be an object/],
      ['noid.jsonl', 'jsonl', '{"request_id":7,"label":1}\n', /line 1: request_id must be a string of 1 to 128 characters/],
      ['longid.jsonl', 'jsonl', `{"request_id":"${'r'.repeat(129)}","label":1}\n`, /line 1: request_id/],
      ['columns.csv', 'csv', 'id,label\nr1,1\n', /must name the columns request_id and label/],
      ['empty-label.csv', 'csv', 'request_id,label\nr1,1\nr2,\n', /row 3: label is missing/],
      ['ragged.csv', 'csv', 'request_id,label\nr1,1,extra\n', /not a readable CSV/],
    ];
    for (const [name, format, text, message] of cases) {
      const file = path.join(dir, name);
      fs.writeFileSync(file, text);
      await assert.rejects(readAll(file, format), (error: unknown) => isPlinthError(error) && error.code === 'INVALID_ARGUMENT' && message.test(error.message), name);
    }
  });
});

describe('plinth deploy: refusals before any request', () => {
  // Nothing listens on port 9 of 127.0.0.1: a command that sent a request would exit with 6.
  const env = { url: 'http://127.0.0.1:9', token: 'unused' };

  it('exits with the usage code and one line for bad flags', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['deploy', 'rollout', 'api', '--model', 'fraud@2', '--strategy', 'linear'], /--strategy "linear" is not a strategy.*\[INVALID_ROLLOUT\]/],
      [['deploy', 'rollout', 'api', '--model', 'fraud@2', '--strategy', 'ab', '--sticky-header', 'x-user', '--sticky-field', 'user'], /not both \[INVALID_ROLLOUT\]/],
      [['deploy', 'rollout', 'api', '--model', 'fraud@2', '--strategy', 'canary', '--interval', '5 minutes'], /--interval "5 minutes" is not a duration/],
      [['deploy', 'rollout', 'api', '--model', 'fraud@2', '--strategy', 'canary', '--steps', '5,x,100'], /--steps "x"/],
      [['deploy', 'predictions', 'api', '--format', 'xml'], /--format "xml"/],
      [['deploy', 'predictions', 'api', '--since', 'last week'], /--since "last week"/],
      [['deploy', 'feedback', 'api', '/nonexistent/labels.jsonl'], /no such file/],
    ];
    for (const [args, message] of cases) {
      const result = await runCli(args, env);
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, message);
      assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
      assert.equal(result.stdout, '');
    }
    const missing = await runCli(['deploy', 'rollout', 'api', '--model', 'fraud@2'], env);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--strategy/);
  });
});

describe('plinth deploy against a server', () => {
  let server: TestServer;
  let env: { url: string; token: string };
  let dir: string;
  // `deploy status NAME --json` read back as the API's Deployment.
  const status = async (name: string) => {
    const result = await runCli(['--json', 'deploy', 'status', name], env);
    assert.equal(result.code, 0, result.stderr);
    return JSON.parse(result.stdout) as { revision: number; routes: Array<{ model: string; role: string; weight: number }>; rollout: any; last_rollout: any };
  };
  const infer = (deployment: string, requestId: string, a: number, b: number) =>
    server.request('POST', `/v2/models/${deployment}/infer`, {
      json: { inputs: [{ name: 'input', datatype: 'FP32', shape: [1, 2], data: [a, b] }] },
      headers: { 'x-request-id': requestId },
    });

  before(async () => {
    server = await startTestServer();
    env = { url: server.url, token: server.adminToken };
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plinth-deploy-cli-'));
    // fraud@1 answers a + b, fraud@2 answers a + b + 1: which version answered is visible in the output.
    await server.registerModel('fraud', linearModel({ weights: [[1], [1]], bias: [0] }));
    await server.registerModel('fraud', linearModel({ weights: [[1], [1]], bias: [1] }));
  });
  after(async () => {
    await server?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('creates, switches blue-green, reads the history and rolls back', async () => {
    const created = await runCli(['deploy', 'create', 'api', '--model', 'fraud@1', '--description', 'fraud scoring'], env);
    assert.equal(created.code, 0, created.stderr);
    assert.equal(created.stdout, 'created deployment api: fraud@1 100% (revision 1)\n');
    let shown = await status('api');
    assert.equal(shown.revision, 1);
    assert.deepEqual(shown.routes, [{ model: 'fraud@1', role: 'stable', weight: 100 }]);
    assert.equal(shown.rollout, null);

    const again = await runCli(['deploy', 'create', 'api', '--model', 'fraud@2'], env);
    assert.equal(again.code, 5, again.stderr);
    assert.match(again.stderr, /^plinth: .*\[DEPLOYMENT_ALREADY_EXISTS\]\n$/);

    const switched = await runCli(['deploy', 'rollout', 'api', '--model', 'fraud@2', '--strategy', 'blue-green'], env);
    assert.equal(switched.code, 0, switched.stderr);
    assert.match(switched.stdout, /^started the blue-green rollout of fraud@2 on api$/m);
    shown = await status('api');
    assert.equal(shown.revision, 2);
    assert.deepEqual(shown.routes, [{ model: 'fraud@2', role: 'stable', weight: 100 }]);
    assert.equal(shown.rollout, null);
    assert.equal(shown.last_rollout.outcome, 'promoted');
    const answered = await infer('api', 'bg-1', 2, 3);
    assert.equal(answered.status, 200, answered.text);
    assert.equal(answered.headers.get('x-plinth-model'), 'fraud@2');
    assert.deepEqual(answered.body.outputs[0].data, [6]);

    const rolledBack = await runCli(['deploy', 'rollback', 'api', '--reason', 'fraud@2 flags every order'], env);
    assert.equal(rolledBack.code, 0, rolledBack.stderr);
    assert.equal(rolledBack.stdout, 'rolled back api: fraud@1 100% (revision 3)\n');
    shown = await status('api');
    assert.equal(shown.revision, 3);
    assert.deepEqual(shown.routes, [{ model: 'fraud@1', role: 'stable', weight: 100 }]);
    assert.equal((await infer('api', 'bg-2', 2, 3)).headers.get('x-plinth-model'), 'fraud@1');

    const history = await runCli(['deploy', 'history', 'api'], env);
    assert.equal(history.code, 0, history.stderr);
    const lines = history.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^REVISION\s+ACTION\s+ACTOR\s+WHEN\s+ROUTES\s+REASON$/);
    assert.equal(lines.length, 4, history.stdout);
    assert.match(lines[1]!, /^3\s+\S+\s+.*fraud@1 100%\s+fraud@2 flags every order$/);
    assert.match(lines[2]!, /^2\s+\S+\s+.*fraud@2 100%/);
    assert.match(lines[3]!, /^1\s+\S+\s+.*fraud@1 100%/);
    const revisions = JSON.parse((await runCli(['--json', 'deploy', 'history', 'api'], env)).stdout) as Array<{ revision: number; reason: string | null; routes: unknown }>;
    assert.deepEqual(revisions.map((r) => r.revision), [3, 2, 1]);
    assert.equal(revisions[0]!.reason, 'fraud@2 flags every order');
    assert.deepEqual(revisions[1]!.routes, [{ model: 'fraud@2', role: 'stable', weight: 100 }]);

    const list = await runCli(['deploy', 'list'], env);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /^NAME\s+REVISION\s+ROUTES\s+ROLLOUT\s+UPDATED$/m);
    assert.match(list.stdout, /^api\s+3\s+fraud@1 100%\s/m);
  });

  it('creates a fixed split with --route and changes it with deploy routes', async () => {
    const created = await runCli(['--json', 'deploy', 'create', 'split', '--route', 'fraud@1=75', '--route', 'fraud@2=25'], env);
    assert.equal(created.code, 0, created.stderr);
    assert.deepEqual(JSON.parse(created.stdout).routes, [{ model: 'fraud@1', role: 'stable', weight: 75 }, { model: 'fraud@2', role: 'split', weight: 25 }]);
    const changed = await runCli(['--json', 'deploy', 'routes', 'split', '--route', 'fraud@2=100'], env);
    assert.equal(changed.code, 0, changed.stderr);
    assert.deepEqual(JSON.parse(changed.stdout).routes, [{ model: 'fraud@2', role: 'stable', weight: 100 }]);
    const notHundred = await runCli(['deploy', 'routes', 'split', '--route', 'fraud@1=60', '--route', 'fraud@2=30'], env);
    assert.equal(notHundred.code, 2, notHundred.stderr);
    assert.match(notHundred.stderr, /add up to 100/);
    const malformed = await runCli(['deploy', 'routes', 'split', '--route', 'fraud@1'], env);
    assert.equal(malformed.code, 2, malformed.stderr);
    assert.match(malformed.stderr, /reference=weight/);
    const both = await runCli(['deploy', 'create', 'other', '--model', 'fraud@1', '--route', 'fraud@1=100'], env);
    assert.equal(both.code, 2, both.stderr);
  });

  it('runs a canary and an A/B test with the flags it was given, and refuses a second rollout', async () => {
    const created = await runCli(['deploy', 'create', 'checkout', '--model', 'fraud@1'], env);
    assert.equal(created.code, 0, created.stderr);
    // An hour per step and a million requests: the canary stays at its first step while we look.
    const canary = await runCli(['deploy', 'rollout', 'checkout', '--model', 'fraud@2', '--strategy', 'canary', '--steps', '10,60,100', '--interval', '1h', '--min-requests', '1000000', '--max-error-rate', '0.02', '--max-p99-ms', '250'], env);
    assert.equal(canary.code, 0, canary.stderr);
    let shown = await status('checkout');
    assert.equal(shown.revision, 2);
    assert.deepEqual(shown.routes, [{ model: 'fraud@1', role: 'stable', weight: 90 }, { model: 'fraud@2', role: 'canary', weight: 10 }]);
    assert.equal(shown.rollout.strategy, 'canary');
    assert.equal(shown.rollout.state, 'progressing');
    assert.deepEqual(shown.rollout.steps, [10, 60, 100]);
    assert.equal(shown.rollout.step, 0);
    assert.equal(shown.rollout.interval_seconds, 3600);
    assert.equal(shown.rollout.min_requests, 1_000_000);
    assert.equal(shown.rollout.analysis.max_error_rate, 0.02);
    assert.equal(shown.rollout.analysis.max_p99_ms, 250);
    assert.equal(shown.rollout.analysis.max_latency_ratio, 1.5, 'a threshold not given keeps the default');

    const human = await runCli(['deploy', 'status', 'checkout'], env);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /^rollout:\s+canary of fraud@2 against fraud@1, progressing, step 1\/3 at 10%, every 3600s/m);
    assert.match(human.stdout, /^MODEL\s+ROLE\s+WEIGHT$/m);
    assert.match(human.stdout, /^fraud@1\s+stable\s+90%$/m);
    assert.match(human.stdout, /^fraud@2\s+canary\s+10%$/m);
    // The controller analyses the step about once a second; its newest checks show under the routes.
    let analysed = human.stdout;
    for (const deadline = Date.now() + 10_000; !/^canary analysis at /m.test(analysed) && Date.now() < deadline; ) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      analysed = (await runCli(['deploy', 'status', 'checkout'], env)).stdout;
    }
    assert.match(analysed, /^canary analysis at \S+: wait$/m);
    assert.match(analysed, /^CHECK\s+VALUE\s+THRESHOLD\s+RESULT\s+DETAIL$/m);
    assert.match(analysed, /^requests\s+0\s+1000000\s+FAIL\s/m);
    assert.match(analysed, /^error_rate\s+0\.02\s+pass\s/m);
    assert.match(analysed, /^MODEL\s+ROLE\s+REQUESTS\s+ERRORS\s+ERROR RATE\s+P50 MS\s+P99 MS$/m);

    const second = await runCli(['deploy', 'rollout', 'checkout', '--model', 'fraud@1', '--strategy', 'blue-green'], env);
    assert.equal(second.code, 5, second.stderr);
    assert.match(second.stderr, /\[ROLLOUT_IN_PROGRESS\]\n$/);
    assert.equal((await status('checkout')).revision, 2, 'a refused rollout changes nothing');

    const promoted = await runCli(['deploy', 'promote', 'checkout'], env);
    assert.equal(promoted.code, 0, promoted.stderr);
    assert.equal(promoted.stdout, 'promoted on checkout: fraud@2 100% (revision 3)\n');
    shown = await status('checkout');
    assert.deepEqual(shown.routes, [{ model: 'fraud@2', role: 'stable', weight: 100 }]);
    assert.equal(shown.rollout, null);

    const ab = await runCli(['deploy', 'rollout', 'checkout', '--model', 'fraud@1', '--strategy', 'ab', '--weight', '30', '--sticky-header', 'x-user-id'], env);
    assert.equal(ab.code, 0, ab.stderr);
    shown = await status('checkout');
    assert.deepEqual(shown.routes, [{ model: 'fraud@2', role: 'a', weight: 70 }, { model: 'fraud@1', role: 'b', weight: 30 }]);
    assert.deepEqual(shown.rollout.sticky, { header: 'x-user-id' });
    const aborted = await runCli(['--json', 'deploy', 'rollback', 'checkout'], env);
    assert.equal(aborted.code, 0, aborted.stderr);
    assert.deepEqual(JSON.parse(aborted.stdout).routes, [{ model: 'fraud@2', role: 'stable', weight: 100 }]);
  });

  it("passes the server's refusals through as one line and an exit code", async () => {
    const unknownVersion = await runCli(['deploy', 'rollout', 'api', '--model', 'fraud@9', '--strategy', 'blue-green'], env);
    assert.equal(unknownVersion.code, 3, unknownVersion.stderr);
    assert.match(unknownVersion.stderr, /^plinth: .*\[MODEL_VERSION_NOT_FOUND\]\n$/);
    // 10 ms passes the CLI's duration check; the server wants at least 50 ms per step.
    const tooShort = await runCli(['deploy', 'rollout', 'api', '--model', 'fraud@2', '--strategy', 'canary', '--interval', '10ms'], env);
    assert.equal(tooShort.code, 2, tooShort.stderr);
    assert.match(tooShort.stderr, /^plinth: .*interval_seconds.*\[VALIDATION_FAILED\]\n$/);
    const badStrategy = await runCli(['deploy', 'rollout', 'api', '--model', 'fraud@2', '--strategy', 'rainbow'], env);
    assert.equal(badStrategy.code, 2, badStrategy.stderr);
    assert.match(badStrategy.stderr, /is not a strategy/);
    const missing = await runCli(['deploy', 'status', 'nowhere'], env);
    assert.equal(missing.code, 3, missing.stderr);
    assert.match(missing.stderr, /\[DEPLOYMENT_NOT_FOUND\]\n$/);
    const viewer = await server.tokenWithRole('viewer');
    const denied = await runCli(['deploy', 'promote', 'api'], { url: server.url, token: viewer });
    assert.equal(denied.code, 4, denied.stderr);
    assert.equal((await status('api')).revision, 3, 'nothing refused changed the deployment');
  });

  it('stops quietly when the reader of stdout goes away', async () => {
    const created = await runCli(['deploy', 'create', 'bulk', '--model', 'fraud@1'], env);
    assert.equal(created.code, 0, created.stderr);
    // 20 requests of 500 rows: a log of well over the 64 KiB a pipe buffers, so `head` closes it early.
    const rows = 500;
    for (let i = 0; i < 20; i++) {
      const answered = await server.request('POST', '/v2/models/bulk/infer', { json: { inputs: [{ name: 'input', datatype: 'FP32', shape: [rows, 2], data: Array.from({ length: rows * 2 }, (_, j) => j) }] } });
      assert.equal(answered.status, 200, answered.text);
    }
    const full = await runCli(['deploy', 'predictions', 'bulk'], env);
    assert.ok(full.stdout.length > 128 * 1024, `${full.stdout.length} bytes`);
    const child = spawn('bash', ['-c', `"${process.execPath}" "${CLI_BUNDLE}" deploy predictions bulk | head -c 100 > /dev/null; echo "\${PIPESTATUS[0]}"`], {
      env: { PATH: process.env.PATH ?? '', PLINTH_URL: env.url, PLINTH_TOKEN: env.token },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    await new Promise((resolve) => child.on('exit', resolve));
    assert.equal(stdout.trim(), '0', stderr);
    assert.equal(stderr, '');
  });

  it('exports the prediction log and sends feedback in chunks', async () => {
    const created = await runCli(['deploy', 'create', 'labels', '--model', 'fraud@1'], env);
    assert.equal(created.code, 0, created.stderr);
    for (const [id, a, b] of [['p-1', 1, 2], ['p-2', 3, 4], ['p-3', 5, 6]] as const) {
      const answered = await infer('labels', id, a, b);
      assert.equal(answered.status, 200, answered.text);
    }

    const jsonl = await runCli(['deploy', 'predictions', 'labels'], env);
    assert.equal(jsonl.code, 0, jsonl.stderr);
    const rows = jsonl.stdout.trim().split('\n').map((line) => JSON.parse(line) as { request_id: string; outputs: unknown });
    assert.deepEqual(rows.map((r) => r.request_id).sort(), ['p-1', 'p-2', 'p-3']);
    const limited = await runCli(['deploy', 'predictions', 'labels', '--limit', '2'], env);
    assert.equal(limited.stdout.trim().split('\n').length, 2);
    const future = await runCli(['deploy', 'predictions', 'labels', '--since', new Date(Date.now() + 3_600_000).toISOString()], env);
    assert.equal(future.code, 0, future.stderr);
    assert.equal(future.stdout.trim(), '');

    const csvFile = path.join(dir, 'predictions.csv');
    const csv = await runCli(['deploy', 'predictions', 'labels', '--format', 'csv', '-o', csvFile], env);
    assert.equal(csv.code, 0, csv.stderr);
    const written = fs.readFileSync(csvFile, 'utf8');
    assert.equal(csv.stdout, `wrote ${Buffer.byteLength(written)} bytes of csv to ${csvFile}\n`);
    assert.match(written.split('\n')[0]!, /request_id/);
    assert.equal(written.trim().split('\n').length, 4, 'a header and three rows');
    const parquetFile = path.join(dir, 'predictions.parquet');
    const parquet = await runCli(['deploy', 'predictions', 'labels', '--format', 'parquet', '-o', parquetFile], env);
    assert.equal(parquet.code, 0, parquet.stderr);
    assert.equal(fs.readFileSync(parquetFile).subarray(0, 4).toString(), 'PAR1');

    const labels = path.join(dir, 'labels.csv');
    fs.writeFileSync(labels, 'request_id,label\np-1,1\np-2,0\nnever-seen,1\n');
    const first = await runCli(['deploy', 'feedback', 'labels', labels], env);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.stdout, '3 labels sent to labels in 1 request: 2 accepted, 0 unchanged, 1 unknown\nunknown request ids: never-seen\n');
    const strict = await runCli(['deploy', 'feedback', 'labels', labels, '--strict'], env);
    assert.equal(strict.code, 3, strict.stderr);
    assert.match(strict.stdout, /: 0 accepted, 2 unchanged, 1 unknown\n/);
    assert.equal(strict.stderr, 'plinth: 1 of 3 request ids are not in the prediction log of labels\n');

    // 10,001 items: two requests; p-3 is the only known id and comes last, in the second request.
    const many = path.join(dir, 'many.jsonl');
    const lines: string[] = [];
    for (let i = 0; i < 10_000; i++) lines.push(JSON.stringify({ request_id: `unknown-${i}`, label: i % 2 }));
    lines.push(JSON.stringify({ request_id: 'p-3', label: 1 }));
    fs.writeFileSync(many, lines.join('\n') + '\n');
    const chunked = await runCli(['--json', 'deploy', 'feedback', 'labels', many], env);
    assert.equal(chunked.code, 0, chunked.stderr);
    const totals = JSON.parse(chunked.stdout);
    assert.equal(totals.items, 10_001);
    assert.equal(totals.requests, 2);
    assert.equal(totals.accepted, 1);
    assert.equal(totals.unknown, 10_000);
    assert.equal(totals.unknown_ids.length, 10_000);

    const joined = await runCli(['deploy', 'predictions', 'labels'], env);
    const byId = new Map(joined.stdout.trim().split('\n').map((line) => {
      const row = JSON.parse(line) as { request_id: string; label?: unknown };
      return [row.request_id, row.label] as const;
    }));
    assert.deepEqual([byId.get('p-1'), byId.get('p-2'), byId.get('p-3')], [1, 0, 1]);

    const noDirectory = path.join(dir, 'missing', 'predictions.jsonl');
    const unwritable = await runCli(['deploy', 'predictions', 'labels', '-o', noDirectory], env);
    assert.equal(unwritable.code, 2, unwritable.stderr);
    assert.match(unwritable.stderr, /^plinth: cannot write .*missing\/predictions\.jsonl: .*ENOENT/);
    assert.equal(fs.existsSync(noDirectory), false);

    const badLine = path.join(dir, 'bad.jsonl');
    fs.writeFileSync(badLine, '{"request_id":"p-1","label":0}\n{"request_id":\n');
    const refused = await runCli(['deploy', 'feedback', 'labels', badLine], env);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /line 2 is not JSON/);
    const after = await runCli(['deploy', 'predictions', 'labels'], env);
    assert.match(after.stdout, /"request_id":"p-1"[^\n]*"label":1/, 'nothing of a refused file was sent');
  });
});
