// Webhook delivery of alert events. Every attempt is a row of alert_deliveries: evaluation queues
// attempt 1 (status pending, due at once); the sender claims due rows, POSTs the event's stored
// payload, and records the outcome (delivered, failed, or gave_up after the last attempt), queueing
// the next attempt after an exponential delay (base, 2·base, 4·base …). Because the queue is the
// table, pending deliveries survive restarts: a started sender picks up every row whose
// next_attempt_at has passed. Sends run concurrently up to a bound, each with a timeout; failures
// are recorded and logged (never with the URL or the secret, which can carry credentials) and never
// reach the caller.
//
// Signature: X-Plinth-Timestamp is the attempt time in whole seconds since the epoch, and
//   X-Plinth-Signature = "sha256=" + hex(HMAC-SHA256(key = the rule's webhook_secret,
//                                                    message = X-Plinth-Timestamp + "." + raw body))
// over the exact bytes of the body (UTF-8 JSON). Receivers recompute it, compare in constant time
// and may refuse old timestamps to stop replays.
import { createHmac } from 'node:crypto';
import { nowMs, type Logger } from '../core/index.js';
import type { Db } from '../store/index.js';

/** How the sender retries and bounds its work. */
export interface WebhookSenderOptions {
  /** Delay before attempt 2; attempt n+1 waits base·2^(n-1) after attempt n, ms. @default 1000 */
  baseDelayMs?: number;
  /** Attempts per event, the first included. @default 5 */
  maxAttempts?: number;
  /** Requests in flight at once. @default 4 */
  concurrency?: number;
  /** Per-request timeout (connect to the end of the response headers), ms. @default 10000 */
  timeoutMs?: number;
  /**
   * How often the table is checked for due attempts when nothing woke the sender (evaluation,
   * start and retry timers wake it; polling finds attempts whose lease expired after a crash, or
   * queued by another process), ms. @default 5000
   */
  pollMs?: number;
  now?: () => number;
  logger?: Logger;
}

export const DEFAULT_WEBHOOK_OPTIONS = Object.freeze({ baseDelayMs: 1000, maxAttempts: 5, concurrency: 4, timeoutMs: 10_000, pollMs: 5000 });

/** The headers a webhook request carries. */
export const SIGNATURE_HEADER = 'X-Plinth-Signature';
export const TIMESTAMP_HEADER = 'X-Plinth-Timestamp';
export const EVENT_HEADER = 'X-Plinth-Event';
export const ATTEMPT_HEADER = 'X-Plinth-Attempt';

/** Longest error text stored per attempt. */
const MAX_ERROR_LENGTH = 500;

/**
 * The signature header's value: `sha256=` + lowercase hex HMAC-SHA256 with key `secret` over
 * `${timestamp}.${body}` (timestamp in whole seconds, as sent in X-Plinth-Timestamp; body the
 * exact raw request body).
 */
export function webhookSignature(secret: string, timestamp: string, body: string | Uint8Array): string {
  return 'sha256=' + createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex');
}

/** Delay between attempt `attempt` (1-based) and the next, ms: base·2^(attempt-1). */
export function retryDelayMs(baseDelayMs: number, attempt: number): number {
  return baseDelayMs * 2 ** (attempt - 1);
}

interface DueRow {
  id: number;
  event_id: number;
  attempt: number;
  next_attempt_at: number | null;
}

/** Sends pending alert deliveries; see the file comment. */
export class WebhookSender {
  private readonly options: Required<Omit<WebhookSenderOptions, 'logger'>> & { logger: Logger | undefined };
  private readonly inFlight = new Set<Promise<void>>();
  private readonly stopping = new AbortController();
  private timer: NodeJS.Timeout | null = null;
  private draining: Promise<void> | null = null;
  private again = false;
  private started = false;
  private stopped = false;

  constructor(private readonly db: Db, options: WebhookSenderOptions = {}) {
    this.options = { ...DEFAULT_WEBHOOK_OPTIONS, now: nowMs, ...options, logger: options.logger };
  }

