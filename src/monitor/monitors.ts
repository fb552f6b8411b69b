// Monitors: per-deployment checks of a registered kind over a window of traffic (the newest N
// requests, or the last S seconds), run on a schedule and on demand; and their results, the time
// series behind the API, the CLI, the gauges and the alerts. A run never throws for a fault of the
// kind: it stores an `error` result instead, so one failing monitor cannot stop the others.
import { appendAudit, type Actor } from '../auth/index.js';
import { assertValidName, newId, PlinthError } from '../core/index.js';
import { isUniqueViolation, type ArtifactStore, type Db, type MonitorResultsTable, type MonitorsTable, type Queryable } from '../store/index.js';
import { MAX_WINDOW_REQUESTS } from './live-window.js';
import { monitorKind, requireMonitorKind, type MonitorOutcome, type MonitorResult, type MonitorWindow, type ReferencePredictor } from './monitor-kind.js';

/** A monitor's window: the newest `requests` answered requests, or those of the last `seconds`. */
export type MonitorWindowSpec = { requests: number } | { seconds: number };

/** The window when none is given. */
export const DEFAULT_MONITOR_WINDOW: MonitorWindowSpec = Object.freeze({ requests: 1000 });
/** Seconds between scheduled runs when none is given. */
export const DEFAULT_SCHEDULE_SECONDS = 300;
const MAX_WINDOW_SECONDS = 366 * 86_400;
const MAX_SCHEDULE_SECONDS = 30 * 86_400;
/** Results a listing returns at most. */
export const MAX_RESULTS_PAGE = 1000;

/** A monitor as the API shows it. */
export interface Monitor {
  id: string;
  name: string;
  deployment: string;
  kind: string;
  window: MonitorWindowSpec;
  /** The kind's settings (validated by the kind). */
  config: unknown;
  /** Seconds between runs; null: only on demand. */
  schedule_seconds: number | null;
  enabled: boolean;
  created_at: number;
  created_by: string;
  last_run_at: number | null;
  next_run_at: number | null;
}

export interface CreateMonitorInput {
  name: string;
  kind: string;
  window?: unknown;
  config?: unknown;
  /** @default 300; null runs only on demand */
  schedule_seconds?: number | null;
  /** @default true */
  enabled?: boolean;
}

function bad(message: string): PlinthError {
  return new PlinthError('INVALID_ARGUMENT', message);
}

/**
 * Validates a window: `{"requests": N}` (1 … MAX_WINDOW_REQUESTS) or `{"seconds": S}` (1 … 366 days).
 * @throws PlinthError INVALID_ARGUMENT naming the field
 */
export function checkWindowSpec(value: unknown): MonitorWindowSpec {
  if (value === undefined || value === null) return { ...DEFAULT_MONITOR_WINDOW };
  if (typeof value !== 'object' || Array.isArray(value)) throw bad('window: must be {"requests": N} or {"seconds": S}');
  const w = value as Record<string, unknown>;
  const keys = Object.keys(w);
  if (keys.length !== 1 || (keys[0] !== 'requests' && keys[0] !== 'seconds')) throw bad('window: must be {"requests": N} or {"seconds": S}, exactly one of them');
  const n = w[keys[0]!];
  if (keys[0] === 'requests') {
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > MAX_WINDOW_REQUESTS) throw bad(`window.requests: must be an integer from 1 to ${MAX_WINDOW_REQUESTS}`);
    return { requests: n };
  }
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > MAX_WINDOW_SECONDS) throw bad(`window.seconds: must be an integer from 1 to ${MAX_WINDOW_SECONDS}`);
  return { seconds: n };
}

/** The window a run at `now` evaluates: requests before now + 1 ms (so a request logged at `now` counts). */
export function windowAt(spec: MonitorWindowSpec, now: number): MonitorWindow {
  if ('requests' in spec) return { since: null, until: now + 1, lastN: spec.requests };
  return { since: now - spec.seconds * 1000, until: now + 1, lastN: null };
}

function checkSchedule(value: unknown): number | null {
  if (value === null) return null;
  if (value === undefined) return DEFAULT_SCHEDULE_SECONDS;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_SCHEDULE_SECONDS) throw bad(`schedule_seconds: must be null (on demand only) or an integer from 1 to ${MAX_SCHEDULE_SECONDS}`);
  return value;
}

