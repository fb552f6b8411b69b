// The trainer's work on every core. A pool owns the shared arrays the kernels read and write (bins
// in both layouts, gradients, scores, labels, the row index and its scratch) on SharedArrayBuffers,
// and hands each job to its worker threads: every task (a node's histogram, a node's partition, a
// leaf's score update) is cut into one slice per thread, the calling thread takes slice 0, and the
// workers the others. Hand-offs use Atomics (wait/notify on a control word), so the trainer stays
// synchronous and pays microseconds per job. The workers run the source text of kernels.ts (eval),
// so no separate worker bundle is needed; with one thread, or few rows, no worker starts and the
// same kernels run on the calling thread.
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import type { BinnedMatrix } from './binning.js';
import type { HistogramLayout } from './histogram.js';
import { histogramKernelSource, partitionSlice, scatterSplit, scatterValue, updateGradients } from './kernels.js';
import type { LeafRanges, PartitionTask, TreeKernels } from './tree.js';

/** Below this many rows one thread is faster than handing work to others. */
const MIN_ROWS_FOR_WORKERS = 20_000;
/** Tasks per hand-off; a job with more is handed off in several rounds. */
const MAX_TASKS = 256;
/** Features per generated histogram kernel; more features use several kernels. */
const KERNEL_FEATURES = 32;
/** How long the first hand-off waits for the workers to start before working on one thread. */
const START_TIMEOUT_MS = 20_000;

// Control words.
const GENERATION = 0;
const PENDING = 1;
const STOP = 2;
const READY = 3;
const FAILED = 4;
const JOB = 5;
const TASKS = 6;
const FLAG = 7;
const FEATURES = 8;
const HEADER = 9;
/** Ints per task in the task table: start, end, feature, cut, categorical, missing left, split (1) or leaf (0). */
const TASK_INTS = 7;

// Jobs.
const HISTOGRAM = 1;
const PARTITION = 2;
const SCATTER = 3;
const GRADIENTS = 4;

/** A histogram kernel: see {@link histogramKernelSource}. */
type HistogramKernel = (binsRow: Uint8Array, gh: Float32Array, index: Int32Array, start: number, end: number, all: boolean, hist: Float64Array) => void;

/**
 * Kernels for a feature list, at most `perKernel` features each. Self-contained (the workers run
 * its source): `source` is {@link histogramKernelSource}.
 */
function compileHistogramKernels(
  features: ArrayLike<number>, offsets: Int32Array, stride: number, perKernel: number,
  source: (columns: number[], bases: number[], stride: number) => string,
): HistogramKernel[] {
  const kernels: HistogramKernel[] = [];
  for (let first = 0; first < features.length; first += perKernel) {
    const columns: number[] = [];
    const bases: number[] = [];
    for (let f = first; f < Math.min(features.length, first + perKernel); f++) {
      columns.push(features[f]!);
      bases.push(offsets[features[f]!]! * 3);
    }
    // The body is generated from integers only (column numbers and offsets).
    kernels.push(new Function('binsRow', 'gh', 'index', 'start', 'end', 'all', 'hist', source(columns, bases, stride)) as HistogramKernel);
  }
  return kernels;
}

/** Start of a thread's share of a task: part `part` of `parts` of [start, end). */
function sliceStart(start: number, end: number, part: number, parts: number): number {
  return start + Math.floor(((end - start) * part) / parts);
}

