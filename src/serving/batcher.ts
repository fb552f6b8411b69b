// Dynamic batching, Triton-style, for one loaded model version. Requests wait in a FIFO queue; a
// batch goes to the runtime when `max_batch_size` rows are waiting or the oldest request has
// waited `max_queue_delay_microseconds`, and only while the runtime has a free slot (one inline,
// one per worker thread), so while a batch computes the next one keeps filling. Batched inputs are
// concatenated along dimension 0 and the outputs split back by rows; row-wise models give every
// row the same bits as an unbatched call (the kernels do not mix rows; the tests check it).
//
// Models without batching (first dimension fixed, or batching turned off) use the same queue with
// batches of one request: the queue bound, the timeouts and the runtime's concurrency still apply.
import { PlinthError } from '../core/index.js';
import type { ModelSession, ValueSpec } from './runtime.js';
import type { BatchingConfig, Tensor, TensorData, TensorMap } from './types.js';

/** Hooks for metrics and logs. */
export interface BatchObserver {
  /** A batch went to the runtime: its rows, and each request's time in the queue, seconds. */
  onBatch?(rows: number, queueSeconds: readonly number[]): void;
  /** The runtime finished a batch after this many seconds. */
  onCompute?(seconds: number): void;
  /** Batching was turned off for this model: its outputs cannot be split by rows. */
  onBatchingDisabled?(reason: string): void;
}

export interface SubmitOptions {
  /** Outputs to return; all when absent. */
  outputs?: readonly string[] | undefined;
  /** Overrides the configured timeout_ms. */
  timeoutMs?: number | undefined;
}

interface Pending {
  feeds: TensorMap;
  rows: number;
  /** Requests with the same key can share a batch; null runs alone. */
  key: string | null;
  outputs: readonly string[] | undefined;
  /** performance.now() at submit, ms. */
  enqueuedAt: number;
  timer: NodeJS.Timeout | undefined;
  state: 'queued' | 'running' | 'done';
  resolve(outputs: TensorMap): void;
  reject(error: Error): void;
}

/**
 * True when a model can be batched by the signature: every input has a dynamic first dimension,
 * and every output is a tensor with a dynamic first dimension (so it can be split back by rows).
 * Whether the outputs' first dimension really equals the input rows is checked on the first batch.
 */
export function isBatchable(inputs: ReadonlyArray<Pick<ValueSpec, 'shape'>>, outputs: ReadonlyArray<Pick<ValueSpec, 'shape' | 'datatype'>>): boolean {
  const dynamicFirst = (v: Pick<ValueSpec, 'shape'>) => v.shape !== null && v.shape.length > 0 && v.shape[0] === -1;
  return inputs.length > 0 && inputs.every(dynamicFirst) && outputs.every((o) => o.datatype !== null && dynamicFirst(o));
}

function concat(parts: readonly TensorData[], total: number): TensorData {
  const first = parts[0]!;
  if (Array.isArray(first)) return (parts as string[][]).flat();
  const out = new (first.constructor as new (length: number) => Exclude<TensorData, string[]>)(total);
  let offset = 0;
  for (const part of parts as Array<Exclude<TensorData, string[]>>) {
    (out as Float32Array).set(part as Float32Array, offset);
    offset += part.length;
  }
  return out;
}

function rowSlice(data: TensorData, start: number, end: number): TensorData {
  // subarray shares the batch's buffer: no copy per request.
  return Array.isArray(data) ? data.slice(start, end) : data.subarray(start, end);
}

function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** The batcher of one loaded model version. */
export class DynamicBatcher {
  readonly #session: ModelSession;
  readonly #observer: BatchObserver;
  #config: BatchingConfig;
  /** False once the signature or a batch showed the outputs cannot be split by rows. */
  #batchable: boolean;
  readonly #queue: Pending[] = [];
  /** Queued requests not yet timed out, and their rows. */
  #waiting = 0;
  #waitingRows = 0;
  #running = 0;
  #wake: { kind: 'immediate'; handle: NodeJS.Immediate } | { kind: 'timer'; handle: NodeJS.Timeout } | null = null;
  #closed: Error | null = null;
  /** Resolvers of idle() calls, run when the last batch computing finishes. */
  #idleWaiters: Array<() => void> = [];

  constructor(session: ModelSession, config: BatchingConfig, observer: BatchObserver = {}) {
    this.#session = session;
    this.#config = { ...config };
    this.#observer = observer;
    this.#batchable = isBatchable(session.inputs, session.outputs);
  }

  /** The settings in force: `enabled` is false when the model cannot be batched. */
  get config(): BatchingConfig {
    return { ...this.#config, enabled: this.#batching };
  }

  get #batching(): boolean {
    return this.#config.enabled && this.#batchable;
  }

  /** Requests waiting in the queue (not yet sent to the runtime). */
  get waiting(): number {
    return this.#waiting;
  }

  /** Batches computing now. */
  get running(): number {
    return this.#running;
  }

  /** Changes the settings; requests already queued keep their timeouts. */
  configure(config: BatchingConfig): void {
    this.#config = { ...config };
    this.#check();
  }

