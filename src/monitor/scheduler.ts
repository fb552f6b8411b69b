// The monitor scheduler: a timer (unref'd, so it never keeps the process alive) that every few
// seconds runs the enabled monitors whose next run is due, one at a time; on-demand runs go through
// the same queue, so two runs never overlap. Each stored result is handed to the `onResult`
// listeners (gauges, alerts); a listener that throws is logged and the others still run.
import type { Logger } from '../core/index.js';
import type { ArtifactStore, Db } from '../store/index.js';
import type { MonitorResult, MonitorResultListener, ReferencePredictor } from './monitor-kind.js';
import { dueMonitors, getMonitor, runMonitor, type Monitor } from './monitors.js';

export interface MonitorSchedulerOptions {
  db: Db;
  artifacts: ArtifactStore;
  logger?: Pick<Logger, 'error' | 'warn'>;
  /** How often due monitors are looked for, ms. @default 2000 */
  intervalMs?: number;
  /** The clock, ms since epoch. @default Date.now */
  now?: () => number;
  /** Runs a model version (the serving engine), to profile the prediction of references built from datasets. */
  predict?: ReferencePredictor;
}

export class MonitorScheduler {
  private readonly listeners: MonitorResultListener[] = [];
  private timer: NodeJS.Timeout | null = null;
  /** The queue: every run chains onto it. */
  private queue: Promise<unknown> = Promise.resolve();
  private ticking = false;
  private stopped = false;
  private readonly now: () => number;

  constructor(private readonly options: MonitorSchedulerOptions) {
    this.now = options.now ?? Date.now;
    this.predict = options.predict;
  }

  /** The model runner given at construction (the routes use it when they build references). */
  readonly predict: ReferencePredictor | undefined;

  /** Adds a listener called after each stored result (in registration order). */
  onResult(listener: MonitorResultListener): void {
    this.listeners.push(listener);
  }

  /** Starts the timer (idempotent). */
  start(): void {
    if (this.timer || this.stopped) return;
    this.timer = setInterval(() => void this.tick(), this.options.intervalMs ?? 2000);
    this.timer.unref();
  }

  /** Stops the timer and waits for the run in progress. No run starts afterwards. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.queue.catch(() => undefined);
  }

  /**
   * Runs every due monitor once, one at a time; returns their results. Never rejects: a failing run
   * is stored as an `error` result by runMonitor, and a failing store read is logged.
   */
  async tick(): Promise<MonitorResult[]> {
    if (this.ticking || this.stopped) return [];
    this.ticking = true;
    try {
      const due = await dueMonitors(this.options.db, this.now()).catch((error: unknown) => {
        this.options.logger?.error({ err: error }, 'monitor scheduler could not read due monitors');
        return [] as Monitor[];
      });
      const results: MonitorResult[] = [];
      for (const monitor of due) {
        if (this.stopped) break;
        const result = await this.enqueue(monitor).catch((error: unknown) => {
          this.options.logger?.error({ err: error, monitor: monitor.name, deployment: monitor.deployment }, 'monitor run could not be stored');
          return null;
        });
        if (result) results.push(result);
      }
      return results;
    } finally {
      this.ticking = false;
    }
  }

  /**
   * Runs one monitor now (after any run in progress) and returns its stored result.
   * @throws PlinthError DEPLOYMENT_NOT_FOUND, MONITOR_NOT_FOUND
   */
  async runNow(deployment: string, name: string): Promise<MonitorResult> {
    const monitor = await getMonitor(this.options.db, deployment, name);
    return this.enqueue(monitor);
  }

  private enqueue(monitor: Monitor): Promise<MonitorResult> {
    const run = this.queue.then(async () => {
      const result = await runMonitor(this.options.db, this.options.artifacts, monitor, this.now(), this.options.predict);
      await this.notify(result);
      return result;
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async notify(result: MonitorResult): Promise<void> {
    for (const listener of this.listeners) {
      try {
        await listener(result);
      } catch (error) {
        this.options.logger?.warn({ err: error, monitor: result.monitor, deployment: result.deployment }, 'a monitor result listener failed');
      }
    }
  }
}