const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const histogramKernelSource = (${histogramKernelSource.toString()});
const partitionSlice = (${partitionSlice.toString()});
const scatterValue = (${scatterValue.toString()});
const scatterSplit = (${scatterSplit.toString()});
const updateGradients = (${updateGradients.toString()});
const compileHistogramKernels = (${compileHistogramKernels.toString()});
const sliceStart = (${sliceStart.toString()});
const { control, binsRow, binsCol, rows, stride, gh, index, scratch, delta, scores, labels, values, offsets, hist, threads, part, histSize, minHessian } = workerData;
const kernelCache = new Map();
const pair = new Float64Array(2);
let seen = 0;
Atomics.add(control, ${READY}, 1);
Atomics.notify(control, ${READY});
for (;;) {
  Atomics.wait(control, ${GENERATION}, seen);
  const generation = Atomics.load(control, ${GENERATION});
  if (Atomics.load(control, ${STOP}) === 1) break;
  if (generation === seen) continue;
  seen = generation;
  const job = control[${JOB}];
  const tasks = control[${TASKS}];
  const flag = control[${FLAG}] === 1;
  const nFeatures = control[${FEATURES}];
  const table = ${HEADER} + nFeatures;
  const results = table + ${TASK_INTS * MAX_TASKS};
  try {
    let kernels = null;
    if (job === ${HISTOGRAM}) {
      const features = control.slice(${HEADER}, ${HEADER} + nFeatures);
      const key = features.join(',');
      kernels = kernelCache.get(key);
      if (!kernels) {
        kernels = compileHistogramKernels(features, offsets, stride, ${KERNEL_FEATURES}, histogramKernelSource);
        kernelCache.set(key, kernels);
      }
    }
    for (let t = 0; t < tasks; t++) {
      const at = table + ${TASK_INTS} * t;
      const start = control[at];
      const end = control[at + 1];
      const from = sliceStart(start, end, part, threads);
      const to = sliceStart(start, end, part + 1, threads);
      if (job === ${HISTOGRAM}) {
        const out = hist.subarray(t * histSize, (t + 1) * histSize);
        out.fill(0);
        for (const kernel of kernels) kernel(binsRow, gh, index, from, to, flag, out);
      } else if (job === ${PARTITION}) {
        control[results + t * threads + part] = partitionSlice(binsCol, rows, index, scratch, from, to, control[at + 2], control[at + 3], control[at + 4] === 1, control[at + 5] === 1);
      } else if (job === ${SCATTER}) {
        if (control[at + 6] === 1) scatterSplit(binsCol, rows, index, from, to, control[at + 2], control[at + 3], control[at + 4] === 1, control[at + 5] === 1, values[2 * t], values[2 * t + 1], pair, delta);
        else scatterValue(index, from, to, values[2 * t], delta);
      } else if (job === ${GRADIENTS}) {
        updateGradients(scores, delta, labels, gh, from, to, flag, minHessian);
      }
    }
  } catch {
    Atomics.store(control, ${FAILED}, 1);
  }
  if (Atomics.sub(control, ${PENDING}, 1) === 1) Atomics.notify(control, ${PENDING});
}
`;

/** A zeroed Float64Array on shared memory. */
function sharedFloat64(length: number): Float64Array {
  return new Float64Array(new SharedArrayBuffer(length * 8));
}

/** A zeroed Int32Array on shared memory. */
function sharedInt32(length: number): Int32Array {
  return new Int32Array(new SharedArrayBuffer(length * 4));
}

/** Options of {@link TrainingPool}. */
export interface PoolOptions {
  /** Threads, the caller's included; 0 means one per core. */
  threads: number;
  /** Score columns (1, or K for multiclass). */
  columns: number;
  labels: ArrayLike<number>;
  /** Whether the labels are class ids (binary, multiclass). */
  classLabels: boolean;
  /** Hessian floor of the gradient update. */
  minHessian: number;
}

/**
 * The shared training state and the threads that work on it. `index` holds the rows of the tree
 * being grown; `gh` the gradients and hessians (interleaved); `scores` the raw scores, class-major.
 * Call {@link TrainingPool.close} when training ends (also on failure).
 */
export class TrainingPool implements TreeKernels {
  readonly threads: number;
  readonly index: Int32Array;
  readonly gh: Float32Array;
  readonly scores: Float64Array;
  private readonly rows: number;
  private readonly stride: number;
  private readonly binsRow: Uint8Array;
  private readonly binsCol: Uint8Array;
  private readonly scratch: Int32Array;
  private readonly delta: Float32Array;
  private readonly labels: Float32Array | Float64Array;
  private readonly values: Float64Array;
  private readonly control: Int32Array;
  private readonly offsets: Int32Array;
  private readonly histSize: number;
  private readonly minHessian: number;
  private readonly partials: Float64Array[] = [];
  private readonly pair = new Float64Array(2);
  private readonly kernelCache = new Map<string, HistogramKernel[]>();
  private workers: Worker[] = [];
  private parts: number;

  constructor(data: BinnedMatrix, layout: HistogramLayout, options: PoolOptions) {
    const wanted = options.threads > 0 ? options.threads : os.availableParallelism();
    this.rows = data.rows;
    this.stride = data.features;
    this.threads = data.rows < MIN_ROWS_FOR_WORKERS ? 1 : wanted;
    this.parts = this.threads;
    this.histSize = layout.total * 3;
    this.minHessian = options.minHessian;
    this.index = sharedInt32(data.rows);
    this.scratch = sharedInt32(data.rows);
    this.gh = new Float32Array(new SharedArrayBuffer(8 * data.rows));
    this.scores = sharedFloat64(data.rows * options.columns);
    // Leaf values are float32, so the per-row leaf values are exact in float32; class labels are
    // small integers, exact in float32 too (regression targets keep float64). Smaller arrays keep
    // more of the working set in cache.
    this.delta = new Float32Array(new SharedArrayBuffer(4 * data.rows));
    this.labels = options.classLabels ? new Float32Array(new SharedArrayBuffer(4 * data.rows)) : sharedFloat64(data.rows);
    for (let i = 0; i < data.rows; i++) this.labels[i] = options.labels[i]!;
    this.values = sharedFloat64(2 * MAX_TASKS);
    this.binsCol = new Uint8Array(new SharedArrayBuffer(data.bins.length));
    this.binsCol.set(data.bins);
    this.binsRow = new Uint8Array(new SharedArrayBuffer(data.bins.length));
    for (let j = 0; j < data.features; j++) {
      const column = data.bins.subarray(j * data.rows, (j + 1) * data.rows);
      for (let r = 0; r < data.rows; r++) this.binsRow[r * data.features + j] = column[r]!;
    }
    this.offsets = sharedInt32(layout.offsets.length);
    this.offsets.set(layout.offsets);
    this.control = sharedInt32(HEADER + data.features + TASK_INTS * MAX_TASKS + MAX_TASKS * this.threads);
    if (this.threads > 1) this.startWorkers();
  }

  private startWorkers(): void {
    for (let part = 1; part < this.threads; part++) {
      const hist = sharedFloat64(this.histSize * MAX_TASKS);
      this.partials.push(hist);
      const worker = new Worker(WORKER_SOURCE, {
        eval: true,
        execArgv: [],
        workerData: {
          control: this.control, binsRow: this.binsRow, binsCol: this.binsCol, rows: this.rows, stride: this.stride,
          gh: this.gh, index: this.index, scratch: this.scratch, delta: this.delta, scores: this.scores, labels: this.labels,
          values: this.values, offsets: this.offsets, hist, threads: this.threads, part, histSize: this.histSize, minHessian: this.minHessian,
        },
      });
      worker.unref();
      this.workers.push(worker);
    }
    // The caller blocks in Atomics.wait, so workers that never start must not hang it: wait
    // (bounded) for every worker to report ready, or work on the calling thread alone.
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (let ready = Atomics.load(this.control, READY); ready < this.threads - 1; ready = Atomics.load(this.control, READY)) {
      const left = deadline - Date.now();
      if (left <= 0) return this.fallBackToOneThread();
      Atomics.wait(this.control, READY, ready, Math.min(left, 50));
    }
  }

  /** From now on every job runs on the calling thread. */
  private fallBackToOneThread(): void {
    this.close();
    this.parts = 1;
  }

  /** Stops the workers. */
  close(): void {
    if (this.workers.length === 0) return;
    Atomics.store(this.control, STOP, 1);
    Atomics.add(this.control, GENERATION, 1);
    Atomics.notify(this.control, GENERATION);
    for (const w of this.workers) void w.terminate();
    this.workers = [];
  }

  /**
   * Runs a job over the first `count` tasks of the table: the workers take their slices, the
   * calling thread runs `own` (its slice 0 of every task), then waits for them.
   * @throws Error when a worker thread failed (a defect: the kernels do not throw on valid input).
   */
  private handOff(job: number, count: number, flag: boolean, own: () => void): void {
    const control = this.control;
    control[JOB] = job;
    control[TASKS] = count;
    control[FLAG] = flag ? 1 : 0;
    Atomics.store(control, PENDING, this.parts - 1);
    Atomics.add(control, GENERATION, 1);
    Atomics.notify(control, GENERATION);
    own();
    for (let pending = Atomics.load(control, PENDING); pending !== 0; pending = Atomics.load(control, PENDING)) {
      Atomics.wait(control, PENDING, pending);
    }
    if (Atomics.load(control, FAILED) === 1) {
      this.close();
      throw new Error('a training worker thread failed');
    }
  }

  private kernelsFor(features: Int32Array): HistogramKernel[] {
    const key = features.join(',');
    let kernels = this.kernelCache.get(key);
    if (!kernels) {
      kernels = compileHistogramKernels(features, this.offsets, this.stride, KERNEL_FEATURES, histogramKernelSource);
      this.kernelCache.set(key, kernels);
    }
    return kernels;
  }

  private setTask(t: number, start: number, end: number): void {
    const at = HEADER + this.control[FEATURES]! + TASK_INTS * t;
    this.control[at] = start;
    this.control[at + 1] = end;
    this.control[at + 6] = 0;
  }

  private setSplitTask(t: number, task: PartitionTask): void {
    this.setTask(t, task.start, task.end);
    const at = HEADER + TASK_INTS * t;
    this.control[at + 2] = task.feature;
    this.control[at + 3] = task.cut;
    this.control[at + 4] = task.categorical ? 1 : 0;
    this.control[at + 5] = task.missingLeft ? 1 : 0;
    this.control[at + 6] = 1;
  }

  histograms(starts: number[], ends: number[], all: boolean, features: Int32Array, hists: Float64Array[]): void {
    const kernels = this.kernelsFor(features);
    for (let first = 0; first < starts.length; first += MAX_TASKS) {
      const count = Math.min(MAX_TASKS, starts.length - first);
      const own = (parts: number) => {
        for (let t = 0; t < count; t++) {
          const hist = hists[first + t]!;
          hist.fill(0);
          const start = starts[first + t]!;
          const to = sliceStart(start, ends[first + t]!, 1, parts);
          for (const kernel of kernels) kernel(this.binsRow, this.gh, this.index, start, to, all, hist);
        }
      };
      if (this.parts === 1) { own(1); continue; }
      this.control[FEATURES] = features.length;
      this.control.set(features, HEADER);
      for (let t = 0; t < count; t++) this.setTask(t, starts[first + t]!, ends[first + t]!);
      this.handOff(HISTOGRAM, count, all, () => own(this.parts));
      for (let t = 0; t < count; t++) {
        const hist = hists[first + t]!;
        const base = t * this.histSize;
        for (const partial of this.partials) {
          for (let i = 0; i < this.histSize; i++) hist[i]! += partial[base + i]!;
        }
      }
    }
  }

  partition(tasks: PartitionTask[]): number[] {
    const mids: number[] = [];
    for (let first = 0; first < tasks.length; first += MAX_TASKS) {
      const count = Math.min(MAX_TASKS, tasks.length - first);
      const parts = this.parts;
      const lefts = new Int32Array(count * parts);
      const own = (slices: number) => {
        for (let t = 0; t < count; t++) {
          const task = tasks[first + t]!;
          const to = sliceStart(task.start, task.end, 1, slices);
          lefts[t * slices] = partitionSlice(this.binsCol, this.rows, this.index, this.scratch, task.start, to, task.feature, task.cut, task.categorical, task.missingLeft);
        }
      };
      if (parts === 1) own(1);
      else {
        this.control[FEATURES] = 0;
        for (let t = 0; t < count; t++) this.setSplitTask(t, tasks[first + t]!);
        this.handOff(PARTITION, count, false, () => own(parts));
        const results = HEADER + TASK_INTS * MAX_TASKS;
        for (let t = 0; t < count; t++) for (let p = 1; p < parts; p++) lefts[t * parts + p] = this.control[results + t * this.threads + p]!;
      }
      // Each slice holds its left rows at its start in `index` and its right rows at its start in
      // `scratch`: gather the lefts in slice order, then the rights.
      for (let t = 0; t < count; t++) {
        const task = tasks[first + t]!;
        let at = task.start;
        for (let p = 0; p < parts; p++) {
          const from = sliceStart(task.start, task.end, p, parts);
          const left = lefts[t * parts + p]!;
          if (at !== from) this.index.copyWithin(at, from, from + left);
          at += left;
        }
        mids.push(at);
        for (let p = 0; p < parts; p++) {
          const from = sliceStart(task.start, task.end, p, parts);
          const right = sliceStart(task.start, task.end, p + 1, parts) - from - lefts[t * parts + p]!;
          this.index.set(this.scratch.subarray(from, from + right), at);
          at += right;
        }
      }
    }
    return mids;
  }

  /**
   * Adds the tree's leaf values to the scores of their rows and recomputes every row's gradient
   * and hessian (binary logloss or squared error, score column 0). `ranges` comes from growTree:
   * the leaf ranges in `index` (values `values[l]`) and the final splits; together they must cover
   * every row.
   */
  applyLeaves(ranges: LeafRanges, values: ArrayLike<number>, binary: boolean): void {
    type Task = { start: number; end: number; value: number; split?: LeafRanges['finalSplits'][number] };
    const tasks: Task[] = ranges.starts.map((start, l) => ({ start, end: ranges.ends[l]!, value: values[l]! }));
    for (const split of ranges.finalSplits) tasks.push({ start: split.start, end: split.end, value: 0, split });
    const scatter = (task: Task, start: number, end: number) => {
      const split = task.split;
      if (split) scatterSplit(this.binsCol, this.rows, this.index, start, end, split.feature, split.cut, split.categorical, split.missingLeft, split.leftValue, split.rightValue, this.pair, this.delta);
      else scatterValue(this.index, start, end, task.value, this.delta);
    };
    for (let first = 0; first < tasks.length; first += MAX_TASKS) {
      const count = Math.min(MAX_TASKS, tasks.length - first);
      const own = (parts: number) => {
        for (let t = 0; t < count; t++) {
          const task = tasks[first + t]!;
          scatter(task, task.start, sliceStart(task.start, task.end, 1, parts));
        }
      };
      if (this.parts === 1) { own(1); continue; }
      this.control[FEATURES] = 0;
      for (let t = 0; t < count; t++) {
        const task = tasks[first + t]!;
        if (task.split) {
          this.setSplitTask(t, task.split);
          this.values[2 * t] = task.split.leftValue;
          this.values[2 * t + 1] = task.split.rightValue;
        } else {
          this.setTask(t, task.start, task.end);
          this.values[2 * t] = task.value;
        }
      }
      this.handOff(SCATTER, count, false, () => own(this.parts));
    }
    const rowsOwn = (parts: number) => updateGradients(this.scores, this.delta, this.labels, this.gh, 0, sliceStart(0, this.rows, 1, parts), binary, this.minHessian);
    if (this.parts === 1) return rowsOwn(1);
    this.control[FEATURES] = 0;
    this.setTask(0, 0, this.rows);
    this.handOff(GRADIENTS, 1, binary, () => rowsOwn(this.parts));
  }
}
