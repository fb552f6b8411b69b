// A deployment's drift report end to end: traffic through a real server, a reference profile from
// an earlier window of that traffic, then the HTML page from GET …/drift/report and from
// `plinth report drift <deployment> --out`; the stored-result fallback, and bad requests.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { linearModel } from '../src/onnx/index.js';
import { runCli } from './helpers/cli.js';
import { startTestServer, type TestServer } from './helpers/server.js';

async function infer(server: TestServer, deployment: string, x: number): Promise<void> {
  const response = await server.request('POST', `/v2/models/${deployment}/infer`, { json: { inputs: [{ name: 'input', shape: [1, 1], datatype: 'FP32', data: [x] }] } });
  assert.equal(response.status, 200, response.text);
}

/** The overview table's row of a feature: its cells' text. */
function overviewRow(html: string, feature: string): string[] {
  const table = html.slice(html.indexOf('<table class="overview">'), html.indexOf('</table>'));
  const row = table.split('<tr>').find((r) => r.startsWith(`<td>${feature}</td>`));
  assert.ok(row, `no overview row for ${feature}`);
  return [...row.matchAll(/<td>(.*?)<\/td>/g)].map((m) => m[1]!.replace(/<[^>]+>/g, ''));
}

describe('deployment drift report', () => {
  let server: TestServer;
  let dir: string;
  before(async () => {
    server = await startTestServer();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plinth-report-'));
    // ŷ = x (one input column `input`, one output).
    await server.registerModel('echo', linearModel({ weights: [[1]], bias: [0] }));
    for (const name of ['drifty', 'quiet']) assert.equal((await server.request('POST', '/api/v1/deployments', { json: { name, model: 'echo@1' } })).status, 201);
    // Reference traffic: x = 0, 1/60, …, 59/60; then the current traffic shifted by 5.
    for (let i = 0; i < 60; i++) await infer(server, 'drifty', i / 60);
    const reference = await server.request('PUT', '/api/v1/models/echo/versions/1/reference', { json: { deployment: 'drifty', last: 60 } });
    assert.equal(reference.status, 200, reference.text);
    for (let i = 0; i < 60; i++) await infer(server, 'drifty', 5 + i / 60);
  });
  after(async () => {
    await server?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('compares the newest window with the reference: histograms, statistics and verdicts', async () => {
    const response = await server.request('GET', '/api/v1/deployments/drifty/drift/report?requests=60');
    assert.equal(response.status, 200, response.text);
    assert.match(response.headers.get('content-type') ?? '', /^text\/html/);
    assert.equal(response.headers.get('x-plinth-report-source'), 'fresh');
    const html = response.text;
    // Self-contained: no scripts, no external resources.
    assert.doesNotMatch(html, /<script|src="http|href="http/);
    assert.match(html, /dataset drift/);
    // Every current value lies above every reference value, so the KS statistic is exactly 1, and
    // 60 against 60 with D = 1 has an exact two-sided p-value of 2/C(120, 60) ≈ 1e-35: drift.
    const input = overviewRow(html, 'input');
    assert.deepEqual(input.slice(0, 4), ['input', 'numeric', 'ks', '1']);
    assert.match(input[5]!, /drift/i);
    // The prediction (ŷ = x) moved the same way.
    const prediction = overviewRow(html, '(prediction)');
    assert.equal(prediction[3], '1');
    // One overlaid histogram (two series) per row.
    assert.equal((html.match(/<svg/g) ?? []).length, 2);
    assert.match(html, /class="ref"|rect class="ref/);
    // The same page under .html.
    const alias = await server.request('GET', '/api/v1/deployments/drifty/drift/report.html?requests=60');
    assert.equal(alias.status, 200);
  });

  it('plinth report drift <deployment> --out writes the page', async () => {
    const out = path.join(dir, 'report.html');
    const result = await runCli(['report', 'drift', 'drifty', '--requests', '60', '--out', out], { url: server.url, token: server.adminToken });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /wrote .*report\.html: drift report of drifty/);
    const html = fs.readFileSync(out, 'utf8');
    assert.match(html, /^<!DOCTYPE html>/);
    assert.deepEqual(overviewRow(html, 'input').slice(0, 4), ['input', 'numeric', 'ks', '1']);
    // Errors leave no file behind and name the problem.
    const missing = path.join(dir, 'missing.html');
    const unknown = await runCli(['report', 'drift', 'nosuch', '--out', missing], { url: server.url, token: server.adminToken });
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.stderr, /DEPLOYMENT_NOT_FOUND|no deployment/);
    assert.equal(fs.existsSync(missing), false);
    assert.deepEqual(fs.readdirSync(dir), ['report.html']);
    const mixed = await runCli(['report', 'drift', 'drifty', '--reference', 'a.csv', '--out', missing], { url: server.url, token: server.adminToken });
    assert.notEqual(mixed.code, 0);
    assert.match(mixed.stderr, /for files/);
    const neither = await runCli(['report', 'drift', '--out', missing], { url: server.url, token: server.adminToken });
    assert.notEqual(neither.code, 0);
    assert.match(neither.stderr, /deployment name, or both --reference and --current/);
  });

  it('falls back to the newest stored drift result when the window is empty', async () => {
    const created = await server.request('POST', '/api/v1/deployments/drifty/monitors', { json: { name: 'inputs', kind: 'drift', window: { requests: 60 }, schedule_seconds: null } });
    assert.equal(created.status, 201, created.text);
    const ran = await server.request('POST', '/api/v1/deployments/drifty/monitors/inputs/run', { json: {} });
    assert.equal(ran.status, 200, ran.text);
    assert.equal(ran.body.status, 'drifted');
    // No request in the last second: the stored result is rendered, without histograms.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const response = await server.request('GET', '/api/v1/deployments/drifty/drift/report?seconds=1');
    assert.equal(response.status, 200, response.text);
    assert.equal(response.headers.get('x-plinth-report-source'), 'stored');
    assert.equal(response.headers.get('x-plinth-report-monitor'), 'inputs');
    assert.match(response.text, /no histograms/);
    assert.deepEqual(overviewRow(response.text, 'input').slice(0, 4), ['input', 'numeric', 'ks', '1']);
    // The monitor's settings are used by default when a window has traffic.
    const fresh = await server.request('GET', '/api/v1/deployments/drifty/drift/report');
    assert.equal(fresh.headers.get('x-plinth-report-monitor'), 'inputs');
    assert.equal(fresh.headers.get('x-plinth-report-source'), 'fresh');
  });

  it('answers bad requests with 4xx', async () => {
    const cases: Array<[string, number, string]> = [
      ['/api/v1/deployments/nosuch/drift/report', 404, 'DEPLOYMENT_NOT_FOUND'],
      ['/api/v1/deployments/quiet/drift/report', 409, 'DRIFT_REPORT_UNAVAILABLE'],
      ['/api/v1/deployments/drifty/drift/report?requests=0', 400, 'VALIDATION_FAILED'],
      ['/api/v1/deployments/drifty/drift/report?requests=5&seconds=5', 400, 'INVALID_ARGUMENT'],
      ['/api/v1/deployments/drifty/drift/report?monitor=nosuch', 404, 'MONITOR_NOT_FOUND'],
      ['/api/v1/deployments/drifty/drift/report?colour=red', 400, 'VALIDATION_FAILED'],
    ];
    for (const [url, status, code] of cases) {
      const response = await server.request('GET', url);
      assert.equal(response.status, status, `${url}: ${response.text}`);
      assert.equal(response.body.error.code, code, url);
    }
    // A monitor of another kind is refused.
    await server.request('POST', '/api/v1/deployments/drifty/monitors', { json: { name: 'answers', kind: 'performance', window: { requests: 10 }, schedule_seconds: null } });
    const wrong = await server.request('GET', '/api/v1/deployments/drifty/drift/report?monitor=answers');
    assert.equal(wrong.status, 400);
    assert.match(wrong.body.error.message, /performance monitor/);
  });
});
