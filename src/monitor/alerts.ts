// The alerting service the platform runs: evaluates each stored monitor result and each rollout
// decision against the alert rules (alert-evaluator.ts) and sends the resulting webhooks
// (alert-webhooks.ts). Its listeners never throw and never block their caller: evaluation runs in
// the background, and a failure is one log line.
import { nowMs, type Logger } from '../core/index.js';
import type { Db } from '../store/index.js';
import { alertInputOfRollout, evaluateAlerts, type AlertInput, type CreatedAlertEvent, type RolloutDecision } from './alert-evaluator.js';
import { WebhookSender, type WebhookSenderOptions } from './alert-webhooks.js';
import type { MonitorResult } from './monitor-kind.js';

export interface AlertServiceOptions {
  db: Db;
  logger?: Logger;
  /** Retry, concurrency and timeout settings of webhook delivery. */
  webhooks?: Omit<WebhookSenderOptions, 'logger' | 'now'>;
  /** Wall clock, ms (rollout decisions are stamped with it; webhooks are scheduled by it). @default Date.now */
  now?: () => number;
}

/** Alert evaluation and webhook delivery for one database. */
export class AlertService {
  readonly sender: WebhookSender;
  private readonly pending = new Set<Promise<unknown>>();
  private readonly now: () => number;

  constructor(private readonly options: AlertServiceOptions) {
    this.now = options.now ?? nowMs;
    this.sender = new WebhookSender(options.db, { ...options.webhooks, now: this.now, ...(options.logger ? { logger: options.logger } : {}) });
  }

  /** Starts webhook delivery (pending deliveries from an earlier run included). */
  start(): void {
    this.sender.start();
  }

  /** Waits for evaluations under way, then stops webhook delivery. Idempotent. */
  async stop(): Promise<void> {
    await Promise.allSettled([...this.pending]);
    await this.sender.stop();
  }

  /**
   * Evaluates one input now and returns the events it created.
   * @throws what the database throws (use {@link AlertService.submit} from listeners)
   */
  evaluate(input: AlertInput): Promise<CreatedAlertEvent[]> {
    return evaluateAlerts(this.options.db, input, { now: this.now, onQueued: () => this.sender.wake() });
  }

  /** Evaluates in the background; failures are logged, never thrown. The promise resolves when it is done (never rejects). */
  submit(input: AlertInput): Promise<void> {
    const work: Promise<void> = this.evaluate(input)
      .then(() => undefined, (error: unknown) => this.options.logger?.error({ err: error, deployment: input.deployment, kind: input.kind }, 'alert evaluation failed'))
      .finally(() => this.pending.delete(work));
    this.pending.add(work);
    return work;
  }

  /**
   * Listener for stored monitor results (the scheduler's result listeners). Resolves once the
   * result's alert events are recorded (webhooks are sent later), so an on-demand run answers after
   * its alerts; never rejects.
   */
  readonly onMonitorResult = (result: MonitorResult): Promise<void> => this.submit(alertInputOfMonitorResult(result));

  /** Listener for the rollout controller's decisions (Platform.rolloutListeners). */
  readonly onRolloutEvent = (event: RolloutDecision): void => {
    const input = alertInputOfRollout(event, this.now());
    if (input) void this.submit(input);
  };

  /** Waits until every background evaluation submitted so far has finished (tests, shutdown). */
  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }
}

/** The alert input of a stored monitor result: its metrics at its computed_at. */
export function alertInputOfMonitorResult(result: MonitorResult): AlertInput {
  return {
    deployment: result.deployment,
    monitor_id: result.monitorId,
    monitor_name: result.monitor,
    kind: result.kind,
    metrics: result.metrics,
    computed_at: result.computedAt,
    details: { result_id: result.id, status: result.status, rows: result.rows, window_start: result.windowStart, window_end: result.windowEnd },
  };
}
