// Alert evaluation: each stored monitor result (or rollout decision) is checked against the enabled
// rules that watch one of its metrics, and each (rule, deployment) pair moves through
//   inactive → pending (condition holds, for_seconds not yet elapsed) → firing → resolved (condition cleared)
// with exactly one `firing` event per episode. The state of every pair lives in the alert_events
// history (its newest event: pending, firing, resolved, or inactive when a pending condition
// cleared before firing), so a rule for all deployments keeps one state per deployment and the
// state survives restarts; alert_rules.state/pending_since hold the rule's summary (the most severe
// state over its deployments). The clock is the result's `computed_at`, never the wall clock, so
// evaluation is deterministic and testable; only webhook scheduling reads `now`.
import { nowMs } from '../core/index.js';
import type { AlertRulesTable, Db, Tx } from '../store/index.js';
import { conditionHolds, COMPARISON_SYMBOLS, ROLLOUT_ROLLED_BACK_METRIC, type AlertComparison } from './alert-rules.js';

/** One set of metrics to evaluate: a stored monitor result, or a built-in source (rollouts). */
export interface AlertInput {
  deployment: string;
  /** The monitor that produced the metrics; null for built-in sources. */
  monitor_id: string | null;
  monitor_name: string | null;
  /** The monitor kind (drift, quality, performance, concept) or `rollout`. */
  kind: string;
  /** Flat metric name → number; non-finite values are ignored. */
  metrics: Record<string, number>;
  /** When the metrics were computed, ms since epoch: the evaluation clock. */
  computed_at: number;
  /**
   * Names the episode the metrics belong to, when the source has distinct ones (a rollback's
   * revision): a firing pair whose episode differs resolves and fires again, so each one notifies.
   */
  episode?: string | undefined;
  /** Extra context copied into the events' payload (e.g. the rollout's model and reason). */
  details?: Record<string, unknown> | undefined;
}

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
  /** The metric's value that caused the transition. */
  value: number;
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

/** An event as evaluation created it. */
export interface CreatedAlertEvent {
  id: number;
  rule_id: string;
  rule: string;
  deployment: string;
  state: AlertEventState;
  value: number;
  at: number;
  /** True when a webhook delivery was queued for it. */
  queued_delivery: boolean;
}

export interface EvaluateOptions {
  /** Wall clock for delivery scheduling, ms. @default Date.now */
  now?: () => number;
  /** Called once after deliveries were queued (the webhook sender's wake-up). */
  onQueued?: () => void;
}

interface PairState {
  state: 'inactive' | 'pending' | 'firing';
  /** pending: when it began; firing: when it fired. */
  since: number | null;
  /** Time of the newest event, ms. */
  at: number | null;
  episode: string | null;
}

// One evaluation at a time per database: two results of the same deployment evaluated at once
// would both read "inactive" and both fire.
const chains = new WeakMap<Db, Promise<unknown>>();

function serialised<T>(db: Db, work: () => Promise<T>): Promise<T> {
  const previous = chains.get(db) ?? Promise.resolve();
  const next = previous.then(work, work);
  chains.set(db, next.catch(() => undefined));
  return next;
}

/**
 * Evaluates the enabled rules watching `input`'s metrics for `input.deployment` (rules for that
 * deployment and rules for all deployments) and records their transitions as alert events; firing
 * and resolved events of rules with a webhook get a pending delivery (attempt 1, due now).
 * A metric the input lacks leaves its rules' state unchanged; an input older than a pair's newest
 * event is ignored for that pair. Calls for the same database run one at a time.
 * @returns the events created, in order
 */
export function evaluateAlerts(db: Db, input: AlertInput, options: EvaluateOptions = {}): Promise<CreatedAlertEvent[]> {
  return serialised(db, async () => {
    const rules = await db
      .selectFrom('alert_rules')
      .selectAll()
      .where('enabled', '=', 1)
      .where((eb) => eb.or([eb('deployment', 'is', null), eb('deployment', '=', input.deployment)]))
      .orderBy('name', 'asc')
      .execute();
    const created: CreatedAlertEvent[] = [];
    for (const rule of rules) {
      const value = Object.hasOwn(input.metrics, rule.metric) ? input.metrics[rule.metric] : undefined;
      if (typeof value !== 'number' || !Number.isFinite(value)) continue;
      const events = await db.transaction().execute((trx) => evaluateRule(trx, rule, input, value, options.now ?? nowMs));
      created.push(...events);
    }
    if (created.some((e) => e.queued_delivery)) options.onQueued?.();
    return created;
  });
}

/** The (rule, deployment) pair's state: its newest event. */
async function pairState(trx: Tx, ruleId: string, deployment: string): Promise<PairState> {
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
  const payload = JSON.parse(last.payload) as Partial<AlertPayload>;
  const episode = payload.episode ?? null;
  if (last.state === 'pending') return { state: 'pending', since: last.at, at: last.at, episode };
  if (last.state === 'firing') return { state: 'firing', since: last.at, at: last.at, episode };
  return { state: 'inactive', since: null, at: last.at, episode };
}

