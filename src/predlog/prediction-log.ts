// The prediction log's writer: one row per served request and role (the variant that answered, or a
// shadow whose answer was discarded), written with GROUP COMMIT.
//
// Durable mode (the default): append() puts the row into the pending batch and returns that batch's
// promise. One flush at a time writes a whole batch in one transaction (multi-row INSERTs, chunked
// below the databases' parameter limits); the rows appended while a flush runs form the next batch,
// which is flushed as soon as the previous one committed. A caller that answers its client only after
// `await append(...)` therefore never acknowledges a prediction that a crash (SIGKILL included) could
// lose: SQLite in WAL mode has the commit in its log before the promise resolves (synchronous=NORMAL
// survives a killed process; only an OS crash or power loss can take the last commits), PostgreSQL has
// it committed. A failed or timed-out write rejects every append of its batch with
// PREDICTION_LOG_UNAVAILABLE (503); no append waits longer than `flushTimeoutMs`.
//
// On SQLite, giving `sqliteFile` moves the inserts and commits to a writer thread with its own
// connection (sqlite-writer.ts): the serving thread then only serialises rows (bench/predlog-append.ts
// measures both). PostgreSQL writes go through the query layer.
//
// Fast mode: append() resolves at once; rows are written every `fastFlushMs` (≈200 ms). A crash loses
// at most the rows appended in the last interval plus the one flush in progress; write failures are
// reported to `onError` and counted, never thrown at callers.
import { CompiledQuery } from 'kysely';
import { PlinthError } from '../core/index.js';
import type { ServedModel, TensorMap } from '../serving/index.js';
import type { Db } from '../store/index.js';
import { redactionOf, SensitiveMasker, tensorMapJson, type SensitiveMode } from './record-json.js';
import { sweepPredictionLog, type SweepResult } from './retention.js';
import { SqliteBatchWriter } from './sqlite-writer.js';

/** One served request (or its shadow) as the serving path hands it over. */
export interface PredictionRecord {
  /** The deployment's name. */
  deployment: string;
  /** The HTTP request id (the x-request-id answered); a request's primary and shadow rows share it. */
  requestId: string;
  role: 'primary' | 'shadow';
  /** The model version that ran: name, version, signature and feature schema (for sensitive features). */
  model: Pick<ServedModel, 'name' | 'version' | 'signature' | 'featureSchema'>;
  /** The tensors fed to the model (after feature encoding). */
  inputs: TensorMap;
  /** The model's outputs; null when it failed. */
  outputs: TensorMap | null;
  /** When the request arrived, ms since the Unix epoch. */
  at: number;
  /** How long the variant took, ms. */
  latencyMs: number;
  /** The HTTP status of the variant's answer (200, or the error's). */
  status: number;
  /** The error message when it failed. */
  error?: string | null;
}

export interface PredictionLogOptions {
  db: Db;
  /**
   * For SQLite stores: the database file (`<dataDir>/plinth.db`). When given, batches are inserted and
   * committed by a worker thread over its own connection (see sqlite-writer.ts), which takes the
   * insert cost off the serving thread; the durability contract is the same. Leave it out for
   * PostgreSQL: writes then go through `db`.
   */
  sqliteFile?: string;
  /** @default 'durable' */
  mode?: 'durable' | 'fast';
  /** Share of requests logged, 0..1, decided per request id by a hash (see {@link PredictionLog.sampled}). @default 1 */
  sampleRate?: number;
  /** Rows older than this many days are swept; 0 keeps them. @default 30 */
  retentionDays?: number;
  /** Rows kept at most, the oldest swept first; 0 means no limit. @default 10_000_000 */
  maxRows?: number;
  /** Sensitive features: hashed or dropped. @default 'hash' */
  sensitive?: SensitiveMode;
  /** HMAC key for hashed sensitive features (see loadHashKey). Required when sensitive is 'hash'. */
  hashKey?: string;
  /** Durable mode: how long a group commit waits for more rows before it writes, ms; 0: the end of the event-loop turn. @default 0 */
  groupCommitMs?: number;
  /** Fast mode's write interval, ms. @default 200 */
  fastFlushMs?: number;
  /** An append in durable mode is rejected when its batch has not committed within this time, ms. @default 10_000 */
  flushTimeoutMs?: number;
  /** Rows waiting for a flush at most; past it appends are refused (durable) or dropped (fast). @default 100_000 */
  maxPendingRows?: number;
  /** How often the retention sweep runs, ms; 0 runs it only on demand. @default 600_000 (10 min) */
  sweepIntervalMs?: number;
  /** Told about failed writes and sweeps (fast-mode losses included). */
  onError?: (error: unknown, what: 'flush' | 'sweep') => void;
  /** The clock for retention, ms since the epoch. @default Date.now */
  now?: () => number;
}

