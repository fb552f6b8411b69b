// Alert rules: a condition on a flat monitor metric (`drift.share > 0.5`), for one deployment or for
// all of them, that must hold for `for_seconds` before it fires, with a severity and an optional
// webhook. This file validates and stores rules; alert-evaluator.ts moves them through their states
// and alert-webhooks.ts notifies. A rule's webhook secret is write-only: nothing here returns it.
import { appendAudit, type Actor } from '../auth/index.js';
import { assertValidName, newId, nowMs, PlinthError } from '../core/index.js';
import { isUniqueViolation, type AlertRulesTable, type Db, type Queryable } from '../store/index.js';
import { closeOpenEpisodes, withAlertLock } from './alert-event-store.js';

export const ALERT_COMPARISONS = Object.freeze(['gt', 'gte', 'lt', 'lte'] as const);
export type AlertComparison = (typeof ALERT_COMPARISONS)[number];

export const ALERT_SEVERITIES = Object.freeze(['info', 'warning', 'critical'] as const);
export type AlertSeverity = (typeof ALERT_SEVERITIES)[number];

/** Longest `for_seconds`: 30 days. */
export const MAX_FOR_SECONDS = 30 * 86_400;
/** Longest metric name accepted. */
export const MAX_METRIC_LENGTH = 512;
/** Longest webhook URL accepted. */
export const MAX_WEBHOOK_URL_LENGTH = 2048;
/** Shortest and longest webhook secret accepted (characters). */
export const MIN_WEBHOOK_SECRET_LENGTH = 16;
export const MAX_WEBHOOK_SECRET_LENGTH = 512;

/**
 * Built-in metric fed by the rollout controller, not by a monitor: 1 when the controller rolls a
 * canary back automatically, 0 when a later rollout of that deployment is promoted automatically.
 * A rule `rollout.rolled_back gte 1` (for one deployment or all) fires on every automatic rollback.
 */
export const ROLLOUT_ROLLED_BACK_METRIC = 'rollout.rolled_back';

/** A rule as the API shows it: never the webhook secret, only whether one is set. */
export interface AlertRuleInfo {
  id: string;
  name: string;
  /** null: every deployment (state is kept per deployment). */
  deployment: string | null;
  metric: string;
  comparison: AlertComparison;
  threshold: number;
  for_seconds: number;
  severity: AlertSeverity;
  webhook_url: string | null;
  webhook_secret_set: boolean;
  enabled: boolean;
  /** inactive | pending | firing: for a rule on all deployments, the most severe of its deployments' states. */
  state: string;
  /** When the condition began to hold (pending), ms since epoch; null otherwise. */
  pending_since: number | null;
  created_at: number;
  created_by: string;
}

/** What a rule is created from (the HTTP body's fields). */
export interface AlertRuleInput {
  name: string;
  deployment?: string | null | undefined;
  metric: string;
  comparison: string;
  threshold: number;
  /** @default 0 */
  for_seconds?: number | undefined;
  /** @default 'warning' */
  severity?: string | undefined;
  webhook_url?: string | null | undefined;
  webhook_secret?: string | null | undefined;
  /** @default true */
  enabled?: boolean | undefined;
}

/** A change to a rule: every field optional; null clears deployment (all deployments), webhook_url and webhook_secret. */
export type AlertRulePatch = Partial<Omit<AlertRuleInput, 'name'>>;

export function isAlertComparison(value: string): value is AlertComparison {
  return (ALERT_COMPARISONS as readonly string[]).includes(value);
}

/** True when `value comparison threshold` holds; never true for a non-finite value. */
export function conditionHolds(comparison: AlertComparison, value: number, threshold: number): boolean {
  if (!Number.isFinite(value)) return false;
  switch (comparison) {
    case 'gt': return value > threshold;
    case 'gte': return value >= threshold;
    case 'lt': return value < threshold;
    case 'lte': return value <= threshold;
  }
}

/** Symbols for messages and the CLI. */
export const COMPARISON_SYMBOLS: Readonly<Record<AlertComparison, string>> = Object.freeze({ gt: '>', gte: '>=', lt: '<', lte: '<=' });

