// The pipelines' triggers besides a manual run: cron schedules and alert events. A timer started
// with the platform checks both; the platform also asks for an alert check right after each monitor
// result's alerts are recorded, so an alert starts its pipeline without waiting for the timer.
//
// Schedules: each pipeline remembers up to when its ticks were handled (`schedule_checked_at`); a
// check starts one run when at least one tick fell in (checked_at, now], so ticks missed while the
// server was down give one run at start, not one per tick. Alerts: each pipeline remembers the last
// alert event it has seen (`alert_cursor`, the newest event id when the pipeline was created);
// firing events after it that match an `on_alert` trigger (the rule's name, or the deployment and
// optionally the rule's metric) start one run. A pipeline with a run in progress is not started
// again: the tick or the events are consumed and logged. Each check first fails the runs their
// servers abandoned (PipelineService.recoverInterrupted), so a crashed server does not block a
// pipeline longer than the lease.
import { SYSTEM_ACTOR } from '../auth/index.js';
import { isPlinthError, nowMs, type Logger } from '../core/index.js';
import type { PipelinesTable } from '../store/index.js';
import { lastTickIn } from './cron.js';
import type { PipelineService } from './service.js';
import { schedulesOf, type TriggerSpec } from './spec.js';

export interface PipelineSchedulerOptions {
  service: PipelineService;
  logger?: Logger;
  /** Wall clock, ms. @default Date.now */
  now?: () => number;
  /** How often schedules and alert events are checked, ms. @default 10000 */
  intervalMs?: number;
}

/** What one check did for one pipeline. */
export interface TriggerOutcome {
  pipeline: string;
  trigger: 'schedule' | 'alert';
  /** The run started, or null when it was not (see `skipped`). */
  run: number | null;
  skipped?: string;
  details: Record<string, unknown>;
}

interface AlertEventRow {
  id: number;
  deployment: string | null;
  rule: string;
  metric: string;
  value: number | null;
  at: number;
}

/** Matches an alert event against an on_alert trigger. */
export function alertMatches(trigger: Extract<TriggerSpec, { type: 'alert' }>, event: { rule: string; deployment: string | null; metric: string }): boolean {
  if (trigger.rule !== undefined && trigger.rule !== event.rule) return false;
  if (trigger.deployment !== undefined && trigger.deployment !== event.deployment) return false;
  if (trigger.metric !== undefined && trigger.metric !== event.metric) return false;
  return true;
}

/** Checks schedules and alert events and starts the pipelines they call for. */
export class PipelineScheduler {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<TriggerOutcome[]> | null = null;
  private stopped = false;
  private readonly now: () => number;

  constructor(private readonly options: PipelineSchedulerOptions) {
    this.now = options.now ?? nowMs;
  }

  /** Starts the timer (idempotent); the first check runs at once, so missed ticks run at start. */
  start(): void {
    if (this.timer || this.stopped) return;
    void this.tick();
    this.timer = setInterval(() => void this.tick(), this.options.intervalMs ?? 10_000);
    this.timer.unref();
  }

  /** Stops the timer and waits for a check in progress (not for the runs it started). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running?.catch(() => undefined);
  }

  /**
   * Checks every pipeline's schedule and alert triggers once; returns what it started or skipped.
   * Checks never overlap (a second call waits for the first and checks again). Never rejects.
   */
  async tick(): Promise<TriggerOutcome[]> {
    while (this.running) await this.running.catch(() => undefined);
    if (this.stopped) return [];
    this.running = this.check().catch((error: unknown) => {
      this.options.logger?.error({ err: error }, 'pipeline trigger check failed');
      return [];
    });
    try {
      return await this.running;
    } finally {
      this.running = null;
    }
  }

  private async check(): Promise<TriggerOutcome[]> {
    const { service } = this.options;
    // Runs whose servers stopped (or stopped renewing their claims) would block their pipelines.
    await service.recoverInterrupted();
    const now = this.now();
    const outcomes: TriggerOutcome[] = [];
    const rows = await service.rows();
    const alertPipelines = rows.filter((r) => service.specOf(r).triggers.some((t) => t.type === 'alert'));
    const events = alertPipelines.length > 0 ? await this.eventsAfter(Math.min(...alertPipelines.map((r) => Number(r.alert_cursor ?? 0)))) : [];
    for (const row of rows) {
      if (this.stopped) break;
      const spec = service.specOf(row);
      const schedules = schedulesOf(spec);
      if (schedules.length > 0) {
        const after = Number(row.schedule_checked_at ?? row.created_at);
        const ticks = schedules.map((s) => lastTickIn(s, after, now)).filter((t): t is number => t !== null);
        if (ticks.length > 0) outcomes.push(await this.startRun(row, 'schedule', { tick: new Date(Math.max(...ticks)).toISOString() }));
        await service.markTriggers(row.id, { schedule_checked_at: now });
      }
      const triggers = spec.triggers.filter((t): t is Extract<TriggerSpec, { type: 'alert' }> => t.type === 'alert');
      if (triggers.length > 0) {
        const cursor = Number(row.alert_cursor ?? 0);
        const mine = events.filter((e) => e.id > cursor);
        const match = mine.find((e) => triggers.some((t) => alertMatches(t, e)));
        if (match) {
          outcomes.push(await this.startRun(row, 'alert', { alert_event_id: match.id, rule: match.rule, deployment: match.deployment, metric: match.metric, value: match.value, at: match.at }));
        }
        if (mine.length > 0) await service.markTriggers(row.id, { alert_cursor: Math.max(...mine.map((e) => e.id)) });
      }
    }
    return outcomes;
  }

  private async eventsAfter(cursor: number): Promise<AlertEventRow[]> {
    const rows = await this.options.service.db
      .selectFrom('alert_events as e')
      .innerJoin('alert_rules as r', 'r.id', 'e.rule_id')
      .select(['e.id', 'e.deployment', 'r.name as rule', 'r.metric', 'e.value', 'e.at'])
      .where('e.id', '>', cursor)
      .where('e.state', '=', 'firing')
      .orderBy('e.id')
      .limit(10_000)
      .execute();
    return rows.map((r) => ({ ...r, id: Number(r.id), at: Number(r.at), value: r.value === null ? null : Number(r.value) }));
  }

  private async startRun(row: PipelinesTable, trigger: 'schedule' | 'alert', details: Record<string, unknown>): Promise<TriggerOutcome> {
    try {
      const run = await this.options.service.startRun(SYSTEM_ACTOR, row.name, trigger, details);
      this.options.logger?.info({ pipeline: row.name, run: run.number, trigger, ...details }, 'pipeline run started by its trigger');
      return { pipeline: row.name, trigger, run: run.number, details };
    } catch (error) {
      if (!isPlinthError(error)) throw error;
      this.options.logger?.info({ pipeline: row.name, trigger, reason: error.message }, 'pipeline trigger skipped');
      return { pipeline: row.name, trigger, run: null, skipped: error.message, details };
    }
  }
}
