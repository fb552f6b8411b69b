// `plinth deploy …`: the parsing of its flags and files (durations, steps, rollout bodies, feedback
// files), the refusals it makes before any request, and the commands end to end as a child process
// against a running server.
import assert from 'node:assert/strict';
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
import { runCli } from './helpers/cli.js';

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