async function evaluateRule(trx: Tx, rule: AlertRulesTable, input: AlertInput, value: number, now: () => number): Promise<CreatedAlertEvent[]> {
  const current = await pairState(trx, rule.id, input.deployment);
  const t = input.computed_at;
  if (current.at !== null && t < current.at) return [];
  const holds = conditionHolds(rule.comparison as AlertComparison, value, rule.threshold);
  const episode = input.episode ?? null;
  const transitions: Array<{ state: AlertEventState; since: number | null }> = [];
  if (holds) {
    if (current.state === 'firing') {
      // A new episode of the source (another rollback) while still firing: close the old one, open the new.
      if (episode !== null && episode !== current.episode) transitions.push({ state: 'resolved', since: current.since }, { state: 'firing', since: t });
    } else if (current.state === 'pending') {
      if (t - current.since! >= rule.for_seconds * 1000) transitions.push({ state: 'firing', since: current.since });
    } else if (rule.for_seconds === 0) {
      transitions.push({ state: 'firing', since: t });
    } else {
      transitions.push({ state: 'pending', since: null });
    }
  } else if (current.state === 'firing') {
    transitions.push({ state: 'resolved', since: current.since });
  } else if (current.state === 'pending') {
    transitions.push({ state: 'inactive', since: null });
  }
  if (transitions.length === 0) return [];
  const created: CreatedAlertEvent[] = [];
  for (const transition of transitions) {
    const payloadWithoutId: Omit<AlertPayload, 'event_id'> = {
      state: transition.state,
      rule: { id: rule.id, name: rule.name, metric: rule.metric, comparison: rule.comparison, threshold: rule.threshold, for_seconds: rule.for_seconds, severity: rule.severity },
      deployment: input.deployment,
      value,
      at: t,
      since: transition.since,
      source: { kind: input.kind, monitor_id: input.monitor_id, monitor: input.monitor_name },
      episode: transition.state === 'resolved' ? current.episode : episode,
      details: input.details ?? null,
      summary: `${rule.metric} = ${value} ${holds ? '' : 'not '}${COMPARISON_SYMBOLS[rule.comparison as AlertComparison]} ${rule.threshold} on ${input.deployment}: ${transition.state}${holds && transition.state === 'resolved' ? ' (superseded by a new episode)' : ''}`,
    };
    const inserted = await trx
      .insertInto('alert_events')
      .values({ rule_id: rule.id, deployment: input.deployment, state: transition.state, value, at: t, payload: '{}' })
      .returning('id')
      .executeTakeFirstOrThrow();
    const id = Number(inserted.id);
    const payload: AlertPayload = { event_id: id, ...payloadWithoutId };
    await trx.updateTable('alert_events').set({ payload: JSON.stringify(payload) }).where('id', '=', id).execute();
    const notify = rule.webhook_url !== null && (transition.state === 'firing' || transition.state === 'resolved');
    if (notify) {
      const due = now();
      await trx.insertInto('alert_deliveries').values({ event_id: id, attempt: 1, status: 'pending', response_status: null, error: null, at: due, next_attempt_at: due }).execute();
    }
    created.push({ id, rule_id: rule.id, rule: rule.name, deployment: input.deployment, state: transition.state, value, at: t, queued_delivery: notify });
  }
  await updateRuleSummary(trx, rule);
  return created;
}

/** Sets alert_rules.state/pending_since from the newest event of each of the rule's deployments. */
async function updateRuleSummary(trx: Tx, rule: AlertRulesTable): Promise<void> {
  const newest = trx.selectFrom('alert_events').select((eb) => eb.fn.max('id').as('id')).where('rule_id', '=', rule.id).groupBy('deployment');
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
  await trx.updateTable('alert_rules').set({ state, pending_since: state === 'pending' ? pendingSince : null }).where('id', '=', rule.id).execute();
}

/** A rollout controller decision, as src/rollout's RolloutEvent carries it. */
export interface RolloutDecision {
  type: 'step' | 'promoted' | 'rolled_back';
  deployment: string;
  model: string;
  revision: number;
  reason: string | null;
}

/**
 * The alert input of a rollout decision: an automatic rollback sets the built-in metric
 * `rollout.rolled_back` to 1 (its episode is the deployment's revision after the rollback, so each
 * rollback fires once); an automatic promotion sets it to 0 (a firing rollback alert resolves).
 * Steps carry no alert information: null.
 */
export function alertInputOfRollout(event: RolloutDecision, at: number): AlertInput | null {
  if (event.type === 'step') return null;
  const rolledBack = event.type === 'rolled_back';
  return {
    deployment: event.deployment,
    monitor_id: null,
    monitor_name: null,
    kind: 'rollout',
    metrics: { [ROLLOUT_ROLLED_BACK_METRIC]: rolledBack ? 1 : 0 },
    computed_at: at,
    ...(rolledBack ? { episode: `revision ${event.revision}` } : {}),
    details: { rollout_event: event.type, model: event.model, revision: event.revision, reason: event.reason },
  };
}
