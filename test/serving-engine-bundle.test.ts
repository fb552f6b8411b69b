// The serving engine as users run it: the bundled server (dist/plinth.mjs, whose worker threads run
// dist/serving-worker.mjs) in a process of its own, so its memory can be watched. Loading 20 models
// of 20 MB grows the resident memory by hundreds of MB; unloading them gives it back, on the main
// thread's runtime and on worker threads alike.
//
// The server runs with MALLOC_MMAP_THRESHOLD_ set, as docs/serving-engine.md asks of production: without it
// glibc raises its mmap threshold after the first large free and keeps later freed blocks in its
// heap, so a process's RSS does not fall after an unload even though every session was released.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import ort from 'onnxruntime-node';
import { buildModel, seededRandom } from '../src/onnx/index.js';
import { CLI_BUNDLE, ensureBuilt } from './helpers/cli.js';

const N = 2290; // a 2290 × 2290 FP32 weight: a 20 MB model
const MB = 1e6;

function bigModel(seed: number): Uint8Array {
  const random = seededRandom(seed);
  return buildModel({
    inputs: [{ name: 'input', datatype: 'FP32', shape: ['batch', N] }],
    outputs: [{ name: 'output', datatype: 'FP32', shape: ['batch', N] }],
    initializers: [{ name: 'w', datatype: 'FP32', dims: [N, N], values: Float32Array.from({ length: N * N }, () => random() - 0.5) }],
    nodes: [{ opType: 'MatMul', inputs: ['input', 'w'], outputs: ['output'] }],
  });
}

/** Resident memory of a process, bytes (Linux /proc). */
function rssOf(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = /VmRSS:\s+(\d+) kB/.exec(status);
  return Number(kb![1]) * 1024;
}

/** The server's JavaScript external memory (Buffers, typed arrays), bytes, from its /metrics. */
async function externalMemory(url: string): Promise<number> {
  const text = await fetch(`${url}/metrics`).then((r) => r.text());
  return Number(/^plinth_nodejs_external_memory_bytes (\S+)$/m.exec(text)![1]);
}

async function settledRss(pid: number): Promise<number> {
  // Sessions are released asynchronously after an unload answers; wait until RSS stops falling.
  let previous = rssOf(pid);
  for (let i = 0; i < 20; i++) {
    await new Promise((resolve) => setTimeout(resolve, 150));
    const now = rssOf(pid);
    if (Math.abs(now - previous) < 2 * MB) return now;
    previous = now;
  }
  return previous;
}

/**
 * RSS once it has settled at or below `limit`, or the settled RSS after `timeoutMs`: on a busy
 * machine sessions are released in bursts, and RSS may pause above the limit before it falls.
 */
async function settledRssBelow(pid: number, limit: number, timeoutMs = 10_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let rss = await settledRss(pid);
  while (rss > limit && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    rss = await settledRss(pid);
  }
  return rss;
}