function toMonitor(row: MonitorsTable): Monitor {
  const stored = JSON.parse(row.config) as { window: MonitorWindowSpec; settings: unknown };
  return {
    id: row.id,
    name: row.name,
    deployment: row.deployment,
    kind: row.kind,
    window: stored.window,
    config: stored.settings,
    schedule_seconds: row.schedule_seconds === null ? null : Number(row.schedule_seconds),
    enabled: Number(row.enabled) === 1,
    created_at: Number(row.created_at),
    created_by: row.created_by,
    last_run_at: row.last_run_at === null ? null : Number(row.last_run_at),
    next_run_at: row.next_run_at === null ? null : Number(row.next_run_at),
  };
}

/**
 * Checks that a deployment exists (monitoring reads the deployments table itself: the rollout area
 * comes after monitoring in the dependency order).
 * @throws PlinthError INVALID_ARGUMENT (not a valid name), DEPLOYMENT_NOT_FOUND
 */
export async function assertDeploymentExists(q: Queryable, name: string): Promise<void> {
  assertValidName(name, 'deployment name');
  const row = await q.selectFrom('deployments').select('id').where('name', '=', name).executeTakeFirst();
  if (!row) throw new PlinthError('DEPLOYMENT_NOT_FOUND', `no deployment named ${JSON.stringify(name)}`);
}

/**
 * Creates a monitor. The first scheduled run is due at once.
 * @throws PlinthError DEPLOYMENT_NOT_FOUND, INVALID_ARGUMENT (name, kind, window, schedule, the kind's config), MONITOR_ALREADY_EXISTS
 */
