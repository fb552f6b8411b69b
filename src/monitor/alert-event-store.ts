// How alert state is stored: every transition of a (rule, deployment) pair is an alert_events row
// (pending, firing, resolved, or inactive when a pending condition cleared before firing), the
// pair's state is its newest row, and alert_rules.state/pending_since summarise the rule over its
// deployments. Evaluation (alert-evaluator.ts) and rule changes (alert-rules.ts) both write through
// here, one at a time per database.
import type { AlertRulesTable, Db, Tx } from '../store/index.js';

/** The states an alert event records. */
export const ALERT_EVENT_STATES = Object.freeze(['pending', 'firing', 'resolved', 'inactive'] as const);
export type AlertEventState = (typeof ALERT_EVENT_STATES)[number];

/** The JSON body a webhook receives (and the event's stored `payload`). */
export interface AlertPayload {
  /** The alert event's id: receivers deduplicate retries by it. */
  event_id: number;
  state: AlertEventState;
  rule: { id: string; name: string; metric: string; comparison: string; threshold: number; for_seconds: number; severity: string };
  deployment: string;
  /** The metric's value that caused the transition; null when the rule itself changed (disabled, retargeted). */
  value: number | null;
  /** When the transition happened (the result's computed_at), ms since epoch. */
  at: number;
  /** firing: when the condition began to hold; resolved: when the alert fired; otherwise null. */
  since: number | null;
  source: { kind: string; monitor_id: string | null; monitor: string | null };
  episode: string | null;
  details: Record<string, unknown> | null;
  /** One line for people, e.g. `drift.share = 0.62 > 0.5 on fraud: firing`. */
  summary: string;
}

/** An event as evaluation (or a rule change) created it. */
export interface CreatedAlertEvent {
  id: number;
  rule_id: string;
  rule: string;
  deployment: string;
  state: AlertEventState;
  value: number | null;
  at: number;
  /** True when a webhook delivery was queued for it. */
  queued_delivery: boolean;
}

/** A pair's state, read from its newest event. */
export interface PairState {
  state: 'inactive' | 'pending' | 'firing';
  /** pending: when it began; firing: when it fired. */
  since: number | null;
  /** Time of the newest event, ms; null when there is none. */
  at: number | null;
  episode: string | null;
}

// One writer at a time per database: two evaluations of the same deployment at once would both
// read "inactive" and both fire.
const chains = new WeakMap<Db, Promise<unknown>>();

/** Runs `work` after every earlier alert write on `db` has finished (in this process). */
export function withAlertLock<T>(db: Db, work: () => Promise<T>): Promise<T> {
  const previous = chains.get(db) ?? Promise.resolve();
  const next = previous.then(work, work);
  chains.set(db, next.catch(() => undefined));
  return next;
}

/** The (rule, deployment) pair's state: its newest event. */
export async function pairState(trx: Tx, ruleId: string, deployment: string): Promise<PairState> {
  const last = await trx
    .selectFrom('alert_events')
    .select(['state', 'at', 'payload'])
    .where('rule_id', '=', ruleId)
    .where('deployment', '=', deployment)
    .orderBy('at', 'desc')
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  if (!last) return { state: 'inactive', since: null, at: null, episode: null };
  const episode = (JSON.parse(last.payload) as Partial<AlertPayload>).episode ?? null;
  if (last.state === 'pending') return { state: 'pending', since: last.at, at: last.at, episode };
  if (last.state === 'firing') return { state: 'firing', since: last.at, at: last.at, episode };
  return { state: 'inactive', since: null, at: last.at, episode };
}

/**
 * Inserts one event with its payload (which carries the event's own id); firing and resolved
 * events of a rule with a webhook get a pending delivery, attempt 1, due at `dueAt`.
 */
