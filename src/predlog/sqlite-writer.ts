// An SQLite writer of prediction-log batches on a worker thread. better-sqlite3 is synchronous: through
// the query layer every INSERT and COMMIT of the log would run on the event loop that serves requests
// (≈10–15 µs per row on a small machine, most of the log's cost). With this writer the serving thread
// only turns tensors into JSON and posts each batch; a second connection on its own thread inserts
// and commits it, and the batch's appends resolve when the commit is done, so the durability contract
// is unchanged. SQLite in WAL mode lets the server's connection read meanwhile; both connections wait
// for each other's short write locks through busy_timeout.
//
// The worker's code is plain JavaScript given to the Worker as source (no separate file to bundle);
// it loads better-sqlite3 from where this module resolves it. PostgreSQL stores use the query layer.
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { PlinthError } from '../core/index.js';

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.module);
const db = new Database(workerData.file);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.pragma('busy_timeout = 5000');
const columns = workerData.columns;
const width = columns.length;
const perStatement = workerData.rowsPerStatement;
const statements = new Map();
const rowText = '(' + columns.map(() => '?').join(', ') + ')';
function statement(rows) {
  let s = statements.get(rows);
  if (!s) {
    s = db.prepare('insert into "prediction_log" (' + columns.map((c) => '"' + c + '"').join(', ') + ') values ' + new Array(rows).fill(rowText).join(', '));
    statements.set(rows, s);
  }
  return s;
}
const writeBatch = db.transaction((params, count) => {
  for (let first = 0; first < count; first += perStatement) {
    const rows = Math.min(perStatement, count - first);
    statement(rows).run(rows === count ? params : params.slice(first * width, (first + rows) * width));
  }
});
parentPort.on('message', (message) => {
  if (message.type === 'close') {
    db.close();
    parentPort.postMessage({ type: 'closed' });
    return;
  }
  try {
    writeBatch(message.params, message.count);
    parentPort.postMessage({ id: message.id, ok: true });
  } catch (error) {
    parentPort.postMessage({ id: message.id, ok: false, message: String((error && error.message) || error) });
  }
});
`;

interface Pending {
  resolve: () => void;
  reject: (error: unknown) => void;
}

/** Writes batches of prediction_log rows (row-major parameters) on a worker thread's own connection. */
export class SqliteBatchWriter {
  private worker: Worker | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private readonly moduleId: string;

  /**
   * @param file the SQLite database file (`plinth.db` in the data folder), already migrated
   * @param columns prediction_log's columns in parameter order
   * @param rowsPerStatement rows per INSERT statement
   */
  constructor(
    private readonly file: string,
    private readonly columns: readonly string[],
    private readonly rowsPerStatement: number,
  ) {
    this.moduleId = createRequire(import.meta.url).resolve('better-sqlite3');
    // Started now, so the first request does not wait for the thread and its connection.
    this.start();
  }

  /**
   * Inserts `count` rows in one transaction; resolves after the commit.
   * @throws PlinthError PREDICTION_LOG_UNAVAILABLE when the insert fails or the worker dies.
   */
  write(params: unknown[], count: number): Promise<void> {
    const worker = this.worker ?? this.start();
    const id = this.nextId++;
    return new Promise<void>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      // While a write is pending the worker keeps the process alive; idle, it does not.
      if (this.pending.size === 1) worker.ref();
      worker.postMessage({ id, params, count });
    });
  }

  /** Stops the worker after the writes already posted. */
  async close(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    await new Promise<void>((resolve) => {
      const done = () => resolve();
      worker.once('exit', done);
      worker.on('message', (message: { type?: string }) => {
        if (message.type === 'closed') void worker.terminate();
      });
      // Closing is work the process must wait for.
      worker.ref();
      worker.postMessage({ type: 'close' });
    });
    this.worker = null;
  }

  private start(): Worker {
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { module: this.moduleId, file: this.file, columns: this.columns, rowsPerStatement: this.rowsPerStatement },
    });
    worker.unref();
    worker.on('message', (message: { id?: number; ok?: boolean; message?: string }) => {
      if (message.id === undefined) return;
      const waiter = this.pending.get(message.id);
      if (!waiter) return;
      this.pending.delete(message.id);
      if (this.pending.size === 0) worker.unref();
      if (message.ok) waiter.resolve();
      else waiter.reject(new Error(message.message ?? 'the prediction log writer failed'));
    });
    const fail = (error: unknown) => {
      if (this.worker === worker) this.worker = null;
      const waiters = [...this.pending.values()];
      this.pending.clear();
      for (const waiter of waiters) waiter.reject(new PlinthError('PREDICTION_LOG_UNAVAILABLE', `the prediction log writer stopped: ${error instanceof Error ? error.message : String(error)}`, { cause: error }));
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`exited with code ${code}`)));
    this.worker = worker;
    return worker;
  }
}
