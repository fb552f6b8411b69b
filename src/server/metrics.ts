// Prometheus metrics of the HTTP layer, the process and inference requests, served at /metrics.
import type { FastifyInstance, onResponseHookHandler } from 'fastify';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { BoundCounter, BoundHistogram, type CounterChild, type HistogramChild } from '../core/index.js';
import type { MonitorResult } from '../monitor/index.js';
import type { PredictionLogStats } from '../predlog/index.js';
import type { RolloutEvent } from '../rollout/index.js';
import type { InferenceObserver } from '../serving/index.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route records its latency in the inference metrics, not the generic HTTP histogram. */
    inferenceMetrics?: boolean;
  }
}

/** Records one HTTP response of a route: its method and route pattern are bound, the status varies. */
function httpRecorder(
  requests: BoundCounter<'method' | 'route' | 'status'>,
  duration: BoundHistogram<'method' | 'route'> | null,
  route: string,
): (method: string, status: number, seconds: number) => void {
  // Children by method and status, so a response costs two map lookups and two array updates.
  const counts = new Map<string, Map<number, CounterChild>>();
  const times = new Map<string, HistogramChild>();
  return (method, status, seconds) => {
    let byStatus = counts.get(method);
    if (!byStatus) counts.set(method, (byStatus = new Map()));
    let count = byStatus.get(status);
    if (!count) byStatus.set(status, (count = requests.labels({ method, route, status: String(status) })));
    count.inc();
    if (duration) {
      let time = times.get(method);
      if (!time) times.set(method, (time = duration.labels({ method, route })));
      time.observe(seconds);
    }
  };
}

/**
 * Creates a registry with process metrics and HTTP request metrics recorded by hooks on `app`:
 * each route gets its own onResponse hook with its labels bound when it is registered (so call this
 * before registering routes); unmatched requests are counted under route "unmatched".
 */