export async function recordAlertEvent(trx: Tx, rule: AlertRulesTable, event: Omit<AlertPayload, 'event_id' | 'rule'>, dueAt: number): Promise<CreatedAlertEvent> {
  const inserted = await trx
    .insertInto('alert_events')
    .values({ rule_id: rule.id, deployment: event.deployment, state: event.state, value: event.value, at: event.at, payload: '{}' })
    .returning('id')
    .executeTakeFirstOrThrow();
  const id = Number(inserted.id);
  const payload: AlertPayload = {
    event_id: id,
    state: event.state,
    rule: { id: rule.id, name: rule.name, metric: rule.metric, comparison: rule.comparison, threshold: rule.threshold, for_seconds: rule.for_seconds, severity: rule.severity },
    deployment: event.deployment,
    value: event.value,
    at: event.at,
    since: event.since,
    source: event.source,
    episode: event.episode,
    details: event.details,
    summary: event.summary,
  };
  await trx.updateTable('alert_events').set({ payload: JSON.stringify(payload) }).where('id', '=', id).execute();
  const notify = rule.webhook_url !== null && (event.state === 'firing' || event.state === 'resolved');
  if (notify) {
    await trx.insertInto('alert_deliveries').values({ event_id: id, attempt: 1, status: 'pending', response_status: null, error: null, at: dueAt, next_attempt_at: dueAt }).execute();
  }
  return { id, rule_id: rule.id, rule: rule.name, deployment: event.deployment, state: event.state, value: event.value, at: event.at, queued_delivery: notify };
}

/** Sets alert_rules.state/pending_since from the newest event of each of the rule's deployments. */
export async function updateRuleSummary(trx: Tx, ruleId: string): Promise<void> {
  const newest = trx.selectFrom('alert_events').select((eb) => eb.fn.max('id').as('id')).where('rule_id', '=', ruleId).groupBy('deployment');
  const rows = await trx.selectFrom('alert_events').select(['state', 'at']).where('id', 'in', newest).execute();
  let state: 'inactive' | 'pending' | 'firing' = 'inactive';
  let pendingSince: number | null = null;
  for (const row of rows) {
    if (row.state === 'firing') state = 'firing';
    else if (row.state === 'pending') {
      if (state === 'inactive') state = 'pending';
      pendingSince = pendingSince === null ? row.at : Math.min(pendingSince, row.at);
    }
  }
  await trx.updateTable('alert_rules').set({ state, pending_since: state === 'pending' ? pendingSince : null }).where('id', '=', ruleId).execute();
}

/**
 * Ends the rule's open episodes because the rule itself changed (disabled, another metric or
 * deployment): each firing pair gets a `resolved` event (notified like any other) and each pending
 * pair an `inactive` one, at `at`, with `value` null and `details.reason`. Pass the rule as it is
 * after the change (the payload describes it). Returns the events created.
 */
export async function closeOpenEpisodes(trx: Tx, rule: AlertRulesTable, reason: string, at: number): Promise<CreatedAlertEvent[]> {
  const newest = trx.selectFrom('alert_events').select((eb) => eb.fn.max('id').as('id')).where('rule_id', '=', rule.id).groupBy('deployment');
  const open = await trx
    .selectFrom('alert_events')
    .select(['deployment', 'state', 'at', 'payload'])
    .where('id', 'in', newest)
    .where('state', 'in', ['pending', 'firing'])
    .orderBy('id', 'asc')
    .execute();
  const created: CreatedAlertEvent[] = [];
  for (const pair of open) {
    const firing = pair.state === 'firing';
    const state: AlertEventState = firing ? 'resolved' : 'inactive';
    const previous = JSON.parse(pair.payload) as Partial<AlertPayload>;
    created.push(await recordAlertEvent(trx, rule, {
      state,
      deployment: pair.deployment!,
      value: null,
      at: Math.max(at, pair.at),
      since: firing ? pair.at : null,
      source: previous.source ?? { kind: 'rule', monitor_id: null, monitor: null },
      episode: previous.episode ?? null,
      details: { reason },
      summary: `${rule.name} on ${pair.deployment}: ${state} (${reason})`,
    }, at));
  }
  if (open.length > 0) await updateRuleSummary(trx, rule.id);
  return created;
}