  /**
   * Queues a request and resolves with its outputs. Feeds must already fit the model.
   * @throws PlinthError QUEUE_FULL when max_queue_size requests are waiting, INFERENCE_TIMEOUT
   * when no answer came within the timeout (a request still queued then is dropped), MODEL_NOT_READY
   * after close, INFERENCE_FAILED from the runtime.
   */
  submit(feeds: TensorMap, options: SubmitOptions = {}): Promise<TensorMap> {
    if (this.#closed) return Promise.reject(this.#closed);
    if (this.#waiting >= this.#config.max_queue_size) {
      return Promise.reject(
        new PlinthError('QUEUE_FULL', `the model's queue is full (${this.#config.max_queue_size} requests waiting)`, { details: { max_queue_size: this.#config.max_queue_size } }),
      );
    }
    const { rows, key } = this.#describe(feeds);
    return new Promise<TensorMap>((resolve, reject) => {
      const pending: Pending = { feeds, rows, key, outputs: options.outputs, enqueuedAt: performance.now(), timer: undefined, state: 'queued', resolve, reject };
      const timeoutMs = options.timeoutMs ?? this.#config.timeout_ms;
      pending.timer = setTimeout(() => this.#timeOut(pending, timeoutMs), timeoutMs);
      this.#queue.push(pending);
      this.#waiting++;
      this.#waitingRows += rows;
      // Without batching, or with a full batch waiting, there is nothing to wait for. Otherwise the
      // first check comes after this turn of the event loop, so requests read in the same turn join.
      if (!this.#batching || this.#waitingRows >= this.#config.max_batch_size) this.#check();
      else this.#arm(0);
    });
  }

  /** Rejects every queued request with `error` (requests computing finish) and refuses new ones. */
  close(error: Error = new PlinthError('MODEL_NOT_READY', 'the model version was unloaded')): void {
    this.#closed = error;
    this.#disarm();
    for (const pending of this.#queue.splice(0)) {
      if (pending.state !== 'queued') continue;
      this.#settle(pending);
      pending.reject(error);
    }
    this.#waiting = 0;
    this.#waitingRows = 0;
  }

  /** Resolves once no batch is computing (at once when none is). */
  idle(): Promise<void> {
    if (this.#running === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Rows of a request and its batch key: input datatypes and every dimension after the first. */
  #describe(feeds: TensorMap): { rows: number; key: string | null } {
    let rows = -1;
    let key = '';
    for (const input of this.#session.inputs) {
      const tensor = feeds[input.name];
      if (!tensor || tensor.shape.length === 0) return { rows: 1, key: null };
      const shape = tensor.shape;
      const first = shape[0]!;
      if (rows === -1) rows = first;
      else if (rows !== first) return { rows: Math.max(rows, 1), key: null };
      // `${datatype}[${dims after the first, comma-separated}]`, built without intermediate arrays.
      key += tensor.datatype;
      key += '[';
      for (let i = 1; i < shape.length; i++) key += i > 1 ? `,${shape[i]}` : String(shape[i]);
      key += ']';
    }
    return rows <= 0 ? { rows: 1, key: null } : { rows, key };
  }

  #timeOut(pending: Pending, timeoutMs: number): void {
    if (pending.state === 'done') return;
    if (pending.state === 'queued') {
      // Dropped from the queue: #next skips it.
      this.#waiting--;
      this.#waitingRows -= pending.rows;
    }
    pending.state = 'done';
    pending.reject(new PlinthError('INFERENCE_TIMEOUT', `no answer within ${timeoutMs} ms`, { details: { timeout_ms: timeoutMs } }));
  }

  #settle(pending: Pending): boolean {
    if (pending.state === 'done') return false;
    pending.state = 'done';
    clearTimeout(pending.timer);
    return true;
  }

  /** The oldest queued request, dropping timed-out ones from the front. */
  #peek(): Pending | undefined {
    while (this.#queue.length > 0 && this.#queue[0]!.state !== 'queued') this.#queue.shift();
    return this.#queue[0];
  }

  #disarm(): void {
    if (this.#wake?.kind === 'immediate') clearImmediate(this.#wake.handle);
    else if (this.#wake?.kind === 'timer') clearTimeout(this.#wake.handle);
    this.#wake = null;
  }

  /**
   * Checks again after `remainingMicros`. Timers have 1 ms granularity, so a short wait is made of
   * event-loop turns (setImmediate), which also read new requests in between; a long one sleeps on
   * a timer until about 1 ms before the deadline.
   */
  #arm(remainingMicros: number): void {
    if (this.#wake) return;
    if (remainingMicros >= 2000) {
      this.#wake = { kind: 'timer', handle: setTimeout(() => this.#onWake(), Math.floor(remainingMicros / 1000) - 1) };
    } else {
      this.#wake = { kind: 'immediate', handle: setImmediate(() => this.#onWake()) };
    }
  }

  #onWake(): void {
    this.#wake = null;
    this.#check();
  }

  /** Sends batches to the runtime while it has a free slot and a batch is due. */
  #check(): void {
    if (this.#closed) return;
    // Inline runs compute one after another on the main thread whatever the limit, so without
    // batching there is no reason to hold requests back: each goes to the runtime at once and
    // several run in one event-loop turn, as direct onnxruntime calls would. With batching, one
    // run at a time lets the next batch fill while it computes.
    const limit = !this.#batching && this.#session.kind === 'inline' ? Number.POSITIVE_INFINITY : this.#session.concurrency;
    while (this.#running < limit) {
      const head = this.#peek();
      if (!head) return;
      if (this.#batching && this.#waitingRows < this.#config.max_batch_size) {
        const waitedMicros = (performance.now() - head.enqueuedAt) * 1000;
        const remaining = this.#config.max_queue_delay_microseconds - waitedMicros;
        if (remaining > 0) {
          this.#arm(remaining);
          return;
        }
      }
      this.#dispatch(this.#take(head));
    }
  }

  /** Takes the head and, when batching, the requests behind it that share its key and fit. */
  #take(head: Pending): Pending[] {
    this.#queue.shift();
    const batch = [head];
    if (this.#batching && head.key !== null) {
      let rows = head.rows;
      for (let next = this.#peek(); next; next = this.#peek()) {
        // The first request that does not fit or does not match starts the next batch.
        if (next.key !== head.key || rows + next.rows > this.#config.max_batch_size) break;
        this.#queue.shift();
        batch.push(next);
        rows += next.rows;
      }
    }
    return batch;
  }

  #dispatch(batch: Pending[]): void {
    const now = performance.now();
    let rows = 0;
    const queueSeconds: number[] = [];
    for (const pending of batch) {
      pending.state = 'running';
      this.#waiting--;
      this.#waitingRows -= pending.rows;
      rows += pending.rows;
      queueSeconds.push((now - pending.enqueuedAt) / 1000);
    }
    this.#observer.onBatch?.(rows, queueSeconds);
    this.#running++;
    const run = batch.length === 1 ? this.#runAlone(batch[0]!) : this.#runBatch(batch, rows);
    void run.finally(() => {
      this.#observer.onCompute?.((performance.now() - now) / 1000);
      this.#running--;
      if (this.#running === 0 && this.#idleWaiters.length > 0) for (const resolve of this.#idleWaiters.splice(0)) resolve();
      this.#check();
    });
  }

  async #runAlone(pending: Pending): Promise<void> {
    try {
      const outputs = await this.#session.run(pending.feeds, pending.outputs);
      if (this.#settle(pending)) pending.resolve(outputs);
    } catch (error) {
      if (this.#settle(pending)) pending.reject(error as Error);
    }
  }

  async #runBatch(batch: Pending[], rows: number): Promise<void> {
    // One output list for the batch: the union of what the requests asked for (all when one asks for all).
    const wanted = batch.some((p) => p.outputs === undefined) ? undefined : [...new Set(batch.flatMap((p) => p.outputs!))];
    const feeds: TensorMap = {};
    for (const input of this.#session.inputs) {
      const first = batch[0]!.feeds[input.name]!;
      const data = concat(batch.map((p) => p.feeds[input.name]!.data), sizeOf(first.shape.slice(1)) * rows);
      feeds[input.name] = { datatype: first.datatype, shape: [rows, ...first.shape.slice(1)], data };
    }
    let outputs: TensorMap;
    try {
      // The concatenated buffers are ours: a worker may take them without a copy.
      outputs = await this.#session.run(feeds, wanted, { transfer: true });
    } catch {
      // One request's feeds may be what the runtime refuses: run them one by one so only it fails.
      await this.#runEach(batch);
      return;
    }
    const unsplittable = Object.entries(outputs).find(([, t]) => t.shape[0] !== rows);
    if (unsplittable) {
      this.#batchable = false;
      this.#observer.onBatchingDisabled?.(`output ${unsplittable[0]} has first dimension ${unsplittable[1].shape[0]} for a batch of ${rows} rows`);
      await this.#runEach(batch);
      return;
    }
    // Each output's row size and trailing dimensions, once per batch rather than once per request.
    const split = Object.entries(outputs).map(([name, tensor]) => {
      const tail = tensor.shape.slice(1);
      return { name, tensor, tail, rowSize: sizeOf(tail) };
    });
    let offset = 0;
    for (const pending of batch) {
      const result: TensorMap = {};
      for (const { name, tensor, tail, rowSize } of split) {
        if (pending.outputs && !pending.outputs.includes(name)) continue;
        const part: Tensor = { datatype: tensor.datatype, shape: [pending.rows, ...tail], data: rowSlice(tensor.data, offset * rowSize, (offset + pending.rows) * rowSize) };
        result[name] = part;
      }
      offset += pending.rows;
      if (this.#settle(pending)) pending.resolve(result);
    }
  }

  async #runEach(batch: Pending[]): Promise<void> {
    for (const pending of batch) {
      if (pending.state === 'running') await this.#runAlone(pending);
    }
  }
}