/** Counters since the log was opened. */
export interface PredictionLogStats {
  /** Rows committed. */
  written: number;
  /** Rows whose write failed (their appends were rejected, or lost in fast mode). */
  failed: number;
  /** Rows refused because too many were pending or the log was closed. */
  dropped: number;
  /** Appends skipped by sampling. */
  sampledOut: number;
  /** Write transactions (one per batch). */
  batches: number;
}

const COLUMNS = ['deployment', 'request_id', 'role', 'model_name', 'model_version', 'at', 'latency_ms', 'status', 'inputs', 'outputs', 'error'] as const;
const WIDTH = COLUMNS.length;
/** Rows per INSERT statement: 256 × 11 parameters stays far below SQLite's 32766 and PostgreSQL's 65535. */
const ROWS_PER_STATEMENT = 256;
/** Batches the SQLite writer thread may have queued at once; past it the next batch waits. */
const MAX_WRITES_IN_FLIGHT = 8;
const RESOLVED: Promise<void> = Promise.resolve();

interface Batch {
  /** Row-major parameters, WIDTH per row: no object per row. */
  params: unknown[];
  count: number;
  promise: Promise<void>;
  resolve: () => void;
  reject: (error: unknown) => void;
  settled: boolean;
  timer: NodeJS.Timeout | null;
}

/** FNV-1a over the UTF-16 code units, then murmur3's finaliser: a well-mixed 32-bit hash. */
function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function unavailable(message: string, cause?: unknown): PlinthError {
  return new PlinthError('PREDICTION_LOG_UNAVAILABLE', message, cause === undefined ? {} : { cause });
}

function finiteOr(value: number, fallback: number): number {
  return Number.isFinite(value) ? value : fallback;
}

/** Writes served requests to `prediction_log`; see the file header for the durability contract. */
export class PredictionLog {
  readonly mode: 'durable' | 'fast';
  readonly sampleRate: number;
  readonly retentionDays: number;
  readonly maxRows: number;
  private readonly db: Db;
  private readonly masker: SensitiveMasker | null;
  private readonly sensitive: SensitiveMode;
  private readonly fastFlushMs: number;
  private readonly groupCommitMs: number;
  private readonly flushTimeoutMs: number;
  private readonly maxPendingRows: number;
  private readonly onError: ((error: unknown, what: 'flush' | 'sweep') => void) | undefined;
  private readonly now: () => number;
  /** Sampling threshold on the 32-bit hash. */
  private readonly threshold: number;
  private current: Batch | null = null;
  private flushing: Promise<void> | null = null;
  private scheduled = false;
  private fastTimer: NodeJS.Timeout | null = null;
  private sweepTimer: NodeJS.Timeout | null = null;
  private sweeping: Promise<SweepResult> | null = null;
  private closed = false;
  private readonly sqlBySize = new Map<number, string>();
  /** Batches posted to the SQLite writer thread and not yet committed. */
  private readonly inflight = new Set<Promise<void>>();
  private readonly sqliteWriter: SqliteBatchWriter | null;
  private readonly counters: PredictionLogStats = { written: 0, failed: 0, dropped: 0, sampledOut: 0, batches: 0 };

  /** @throws PlinthError INVALID_ARGUMENT for an out-of-range option. */
  constructor(options: PredictionLogOptions) {
    this.db = options.db;
    this.mode = options.mode ?? 'durable';
    this.sampleRate = options.sampleRate ?? 1;
    if (!(this.sampleRate >= 0 && this.sampleRate <= 1)) throw new PlinthError('INVALID_ARGUMENT', `sample rate must be between 0 and 1, got ${this.sampleRate}`);
    this.threshold = this.sampleRate * 2 ** 32;
    this.retentionDays = options.retentionDays ?? 30;
    this.maxRows = options.maxRows ?? 10_000_000;
    this.sensitive = options.sensitive ?? 'hash';
    if (this.sensitive === 'hash' && !options.hashKey) throw new PlinthError('INVALID_ARGUMENT', 'hashing sensitive features needs a hash key');
    this.masker = new SensitiveMasker(this.sensitive, options.hashKey ?? 'unused');
    this.fastFlushMs = options.fastFlushMs ?? 200;
    this.groupCommitMs = options.groupCommitMs ?? 0;
    this.flushTimeoutMs = options.flushTimeoutMs ?? 10_000;
    this.maxPendingRows = options.maxPendingRows ?? 100_000;
    this.onError = options.onError;
    this.now = options.now ?? Date.now;
    this.sqliteWriter = options.sqliteFile ? new SqliteBatchWriter(options.sqliteFile, COLUMNS, ROWS_PER_STATEMENT) : null;
    const sweepIntervalMs = options.sweepIntervalMs ?? 600_000;
    if (sweepIntervalMs > 0) {
      this.sweepTimer = setInterval(() => {
        this.sweep().catch(() => {});
      }, sweepIntervalMs);
      this.sweepTimer.unref();
    }
  }