export function toRuleInfo(row: AlertRulesTable): AlertRuleInfo {
  return {
    id: row.id,
    name: row.name,
    deployment: row.deployment,
    metric: row.metric,
    comparison: row.comparison as AlertComparison,
    threshold: row.threshold,
    for_seconds: row.for_seconds,
    severity: row.severity as AlertSeverity,
    webhook_url: row.webhook_url,
    webhook_secret_set: row.webhook_secret !== null,
    enabled: row.enabled === 1,
    state: row.state,
    pending_since: row.pending_since,
    created_at: row.created_at,
    created_by: row.created_by,
  };
}

function invalid(message: string): PlinthError {
  return new PlinthError('INVALID_ARGUMENT', message);
}

// Rollout decisions are single moments, evaluated once each: a pending state would never be re-checked.
function checkBuiltInMetric(metric: string, forSeconds: number): void {
  if (metric === ROLLOUT_ROLLED_BACK_METRIC && forSeconds !== 0) throw invalid(`for_seconds: must be 0 for ${ROLLOUT_ROLLED_BACK_METRIC}, which fires on each automatic rollback`);
}

// Control characters would make metric names unprintable in tables and logs.
// eslint-disable-next-line no-control-regex
const CONTROL_RE = /[\u0000-\u001f\u007f]/;

function checkMetric(metric: unknown): string {
  if (typeof metric !== 'string' || metric.length === 0 || metric.length > MAX_METRIC_LENGTH || CONTROL_RE.test(metric) || metric.trim() !== metric) {
    throw invalid(`metric: give a metric name of 1-${MAX_METRIC_LENGTH} printable characters, e.g. drift.share or ${ROLLOUT_ROLLED_BACK_METRIC}`);
  }
  return metric;
}

function checkComparison(comparison: unknown): AlertComparison {
  if (typeof comparison !== 'string' || !isAlertComparison(comparison)) throw invalid(`comparison: use one of ${ALERT_COMPARISONS.join(', ')}`);
  return comparison;
}

function checkThreshold(threshold: unknown): number {
  if (typeof threshold !== 'number' || !Number.isFinite(threshold)) throw invalid('threshold: give a finite number');
  return threshold;
}

function checkForSeconds(forSeconds: unknown): number {
  if (typeof forSeconds !== 'number' || !Number.isInteger(forSeconds) || forSeconds < 0 || forSeconds > MAX_FOR_SECONDS) {
    throw invalid(`for_seconds: give a whole number of seconds from 0 to ${MAX_FOR_SECONDS}`);
  }
  return forSeconds;
}

function checkSeverity(severity: unknown): AlertSeverity {
  if (typeof severity !== 'string' || !(ALERT_SEVERITIES as readonly string[]).includes(severity)) throw invalid(`severity: use one of ${ALERT_SEVERITIES.join(', ')}`);
  return severity as AlertSeverity;
}

function checkDeployment(deployment: unknown): string | null {
  if (deployment === null || deployment === undefined) return null;
  if (typeof deployment !== 'string') throw invalid('deployment: give a deployment name, or leave it out for every deployment');
  assertValidName(deployment, 'deployment');
  return deployment;
}

/**
 * Checks a webhook URL: absolute http or https with a host, no longer than
 * {@link MAX_WEBHOOK_URL_LENGTH}. Returns it unchanged (the exact URL the user gave is the one called).
 * @throws PlinthError INVALID_ARGUMENT
 */
export function checkWebhookUrl(url: unknown): string {
  if (typeof url !== 'string' || url.length === 0 || url.length > MAX_WEBHOOK_URL_LENGTH) throw invalid(`webhook_url: give an http or https URL of at most ${MAX_WEBHOOK_URL_LENGTH} characters`);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw invalid('webhook_url: not a valid URL');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw invalid(`webhook_url: only http and https are allowed, not ${parsed.protocol.replace(/:$/, '')}`);
  if (parsed.hostname === '') throw invalid('webhook_url: the URL has no host');
  return url;
}

