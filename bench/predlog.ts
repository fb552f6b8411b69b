// bench:predlog — what the prediction log costs at full load.
//
// The same model and request as bench:serve (MLP 30 → 64 → 1, single-row OIP v2 requests, dynamic
// batching on, concurrency 64), on four phases interleaved per round so drifting background load
// hits them alike:
//   model      POST /v2/models/{model}/infer on the model itself: no deployment, nothing logged
//              (the baseline);
//   unlogged   the same through a deployment on a server with PLINTH_PREDLOG_SAMPLE_RATE=0: the
//              cost of routing alone;
//   durable    through a deployment with the log in its default mode: every response waits for the
//              group commit that makes its row durable;
//   fast       through a deployment with PLINTH_PREDLOG_MODE=fast: rows written every 200 ms, a
//              bounded loss window on a crash.
// The target is durable ≥ 0.9 × model (logging costs at most 10 % at full load). Each server has its
// own SQLite store in a temporary folder. It also prints the rows each logged server wrote, read
// back through the API, against the requests it answered.
//
// Environment: BENCH_SECONDS (default 3), BENCH_WARMUP_SECONDS (default 1), BENCH_REPEATS (default 3),
// BENCH_CONCURRENCY (default 64), BENCH_GROUP_COMMIT_MS (the durable server's
// PLINTH_PREDLOG_GROUP_COMMIT_MS), BENCH_SERVER_NODE_OPTIONS (NODE_OPTIONS for the servers, e.g. V8 heap flags),
// BENCH_SERVER_PROFILE_DIR (the servers write V8 CPU profiles there).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { mlpModel, seededRandom } from '../src/onnx/index.js';
import { auth, call, measure, medianPhase, MEASURE_MS, registerModel, REPEATS, setBatching, startServer, stopChild, WARMUP_MS, type Child, type Phase } from './harness.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 64);
const INPUTS = 30;
const MODEL = 'bench-mlp';
const DEPLOYMENT = 'bench-live';

execFileSync(process.execPath, ['scripts/build.mjs', '--if-stale'], { cwd: ROOT, stdio: 'inherit' });
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'plinth-bench-predlog-'));
const children: Child[] = [];
process.on('exit', () => {
  for (const child of children) if (child.process.exitCode === null) child.process.kill('SIGKILL');
  fs.rmSync(tmp, { recursive: true, force: true });
});

const modelBytes = mlpModel({ inputs: INPUTS, hidden: 64, outputs: 1, seed: 42 });
const random = seededRandom(7);
const row = Array.from({ length: INPUTS }, () => Math.round((random() * 4 - 2) * 1000) / 1000);
const body = JSON.stringify({ inputs: [{ name: 'input', shape: [1, INPUTS], datatype: 'FP32', data: row }] });

const cpus = os.cpus();
console.log(`bench:predlog — ${cpus.length} cores, ${cpus[0]?.model ?? 'unknown cpu'}, Node ${process.version}, ${os.platform()} ${os.release()}`);
console.log(`single-row OIP v2 requests at concurrency ${CONCURRENCY}, batching on; ${WARMUP_MS / 1000} s warm-up + ${MEASURE_MS / 1000} s measured per phase, ${REPEATS} rounds`);

/** A server with the model registered, batching on, loaded, and a deployment of it. */
async function prepare(name: string, env: Record<string, string>): Promise<Child> {
  const server = await startServer(path.join(tmp, name), { ...env, ...(process.env.BENCH_SERVER_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_SERVER_NODE_OPTIONS } : {}) });
  children.push(server);
  await registerModel(server.url, MODEL, modelBytes);
  await setBatching(server.url, MODEL, true);
  await call(server.url, 'POST', `/v2/repository/models/${MODEL}/load`, {});
  await call(server.url, 'POST', '/api/v1/deployments', { name: DEPLOYMENT, model: `${MODEL}@1` });
  return server;
}

const unloggedServer = await prepare('unlogged', { PLINTH_PREDLOG_SAMPLE_RATE: '0' });
const durableServer = await prepare('durable', process.env.BENCH_GROUP_COMMIT_MS ? { PLINTH_PREDLOG_GROUP_COMMIT_MS: process.env.BENCH_GROUP_COMMIT_MS } : {});
const fastServer = await prepare('fast', { PLINTH_PREDLOG_MODE: 'fast' });

