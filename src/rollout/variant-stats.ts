// Live statistics of one variant of a deployment over one analysis window (VariantStats), and of
// the mirrored pairs of a shadow rollout (ShadowStats). `record` is on the request path: O(1), no
// allocation (typed arrays sized once, running sums, a seeded reservoir), so the analyses
// (analysis.ts) read everything they need without keeping every request.
//
// Latency quantiles are exact (numpy's 'linear' interpolation over the sorted values) while a
// window holds at most EXACT_LATENCY_LIMIT successful requests; beyond that they come from a
// log-linear histogram whose buckets grow by γ = 1.01/0.99, so every quantile is within 1 %
// relative of the exact one (DDSketch's bound: a bucket (m·γ^(i−1), m·γ^i] is represented by
// 2m·γ^i/(γ+1); an interpolation between two order statistics keeps the bound because latencies are
// ≥ 0). Latencies below 1 µs share one bucket (absolute error < 1 µs); estimates are clamped to the
// exact minimum and maximum seen.

/** What the request path reports for one request routed to a variant. */
export interface VariantRequest {
  /** False when the variant answered with an error (the request counts towards the error rate only). */
  ok: boolean;
  /** Wall time of the inference in milliseconds (≥ 0); only successful requests enter the latency statistics. */
  latencyMs: number;
  /** The first value of the first output; ignored when the request failed or the value is not finite. */
  prediction?: number;
  requestId: string;
}

export interface VariantStatsOptions {
  /** Seed of the reservoir's PRNG (uint32). @default 0x5eed */
  seed?: number;
  /** Predictions kept in the uniform reservoir. @default 10000 */
  sampleSize?: number;
  /** Most recent (request id, prediction) pairs kept for joining labels. @default 5000 */
  recentSize?: number;
}

/** Running count, mean and sum of squared deviations (Welford), so the tests need no values. */
export interface Moments {
  count: number;
  mean: number;
  /** Sample variance (n − 1 in the denominator); NaN below two values. */
  variance: number;
}

/** A logged prediction with the ground-truth label that arrived for it (any JSON; analysis.ts reads numbers, booleans and numeric strings). */
export interface LabelledPrediction {
  prediction: number;
  label: unknown;
}

/** The plain-JSON view of a VariantStats window (null where nothing was measured yet). */
export interface VariantSummary {
  started_at: number;
  requests: number;
  errors: number;
  error_rate: number | null;
  p50_ms: number | null;
  p99_ms: number | null;
  mean_latency_ms: number | null;
  /** 'exact' while at most EXACT_LATENCY_LIMIT successful requests were seen, then 'histogram' (≤ 1 % relative error). */
  latency_quantiles: 'exact' | 'histogram';
  predictions: number;
  mean_prediction: number | null;
  prediction_std: number | null;
}

/** Successful requests whose latencies are kept exactly; above, quantiles come from the histogram. */
export const EXACT_LATENCY_LIMIT = 2048;
/** Relative error bound of the latency histogram. */
export const LATENCY_RELATIVE_ERROR = 0.01;
export const DEFAULT_SAMPLE_SIZE = 10_000;
export const DEFAULT_RECENT_SIZE = 5_000;
const DEFAULT_SEED = 0x5eed;

const GAMMA = (1 + LATENCY_RELATIVE_ERROR) / (1 - LATENCY_RELATIVE_ERROR);
const LOG_GAMMA = Math.log(GAMMA);
/** Lower end of the first log bucket, ms (1 µs). */
const HISTOGRAM_MIN_MS = 1e-3;
/** Buckets up to 10⁸ ms (about 28 hours); longer latencies share the last one (and the exact maximum clamps it). */
const HISTOGRAM_BUCKETS = Math.ceil(Math.log(1e8 / HISTOGRAM_MIN_MS) / LOG_GAMMA) + 1;

/** mulberry32: a small, fast, seedable 32-bit PRNG; returns [0, 1). */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Welford's running mean and variance. */
class RunningMoments {
  count = 0;
  mean = 0;
  private m2 = 0;

  add(x: number): void {
    this.count++;
    const delta = x - this.mean;
    this.mean += delta / this.count;
    this.m2 += delta * (x - this.mean);
  }

  snapshot(): Moments {
    return { count: this.count, mean: this.count > 0 ? this.mean : Number.NaN, variance: this.count > 1 ? this.m2 / (this.count - 1) : Number.NaN };
  }
}