function checkSecret(secret: unknown): string {
  if (typeof secret !== 'string' || secret.length < MIN_WEBHOOK_SECRET_LENGTH || secret.length > MAX_WEBHOOK_SECRET_LENGTH) {
    throw invalid(`webhook_secret: give ${MIN_WEBHOOK_SECRET_LENGTH}-${MAX_WEBHOOK_SECRET_LENGTH} characters`);
  }
  return secret;
}

function checkEnabled(enabled: unknown): boolean {
  if (typeof enabled !== 'boolean') throw invalid('enabled: give true or false');
  return enabled;
}

/**
 * Creates a rule (state `inactive`), with its audit entry.
 * @throws PlinthError INVALID_ARGUMENT naming the field (bad name, metric, comparison, threshold,
 *   for_seconds, severity, deployment name, a webhook URL that is not http(s), a secret shorter than
 *   16 characters or a secret without a URL), ALERT_RULE_ALREADY_EXISTS
 */
export async function createAlertRule(db: Db, actor: Actor, input: AlertRuleInput): Promise<AlertRuleInfo> {
  if (typeof input.name !== 'string') throw invalid('name: give a rule name');
  assertValidName(input.name, 'alert rule name');
  const webhookUrl = input.webhook_url === undefined || input.webhook_url === null ? null : checkWebhookUrl(input.webhook_url);
  const webhookSecret = input.webhook_secret === undefined || input.webhook_secret === null ? null : checkSecret(input.webhook_secret);
  if (webhookSecret !== null && webhookUrl === null) throw invalid('webhook_secret: a secret needs a webhook_url');
  const row: AlertRulesTable = {
    id: newId(),
    name: input.name,
    deployment: checkDeployment(input.deployment),
    metric: checkMetric(input.metric),
    comparison: checkComparison(input.comparison),
    threshold: checkThreshold(input.threshold),
    for_seconds: checkForSeconds(input.for_seconds ?? 0),
    severity: checkSeverity(input.severity ?? 'warning'),
    webhook_url: webhookUrl,
    webhook_secret: webhookSecret,
    enabled: checkEnabled(input.enabled ?? true) ? 1 : 0,
    state: 'inactive',
    pending_since: null,
    created_at: nowMs(),
    created_by: actor.name,
  };
  checkBuiltInMetric(row.metric, row.for_seconds);
  try {
    await db.transaction().execute(async (trx) => {
      await trx.insertInto('alert_rules').values(row).execute();
      await appendAudit(trx, actor, { action: 'alert.rule.create', resourceType: 'alert_rule', resourceId: row.name, details: auditDetails(row) });
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw new PlinthError('ALERT_RULE_ALREADY_EXISTS', `an alert rule named ${input.name} already exists`);
    throw error;
  }
  return toRuleInfo(row);
}

// What the audit log keeps of a rule: everything but the secret.
function auditDetails(row: AlertRulesTable): Record<string, unknown> {
  const { webhook_secret: _secret, id: _id, state: _state, pending_since: _since, created_at: _at, created_by: _by, ...rest } = row;
  return { ...rest, webhook_secret_set: row.webhook_secret !== null };
}

/** Lists rules by name. */
export async function listAlertRules(q: Queryable): Promise<AlertRuleInfo[]> {
  const rows = await q.selectFrom('alert_rules').selectAll().orderBy('name', 'asc').execute();
  return rows.map(toRuleInfo);
}

/**
 * The stored rule of that name, secret included (for the evaluator and the webhook sender only).
 * @throws PlinthError ALERT_RULE_NOT_FOUND
 */
export async function getAlertRuleRow(q: Queryable, name: string): Promise<AlertRulesTable> {
  const row = await q.selectFrom('alert_rules').selectAll().where('name', '=', name).executeTakeFirst();
  if (!row) throw new PlinthError('ALERT_RULE_NOT_FOUND', `no alert rule named ${JSON.stringify(name.slice(0, 200))}`);
  return row;
}

/**
 * The rule of that name, as the API shows it.
 * @throws PlinthError ALERT_RULE_NOT_FOUND
 */
export async function getAlertRule(q: Queryable, name: string): Promise<AlertRuleInfo> {
  return toRuleInfo(await getAlertRuleRow(q, name));
}

/**
 * Changes a rule's fields (the name stays). A new comparison, threshold, for_seconds or severity
 * leaves an episode in progress running: the next evaluation decides whether it still holds.
 * Disabling the rule or giving it another metric or deployment ends its open episodes now (firing
 * pairs get a `resolved` event, notified; pending ones an `inactive` one). Clearing `webhook_url`
 * clears the secret too.
 * @throws PlinthError ALERT_RULE_NOT_FOUND, INVALID_ARGUMENT (as {@link createAlertRule})
 */
export async function updateAlertRule(db: Db, actor: Actor, name: string, patch: AlertRulePatch): Promise<AlertRuleInfo> {
  const changes: Partial<AlertRulesTable> = {};
  if (patch.deployment !== undefined) changes.deployment = checkDeployment(patch.deployment);
  if (patch.metric !== undefined) changes.metric = checkMetric(patch.metric);
  if (patch.comparison !== undefined) changes.comparison = checkComparison(patch.comparison);
  if (patch.threshold !== undefined) changes.threshold = checkThreshold(patch.threshold);
  if (patch.for_seconds !== undefined) changes.for_seconds = checkForSeconds(patch.for_seconds);
  if (patch.severity !== undefined) changes.severity = checkSeverity(patch.severity);
  if (patch.enabled !== undefined) changes.enabled = checkEnabled(patch.enabled) ? 1 : 0;
  if (patch.webhook_url !== undefined) changes.webhook_url = patch.webhook_url === null ? null : checkWebhookUrl(patch.webhook_url);
  if (patch.webhook_secret !== undefined) changes.webhook_secret = patch.webhook_secret === null ? null : checkSecret(patch.webhook_secret);
  if (changes.webhook_url === null) {
    if (typeof changes.webhook_secret === 'string') throw invalid('webhook_secret: a secret needs a webhook_url');
    changes.webhook_secret = null;
  }
  return withAlertLock(db, () => db.transaction().execute(async (trx) => {
    const row = await getAlertRuleRow(trx, name);
    const next: AlertRulesTable = { ...row, ...changes };
    if (next.webhook_secret !== null && next.webhook_url === null) throw invalid('webhook_secret: a secret needs a webhook_url');
    checkBuiltInMetric(next.metric, next.for_seconds);
    if (Object.keys(changes).length > 0) await trx.updateTable('alert_rules').set(changes).where('id', '=', row.id).execute();
    const reason = next.enabled === 0 && row.enabled === 1 ? 'rule disabled'
      : next.metric !== row.metric ? 'rule now watches another metric'
        : next.deployment !== row.deployment ? 'rule now watches another deployment'
          : null;
    if (reason !== null) await closeOpenEpisodes(trx, next, reason, nowMs());
    const changed = Object.keys(changes).filter((k) => k !== 'webhook_secret');
    await appendAudit(trx, actor, {
      action: 'alert.rule.update',
      resourceType: 'alert_rule',
      resourceId: name,
      details: { changed, ...(changes.webhook_secret !== undefined ? { webhook_secret_set: next.webhook_secret !== null } : {}) },
    });
    const stored = await trx.selectFrom('alert_rules').selectAll().where('id', '=', row.id).executeTakeFirstOrThrow();
    return toRuleInfo(stored);
  }));
}

/**
 * Deletes a rule with its events and their delivery attempts (pending retries stop).
 * @throws PlinthError ALERT_RULE_NOT_FOUND
 */
export async function deleteAlertRule(db: Db, actor: Actor, name: string): Promise<AlertRuleInfo> {
  return withAlertLock(db, () => db.transaction().execute(async (trx) => {
    const row = await getAlertRuleRow(trx, name);
    const events = trx.selectFrom('alert_events').select('id').where('rule_id', '=', row.id);
    await trx.deleteFrom('alert_deliveries').where('event_id', 'in', events).execute();
    await trx.deleteFrom('alert_events').where('rule_id', '=', row.id).execute();
    await trx.deleteFrom('alert_rules').where('id', '=', row.id).execute();
    await appendAudit(trx, actor, { action: 'alert.rule.delete', resourceType: 'alert_rule', resourceId: name });
    return toRuleInfo(row);
  }));
}
