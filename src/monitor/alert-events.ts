// The alert history: events (pending, firing, resolved, inactive) newest first, filtered by rule,
// deployment and state, each with the state of its webhook delivery; one event with every attempt.
import { PlinthError } from '../core/index.js';
import type { Queryable } from '../store/index.js';
import { ALERT_EVENT_STATES, type AlertEventState, type AlertPayload } from './alert-evaluator.js';

/** Default and largest page of events. */
export const DEFAULT_EVENTS_LIMIT = 100;
export const MAX_EVENTS_LIMIT = 1000;

/** One delivery attempt of an event's webhook. */
export interface AlertDeliveryInfo {
  id: number;
  attempt: number;
  /** pending | delivered | failed | gave_up */
  status: string;
  response_status: number | null;
  error: string | null;
  /** When the attempt was made (or, while pending, when it was queued), ms since epoch. */
  at: number;
  /** When a pending attempt is due, ms since epoch; null once made. */
  next_attempt_at: number | null;
}

export interface AlertEventInfo {
  id: number;
  rule_id: string;
  /** The rule's name. */
  rule: string;
  deployment: string | null;
  state: AlertEventState;
  value: number | null;
  at: number;
  severity: string | null;
  payload: AlertPayload;
  /** The webhook's newest attempt and the number made; null when the event notifies nobody. */
  delivery: { status: string; attempts: number; response_status: number | null; error: string | null } | null;
}

export interface AlertEventQuery {
  /** A rule's name. */
  rule?: string | undefined;
  deployment?: string | undefined;
  state?: string | undefined;
  /** Only events at or after this time, ms. */
  since?: number | undefined;
  /** Only events with an id below this (the previous page's `next_before_id`). */
  beforeId?: number | undefined;
  /** @default 100, at most 1000 */
  limit?: number | undefined;
}

/**
 * Lists alert events, newest first.
 * @throws PlinthError INVALID_ARGUMENT for an unknown state or a limit out of range;
 *   ALERT_RULE_NOT_FOUND for an unknown rule name
 */
export async function listAlertEvents(q: Queryable, query: AlertEventQuery = {}): Promise<AlertEventInfo[]> {
  if (query.state !== undefined && !(ALERT_EVENT_STATES as readonly string[]).includes(query.state)) {
    throw new PlinthError('INVALID_ARGUMENT', `state: use one of ${ALERT_EVENT_STATES.join(', ')}`);
  }
  const limit = query.limit ?? DEFAULT_EVENTS_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_EVENTS_LIMIT) throw new PlinthError('INVALID_ARGUMENT', `limit: give 1-${MAX_EVENTS_LIMIT}`);
  let ruleId: string | undefined;
  if (query.rule !== undefined) {
    const rule = await q.selectFrom('alert_rules').select('id').where('name', '=', query.rule).executeTakeFirst();
    if (!rule) throw new PlinthError('ALERT_RULE_NOT_FOUND', `no alert rule named ${JSON.stringify(query.rule.slice(0, 200))}`);
    ruleId = rule.id;
  }
  let select = q
    .selectFrom('alert_events as e')
    .leftJoin('alert_rules as r', 'r.id', 'e.rule_id')
    .select(['e.id', 'e.rule_id', 'e.deployment', 'e.state', 'e.value', 'e.at', 'e.payload', 'r.name', 'r.severity'])
    .orderBy('e.id', 'desc')
    .limit(limit);
  if (ruleId !== undefined) select = select.where('e.rule_id', '=', ruleId);
  if (query.deployment !== undefined) select = select.where('e.deployment', '=', query.deployment);
  if (query.state !== undefined) select = select.where('e.state', '=', query.state);
  if (query.since !== undefined) select = select.where('e.at', '>=', query.since);
  if (query.beforeId !== undefined) select = select.where('e.id', '<', query.beforeId);
  const rows = await select.execute();
  const ids = rows.map((r) => Number(r.id));
  const deliveries = ids.length === 0 ? [] : await q.selectFrom('alert_deliveries').selectAll().where('event_id', 'in', ids).orderBy('attempt', 'asc').execute();
  const byEvent = new Map<number, typeof deliveries>();
  for (const d of deliveries) {
    const list = byEvent.get(Number(d.event_id)) ?? [];
    list.push(d);
    byEvent.set(Number(d.event_id), list);
  }
  return rows.map((row) => {
    const payload = JSON.parse(row.payload) as AlertPayload;
    const attempts = byEvent.get(Number(row.id)) ?? [];
    const newest = attempts[attempts.length - 1];
    return {
      id: Number(row.id),
      rule_id: row.rule_id,
      rule: row.name ?? payload.rule?.name ?? row.rule_id,
      deployment: row.deployment,
      state: row.state as AlertEventState,
      value: row.value,
      at: row.at,
      severity: payload.rule?.severity ?? row.severity ?? null,
      payload,
      delivery: newest ? { status: newest.status, attempts: attempts.filter((a) => a.status !== 'pending').length, response_status: newest.response_status, error: newest.error } : null,
    };
  });
}

/**
 * One event with every delivery attempt, oldest first.
 * @throws PlinthError ALERT_EVENT_NOT_FOUND
 */
export async function getAlertEvent(q: Queryable, id: number): Promise<AlertEventInfo & { deliveries: AlertDeliveryInfo[] }> {
  const row = await q.selectFrom('alert_events').select('rule_id').where('id', '=', id).executeTakeFirst();
  if (!row) throw new PlinthError('ALERT_EVENT_NOT_FOUND', `no alert event ${id}`);
  const [event] = await listAlertEvents(q, { beforeId: id + 1, limit: 1 });
  const deliveries = await q.selectFrom('alert_deliveries').selectAll().where('event_id', '=', id).orderBy('attempt', 'asc').orderBy('id', 'asc').execute();
  return {
    ...event!,
    deliveries: deliveries.map((d) => ({ id: Number(d.id), attempt: d.attempt, status: d.status, response_status: d.response_status, error: d.error, at: d.at, next_attempt_at: d.next_attempt_at })),
  };
}