  /** Starts polling; picks up deliveries left pending by an earlier run at once. */
  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    this.timer = setInterval(() => this.wake(), this.options.pollMs);
    this.timer.unref();
    this.wake();
  }

  /** Asks the sender to look for due deliveries now (evaluation calls it after queueing one). */
  wake(): void {
    if (!this.started || this.stopped) return;
    if (this.draining) {
      this.again = true;
      return;
    }
    this.draining = this.drain()
      .catch((error: unknown) => this.options.logger?.error({ err: error }, 'alert webhook sender: reading the queue failed'))
      .finally(() => {
        this.draining = null;
        if (this.again) {
          this.again = false;
          this.wake();
        }
      });
  }

  /**
   * Stops polling, aborts requests in flight (their attempts stay pending and are picked up again
   * at the next start) and waits for them to settle. Idempotent.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.stopping.abort();
    await this.draining;
    await Promise.allSettled([...this.inFlight]);
  }

  /** Number of requests in flight now. */
  get active(): number {
    return this.inFlight.size;
  }

  private async drain(): Promise<void> {
    while (!this.stopped && this.inFlight.size < this.options.concurrency) {
      const now = this.options.now();
      const due = (await this.db
        .selectFrom('alert_deliveries')
        .select(['id', 'event_id', 'attempt', 'next_attempt_at'])
        .where('status', '=', 'pending')
        .where('next_attempt_at', '<=', now)
        .orderBy('next_attempt_at', 'asc')
        .orderBy('id', 'asc')
        .limit(this.options.concurrency - this.inFlight.size)
        .execute()) as DueRow[];
      if (due.length === 0) return;
      let claimed = 0;
      for (const row of due) {
        if (this.stopped) return;
        // The claim moves next_attempt_at past the request's timeout: a crash mid-request leaves the
        // row due again after that lease, and a second sender on the same database skips it.
        const lease = now + this.options.timeoutMs + 5_000;
        const result = await this.db
          .updateTable('alert_deliveries')
          .set({ next_attempt_at: lease })
          .where('id', '=', row.id)
          .where('status', '=', 'pending')
          .where('next_attempt_at', '=', row.next_attempt_at)
          .executeTakeFirst();
        if (Number(result.numUpdatedRows) !== 1) continue;
        claimed++;
        const sending: Promise<void> = this.send(row)
          .catch((error: unknown) => this.options.logger?.error({ err: error, event: row.event_id }, 'alert webhook sender: recording an attempt failed'))
          .finally(() => {
            this.inFlight.delete(sending);
            this.wake();
          });
        this.inFlight.add(sending);
      }
      if (claimed === 0) return;
    }
  }

  private async send(row: DueRow): Promise<void> {
    const target = await this.db
      .selectFrom('alert_events as e')
      .innerJoin('alert_rules as r', 'r.id', 'e.rule_id')
      .select(['e.payload', 'r.name', 'r.webhook_url', 'r.webhook_secret'])
      .where('e.id', '=', row.event_id)
      .executeTakeFirst();
    const startedAt = this.options.now();
    if (!target || target.webhook_url === null) {
      await this.finish(row, startedAt, { status: 'gave_up', responseStatus: null, error: target ? 'the rule no longer has a webhook_url' : 'the event or its rule was deleted' });
      return;
    }
    const body = target.payload;
    const timestamp = String(Math.floor(startedAt / 1000));
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'user-agent': 'Plinth-Alerts/1',
      [TIMESTAMP_HEADER]: timestamp,
      [EVENT_HEADER]: String(row.event_id),
      [ATTEMPT_HEADER]: String(row.attempt),
    };
    if (target.webhook_secret !== null) headers[SIGNATURE_HEADER] = webhookSignature(target.webhook_secret, timestamp, body);
    let responseStatus: number | null = null;
    let error: string | null = null;
    try {
      const response = await fetch(target.webhook_url, {
        method: 'POST',
        headers,
        body,
        redirect: 'manual',
        signal: AbortSignal.any([AbortSignal.timeout(this.options.timeoutMs), this.stopping.signal]),
      });
      responseStatus = response.status;
      // The receiver's answer is not ours to keep; drain it so the connection can be reused.
      await response.body?.cancel().catch(() => undefined);
      if (response.status < 200 || response.status >= 300) error = `HTTP ${response.status}`;
    } catch (caught) {
      if (this.stopping.signal.aborted) {
        // Shutting down: the attempt did not count; due again at the next start.
        await this.db.updateTable('alert_deliveries').set({ next_attempt_at: startedAt }).where('id', '=', row.id).where('status', '=', 'pending').execute();
        return;
      }
      error = describeFetchError(caught, this.options.timeoutMs);
    }
    if (error === null) {
      await this.finish(row, startedAt, { status: 'delivered', responseStatus, error: null });
      return;
    }
    const last = row.attempt >= this.options.maxAttempts;
    await this.finish(row, startedAt, { status: last ? 'gave_up' : 'failed', responseStatus, error });
    this.options.logger?.warn({ rule: target.name, event: row.event_id, attempt: row.attempt, error }, last ? 'alert webhook: gave up' : 'alert webhook: attempt failed; will retry');
  }

  private async finish(row: DueRow, startedAt: number, outcome: { status: 'delivered' | 'failed' | 'gave_up'; responseStatus: number | null; error: string | null }): Promise<void> {
    const finishedAt = this.options.now();
    await this.db.transaction().execute(async (trx) => {
      await trx
        .updateTable('alert_deliveries')
        .set({ status: outcome.status, response_status: outcome.responseStatus, error: outcome.error?.slice(0, MAX_ERROR_LENGTH) ?? null, at: startedAt, next_attempt_at: null })
        .where('id', '=', row.id)
        .execute();
      if (outcome.status === 'failed') {
        const due = finishedAt + retryDelayMs(this.options.baseDelayMs, row.attempt);
        await trx.insertInto('alert_deliveries').values({ event_id: row.event_id, attempt: row.attempt + 1, status: 'pending', response_status: null, error: null, at: finishedAt, next_attempt_at: due }).execute();
      }
    });
    if (outcome.status === 'failed' && !this.stopped) {
      // Wake up when the retry is due rather than at the next poll.
      const retry = setTimeout(() => this.wake(), retryDelayMs(this.options.baseDelayMs, row.attempt) + 1);
      retry.unref();
    }
  }
}

function describeFetchError(error: unknown, timeoutMs: number): string {
  if (error instanceof Error) {
    if (error.name === 'TimeoutError') return `timed out after ${timeoutMs} ms`;
    const cause = (error as { cause?: unknown }).cause;
    if (cause instanceof Error) {
      const code = (cause as { code?: unknown }).code;
      return typeof code === 'string' ? `${code}: ${cause.message}` : cause.message;
    }
    return error.message;
  }
  return String(error);
}
