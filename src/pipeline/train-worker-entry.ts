// The entry point of a pipeline run's training worker thread: runs the jobs the main thread sends
// (train-job.ts: check, train or score a table), one at a time, sending each job's log lines as they
// come, then its result (model bytes transferred, not copied) or its error as a code and a message.
// The table a job loaded is kept for the next job of the run. Bundled as dist/train-worker.mjs
// (scripts/build.mjs); started from source through tsx in development and tests (train-worker.ts).
import { parentPort } from 'node:worker_threads';
import { isPlinthError } from '../core/index.js';
import { runJob, TableCache } from './train-job.js';
import { ownBuffer, type FromTrainWorker, type ToTrainWorker } from './train-worker.js';

const port = parentPort;
if (!port) throw new Error('train-worker-entry.ts runs only as a worker thread');

function send(message: FromTrainWorker, transfer: ArrayBuffer[] = []): void {
  port!.postMessage(message, transfer);
}

const tables = new TableCache();
let queue: Promise<void> = Promise.resolve();

port.on('message', ({ id, job }: ToTrainWorker) => {
  queue = queue.then(() =>
    runJob(job, (line) => send({ type: 'log', id, line }), tables).then(
      (result) => send({ type: 'result', id, result }, result.kind === 'train' ? ownBuffer(result.onnx) : []),
      (error: unknown) => send({ type: 'error', id, code: isPlinthError(error) ? error.code : null, message: error instanceof Error ? error.message : String(error) }),
    ),
  );
});