/** numpy.quantile(method='linear') of an ascending array. */
function quantileOfSorted(sorted: ArrayLike<number>, q: number): number {
  const h = q * (sorted.length - 1);
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
}

/**
 * Latency distribution: exact values up to EXACT_LATENCY_LIMIT, a log-linear histogram always
 * (so nothing has to be migrated when the exact buffer fills).
 */
class LatencyQuantiles {
  private readonly exact = new Float64Array(EXACT_LATENCY_LIMIT);
  private readonly buckets = new Uint32Array(HISTOGRAM_BUCKETS);
  count = 0;
  private min = Infinity;
  private max = -Infinity;

  add(ms: number): void {
    const x = ms > 0 ? ms : 0;
    if (this.count < EXACT_LATENCY_LIMIT) this.exact[this.count] = x;
    this.count++;
    if (x < this.min) this.min = x;
    if (x > this.max) this.max = x;
    let i = x <= HISTOGRAM_MIN_MS ? 0 : Math.ceil(Math.log(x / HISTOGRAM_MIN_MS) / LOG_GAMMA);
    if (i >= HISTOGRAM_BUCKETS) i = HISTOGRAM_BUCKETS - 1;
    this.buckets[i]!++;
  }

  get isExact(): boolean {
    return this.count <= EXACT_LATENCY_LIMIT;
  }

  /** Several quantiles at once (one sort or one histogram pass each); NaN when empty. */
  quantiles(qs: readonly number[]): number[] {
    if (this.count === 0) return qs.map(() => Number.NaN);
    if (this.isExact) {
      const sorted = this.exact.slice(0, this.count).sort();
      return qs.map((q) => quantileOfSorted(sorted, q));
    }
    return qs.map((q) => {
      const h = q * (this.count - 1);
      const lo = Math.floor(h);
      const a = this.orderStatistic(lo);
      const b = h > lo ? this.orderStatistic(lo + 1) : a;
      return a + (h - lo) * (b - a);
    });
  }

  /** The estimate of the k-th smallest latency (0-based) from the histogram. */
  private orderStatistic(k: number): number {
    if (k === 0) return this.min;
    if (k >= this.count - 1) return this.max;
    let seen = 0;
    for (let i = 0; i < HISTOGRAM_BUCKETS; i++) {
      seen += this.buckets[i]!;
      if (seen > k) {
        const estimate = i === 0 ? HISTOGRAM_MIN_MS / 2 : (2 * HISTOGRAM_MIN_MS * Math.exp(i * LOG_GAMMA)) / (GAMMA + 1);
        return Math.min(this.max, Math.max(this.min, estimate));
      }
    }
    return this.max;
  }
}

/** Algorithm R over a fixed Float64Array: after n offers each value is kept with probability min(1, k/n). */
class Reservoir {
  private readonly values: Float64Array;
  offered = 0;

  constructor(
    capacity: number,
    private readonly random: () => number,
  ) {
    this.values = new Float64Array(capacity);
  }

  /** The slot the next value goes to, or −1 when it is not kept. */
  slot(): number {
    const n = this.offered++;
    if (n < this.values.length) return n;
    const j = Math.floor(this.random() * (n + 1));
    return j < this.values.length ? j : -1;
  }

  offer(x: number): void {
    const s = this.slot();
    if (s >= 0) this.values[s] = x;
  }

  set(slot: number, x: number): void {
    this.values[slot] = x;
  }

  /** A copy of the kept values (in slot order, not sorted). */
  sample(): Float64Array {
    return this.values.slice(0, Math.min(this.offered, this.values.length));
  }
}

