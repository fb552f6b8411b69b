// Prometheus metrics of the serving engine, by model and version: time in the batching queue,
// rows per runtime call, runtime compute time, requests in flight, loaded versions and their
// estimated memory. Created unregistered; the server registers them in its own registry
// (ModelManager.registerMetrics), beside the HTTP metrics the protocol layer records. The
// per-request and per-batch histograms have their label sets bound per loaded version, so recording
// is an array update (see core's bound-metrics.ts).
import { Gauge, Histogram, type Registry } from 'prom-client';
import { BoundHistogram } from '../core/index.js';

const LABELS = ['model', 'version'] as const;

/** One loaded version's requests in flight, read when metrics are scraped. */
export interface InFlightCount {
  model: string;
  version: number;
  inFlight: number;
}

/** The engine's metric objects. */
export class EngineMetrics {
  /** @param inFlightCounts the engine's current in-flight counts per loaded version. */
  constructor(inFlightCounts: () => Iterable<InFlightCount> = () => []) {
    this.inFlight = new Gauge({
      name: 'plinth_inference_in_flight',
      help: 'Inference requests queued or computing',
      labelNames: LABELS,
      registers: [],
      collect() {
        this.reset();
        for (const count of inFlightCounts()) this.set({ model: count.model, version: String(count.version) }, count.inFlight);
      },
    });
  }

  readonly queueSeconds = new BoundHistogram({
    name: 'plinth_inference_queue_seconds',
    help: 'Time inference requests waited in the batching queue before the runtime took them, seconds',
    labelNames: LABELS,
    buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [],
  });

  readonly batchSize = new BoundHistogram({
    name: 'plinth_inference_batch_size',
    help: 'Rows per runtime call (dynamic batching merges requests)',
    labelNames: LABELS,
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024],
    registers: [],
  });

  readonly computeSeconds = new BoundHistogram({
    name: 'plinth_inference_compute_seconds',
    help: 'Runtime time per batch, seconds',
    labelNames: LABELS,
    buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [],
  });

  /** Set at scrape time from the engine's own counts (see `constructor`): nothing per request. */
  readonly inFlight: Gauge<(typeof LABELS)[number]>;

  readonly loaded = new Gauge({
    name: 'plinth_model_loaded',
    help: '1 for each model version loaded and ready to serve',
    labelNames: [...LABELS, 'runtime'] as const,
    registers: [],
  });

  readonly memoryBytes = new Gauge({
    name: 'plinth_model_memory_estimate_bytes',
    help: "Estimated memory of each loaded model version's sessions, bytes (counted against the memory budget)",
    labelNames: LABELS,
    registers: [],
  });

  readonly loadSeconds = new Histogram({
    name: 'plinth_model_load_seconds',
    help: 'Time to load and warm up a model version, seconds',
    labelNames: ['model'] as const,
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [],
  });

  readonly #registered = new WeakSet<Registry>();

  /** Registers every engine metric in `registry` (the server's); a second call with the same registry does nothing. */
  register(registry: Registry): void {
    if (this.#registered.has(registry)) return;
    this.#registered.add(registry);
    for (const metric of [this.queueSeconds, this.batchSize, this.computeSeconds]) metric.register(registry);
    for (const metric of [this.inFlight, this.loaded, this.memoryBytes, this.loadSeconds]) registry.registerMetric(metric);
  }
}
