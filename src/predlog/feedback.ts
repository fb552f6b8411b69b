// Ground-truth feedback: labels that arrive after the prediction, by request id, joined to the
// prediction log. A label is kept only for a request whose answer (its `primary` row) was logged;
// other ids are reported back as unknown (never logged, not sampled, swept by retention, or from
// another deployment). Sending a label again is idempotent: the same label changes nothing, a
// different one replaces the old one (the latest label wins, with its time and sender).
import { appendAudit, type Actor } from '../auth/index.js';
import { PlinthError } from '../core/index.js';
import type { Db, Queryable } from '../store/index.js';

/** Labels per call at most. */
export const MAX_FEEDBACK_ITEMS = 10_000;
/** Longest request id accepted, characters (the server's x-request-id limit). */
export const MAX_REQUEST_ID_LENGTH = 128;

export interface FeedbackItem {
  request_id: string;
  /** Any JSON value (null included). */
  label: unknown;
}

export interface FeedbackResult {
  /** Labels stored: new ones and replacements. */
  accepted: number;
  /** Labels identical to the one already stored. */
  unchanged: number;
  /** Request ids with no logged prediction in this deployment, in the order given, each once. */
  unknown: string[];
}

/** Ids per IN (...) list: far below both databases' parameter limits. */
const IDS_PER_QUERY = 1000;
/** Rows per multi-row insert (5 parameters each). */
const ROWS_PER_INSERT = 500;

/** JSON text with object keys sorted, so equal labels compare equal whatever their key order. */
function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record).filter((k) => record[k] !== undefined).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(record[k])}`).join(',')}}`;
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/**
 * Checks a feedback batch before anything is stored.
 * @throws PlinthError INVALID_ARGUMENT for no items, too many, an empty or overlong request id, a
 *   label that is undefined or not JSON (a non-finite number, a function)
 */
export function checkFeedbackItems(items: readonly FeedbackItem[]): void {
  if (items.length === 0 || items.length > MAX_FEEDBACK_ITEMS) throw new PlinthError('INVALID_ARGUMENT', `feedback takes 1 to ${MAX_FEEDBACK_ITEMS} items, got ${items.length}`);
  items.forEach((item, i) => {
    if (typeof item.request_id !== 'string' || item.request_id.length === 0 || item.request_id.length > MAX_REQUEST_ID_LENGTH) {
      throw new PlinthError('INVALID_ARGUMENT', `items[${i}].request_id must be a string of 1 to ${MAX_REQUEST_ID_LENGTH} characters`);
    }
    if (item.label === undefined) throw new PlinthError('INVALID_ARGUMENT', `items[${i}].label is missing`);
    if (typeof item.label === 'number' && !Number.isFinite(item.label)) throw new PlinthError('INVALID_ARGUMENT', `items[${i}].label must be a finite number`);
    if (typeof item.label === 'function' || typeof item.label === 'symbol' || typeof item.label === 'bigint') throw new PlinthError('INVALID_ARGUMENT', `items[${i}].label must be a JSON value`);
  });
}

/**
 * Stores labels for a deployment's logged requests, in one transaction with one audit entry
 * (`deployment.feedback`). Within one call a request id given twice keeps its last label.
 * Does not check that the deployment exists (the route does).
 * @throws PlinthError INVALID_ARGUMENT (see {@link checkFeedbackItems}); nothing is stored then.
 */
export async function recordFeedback(db: Db, deployment: string, items: readonly FeedbackItem[], actor: Actor): Promise<FeedbackResult> {
  checkFeedbackItems(items);
  // The last label of each id, in first-seen order.
  const labels = new Map<string, string>();
  for (const item of items) labels.set(item.request_id, canonicalJson(item.label));
  const ids = [...labels.keys()];
  return db.transaction().execute(async (trx) => {
    const known = new Set<string>();
    const stored = new Map<string, string>();
    for (const part of chunks(ids, IDS_PER_QUERY)) {
      const logged = await trx.selectFrom('prediction_log').select('request_id').distinct().where('deployment', '=', deployment).where('role', '=', 'primary').where('request_id', 'in', part).execute();
      for (const row of logged) known.add(row.request_id);
      const existing = await trx.selectFrom('prediction_feedback').select(['request_id', 'label']).where('deployment', '=', deployment).where('request_id', 'in', part).execute();
      for (const row of existing) stored.set(row.request_id, row.label);
    }
    const now = Date.now();
    const unknown: string[] = [];
    const writes: Array<{ deployment: string; request_id: string; label: string; received_at: number; actor: string }> = [];
    let unchanged = 0;
    for (const [requestId, label] of labels) {
      if (!known.has(requestId)) unknown.push(requestId);
      else if (stored.get(requestId) === label) unchanged++;
      else writes.push({ deployment, request_id: requestId, label, received_at: now, actor: actor.name });
    }
    for (const part of chunks(writes, ROWS_PER_INSERT)) {
      await trx
        .insertInto('prediction_feedback')
        .values(part)
        .onConflict((oc) =>
          oc.columns(['deployment', 'request_id']).doUpdateSet((eb) => ({
            label: eb.ref('excluded.label'),
            received_at: eb.ref('excluded.received_at'),
            actor: eb.ref('excluded.actor'),
          })),
        )
        .execute();
    }
    const result: FeedbackResult = { accepted: writes.length, unchanged, unknown };
    await appendAudit(trx, actor, {
      action: 'deployment.feedback',
      resourceType: 'deployment',
      resourceId: deployment,
      details: { items: items.length, accepted: result.accepted, unchanged, unknown: unknown.length },
    });
    return result;
  });
}

/**
 * The labels of some of a deployment's requests (for analysis): request id → label as sent; ids
 * without a label are absent.
 */
export async function labelsFor(q: Queryable, deployment: string, requestIds: readonly string[]): Promise<Map<string, unknown>> {
  const labels = new Map<string, unknown>();
  const unique = [...new Set(requestIds)];
  for (const part of chunks(unique, IDS_PER_QUERY)) {
    const rows = await q.selectFrom('prediction_feedback').select(['request_id', 'label']).where('deployment', '=', deployment).where('request_id', 'in', part).execute();
    for (const row of rows) labels.set(row.request_id, JSON.parse(row.label));
  }
  return labels;
}