function positiveInteger(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer`);
  return value;
}

const finiteOrNull = (x: number): number | null => (Number.isFinite(x) ? x : null);

/**
 * One analysis window of one variant's traffic: request and error counts, latency quantiles and
 * moments, prediction moments, a uniform reservoir of predictions and the most recent
 * (request id, prediction) pairs. Memory is fixed at construction (about 180 kB with the defaults).
 */
export class VariantStats {
  /** Window start, ms since the epoch (as the caller's clock gives it). */
  readonly startedAt: number;
  requests = 0;
  errors = 0;
  private readonly latency = new LatencyQuantiles();
  private readonly latencyMoments = new RunningMoments();
  private readonly predictionMoments = new RunningMoments();
  private readonly reservoir: Reservoir;
  private readonly recentIds: string[];
  private readonly recentPredictions: Float64Array;
  private recentNext = 0;
  private recentCount = 0;

  /** @throws RangeError when a size option is not a positive integer */
  constructor(startedAt: number, options: VariantStatsOptions = {}) {
    this.startedAt = startedAt;
    const sampleSize = positiveInteger(options.sampleSize, DEFAULT_SAMPLE_SIZE, 'sampleSize');
    const recentSize = positiveInteger(options.recentSize, DEFAULT_RECENT_SIZE, 'recentSize');
    this.reservoir = new Reservoir(sampleSize, mulberry32(options.seed ?? DEFAULT_SEED));
    this.recentIds = new Array<string>(recentSize).fill('');
    this.recentPredictions = new Float64Array(recentSize);
  }

  /** Counts one request. O(1); allocates nothing. */
  record(request: VariantRequest): void {
    this.requests++;
    if (!request.ok) {
      this.errors++;
      return;
    }
    const ms = request.latencyMs;
    if (ms === ms) {
      this.latency.add(ms);
      this.latencyMoments.add(ms > 0 ? ms : 0);
    }
    const p = request.prediction;
    const prediction = p !== undefined && Number.isFinite(p) ? p : Number.NaN;
    if (prediction === prediction) {
      this.predictionMoments.add(prediction);
      this.reservoir.offer(prediction);
    }
    this.recentIds[this.recentNext] = request.requestId;
    this.recentPredictions[this.recentNext] = prediction;
    this.recentNext = (this.recentNext + 1) % this.recentIds.length;
    if (this.recentCount < this.recentIds.length) this.recentCount++;
  }

  /** Errors / requests; NaN before the first request. */
  get errorRate(): number {
    return this.requests > 0 ? this.errors / this.requests : Number.NaN;
  }

  /** Latency quantiles of the successful requests, ms (q in [0, 1]); NaN when there are none. Exact up to EXACT_LATENCY_LIMIT values, ≤ 1 % relative error beyond. */
  latencyQuantiles(qs: readonly number[]): number[] {
    return this.latency.quantiles(qs);
  }

  /** Whether latency quantiles are still exact. */
  get latencyExact(): boolean {
    return this.latency.isExact;
  }

  /** Mean and sample variance of successful requests' latencies, ms. */
  latencyStats(): Moments {
    return this.latencyMoments.snapshot();
  }

  /** Mean and sample variance of the (finite) predictions of all successful requests, not only the sampled ones. */
  predictionStats(): Moments {
    return this.predictionMoments.snapshot();
  }

  /** A uniform random sample (without replacement) of up to `sampleSize` predictions, as a new array in no particular order. */
  predictionSample(): Float64Array {
    return this.reservoir.sample();
  }

  /** The most recent successful requests (oldest first), with their prediction or null when it was not a finite number. */
  recent(): Array<{ requestId: string; prediction: number | null }> {
    const out: Array<{ requestId: string; prediction: number | null }> = [];
    const size = this.recentIds.length;
    for (let k = 0; k < this.recentCount; k++) {
      const i = (this.recentNext - this.recentCount + k + size) % size;
      out.push({ requestId: this.recentIds[i]!, prediction: finiteOrNull(this.recentPredictions[i]!) });
    }
    return out;
  }

  /**
   * Joins labels to the recent predictions by request id (only ids still among the most recent
   * `recentSize` with a numeric prediction; a repeated id keeps its latest prediction).
   */
  labelled(labels: ReadonlyMap<string, unknown>): LabelledPrediction[] {
    const latest = new Map<string, number>();
    for (const { requestId, prediction } of this.recent()) if (prediction !== null && labels.has(requestId)) latest.set(requestId, prediction);
    return [...latest].map(([requestId, prediction]) => ({ prediction, label: labels.get(requestId) }));
  }

  /** Plain JSON for the analysis endpoint. */
  summary(): VariantSummary {
    const [p50, p99] = this.latencyQuantiles([0.5, 0.99]) as [number, number];
    const latency = this.latencyStats();
    const predictions = this.predictionStats();
    return {
      started_at: this.startedAt,
      requests: this.requests,
      errors: this.errors,
      error_rate: finiteOrNull(this.errorRate),
      p50_ms: finiteOrNull(p50),
      p99_ms: finiteOrNull(p99),
      mean_latency_ms: finiteOrNull(latency.mean),
      latency_quantiles: this.latencyExact ? 'exact' : 'histogram',
      predictions: predictions.count,
      mean_prediction: finiteOrNull(predictions.mean),
      prediction_std: finiteOrNull(Math.sqrt(predictions.variance)),
    };
  }
}

/** One mirrored request: what the primary answered and what the shadow answered. */
export interface ShadowPair {
  /** The primary's first output value (undefined or non-finite when it had none). */
  primary?: number;
  /** The shadow's first output value (ignored when the shadow failed). */
  shadow?: number;
  /** False when the shadow errored (or timed out). */
  shadowOk: boolean;
}

/** Relative tolerance under which two predictions count as equal. */
export const AGREEMENT_TOLERANCE = 1e-6;

/**
 * Whether two predictions agree: equal within 1e-6 relative (|a − b| ≤ 1e-6·max(|a|, |b|)), or,
 * when both are probabilities in [0, 1], when they give the same label at 0.5 (p ≥ 0.5 ↦ 1).
 */
export function predictionsAgree(a: number, b: number): boolean {
  if (valuesAgree(a, b)) return true;
  return a >= 0 && a <= 1 && b >= 0 && b <= 1 && a >= 0.5 === b >= 0.5;
}

/** Equality within AGREEMENT_TOLERANCE relative. */
export function valuesAgree(a: number, b: number): boolean {
  return Math.abs(a - b) <= AGREEMENT_TOLERANCE * Math.max(Math.abs(a), Math.abs(b));
}

/**
 * The mirrored traffic of a shadow rollout: counts, agreement, absolute differences and a paired
 * uniform sample of (primary, shadow) predictions (one reservoir decision per pair, so the two
 * samples come from the same requests). `record` is O(1) and allocates nothing.
 */
export class ShadowStats {
  readonly startedAt: number;
  /** Mirrored requests recorded. */
  mirrored = 0;
  shadowErrors = 0;
  /** Pairs where both predictions were finite numbers. */
  compared = 0;
  /** Compared pairs that agree by predictionsAgree. */
  agreements = 0;
  /** Compared pairs equal within 1e-6 relative. */
  valueAgreements = 0;
  private readonly absoluteDifference = new RunningMoments();
  private readonly primarySample: Reservoir;
  /** The shadow's prediction of the pair whose primary prediction sits in the same reservoir slot. */
  private readonly shadowValues: Float64Array;

  /** @throws RangeError when sampleSize is not a positive integer */
  constructor(startedAt: number, options: Pick<VariantStatsOptions, 'seed' | 'sampleSize'> = {}) {
    this.startedAt = startedAt;
    const sampleSize = positiveInteger(options.sampleSize, DEFAULT_SAMPLE_SIZE, 'sampleSize');
    this.primarySample = new Reservoir(sampleSize, mulberry32(options.seed ?? DEFAULT_SEED));
    this.shadowValues = new Float64Array(sampleSize);
  }

  record(pair: ShadowPair): void {
    this.mirrored++;
    if (!pair.shadowOk) {
      this.shadowErrors++;
      return;
    }
    const a = pair.primary;
    const b = pair.shadow;
    if (a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b)) return;
    this.compared++;
    if (valuesAgree(a, b)) {
      this.valueAgreements++;
      this.agreements++;
    } else if (predictionsAgree(a, b)) {
      this.agreements++;
    }
    this.absoluteDifference.add(Math.abs(a - b));
    const slot = this.primarySample.slot();
    if (slot >= 0) {
      this.primarySample.set(slot, a);
      this.shadowValues[slot] = b;
    }
  }

  /** Shadow errors / mirrored requests; NaN before the first. */
  get shadowErrorRate(): number {
    return this.mirrored > 0 ? this.shadowErrors / this.mirrored : Number.NaN;
  }

  /** Agreements / compared pairs; NaN before the first compared pair. */
  get agreementRate(): number {
    return this.compared > 0 ? this.agreements / this.compared : Number.NaN;
  }

  /** Mean and sample variance of |primary − shadow| over the compared pairs. */
  absoluteDifferenceStats(): Moments {
    return this.absoluteDifference.snapshot();
  }

  /** Paired samples (same requests, same order) of up to `sampleSize` compared pairs. */
  samples(): { primary: Float64Array; shadow: Float64Array } {
    const primary = this.primarySample.sample();
    return { primary, shadow: this.shadowValues.slice(0, primary.length) };
  }
}