  /**
   * Whether a request is logged: a deterministic function of its id (a 32-bit hash compared with the
   * sample rate), so a request's primary and shadow rows are kept or skipped together.
   */
  sampled(requestId: string): boolean {
    if (this.sampleRate >= 1) return true;
    if (this.sampleRate <= 0) return false;
    return hash32(requestId) < this.threshold;
  }

  /**
   * Logs one served request (a no-op resolving at once when the request is not sampled). The inputs
   * and outputs are turned into JSON at once (sensitive features masked), so the caller may reuse
   * its tensors after the call.
   *
   * Durable mode: resolves once the row is committed.
   * @throws PlinthError PREDICTION_LOG_UNAVAILABLE (503) when the write failed or timed out, too many
   *   rows are pending, or the log is closed. Fast mode never rejects.
   */
  append(record: PredictionRecord): Promise<void> {
    if (!this.sampled(record.requestId)) {
      this.counters.sampledOut++;
      return RESOLVED;
    }
    if (this.closed) return this.refuse('the prediction log is closed');
    const pending = this.current?.count ?? 0;
    if (pending >= this.maxPendingRows) return this.refuse(`the prediction log has ${pending} rows waiting to be written; the database is not keeping up`);
    const model = record.model;
    const redaction = redactionOf(model.signature, model.featureSchema);
    const inputs = tensorMapJson(record.inputs, redaction, this.masker);
    const outputs = record.outputs === null ? null : tensorMapJson(record.outputs, null, null);
    const batch = this.current ?? (this.current = this.newBatch());
    batch.params.push(
      record.deployment,
      record.requestId,
      record.role,
      model.name,
      model.version,
      Math.round(finiteOr(record.at, 0)),
      finiteOr(record.latencyMs, 0),
      Math.round(finiteOr(record.status, 0)),
      inputs,
      outputs,
      // PostgreSQL text cannot hold NUL characters.
      record.error ? record.error.replaceAll('\u0000', '\ufffd') : null,
    );
    batch.count++;
    if (this.mode === 'fast') {
      if (!this.fastTimer && !this.flushing) this.scheduleFast();
      return RESOLVED;
    }
    if (!this.scheduled && !this.flushing) {
      this.scheduled = true;
      if (this.groupCommitMs > 0) setTimeout(this.startFlush, this.groupCommitMs);
      else setImmediate(this.startFlush);
    }
    return batch.promise;
  }

  /** Counters since the log was opened (a copy). */
  stats(): PredictionLogStats {
    return { ...this.counters };
  }

  /**
   * Writes everything appended so far, and waits for writes in progress. Resolves when nothing is
   * pending; never rejects (a failed batch rejects its own appends).
   */
  async flush(): Promise<void> {
    for (;;) {
      if (this.flushing) await this.flushing;
      else if (this.current && this.current.count > 0) await this.runFlushes();
      else if (this.inflight.size > 0) await Promise.all(this.inflight);
      else return;
    }
  }

  /**
   * Deletes rows older than the retention and beyond the row limit (the oldest first), with the
   * feedback of requests that have no row left. One sweep at a time; a call while one runs gets its
   * result. @throws the database's error when a delete fails (rows deleted before it stay deleted).
   */
  sweep(): Promise<SweepResult> {
    if (this.sweeping) return this.sweeping;
    const run = sweepPredictionLog(this.db, { retentionDays: this.retentionDays, maxRows: this.maxRows, now: this.now() });
    this.sweeping = run.finally(() => {
      this.sweeping = null;
    });
    run.catch((error: unknown) => this.onError?.(error, 'sweep'));
    return this.sweeping;
  }

