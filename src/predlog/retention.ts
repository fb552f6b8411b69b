// Retention of the prediction log: rows older than the retention and rows beyond the row limit are
// deleted, oldest first, in chunks of a few thousand rows (each its own short transaction, with a turn
// of the event loop between chunks, so an embedded SQLite store keeps serving while a large backlog is
// swept). Labels (prediction_feedback) of requests that have no logged row left go with them.
//
// "Oldest" is insertion order (the row id), which follows request time up to request latency. The age
// sweep looks at the oldest rows first and stops at the first chunk that holds a row still young, so
// its cost follows what it deletes, never the table's size. The row limit keeps the `maxRows` newest
// ids: rows with an id at or below max(id) − maxRows are deleted (ids are dense, so that is maxRows
// rows; ids lost to failed writes only make it keep a few less).
import { appendAudit, SYSTEM_ACTOR } from '../auth/index.js';
import type { Db } from '../store/index.js';

export interface SweepOptions {
  /** Days; 0 keeps rows of any age. */
  retentionDays: number;
  /** Rows; 0 means no limit. */
  maxRows: number;
  /** The current time, ms since the epoch. */
  now: number;
  /** Rows per delete transaction. @default 2000 */
  chunkRows?: number;
}

export interface SweepResult {
  /** Rows deleted for their age. */
  expired: number;
  /** Rows deleted beyond the row limit. */
  overLimit: number;
  /** Labels deleted with their requests. */
  feedback: number;
}

const DAY_MS = 86_400_000;

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

interface DoomedRow {
  id: number;
  deployment: string;
  request_id: string;
}

/** Deletes rows and the labels of requests left without a row; returns the labels deleted. */
async function deleteRows(db: Db, rows: readonly DoomedRow[]): Promise<number> {
  if (rows.length === 0) return 0;
  const byDeployment = new Map<string, Set<string>>();
  for (const row of rows) {
    let ids = byDeployment.get(row.deployment);
    if (!ids) byDeployment.set(row.deployment, (ids = new Set()));
    ids.add(row.request_id);
  }
  return db.transaction().execute(async (trx) => {
    await trx.deleteFrom('prediction_log').where('id', 'in', rows.map((r) => r.id)).execute();
    let feedback = 0;
    for (const [deployment, requestIds] of byDeployment) {
      const result = await trx
        .deleteFrom('prediction_feedback')
        .where('deployment', '=', deployment)
        .where('request_id', 'in', [...requestIds])
        .where(({ not, exists, selectFrom }) =>
          not(exists(selectFrom('prediction_log as l').select('l.id').whereRef('l.deployment', '=', 'prediction_feedback.deployment').whereRef('l.request_id', '=', 'prediction_feedback.request_id'))),
        )
        .executeTakeFirst();
      feedback += Number(result.numDeletedRows);
    }
    return feedback;
  });
}

/**
 * One retention sweep over every deployment's rows. An audit entry (`prediction_log.sweep`, by
 * `system`) records what was deleted when anything was.
 * @throws the database's error when a delete fails (chunks deleted before it stay deleted).
 */
export async function sweepPredictionLog(db: Db, options: SweepOptions): Promise<SweepResult> {
  const chunk = options.chunkRows ?? 2000;
  const result: SweepResult = { expired: 0, overLimit: 0, feedback: 0 };
  if (options.retentionDays > 0) {
    const cutoff = options.now - options.retentionDays * DAY_MS;
    for (;;) {
      const oldest = await db.selectFrom('prediction_log').select(['id', 'deployment', 'request_id', 'at']).orderBy('id', 'asc').limit(chunk).execute();
      const doomed = oldest.filter((r) => r.at < cutoff);
      if (doomed.length === 0) break;
      result.feedback += await deleteRows(db, doomed);
      result.expired += doomed.length;
      if (doomed.length < oldest.length || oldest.length < chunk) break;
      await nextTurn();
    }
  }
  if (options.maxRows > 0) {
    const newest = await db.selectFrom('prediction_log').select((eb) => eb.fn.max('id').as('max_id')).executeTakeFirst();
    const maxId = newest?.max_id === null || newest?.max_id === undefined ? null : Number(newest.max_id);
    if (maxId !== null) {
      const lastDoomed = maxId - options.maxRows;
      for (;;) {
        const doomed = await db.selectFrom('prediction_log').select(['id', 'deployment', 'request_id']).where('id', '<=', lastDoomed).orderBy('id', 'asc').limit(chunk).execute();
        if (doomed.length === 0) break;
        result.feedback += await deleteRows(db, doomed);
        result.overLimit += doomed.length;
        if (doomed.length < chunk) break;
        await nextTurn();
      }
    }
  }
  if (result.expired + result.overLimit > 0) {
    await appendAudit(db, SYSTEM_ACTOR, {
      action: 'prediction_log.sweep',
      resourceType: 'prediction_log',
      resourceId: '*',
      details: { expired: result.expired, over_limit: result.overLimit, feedback: result.feedback, retention_days: options.retentionDays, max_rows: options.maxRows },
    });
  }
  return result;
}