export function installMetrics(app: FastifyInstance): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'plinth_' });
  const requests = new BoundCounter({
    name: 'plinth_http_requests_total',
    help: 'HTTP requests by method, route and status code',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const duration = new BoundHistogram({
    name: 'plinth_http_request_duration_seconds',
    help: 'HTTP request latency in seconds by method and route',
    labelNames: ['method', 'route'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  app.addHook('onRoute', (route) => {
    // The route pattern, not the URL, keeps label cardinality bounded. Inference routes record
    // their latency in plinth_inference_request_duration_seconds instead.
    const record = httpRecorder(requests, route.config?.inferenceMetrics === true ? null : duration, route.url);
    const hook: onResponseHookHandler = (request, reply, done) => {
      record(request.method, reply.statusCode, reply.elapsedTime / 1000);
      done();
    };
    route.onResponse = route.onResponse === undefined ? [hook] : [...(Array.isArray(route.onResponse) ? route.onResponse : [route.onResponse]), hook];
  });
  const unmatched = httpRecorder(requests, duration, 'unmatched');
  app.addHook('onResponse', (request, reply, done) => {
    if (request.is404) unmatched(request.method, reply.statusCode, reply.elapsedTime / 1000);
    done();
  });
  app.get('/metrics', { config: { permission: 'public' }, schema: { hide: true } }, async (_request, reply) => {
    void reply.type(registry.contentType);
    return registry.metrics();
  });
  return registry;
}

/**
 * Inference request metrics by protocol (oip, mlflow), model, version and status, recorded by the
 * protocol routes once per request: `plinth_inference_requests_total` and
 * `plinth_inference_request_duration_seconds`. Requests that never resolved to a model version
 * (unknown model, bad reference) have empty model and version labels, so labels stay bounded.
 */
export function inferenceRequestMetrics(registry: Registry): InferenceObserver {
  const requests = new BoundCounter({
    name: 'plinth_inference_requests_total',
    help: 'Inference requests by protocol, model, version and HTTP status',
    labelNames: ['protocol', 'model', 'version', 'status'] as const,
    registers: [registry],
  });
  const duration = new BoundHistogram({
    name: 'plinth_inference_request_duration_seconds',
    help: 'Inference request latency (body parsed to response sent) in seconds, by protocol, model and version',
    labelNames: ['protocol', 'model', 'version'] as const,
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  // Children by protocol, model and version (bounded like the labels themselves), in nested maps:
  // the model name arrives as the same string every time, so no key is built per request.
  type Series = { time: HistogramChild; byStatus: Map<number, CounterChild> };
  const series = new Map<string, Map<string, Map<string, Series>>>();
  return (protocol, model, version, status, seconds) => {
    let byModel = series.get(protocol);
    if (!byModel) series.set(protocol, (byModel = new Map()));
    let byVersion = byModel.get(model);
    if (!byVersion) byModel.set(model, (byVersion = new Map()));
    let entry = byVersion.get(version);
    if (!entry) byVersion.set(version, (entry = { time: duration.labels({ protocol, model, version }), byStatus: new Map() }));
    let count = entry.byStatus.get(status);
    if (!count) entry.byStatus.set(status, (count = requests.labels({ protocol, model, version, status: String(status) })));
    count.inc();
    entry.time.observe(seconds);
  };
}

/**
 * Rollout metrics: `plinth_rollout_events_total{deployment, event}` counts the controller's own
 * decisions (step, promoted, rolled_back), so an alert on `rolled_back` fires when a canary fails.
 */
export function rolloutMetrics(registry: Registry): (event: RolloutEvent) => void {
  const events = new Counter({
    name: 'plinth_rollout_events_total',
    help: 'Automatic rollout transitions by deployment and event (step, promoted, rolled_back)',
    labelNames: ['deployment', 'event'] as const,
    registers: [registry],
  });
  return (event) => events.inc({ deployment: event.deployment, event: event.type });
}

/**
 * Monitor metrics: `plinth_monitor_metric{deployment, monitor, metric}` holds every flat metric of
 * each monitor's newest result (drift.share, quality.missing_rate, …). A metric the newest result no
 * longer has (e.g. a statistic that could not be computed) is removed rather than left stale.
 */
export function monitorMetrics(registry: Registry): (result: MonitorResult) => void {
  const gauge = new Gauge({
    name: 'plinth_monitor_metric',
    help: "The newest value of each monitor metric (drift statistics and share, quality counts and rates, …) by deployment, monitor and metric",
    labelNames: ['deployment', 'monitor', 'metric'] as const,
    registers: [registry],
  });
  const shown = new Map<string, Set<string>>();
  return (result) => {
    const key = `${result.deployment}\u0000${result.monitor}`;
    const before = shown.get(key) ?? new Set<string>();
    const now = new Set<string>();
    for (const [metric, value] of Object.entries(result.metrics)) {
      if (typeof value !== 'number' || !Number.isFinite(value)) continue;
      gauge.set({ deployment: result.deployment, monitor: result.monitor, metric }, value);
      now.add(metric);
    }
    for (const metric of before) if (!now.has(metric)) gauge.remove({ deployment: result.deployment, monitor: result.monitor, metric });
    shown.set(key, now);
  };
}

/**
 * Prediction-log counters, read at scrape time: `plinth_prediction_log_rows_total{outcome}` (written,
 * failed, dropped, sampled_out) and `plinth_prediction_log_batches_total` (write transactions; rows
 * over batches is the group-commit size).
 */
export function predictionLogMetrics(registry: Registry, stats: () => PredictionLogStats): void {
  new Counter({
    name: 'plinth_prediction_log_rows_total',
    help: 'Prediction-log rows by outcome: written, failed (write failed), dropped (refused: too many pending, or closed), sampled_out',
    labelNames: ['outcome'] as const,
    registers: [registry],
    collect() {
      const s = stats();
      this.reset();
      this.inc({ outcome: 'written' }, s.written);
      this.inc({ outcome: 'failed' }, s.failed);
      this.inc({ outcome: 'dropped' }, s.dropped);
      this.inc({ outcome: 'sampled_out' }, s.sampledOut);
    },
  });
  new Counter({
    name: 'plinth_prediction_log_batches_total',
    help: 'Prediction-log write transactions (group commits)',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(stats().batches);
    },
  });
}
