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
import { pairState, recordAlertEvent, updateRuleSummary, withAlertLock, type AlertEventState, type CreatedAlertEvent } from './alert-event-store.js';
import { conditionHolds, COMPARISON_SYMBOLS, ROLLOUT_ROLLED_BACK_METRIC, type AlertComparison } from './alert-rules.js';

export { ALERT_EVENT_STATES } from './alert-event-store.js';
export type { AlertEventState, AlertPayload, CreatedAlertEvent } from './alert-event-store.js';

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

export interface EvaluateOptions {
  /** Wall clock for delivery scheduling, ms. @default Date.now */
  now?: () => number;
  /** Called once after deliveries were queued (the webhook sender's wake-up). */
  onQueued?: () => void;
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
  return withAlertLock(db, async () => {
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
    const symbol = COMPARISON_SYMBOLS[rule.comparison as AlertComparison];
    created.push(await recordAlertEvent(trx, rule, {
      state: transition.state,
      deployment: input.deployment,
      value,
      at: t,
      since: transition.since,
      source: { kind: input.kind, monitor_id: input.monitor_id, monitor: input.monitor_name },
      episode: transition.state === 'resolved' ? current.episode : episode,
      details: input.details ?? null,
      summary: `${rule.metric} = ${value} ${holds ? '' : 'not '}${symbol} ${rule.threshold} on ${input.deployment}: ${transition.state}${holds && transition.state === 'resolved' ? ' (superseded by a new episode)' : ''}`,
    }, now()));
  }
  await updateRuleSummary(trx, rule.id);
  return created;
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