export async function createMonitor(db: Db, actor: Actor, deployment: string, input: CreateMonitorInput, now: number): Promise<Monitor> {
  assertValidName(input.name, 'monitor name');
  const kind = requireMonitorKind(input.kind);
  const window = checkWindowSpec(input.window);
  const settings = kind.checkConfig(input.config);
  const schedule = checkSchedule(input.schedule_seconds);
  const enabled = input.enabled ?? true;
  await assertDeploymentExists(db, deployment);
  const row: MonitorsTable = {
    id: newId(),
    deployment,
    name: input.name,
    kind: kind.kind,
    config: JSON.stringify({ window, settings }),
    schedule_seconds: schedule,
    enabled: enabled ? 1 : 0,
    created_at: now,
    created_by: actor.name,
    last_run_at: null,
    next_run_at: schedule !== null && enabled ? now : null,
  };
  try {
    await db.transaction().execute(async (trx) => {
      await trx.insertInto('monitors').values(row).execute();
      await appendAudit(trx, actor, { action: 'monitor.create', resourceType: 'monitor', resourceId: `${deployment}/${input.name}`, details: { kind: kind.kind, window, schedule_seconds: schedule, enabled } });
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw new PlinthError('MONITOR_ALREADY_EXISTS', `deployment ${deployment} already has a monitor named ${JSON.stringify(input.name)}`);
    throw error;
  }
  return toMonitor(row);
}

async function findMonitorRow(q: Queryable, deployment: string, name: string): Promise<MonitorsTable> {
  const row = await q.selectFrom('monitors').selectAll().where('deployment', '=', deployment).where('name', '=', name).executeTakeFirst();
  if (!row) throw new PlinthError('MONITOR_NOT_FOUND', `deployment ${deployment} has no monitor named ${JSON.stringify(name.slice(0, 200))}`);
  return row;
}

/**
 * One monitor. @throws PlinthError DEPLOYMENT_NOT_FOUND, MONITOR_NOT_FOUND
 */
export async function getMonitor(db: Db, deployment: string, name: string): Promise<Monitor> {
  await assertDeploymentExists(db, deployment);
  return toMonitor(await findMonitorRow(db, deployment, name));
}

/** A deployment's monitors by name. @throws PlinthError DEPLOYMENT_NOT_FOUND */
export async function listMonitors(db: Db, deployment: string): Promise<Monitor[]> {
  await assertDeploymentExists(db, deployment);
  const rows = await db.selectFrom('monitors').selectAll().where('deployment', '=', deployment).orderBy('name').execute();
  return rows.map(toMonitor);
}

/**
 * Deletes a monitor and its results.
 * @throws PlinthError DEPLOYMENT_NOT_FOUND, MONITOR_NOT_FOUND
 */
export async function deleteMonitor(db: Db, actor: Actor, deployment: string, name: string): Promise<Monitor> {
  await assertDeploymentExists(db, deployment);
  return db.transaction().execute(async (trx) => {
    const row = await findMonitorRow(trx, deployment, name);
    await trx.deleteFrom('monitor_results').where('monitor_id', '=', row.id).execute();
    await trx.deleteFrom('monitors').where('id', '=', row.id).execute();
    await appendAudit(trx, actor, { action: 'monitor.delete', resourceType: 'monitor', resourceId: `${deployment}/${name}`, details: { kind: row.kind } });
    return toMonitor(row);
  });
}

/** What a monitor update may change; absent fields stay as they are. */
export interface UpdateMonitorInput {
  window?: unknown;
  config?: unknown;
  schedule_seconds?: number | null;
  enabled?: boolean;
}

/**
 * Changes a monitor's window, settings, schedule or whether it runs, checked as at creation. A new
 * schedule, or enabling it, makes the next run due at once; disabling it stops scheduled runs (runs
 * on demand still work). Its results stay.
 * @throws PlinthError DEPLOYMENT_NOT_FOUND, MONITOR_NOT_FOUND, INVALID_ARGUMENT naming the field
 */
export async function updateMonitor(db: Db, actor: Actor, deployment: string, name: string, input: UpdateMonitorInput, now: number): Promise<Monitor> {
  await assertDeploymentExists(db, deployment);
  return db.transaction().execute(async (trx) => {
    const row = await findMonitorRow(trx, deployment, name);
    const current = toMonitor(row);
    const kind = requireMonitorKind(row.kind);
    const window = input.window === undefined ? current.window : checkWindowSpec(input.window);
    const settings = input.config === undefined ? current.config : kind.checkConfig(input.config);
    const schedule = input.schedule_seconds === undefined ? current.schedule_seconds : checkSchedule(input.schedule_seconds);
    const enabled = input.enabled ?? current.enabled;
    const rescheduled = input.schedule_seconds !== undefined || (enabled && !current.enabled);
    const nextRun = schedule === null || !enabled ? null : rescheduled ? now : (row.next_run_at ?? now);
    const changes = { config: JSON.stringify({ window, settings }), schedule_seconds: schedule, enabled: enabled ? 1 : 0, next_run_at: nextRun };
    await trx.updateTable('monitors').set(changes).where('id', '=', row.id).execute();
    await appendAudit(trx, actor, { action: 'monitor.update', resourceType: 'monitor', resourceId: `${deployment}/${name}`, details: { window, schedule_seconds: schedule, enabled, config_changed: input.config !== undefined } });
    return toMonitor({ ...row, ...changes });
  });
}

/** Enabled monitors whose next run is due at `now`, the longest overdue first. */
export async function dueMonitors(db: Db, now: number, limit = 100): Promise<Monitor[]> {
  const rows = await db.selectFrom('monitors').selectAll().where('enabled', '=', 1).where('next_run_at', 'is not', null).where('next_run_at', '<=', now).orderBy('next_run_at').limit(limit).execute();
  return rows.map(toMonitor);
}

function errorOutcome(error: unknown): MonitorOutcome {
  const code = error instanceof PlinthError ? error.code : 'INTERNAL';
  const message = error instanceof Error ? error.message : String(error);
  return { status: 'error', rows: 0, windowStart: null, windowEnd: null, metrics: {}, result: { status: 'error', error: { code, message } } };
}

function toResult(row: MonitorResultsTable & { id: number }, monitor: string): MonitorResult {
  return {
    id: Number(row.id),
    monitorId: row.monitor_id,
    monitor,
    deployment: row.deployment,
    kind: row.kind,
    status: row.status,
    rows: Number(row.rows),
    windowStart: row.window_start === null ? null : Number(row.window_start),
    windowEnd: row.window_end === null ? null : Number(row.window_end),
    metrics: JSON.parse(row.metrics) as Record<string, number>,
    result: JSON.parse(row.result) as unknown,
    computedAt: Number(row.computed_at),
  };
}

/**
 * Runs one monitor at `now` and stores its result (an `error` result when the kind fails, the
 * deployment is gone or the kind is not registered); moves its next run on by its schedule (no
 * further run once the deployment is gone).
 * @param predict runs a model version, for references built from datasets (their prediction)
 * @returns the stored result
 */
export async function runMonitor(db: Db, artifacts: ArtifactStore, monitor: Monitor, now: number, predict?: ReferencePredictor): Promise<MonitorResult> {
  let outcome: MonitorOutcome;
  let deploymentGone = false;
  try {
    const kind = monitorKind(monitor.kind);
    if (!kind) throw new PlinthError('INVALID_ARGUMENT', `monitor kind ${JSON.stringify(monitor.kind)} is not available in this server`);
    await assertDeploymentExists(db, monitor.deployment);
    const config = kind.checkConfig(monitor.config);
    outcome = await kind.evaluate({ db, artifacts, deployment: monitor.deployment, now, window: windowAt(monitor.window, now), predict }, config);
  } catch (error) {
    outcome = errorOutcome(error);
    deploymentGone = error instanceof PlinthError && error.code === 'DEPLOYMENT_NOT_FOUND';
  }
  let metrics: string;
  let result: string;
  try {
    metrics = JSON.stringify(Object.fromEntries(Object.entries(outcome.metrics).filter(([, v]) => typeof v === 'number' && Number.isFinite(v))));
    result = JSON.stringify(outcome.result ?? null);
  } catch (error) {
    outcome = errorOutcome(error);
    metrics = '{}';
    result = JSON.stringify(outcome.result);
  }
  const values = {
    monitor_id: monitor.id,
    deployment: monitor.deployment,
    kind: monitor.kind,
    window_start: outcome.windowStart,
    window_end: outcome.windowEnd,
    rows: outcome.rows,
    status: outcome.status,
    metrics,
    result,
    computed_at: now,
  };
  // A monitor of a deleted deployment stops being scheduled (its error result says why).
  const nextRun = monitor.schedule_seconds !== null && monitor.enabled && !deploymentGone ? now + monitor.schedule_seconds * 1000 : null;
  const id = await db.transaction().execute(async (trx) => {
    const inserted = await trx.insertInto('monitor_results').values(values).returning('id').executeTakeFirstOrThrow();
    await trx.updateTable('monitors').set({ last_run_at: now, next_run_at: nextRun }).where('id', '=', monitor.id).execute();
    return Number(inserted.id);
  });
  return toResult({ ...values, id } as MonitorResultsTable & { id: number }, monitor.name);
}

export interface ResultQuery {
  deployment: string;
  kind?: string | undefined;
  /** A monitor's name. */
  monitor?: string | undefined;
  /** Only results computed at or after this time, ms since epoch. */
  since?: number | undefined;
  /** @default 100 */
  limit?: number | undefined;
}

/**
 * Results newest first, with their monitors' names.
 * @throws PlinthError DEPLOYMENT_NOT_FOUND, MONITOR_NOT_FOUND (a monitor name that is not the deployment's)
 */
export async function listResults(db: Db, query: ResultQuery): Promise<MonitorResult[]> {
  await assertDeploymentExists(db, query.deployment);
  const monitors = await db.selectFrom('monitors').select(['id', 'name']).where('deployment', '=', query.deployment).execute();
  const names = new Map(monitors.map((m) => [m.id, m.name]));
  let q = db.selectFrom('monitor_results').selectAll().where('deployment', '=', query.deployment);
  if (query.kind !== undefined) q = q.where('kind', '=', query.kind);
  if (query.monitor !== undefined) {
    const id = monitors.find((m) => m.name === query.monitor)?.id;
    if (!id) throw new PlinthError('MONITOR_NOT_FOUND', `deployment ${query.deployment} has no monitor named ${JSON.stringify(query.monitor.slice(0, 200))}`);
    q = q.where('monitor_id', '=', id);
  }
  if (query.since !== undefined) q = q.where('computed_at', '>=', query.since);
  const rows = await q.orderBy('computed_at', 'desc').orderBy('id', 'desc').limit(Math.min(query.limit ?? 100, MAX_RESULTS_PAGE)).execute();
  return rows.map((r) => toResult(r as MonitorResultsTable & { id: number }, names.get(r.monitor_id) ?? '(deleted)'));
}

/** The newest result of each of a deployment's monitors of one kind (monitors never run are left out). */
export async function latestResults(db: Db, deployment: string, kind: string): Promise<MonitorResult[]> {
  await assertDeploymentExists(db, deployment);
  const monitors = await db.selectFrom('monitors').select(['id', 'name']).where('deployment', '=', deployment).where('kind', '=', kind).orderBy('name').execute();
  const out: MonitorResult[] = [];
  for (const m of monitors) {
    const row = await db.selectFrom('monitor_results').selectAll().where('monitor_id', '=', m.id).orderBy('computed_at', 'desc').orderBy('id', 'desc').limit(1).executeTakeFirst();
    if (row) out.push(toResult(row as MonitorResultsTable & { id: number }, m.name));
  }
  return out;
}