  /** Stops the timers, writes what is pending and waits for a running sweep. Appends after it are refused. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = null;
    if (this.fastTimer) clearTimeout(this.fastTimer);
    this.fastTimer = null;
    await this.flush();
    if (this.sweeping) await this.sweeping.catch(() => {});
    await this.sqliteWriter?.close();
  }

  private refuse(message: string): Promise<void> {
    this.counters.dropped++;
    if (this.mode === 'fast') return RESOLVED;
    return Promise.reject(unavailable(message));
  }

  private newBatch(): Batch {
    let resolve!: () => void;
    let reject!: (error: unknown) => void;
    const promise = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const batch: Batch = { params: [], count: 0, promise, resolve, reject, settled: false, timer: null };
    if (this.mode === 'durable') {
      batch.timer = setTimeout(() => this.settle(batch, unavailable(`the prediction log did not commit within ${this.flushTimeoutMs} ms`)), this.flushTimeoutMs);
      batch.timer.unref();
    } else {
      // Nobody awaits a fast-mode batch: its failure goes to onError.
      promise.catch(() => {});
    }
    return batch;
  }

  private settle(batch: Batch, error: unknown | null): void {
    if (batch.settled) return;
    batch.settled = true;
    if (batch.timer) clearTimeout(batch.timer);
    if (error === null) batch.resolve();
    else batch.reject(error);
  }

  private scheduleFast(): void {
    this.fastTimer = setTimeout(() => {
      this.fastTimer = null;
      void this.runFlushes();
    }, this.fastFlushMs);
    this.fastTimer.unref();
  }

  private readonly startFlush = (): void => {
    this.scheduled = false;
    void this.runFlushes();
  };

  /** Flushes batches one after the other until none is pending: the group-commit loop. */
  private runFlushes(): Promise<void> {
    if (this.flushing) return this.flushing;
    const loop = async () => {
      // Runs after `this.flushing` is set below: a loop that finished synchronously would clear it first.
      await undefined;
      try {
        while (this.current && this.current.count > 0) {
          const batch = this.current;
          this.current = null;
          if (this.sqliteWriter && this.mode === 'durable') {
            // The writer thread commits batches in the order they were posted, so a batch need not
            // wait for the one before it: requests wait for one commit, not for a queue of them
            // (which would also keep them out of the model's dynamic batches meanwhile).
            const writing: Promise<void> = this.write(batch).finally(() => this.inflight.delete(writing));
            this.inflight.add(writing);
            if (this.inflight.size >= MAX_WRITES_IN_FLIGHT) await Promise.race(this.inflight);
            continue;
          }
          await this.write(batch);
          // Fast mode writes once per interval unless the log is closing.
          if (this.mode === 'fast' && !this.closed) break;
        }
      } finally {
        this.flushing = null;
        if (this.mode === 'fast' && this.current && this.current.count > 0 && !this.closed && !this.fastTimer) this.scheduleFast();
      }
    };
    this.flushing = loop();
    return this.flushing;
  }

  private insertSql(rows: number): string {
    let text = this.sqlBySize.get(rows);
    if (text === undefined) {
      // Compiled once per row count by the query layer, so each dialect gets its own placeholders.
      const row = Object.fromEntries(COLUMNS.map((c) => [c, null])) as never;
      text = this.db.insertInto('prediction_log').values(Array.from({ length: rows }, () => row)).compile().sql;
      this.sqlBySize.set(rows, text);
    }
    return text;
  }

  private async write(batch: Batch): Promise<void> {
    const { count, params } = batch;
    try {
      if (this.sqliteWriter) await this.sqliteWriter.write(params, count);
      else await this.writeThroughDb(params, count);
      this.counters.written += count;
      this.counters.batches++;
      this.settle(batch, null);
    } catch (error) {
      this.counters.failed += count;
      this.onError?.(error, 'flush');
      this.settle(batch, unavailable(`the prediction log could not be written: ${error instanceof Error ? error.message : String(error)}`, error));
    }
  }

  /** One batch in one transaction through the query layer: multi-row INSERTs of ≤256 rows. */
  private async writeThroughDb(params: unknown[], count: number): Promise<void> {
    const statements: CompiledQuery[] = [];
    for (let first = 0; first < count; first += ROWS_PER_STATEMENT) {
      const rows = Math.min(ROWS_PER_STATEMENT, count - first);
      statements.push(CompiledQuery.raw(this.insertSql(rows), params.slice(first * WIDTH, (first + rows) * WIDTH)));
    }
    if (statements.length === 1) await this.db.executeQuery(statements[0]!);
    else {
      await this.db.transaction().execute(async (trx) => {
        for (const statement of statements) await trx.executeQuery(statement);
      });
    }
  }
}
