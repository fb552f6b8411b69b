// Cost of the prediction log on the serving path, per record, on the embedded SQLite store:
// - serialise: turning a request's inputs and outputs into the stored JSON (no database);
// - append: PredictionLog.append in durable mode (group commit) until committed, in waves of
//   BENCH_PREDLOG_CONCURRENCY concurrent requests, as a loaded server would issue them;
// - the same with a sensitive feature hashed;
// - append with the SQLite writer thread (sqliteFile), which commits off the serving thread;
// and, as the floor, the same waves of promises without the log. Run: npx tsx bench/predlog-append.ts
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PredictionLog, redactionOf, SensitiveMasker, tensorMapJson, type PredictionRecord } from '../src/predlog/index.js';
import type { FeatureSchema } from '../src/registry/index.js';
import { openDatabase } from '../src/store/index.js';
import type { ModelSignature } from '../src/onnx/index.js';

const RECORDS = Number(process.env.BENCH_PREDLOG_RECORDS ?? 100_000);
const CONCURRENCY = Number(process.env.BENCH_PREDLOG_CONCURRENCY ?? 64);
const FEATURES = Number(process.env.BENCH_PREDLOG_FEATURES ?? 10);

const signature: ModelSignature = {
  inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, FEATURES], dim_names: [null, null], onnx_type: 'tensor(float)' }],
  outputs: [{ name: 'probabilities', datatype: 'FP32', shape: [-1, 2], dim_names: [null, null], onnx_type: 'tensor(float)' }],
  ir_version: 8,
  opset_imports: [{ domain: '', version: 17 }],
  producer_name: 'bench',
  producer_version: '1',
};
const plainSchema: FeatureSchema = { features: Array.from({ length: FEATURES }, (_, i) => ({ name: `f${i}`, type: 'numeric', nullable: false, sensitive: false })) };
const sensitiveSchema: FeatureSchema = { features: plainSchema.features.map((f, i) => ({ ...f, sensitive: i === 0 })) };

function record(i: number, schema: FeatureSchema): PredictionRecord {
  const x = new Float32Array(FEATURES);
  for (let k = 0; k < FEATURES; k++) x[k] = (i * 7 + k) % 100 / 3;
  return {
    deployment: 'bench',
    requestId: `req-${i}`,
    role: 'primary',
    model: { name: 'bench', version: 1, signature, featureSchema: schema },
    inputs: { x: { datatype: 'FP32', shape: [1, FEATURES], data: x } },
    outputs: { probabilities: { datatype: 'FP32', shape: [1, 2], data: Float32Array.from([0.25, 0.75]) } },
    at: Date.now(),
    latencyMs: 0.8,
    status: 200,
  };
}

/** Wall time and the serving thread's busy time (event-loop utilisation), µs per record. */
async function waves(count: number, run: (i: number) => Promise<void>): Promise<{ wall: number; busy: number }> {
  const started = process.hrtime.bigint();
  const elu = performance.eventLoopUtilization();
  for (let first = 0; first < count; first += CONCURRENCY) {
    const wave: Promise<void>[] = [];
    for (let i = first; i < Math.min(count, first + CONCURRENCY); i++) wave.push(run(i));
    await Promise.all(wave);
  }
  const used = performance.eventLoopUtilization(elu);
  return { wall: Number(process.hrtime.bigint() - started) / 1000 / count, busy: (used.active * 1000) / count };
}

const show = (m: { wall: number; busy: number }, floor: { wall: number; busy: number }) =>
  `${m.busy.toFixed(2)} µs/record busy on the serving thread (${(m.busy - floor.busy).toFixed(2)} above the floor), ${m.wall.toFixed(2)} µs/record wall`;

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'plinth-bench-predlog-'));
const database = await openDatabase({ dataDir });
try {
  const records = Array.from({ length: RECORDS }, (_, i) => record(i, plainSchema));
  const sensitiveRecords = Array.from({ length: RECORDS }, (_, i) => record(i, sensitiveSchema));

  // Floor: the same waves, each request a resolved promise and a setImmediate turn, no log.
  const floor = await waves(RECORDS, () => new Promise<void>((resolve) => setImmediate(resolve)));
  // Times are per record; "busy" is the serving thread's event-loop utilisation, "wall" includes waiting for commits.

  const masker = new SensitiveMasker('hash', 'bench-key');
  let t = process.hrtime.bigint();
  let chars = 0;
  for (const r of records) chars += tensorMapJson(r.inputs, redactionOf(signature, plainSchema), masker).length + tensorMapJson(r.outputs!, null, null).length;
  const serialise = Number(process.hrtime.bigint() - t) / 1000 / RECORDS;
  t = process.hrtime.bigint();
  for (const r of sensitiveRecords) chars += tensorMapJson(r.inputs, redactionOf(signature, sensitiveSchema), masker).length;
  const serialiseSensitive = Number(process.hrtime.bigint() - t) / 1000 / RECORDS;

  const log = new PredictionLog({ db: database.db, hashKey: 'bench-key', sweepIntervalMs: 0 });
  const append = await waves(RECORDS, (i) => log.append(records[i]!));
  const appendStats = log.stats();
  const appendSensitive = await waves(RECORDS, (i) => log.append({ ...sensitiveRecords[i]!, requestId: `s-${i}` }));
  await log.close();
  const worker = new PredictionLog({ db: database.db, hashKey: 'bench-key', sweepIntervalMs: 0, sqliteFile: path.join(dataDir, 'plinth.db') });
  await worker.append({ ...records[0]!, requestId: 'warm-up' });
  const appendWorker = await waves(RECORDS, (i) => worker.append({ ...records[i]!, requestId: `w-${i}` }));
  const workerStats = worker.stats();
  await worker.close();

  console.log(`prediction log, SQLite (${database.description}), ${RECORDS} records of ${FEATURES} FP32 features, waves of ${CONCURRENCY}`);
  console.log(`  floor (waves of promises, no log)     ${floor.busy.toFixed(2)} µs/record busy, ${floor.wall.toFixed(2)} wall`);
  console.log(`  serialise inputs+outputs               ${serialise.toFixed(2)} µs/record (${(chars / RECORDS / 2).toFixed(0)} chars)`);
  console.log(`  serialise, one sensitive feature       ${serialiseSensitive.toFixed(2)} µs/record`);
  console.log(`  append, durable, query layer            ${show(append, floor)}; ${appendStats.batches} transactions, ${(appendStats.written / appendStats.batches).toFixed(0)} rows each`);
  console.log(`  same, a hashed sensitive feature       ${show(appendSensitive, floor)}`);
  console.log(`  append, durable, SQLite writer thread  ${show(appendWorker, floor)}; ${workerStats.batches} transactions, ${(workerStats.written / workerStats.batches).toFixed(0)} rows each`);
} finally {
  await database.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
}
