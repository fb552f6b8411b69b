// bench:serve — online inference throughput and latency of a Plinth server against the floor.
//
// Builds a small tabular model (an MLP, 30 inputs → 64 hidden → 1 output, fixed seed), starts the
// real server from the bundle (dist/plinth.mjs) as a child process on a free loopback port with a
// temporary store, registers and loads the model, and drives single-row OIP v2 infer requests
// (POST /v2/models/{m}/infer, a 1×30 FP32 input) at concurrency 1, 32 and 64 with dynamic batching
// off and on. The floor is bench/floor-server.ts: a bare node:http server that parses the same JSON
// and calls onnxruntime-node's session.run on the same model, started the same way. Then a fresh
// server loads ten such models and its resident memory is read.
//
// The load generator (bench/load-generator.ts) runs in this process: raw keep-alive sockets, one
// request in flight per connection, a prebuilt request; it costs about a fifth of a core, which it
// takes from the server and the floor alike. Phases are interleaved per concurrency (floor, server
// without batching, server with batching) so drifting background load hits all three.
//
// Besides req/s and latency it prints the server's CPU time per request (from /proc, over the
// measured window): on a machine shared with other work, throughput drops with the CPU share the
// server gets, but CPU per request hardly moves, so its ratio to the floor's is the steadier figure.
//
// Each cell is the median of BENCH_REPEATS rounds (default 3) so that a burst of unrelated load on
// the machine moves one round, not the figure; the load average before and after is printed.
//
// Environment: BENCH_SECONDS (measured seconds per phase, default 3), BENCH_WARMUP_SECONDS (default 1),
// BENCH_REPEATS (default 3), BENCH_BUNDLE (a server bundle other than dist/plinth.mjs, e.g. an older build to
// compare), BENCH_SERVER_PROFILE_DIR (the servers write V8 CPU profiles there).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { mlpModel, seededRandom } from '../src/onnx/index.js';
import { call, medianPhase, measure, MEASURE_MS, registerModel, REPEATS, residentBytes, SERVER_BUNDLE, setBatching, startChild, startServer, stopChild, WARMUP_MS, type Child, type Phase } from './harness.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const CONCURRENCY = [1, 32, 64];
const INPUTS = 30;
const HIDDEN = 64;
const MEMORY_MODELS = 10;
const MODEL = 'bench-mlp';

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
const fmt = (n: number, digits = 0) => n.toFixed(digits);

// ---------------------------------------------------------------------------------------------

execFileSync(process.execPath, ['scripts/build.mjs', '--if-stale'], { cwd: ROOT, stdio: 'inherit' });
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'plinth-bench-serve-'));
const children: Child[] = [];
process.on('exit', () => {
  for (const child of children) if (child.process.exitCode === null) child.process.kill('SIGKILL');
  fs.rmSync(tmp, { recursive: true, force: true });
});

const modelBytes = mlpModel({ inputs: INPUTS, hidden: HIDDEN, outputs: 1, seed: 42 });
const modelFile = path.join(tmp, 'mlp.onnx');
fs.writeFileSync(modelFile, modelBytes);
const random = seededRandom(7);
const row = Array.from({ length: INPUTS }, () => Math.round((random() * 4 - 2) * 1000) / 1000);
const body = JSON.stringify({ inputs: [{ name: 'input', shape: [1, INPUTS], datatype: 'FP32', data: row }] });
const inferPath = `/v2/models/${MODEL}/infer`;

const cpus = os.cpus();
console.log(`bench:serve — ${cpus.length} cores, ${cpus[0]?.model ?? 'unknown cpu'}, ${mb(os.totalmem())} memory, Node ${process.version}, ${os.platform()} ${os.release()}`);
console.log(`model: MLP ${INPUTS}→${HIDDEN}→1 (FP32, ${modelBytes.length} bytes); single-row OIP v2 infer requests (${body.length} bytes), keep-alive, loopback`);
console.log(`phases: ${WARMUP_MS / 1000} s warm-up + ${MEASURE_MS / 1000} s measured; load generator in the bench process (raw sockets, closed loop); server ${SERVER_BUNDLE}`);

const floor = await startChild(['--import', 'tsx', 'bench/floor-server.ts', modelFile]);
children.push(floor);
const server = await startServer(path.join(tmp, 'store'));
children.push(server);
await registerModel(server.url, MODEL, modelBytes);
await call(server.url, 'POST', `/v2/repository/models/${MODEL}/load`, {});

// Both answer the same request with the same numbers.
const floorReply = (await call(floor.url, 'POST', inferPath, JSON.parse(body))) as { outputs: Array<{ data: number[] }> };
const serverReply = (await call(server.url, 'POST', inferPath, JSON.parse(body))) as { outputs: Array<{ data: number[] }> };
const same = JSON.stringify(floorReply.outputs[0]!.data) === JSON.stringify(serverReply.outputs[0]!.data);
console.log(`parity: floor ${JSON.stringify(floorReply.outputs[0]!.data)}, server ${JSON.stringify(serverReply.outputs[0]!.data)} — ${same ? 'identical' : 'DIFFERENT'}`);

interface Row {
  concurrency: number;
  floor: Phase;
  unbatched: Phase;
  batched: Phase;
}

