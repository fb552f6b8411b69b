// Helpers of the pipeline tests: tiny generated data (x1, x2 and the concept y = x1 + x2 > 1), champion
// models trained on it, dataset uploads, applying pipelines and waiting for their runs.
import assert from 'node:assert/strict';
import { exportLinearToOnnx, trainLinear } from '../../src/train/index.js';
import type { TestServer } from './server.js';

/** A seeded generator (an LCG), independent of the code under test. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Rows x1, x2 in [0, 1), y = 1 when x1 + x2 > 1 (the concept every model here learns). */
export function makeRows(n: number, seed: number, shift = 0): Array<[number, number, number]> {
  const next = random(seed);
  return Array.from({ length: n }, () => {
    const x1 = Math.round((next() + shift) * 1000) / 1000;
    const x2 = Math.round((next() + shift) * 1000) / 1000;
    return [x1, x2, x1 + x2 > 1 + 2 * shift ? 1 : 0];
  });
}

export function csvOf(rows: Array<[number, number, number]>): string {
  return 'x1,x2,y\n' + rows.map((r) => r.join(',')).join('\n') + '\n';
}

export const SCHEMA = { features: [{ name: 'x1', type: 'numeric' }, { name: 'x2', type: 'numeric' }] };

/**
 * A logistic model trained on these rows, with the labels flipped when `inverted`: its ROC AUC is
 * near 0 on the concept (a deliberately bad champion), or near 1 (a strong one).
 */
export function championModel(rows: Array<[number, number, number]>, inverted: boolean): Uint8Array {
  const features = { rows: rows.length, names: ['x1', 'x2'], columns: [Float32Array.from(rows, (r) => r[0]), Float32Array.from(rows, (r) => r[1])] };
  const labels = Float64Array.from(rows, (r) => (inverted ? 1 - r[2] : r[2]));
  return exportLinearToOnnx(trainLinear({ task: 'binary', features, labels, classes: 2, params: { lambda: 1 } }));
}

export async function uploadDataset(server: TestServer, name: string, csv: string): Promise<number> {
  const form = new FormData();
  form.append('file', new Blob([csv]), `${name}.csv`);
  const reply = await server.request('POST', `/api/v1/datasets/${name}/versions`, { body: form });
  assert.ok(reply.status === 201 || reply.status === 200, reply.text);
  return reply.body.version as number;
}

export async function applyPipeline(server: TestServer, yaml: string): Promise<{ status: number; body: any; text: string }> {
  return server.request('POST', '/api/v1/pipelines', { json: { yaml } });
}

/** Polls a run until it has ended; returns it with its steps. */
export async function waitForRun(server: TestServer, pipeline: string, run: number, timeoutMs = 60_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const reply = await server.request('GET', `/api/v1/pipelines/${pipeline}/runs/${run}`);
    assert.equal(reply.status, 200, reply.text);
    if (!['queued', 'running'].includes(reply.body.status)) return reply.body;
    assert.ok(Date.now() < deadline, `run ${run} of ${pipeline} still ${reply.body.status}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export async function runPipeline(server: TestServer, pipeline: string): Promise<any> {
  const started = await server.request('POST', `/api/v1/pipelines/${pipeline}/runs`);
  assert.equal(started.status, 202, started.text);
  assert.equal(started.body.trigger, 'manual');
  return waitForRun(server, pipeline, started.body.number as number);
}