describe('serving from the bundle', { skip: process.platform !== 'linux' && 'reads /proc' }, () => {
  let child: ChildProcess;
  let url: string;
  let dataDir: string;
  const token = `bundle-admin-${Date.now()}-${Math.random().toString(36).slice(2)}`;
  const call = async (method: string, pathname: string, body?: unknown) => {
    const response = await fetch(url + pathname, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined, text };
  };
  const register = async (name: string, model: Uint8Array) => {
    const form = new FormData();
    form.append('artifact', new Blob([model]), 'model.onnx');
    const response = await fetch(`${url}/api/v1/models/${name}/versions`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: form });
    assert.equal(response.status, 201, await response.text());
  };

  before(async () => {
    ensureBuilt();
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'plinth-bundle-'));
    child = spawn(process.execPath, [CLI_BUNDLE, 'server'], {
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '',
        PLINTH_DATA_DIR: dataDir,
        PLINTH_PORT: '0',
        PLINTH_ADMIN_TOKEN: token,
        PLINTH_LOG_LEVEL: 'warn',
        PLINTH_SERVING_RUNTIME: 'inline',
        PLINTH_SERVING_WORKERS: '2',
        MALLOC_MMAP_THRESHOLD_: '131072',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const match = /serving on (http:\/\/\S+)/.exec(out);
        if (match) resolve(match[1]!);
      });
      child.once('exit', (code) => reject(new Error(`the server exited with code ${code}: ${out}`)));
    });
  });
  after(async () => {
    if (child && child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    }
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('serves a model on worker threads from dist/serving-worker.mjs with the bits of onnxruntime', async () => {
    const model = bigModel(1);
    await register('wbundle', model);
    assert.equal((await call('PUT', '/api/v1/models/wbundle/serving-config', { runtime: 'worker' })).status, 200);
    const input = Float32Array.from({ length: N }, (_, i) => ((i % 7) - 3) / 4);
    const answer = await call('POST', '/v2/models/wbundle/infer', { inputs: [{ name: 'input', shape: [1, N], datatype: 'FP32', data: Array.from(input) }] });
    assert.equal(answer.status, 200, answer.text);
    const session = await ort.InferenceSession.create(model, { intraOpNumThreads: 1, graphOptimizationLevel: 'all' });
    const expected = (await session.run({ input: new ort.Tensor('float32', input, [1, N]) })).output!.data as Float32Array;
    await session.release();
    const got = answer.body.outputs[0].data as number[];
    assert.equal(got.length, N);
    for (let i = 0; i < N; i++) assert.ok(Object.is(Math.fround(got[i]!), expected[i]), `output ${i}: ${got[i]} vs ${expected[i]}`);
    const metrics = await fetch(`${url}/metrics`).then((r) => r.text());
    assert.match(metrics, /plinth_model_loaded\{model="wbundle",version="1",runtime="worker"\} 1/);
  });

  it('gives the memory back when 20 models of 20 MB are unloaded (main-thread runtime)', async () => {
    const model = bigModel(2);
    for (let i = 0; i < 20; i++) await register(`mem-${i}`, model);
    // One load and unload first, so the runtime's one-time allocations are in the baseline.
    assert.equal((await call('POST', '/v2/repository/models/mem-0/load')).status, 200);
    assert.equal((await call('POST', '/v2/repository/models/mem-0/unload')).status, 200);
    const pid = child.pid!;
    const baseline = await settledRss(pid);
    const baselineExternal = await externalMemory(url);
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 20; i++) assert.equal((await call('POST', `/v2/repository/models/mem-${i}/load`)).status, 200);
      const loaded = rssOf(pid);
      for (let i = 0; i < 20; i++) assert.equal((await call('POST', `/v2/repository/models/mem-${i}/unload`)).status, 200);
      const released = await settledRssBelow(pid, baseline + 60 * MB);
      const external = await externalMemory(url);
      console.log(
        `inline round ${round}: RSS baseline ${(baseline / MB).toFixed(0)} MB, 20 loaded ${(loaded / MB).toFixed(0)} MB, unloaded ${(released / MB).toFixed(0)} MB; ` +
          `external ${(baselineExternal / MB).toFixed(0)} → ${(external / MB).toFixed(0)} MB`,
      );
      // No model bytes stay referenced from JavaScript (a garbage collection may still be pending: 2 models' worth allowed).
      assert.ok(external - baselineExternal < 40 * MB, `external memory after unloading: ${((external - baselineExternal) / MB).toFixed(0)} MB over the baseline`);
      assert.ok(loaded - baseline > 20 * 15 * MB, `RSS grew ${((loaded - baseline) / MB).toFixed(0)} MB with 20 models loaded`);
      assert.ok(released - baseline < 60 * MB, `RSS after unloading is ${((released - baseline) / MB).toFixed(0)} MB over the baseline`);
    }
  });

  it('gives the memory back when models on worker threads are unloaded', async () => {
    const model = bigModel(3);
    for (let i = 0; i < 4; i++) {
      await register(`wmem-${i}`, model);
      assert.equal((await call('PUT', `/api/v1/models/wmem-${i}/serving-config`, { runtime: 'worker' })).status, 200);
    }
    const pid = child.pid!;
    const baseline = await settledRss(pid);
    const residues: number[] = [];
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 4; i++) assert.equal((await call('POST', `/v2/repository/models/wmem-${i}/load`)).status, 200);
      const loaded = rssOf(pid);
      for (let i = 0; i < 4; i++) assert.equal((await call('POST', `/v2/repository/models/wmem-${i}/unload`)).status, 200);
      const released = await settledRssBelow(pid, baseline + (loaded - baseline) / 4);
      console.log(`workers round ${round}: RSS baseline ${(baseline / MB).toFixed(0)} MB, 4 models × 2 workers loaded ${(loaded / MB).toFixed(0)} MB, unloaded ${(released / MB).toFixed(0)} MB`);
      assert.ok(loaded - baseline > 4 * 2 * 15 * MB, `RSS grew ${((loaded - baseline) / MB).toFixed(0)} MB`);
      // Exited threads leave their malloc arenas for the next threads to reuse (~50-70 MB in all,
      // measured); the rest comes back, and the remainder does not grow from one round to the next.
      assert.ok(released - baseline < (loaded - baseline) / 4, `RSS after unloading is ${((released - baseline) / MB).toFixed(0)} MB over the baseline`);
      residues.push(released - baseline);
    }
    assert.ok(residues[1]! <= residues[0]! + 20 * MB, `no growth across rounds: ${residues.map((r) => (r / MB).toFixed(0)).join(' → ')} MB`);
  });
});
