// Runs a pipeline's heavy step work (train-job.ts: reading the table, the search, fitting, the ONNX
// export, scoring on the holdout) on a worker thread, so the server's event loop keeps answering
// requests while a model trains. A run gets one worker, started by its first job and terminated when
// the run ends or is cancelled (a job's abort signal); the worker keeps the table it last loaded, so
// validate, train, evaluate and the gate of one run parse the file once. Model bytes travel as
// transferred buffers; an error comes back as a PlinthError with the worker's code and message. The
// gradient-boosting trainer inside the worker starts its own threads as it does on the main thread.
import fs from 'node:fs';
import { Worker, type WorkerOptions } from 'node:worker_threads';
import { ERROR_CODES, PlinthError, type ErrorCode } from '../core/index.js';
import type { CheckJob, CheckResult, Job, JobResult, ScoreJob, ScoreResult, TrainJob, TrainResult } from './train-job.js';

/** Messages to a training worker. */
export interface ToTrainWorker {
  id: number;
  job: Job;
}

/** Messages from a training worker, each about one job. */
export type FromTrainWorker =
  | { type: 'log'; id: number; line: string }
  | { type: 'result'; id: number; result: JobResult }
  | { type: 'error'; id: number; code: string | null; message: string };

/**
 * The script a worker runs. From the bundle (dist/plinth.mjs) it is dist/train-worker.mjs beside it
 * (or train-worker-entry.js beside this file in JavaScript compiled by tsc). From TypeScript source
 * it is train-worker-entry.ts through tsx: a one-line bootstrap registers tsx's loader and imports
 * the entry, as the serving workers do (src/serving/runtime-worker.ts).
 */
function workerScript(): { filename: string | URL; options: WorkerOptions } {
  if (import.meta.url.endsWith('.ts')) {
    const tsx = import.meta.resolve('tsx/esm/api');
    const entry = new URL('./train-worker-entry.ts', import.meta.url).href;
    const bootstrap = `import(${JSON.stringify(tsx)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry)}); });`;
    return { filename: bootstrap, options: { eval: true } };
  }
  const bundled = new URL('./train-worker.mjs', import.meta.url);
  return { filename: fs.existsSync(bundled) ? bundled : new URL('./train-worker-entry.js', import.meta.url), options: {} };
}

function errorFrom(code: string | null, message: string): Error {
  if (code !== null && Object.hasOwn(ERROR_CODES, code)) return new PlinthError(code as ErrorCode, message);
  return new Error(message);
}

/**
 * The buffer of a byte array when the array spans all of it: a slice of a shared pool (small
 * Node Buffers) must be copied, since transferring it would detach the pool's other users.
 */
export function ownBuffer(bytes: Uint8Array): ArrayBuffer[] {
  return bytes.buffer instanceof ArrayBuffer && bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? [bytes.buffer] : [];
}

/** Options of one job. */
export interface WorkerJobOptions {
  /** Log lines of the job as they come. */
  log?: (line: string) => void;
  /** Aborting terminates the worker (and fails its other jobs); the job rejects with the signal's reason. */
  signal?: AbortSignal;
}

interface PendingJob {
  resolve(result: JobResult): void;
  reject(error: Error): void;
  log: ((line: string) => void) | undefined;
}

/** One worker thread for the heavy jobs of one pipeline run; jobs run one after the other. */
export class StepWorker {
  #worker: Worker | null = null;
  readonly #pending = new Map<number, PendingJob>();
  #nextId = 1;
  #closed = false;

  /** Whether a worker thread is started now. */
  get started(): boolean {
    return this.#worker !== null;
  }

  #start(): Worker {
    const { filename, options } = workerScript();
    // execArgv [] keeps the parent's flags (--test, --inspect…) out of the worker.
    const worker = new Worker(filename, { ...options, execArgv: [] });
    worker.on('message', (message: FromTrainWorker) => {
      const job = this.#pending.get(message.id);
      if (!job) return;
      if (message.type === 'log') {
        job.log?.(message.line);
        return;
      }
      this.#pending.delete(message.id);
      if (message.type === 'result') job.resolve(message.result);
      else job.reject(errorFrom(message.code, message.message));
    });
    const lost = (error: Error) => {
      if (this.#worker !== worker) return;
      this.#worker = null;
      void worker.terminate();
      this.#failAll(error);
    };
    worker.on('error', lost);
    worker.on('exit', (code) => lost(new Error(`the training worker exited with code ${code} before it answered`)));
    this.#worker = worker;
    return worker;
  }

  #failAll(error: Error): void {
    const jobs = [...this.#pending.values()];
    this.#pending.clear();
    for (const job of jobs) job.reject(error);
  }

  /**
   * Runs one job on the worker (starting it when none is). Model buffers of a score job are
   * transferred (the caller gives them up) when they span their whole ArrayBuffer.
   * @throws PlinthError with the job's own code (INVALID_ARGUMENT, …); Error for anything else, for a
   * worker that died, or the abort reason
   */
  run(job: TrainJob, options?: WorkerJobOptions): Promise<TrainResult>;
  run(job: ScoreJob, options?: WorkerJobOptions): Promise<ScoreResult>;
  run(job: CheckJob, options?: WorkerJobOptions): Promise<CheckResult>;
  run(job: Job, options: WorkerJobOptions = {}): Promise<JobResult> {
    const { signal, log } = options;
    const reason = () => (signal?.reason instanceof Error ? signal.reason : new Error('cancelled'));
    if (this.#closed) return Promise.reject(new Error('the training worker was closed'));
    if (signal?.aborted) return Promise.reject(reason());
    const worker = this.#worker ?? this.#start();
    const id = this.#nextId++;
    const transfer = job.kind === 'score' ? [...new Set(job.models.flatMap((m) => ownBuffer(m.bytes)))] : [];
    return new Promise<JobResult>((resolve, reject) => {
      const onAbort = () => {
        // The thread may be deep in a synchronous fit: only terminating it stops the work.
        this.#pending.delete(id);
        reject(reason());
        if (this.#worker === worker) {
          this.#worker = null;
          void worker.terminate();
          this.#failAll(reason());
        }
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      const done = () => signal?.removeEventListener('abort', onAbort);
      this.#pending.set(id, {
        resolve: (result) => { done(); resolve(result); },
        reject: (error) => { done(); reject(error); },
        log,
      });
      worker.postMessage({ id, job } satisfies ToTrainWorker, transfer);
    });
  }

  /** Terminates the worker thread; jobs still waiting reject. */
  async close(): Promise<void> {
    this.#closed = true;
    const worker = this.#worker;
    this.#worker = null;
    this.#failAll(new Error('the training worker was closed'));
    if (worker) await worker.terminate();
  }
}

/**
 * Runs one job on a worker thread of its own and terminates it afterwards.
 * @throws as StepWorker.run
 */
export async function runJobInWorker(job: TrainJob, options?: WorkerJobOptions): Promise<TrainResult>;
export async function runJobInWorker(job: ScoreJob, options?: WorkerJobOptions): Promise<ScoreResult>;
export async function runJobInWorker(job: CheckJob, options?: WorkerJobOptions): Promise<CheckResult>;
export async function runJobInWorker(job: Job, options: WorkerJobOptions = {}): Promise<JobResult> {
  const worker = new StepWorker();
  try {
    return await worker.run(job as TrainJob, options);
  } finally {
    await worker.close();
  }
}
