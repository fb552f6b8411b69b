// Prometheus counters and histograms for hot paths: a label set is bound once to a child (a few
// numbers in a Float64Array), and recording is then an array update. prom-client's own `labels()`
// children validate and hash the label object on every call (about 1 µs per histogram observation
// on the development machine), which on the inference path cost more than the model run itself.
// These classes register in a prom-client Registry like its own metrics and print the same text
// (histogram samples `_bucket{le,…}`, `_sum`, `_count`; counters as one sample per label set).
import type { Registry } from 'prom-client';

/** One sample as prom-client's `get()` returns it (what Registry.metrics() formats). */
export interface BoundMetricValue {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
}

interface BoundMetricOptions<L extends string> {
  name: string;
  help: string;
  labelNames: readonly L[];
  /** Registries to register in. @default none */
  registers?: Registry[];
}

/** A counter child: its label set is fixed. */
export interface CounterChild {
  /** Adds `value` (default 1, must be ≥ 0). */
  inc(value?: number): void;
}

/** A histogram child: its label set is fixed. */
export interface HistogramChild {
  /** Records one observation (seconds, rows, … as the metric says). */
  observe(value: number): void;
}

abstract class BoundMetric<L extends string, C> {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly L[];
  readonly aggregator = 'sum';
  abstract readonly type: 'counter' | 'histogram';
  protected readonly children = new Map<string, { labels: Record<L, string>; child: C }>();

  constructor(options: BoundMetricOptions<L>) {
    this.name = options.name;
    this.help = options.help;
    this.labelNames = options.labelNames;
    for (const registry of options.registers ?? []) this.register(registry);
  }

  /** Registers the metric in a prom-client registry (it has the interface the registry reads). */
  register(registry: Registry): void {
    registry.registerMetric(this as never);
  }

  /** The child for a label set (created on first use; callers keep it to skip this lookup). */
  labels(labels: Record<L, string>): C {
    let key = '';
    for (const name of this.labelNames) key += `${labels[name]}\u0000`;
    let entry = this.children.get(key);
    if (!entry) {
      const own = {} as Record<L, string>;
      for (const name of this.labelNames) own[name] = labels[name];
      entry = { labels: own, child: this.create() };
      this.children.set(key, entry);
    }
    return entry.child;
  }

  protected abstract create(): C;
  protected abstract values(): BoundMetricValue[];
  abstract reset(): void;

  /** prom-client's metric interface: the samples, read when the registry is scraped. */
  async get(): Promise<{ name: string; help: string; type: string; values: BoundMetricValue[]; aggregator: string }> {
    return { name: this.name, help: this.help, type: this.type, values: this.values(), aggregator: this.aggregator };
  }
}

/** A monotonic counter with bound children. */
export class BoundCounter<L extends string> extends BoundMetric<L, CounterChild & { value: number }> {
  readonly type = 'counter';

  protected create(): CounterChild & { value: number } {
    return {
      value: 0,
      inc(value = 1) {
        this.value += value;
      },
    };
  }

  /** Adds `value` to the series of `labels` (looks the child up: keep the child on hot paths). */
  inc(labels: Record<L, string>, value = 1): void {
    this.labels(labels).inc(value);
  }

  protected values(): BoundMetricValue[] {
    return [...this.children.values()].map(({ labels, child }) => ({ labels, value: child.value }));
  }

  reset(): void {
    for (const { child } of this.children.values()) child.value = 0;
  }
}

/** A histogram (cumulative buckets, sum, count) with bound children. */
export class BoundHistogram<L extends string> extends BoundMetric<L, HistogramChild & { counts: Float64Array; sum: number }> {
  readonly type = 'histogram';
  readonly #bounds: Float64Array;

  /** @param options.buckets upper bounds, ascending (+Inf is implied). */
  constructor(options: BoundMetricOptions<L> & { buckets: readonly number[] }) {
    super(options);
    this.#bounds = Float64Array.from(options.buckets);
  }

  protected create(): HistogramChild & { counts: Float64Array; sum: number } {
    const bounds = this.#bounds;
    // counts[i] for bucket i (non-cumulative); the last slot is +Inf; the count is their sum.
    return {
      counts: new Float64Array(bounds.length + 1),
      sum: 0,
      observe(value: number) {
        let i = 0;
        while (i < bounds.length && value > bounds[i]!) i++;
        this.counts[i]!++;
        this.sum += value;
      },
    };
  }

  /** Records `value` in the series of `labels` (looks the child up: keep the child on hot paths). */
  observe(labels: Record<L, string>, value: number): void {
    this.labels(labels).observe(value);
  }

  protected values(): BoundMetricValue[] {
    const out: BoundMetricValue[] = [];
    const bucket = `${this.name}_bucket`;
    for (const { labels, child } of this.children.values()) {
      let cumulative = 0;
      for (let i = 0; i < this.#bounds.length; i++) {
        cumulative += child.counts[i]!;
        out.push({ labels: { le: this.#bounds[i]!, ...labels }, value: cumulative, metricName: bucket });
      }
      cumulative += child.counts[this.#bounds.length]!;
      out.push({ labels: { le: '+Inf', ...labels }, value: cumulative, metricName: bucket });
      out.push({ labels: { ...labels }, value: child.sum, metricName: `${this.name}_sum` });
      out.push({ labels: { ...labels }, value: cumulative, metricName: `${this.name}_count` });
    }
    return out;
  }

  reset(): void {
    for (const { child } of this.children.values()) {
      child.counts.fill(0);
      child.sum = 0;
    }
  }
}