const phases = {
  model: { server: durableServer, path: `/v2/models/${MODEL}/infer`, runs: [] as Phase[] },
  unlogged: { server: unloggedServer, path: `/v2/models/${DEPLOYMENT}/infer`, runs: [] as Phase[] },
  durable: { server: durableServer, path: `/v2/models/${DEPLOYMENT}/infer`, runs: [] as Phase[] },
  fast: { server: fastServer, path: `/v2/models/${DEPLOYMENT}/infer`, runs: [] as Phase[] },
};
const loadBefore = os.loadavg();
for (let round = 1; round <= REPEATS; round++) {
  for (const phase of Object.values(phases)) phase.runs.push(await measure(phase.server, phase.path, body, CONCURRENCY));
  console.log(`  round ${round}/${REPEATS} done`);
}
const loadAfter = os.loadavg();

/** Rows a server's log holds for the deployment (read back through the API). */
async function loggedRows(server: Child): Promise<number> {
  let rows = 0;
  let token: string | undefined;
  do {
    const page = (await call(server.url, 'GET', `/api/v1/deployments/${DEPLOYMENT}/predictions?limit=1000${token ? `&page_token=${encodeURIComponent(token)}` : ''}`)) as { predictions: unknown[]; next_page_token: string | null };
    rows += page.predictions.length;
    token = page.next_page_token ?? undefined;
  } while (token);
  return rows;
}
await new Promise((resolve) => setTimeout(resolve, 500)); // fast mode's last interval
/** Rows written per write transaction, from the server's Prometheus counters. */
async function groupSize(server: Child): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`, { headers: auth })).text();
  const rows = Number(/^plinth_prediction_log_rows_total\{outcome="written"\} (\S+)$/m.exec(text)?.[1]);
  const batches = Number(/^plinth_prediction_log_batches_total (\S+)$/m.exec(text)?.[1]);
  return rows / batches;
}
const durableGroup = await groupSize(durableServer);
const fastGroup = await groupSize(fastServer);
const durableRows = await loggedRows(durableServer);
const fastRows = await loggedRows(fastServer);
for (const server of [unloggedServer, durableServer, fastServer]) await stopChild(server);

const medians = Object.fromEntries(Object.entries(phases).map(([name, phase]) => [name, medianPhase(phase.runs)])) as Record<keyof typeof phases, Phase>;
const base = medians.model;
console.log('');
console.log(`median of ${REPEATS} rounds; load average (1 min) ${loadBefore[0]!.toFixed(2)} before, ${loadAfter[0]!.toFixed(2)} after${Math.max(loadBefore[0]!, loadAfter[0]!) > 1.5 ? ' — other work was running: figures are noisy' : ''}`);
console.log('phase       req/s   p50 ms   p99 ms  cpu µs/req   thr/model  cpu/req vs model');
for (const [name, p] of Object.entries(medians)) {
  console.log(`${name.padEnd(9)} ${p.throughput.toFixed(0).padStart(7)} ${p.p50.toFixed(2).padStart(8)} ${p.p99.toFixed(2).padStart(8)} ${p.cpuPerRequest.toFixed(0).padStart(11)}   ${(p.throughput / base.throughput).toFixed(3).padStart(8)}x  ${(p.cpuPerRequest / base.cpuPerRequest).toFixed(3).padStart(14)}x`);
}
const answered = (phase: { runs: Phase[] }) => phase.runs.reduce((sum, p) => sum + p.requests, 0);
console.log('');
console.log(`rows per write transaction: durable ${durableGroup.toFixed(1)}, fast ${fastGroup.toFixed(1)}`);
console.log(`rows logged: durable ${durableRows} (≥ the ${answered(phases.durable)} measured requests answered through the deployment, warm-ups included in the rows), fast ${fastRows}`);
const ratio = medians.durable.throughput / base.throughput;
console.log(`target: durable logging costs ≤ 10 % of throughput at full load — durable/model ${ratio.toFixed(3)}x (${((1 - ratio) * 100).toFixed(1)} % cost; routing alone ${((1 - medians.unlogged.throughput / base.throughput) * 100).toFixed(1)} %): ${ratio >= 0.9 ? 'met' : 'NOT met'}`);