// The runtime of the batching phase: auto (the engine's choice by measurement), inline or worker.
const BATCHED_RUNTIME = process.env.BENCH_BATCHED_RUNTIME ?? 'auto';
const loadBefore = os.loadavg();
const rounds = new Map<number, { floor: Phase[]; unbatched: Phase[]; batched: Phase[] }>(CONCURRENCY.map((c) => [c, { floor: [], unbatched: [], batched: [] }]));
for (let round = 1; round <= REPEATS; round++) {
  for (const concurrency of CONCURRENCY) {
    const cell = rounds.get(concurrency)!;
    cell.floor.push(await measure(floor, inferPath, body, concurrency));
    await setBatching(server.url, MODEL, false);
    cell.unbatched.push(await measure(server, inferPath, body, concurrency));
    await setBatching(server.url, MODEL, true, BATCHED_RUNTIME);
    cell.batched.push(await measure(server, inferPath, body, concurrency));
  }
  console.log(`  round ${round}/${REPEATS} done`);
}
const loadAfter = os.loadavg();
const rows: Row[] = CONCURRENCY.map((concurrency) => {
  const cell = rounds.get(concurrency)!;
  return { concurrency, floor: medianPhase(cell.floor), unbatched: medianPhase(cell.unbatched), batched: medianPhase(cell.batched) };
});
await stopChild(server);
await stopChild(floor);

console.log('');
console.log(`median of ${REPEATS} rounds; load average (1 min) ${loadBefore[0]!.toFixed(2)} before, ${loadAfter[0]!.toFixed(2)} after${Math.max(loadBefore[0]!, loadAfter[0]!) > 1.5 ? ' — other work was running: figures are depressed and noisy' : ''}`);
console.log('conc  target                 req/s   p50 ms   p99 ms  server cpu  cpu µs/req  gen cpu   thr/floor  p99/floor  cpu/req vs floor');
for (const r of rows) {
  const line = (label: string, p: Phase, ratios: boolean) =>
    `${String(r.concurrency).padStart(4)}  ${label.padEnd(20)} ${fmt(p.throughput).padStart(7)} ${fmt(p.p50, 2).padStart(8)} ${fmt(p.p99, 2).padStart(8)} ${fmt(p.serverCpu, 2).padStart(11)} ${fmt(p.cpuPerRequest).padStart(11)} ${fmt(p.generatorCpu, 2).padStart(8)}` +
    (ratios ? `   ${fmt(p.throughput / r.floor.throughput, 2).padStart(8)}x  ${fmt(p.p99 / r.floor.p99, 2).padStart(8)}x  ${fmt(p.cpuPerRequest / r.floor.cpuPerRequest, 2).padStart(14)}x` : '');
  console.log(line('floor (bare ort)', r.floor, false));
  console.log(line('plinth, no batching', r.unbatched, true));
  console.log(line('plinth, batching', r.batched, true));
}

const at = (c: number) => rows.find((r) => r.concurrency === c)!;
const verdict = (ok: boolean) => (ok ? 'met' : 'NOT met');
const best32 = Math.max(at(32).unbatched.throughput, at(32).batched.throughput) / at(32).floor.throughput;
const batched64 = at(64).batched.throughput / at(64).floor.throughput;
const worstP99 = Math.max(...rows.flatMap((r) => [r.batched.p99 / r.floor.p99]));
console.log('');
console.log(`target: throughput ≥ 0.9× floor at 32 — ${fmt(best32, 2)}x (batching ${fmt(at(32).batched.throughput / at(32).floor.throughput, 2)}x, none ${fmt(at(32).unbatched.throughput / at(32).floor.throughput, 2)}x): ${verdict(best32 >= 0.9)}`);
console.log(`target: throughput ≥ 1.2× floor at 64 with batching — ${fmt(batched64, 2)}x: ${verdict(batched64 >= 1.2)}`);
console.log(`target: p99 ≤ 2× floor's (batching on, every concurrency) — worst ${fmt(worstP99, 2)}x: ${verdict(worstP99 <= 2)}`);

// Memory: a fresh server with ten models loaded.
const memoryServer = await startServer(path.join(tmp, 'memory-store'));
children.push(memoryServer);
await new Promise((resolve) => setTimeout(resolve, 500));
const idle = residentBytes(memoryServer.process.pid!);
for (let i = 0; i < MEMORY_MODELS; i++) {
  const name = `${MODEL}-${i}`;
  await registerModel(memoryServer.url, name, mlpModel({ inputs: INPUTS, hidden: HIDDEN, outputs: 1, seed: 100 + i }));
  await call(memoryServer.url, 'POST', `/v2/repository/models/${name}/load`, {});
  await call(memoryServer.url, 'POST', `/v2/models/${name}/infer`, JSON.parse(body));
}
await new Promise((resolve) => setTimeout(resolve, 500));
const loaded = residentBytes(memoryServer.process.pid!);
await stopChild(memoryServer);
console.log(`memory: server RSS ${mb(idle)} idle, ${mb(loaded)} with ${MEMORY_MODELS} models loaded (target ≤ 300 MB): ${verdict(loaded <= 300 * 1024 * 1024)}`);
