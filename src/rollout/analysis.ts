// The statistics that decide rollouts, computed from VariantStats/ShadowStats windows (and the
// labels joined to them): the canary analysis (pass / fail / wait from error rate, p99 latency,
// prediction shift and quality checks), the A/B tests on the difference between two variants
// (two-proportion z-tests, Welch's t-tests) and the shadow comparison (agreement, PSI, KS).
// Pure and synchronous; p-values come from src/monitor's special functions.
import { PSI_EPSILON, binnedProportions, ksStatisticSorted, ksTwoSampleSorted, kstwoSf, normalSf, numericSample, studentTSf } from '../monitor/index.js';
import { type LabelledPrediction, type Moments, type ShadowStats, type VariantStats } from './variant-stats.js';

export type QualityMetric = 'accuracy' | 'mae';
export type CanaryVerdict = 'pass' | 'fail' | 'wait';

/** Labels joined to each variant's recent predictions; for A/B, `stable` is variant a and `canary` variant b. */
export interface VariantLabels {
  stable: readonly LabelledPrediction[];
  canary: readonly LabelledPrediction[];
}

/** One check of a canary analysis. A skipped check (not enough data, no limit set) counts as passed. */
export interface AnalysisCheck {
  name: 'requests' | 'error_rate' | 'latency_p99_ratio' | 'latency_p99' | 'prediction_psi' | 'quality';
  /** What was measured (ms for latencies, a rate, PSI, a quality drop); null when nothing could be. */
  value: number | null;
  /** The limit `value` is held to (the check passes when value ≤ threshold, `requests` when ≥); null when none applies. */
  threshold: number | null;
  passed: boolean;
  skipped: boolean;
  detail: string;
}

/** The thresholds of a canary step (the deployment's `analysis` settings, plus the guards below). */
export interface CanaryAnalysisOptions {
  /** The canary must have served this many requests before the analysis can pass or fail (except the early error-rate failure). */
  minRequests: number;
  /**
   * The canary's error rate at most this, or at most the stable's rate + `errorRateMargin` when that
   * is higher and the stable has ≥ minRequests requests (errors the traffic itself causes in both
   * versions are not the canary's fault).
   */
  maxErrorRate: number;
  /** The canary's p99 at most this many times the stable's p99, but never less than `latencyFloorMs`. */
  maxLatencyRatio: number;
  /** The canary's p99 at most this many ms; null or absent: no absolute limit. */
  maxP99Ms?: number | null;
  /** PSI of the canary's predictions against the stable's at most this; null or absent: not checked. */
  maxPredictionPsi?: number | null;
  /** How much worse the canary's quality may be: accuracy points (stable − canary) or MAE (canary − stable); null or absent: not checked. */
  maxQualityDrop?: number | null;
  /** null or absent: inferQualityMetric of the labels. */
  qualityMetric?: QualityMetric | null;
  /** @default 0.01 */
  errorRateMargin?: number;
  /** p99 latencies at or under this many ms always pass the ratio check (jitter of a few ms is not a regression). @default 5 */
  latencyFloorMs?: number;
  /** Predictions each variant needs before the PSI check runs (PSI of smaller samples is dominated by noise: ≈ 9/n for 10 bins). @default 100 */
  minPredictions?: number;
  /** Labelled requests each variant needs before the quality check runs. @default 30 */
  minLabelled?: number;
}

/** Distribution shift of a current prediction sample from a reference one. */
export interface PredictionShift {
  /** Population stability index on the reference's deciles (by value when the reference has ≤ 20 distinct values), empty bins at 0.0001. */
  psi: number;
  bins: number;
  binning: string;
  /** Two-sample Kolmogorov–Smirnov D and its p-value (scipy.stats.ks_2samp). */
  ks_statistic: number;
  ks_p_value: number;
  /** 'exact' (method='auto' below KS_EXACT_MAX_PAIRS) or 'asymptotic' (method='asymp'). */
  ks_method: 'exact' | 'asymptotic';
  reference_n: number;
  current_n: number;
}

/** A variant's quality on its labelled requests. */
export interface QualityMeasure {
  metric: QualityMetric;
  /** Labelled requests that could be scored (a label that is not a number, boolean or string is left out; MAE needs numeric labels). */
  labelled: number;
  /** Accuracy in [0, 1], or the mean absolute error; null when nothing could be scored. */
  value: number | null;
}

export interface CanaryAnalysis {
  verdict: CanaryVerdict;
  checks: AnalysisCheck[];
  /** The prediction shift of the canary from the stable (null when either has no predictions). */
  shift: PredictionShift | null;
  /** Quality of each variant when labels were given. */
  quality: { stable: QualityMeasure; canary: QualityMeasure } | null;
}

/** The result of one test on the difference b − a. */
export interface ABTest {
  metric: 'error_rate' | 'mean_prediction' | 'mean_latency_ms' | 'accuracy' | 'mae';
  test: 'two_proportion_z' | 'welch_t';
  a: number | null;
  b: number | null;
  n_a: number;
  n_b: number;
  /** b − a; null when either side has too little data. */
  difference: number | null;
  /** z or t; null when it could not be computed (too little data, or both variants constant and different). */
  statistic: number | null;
  /** Welch–Satterthwaite degrees of freedom (t-tests only). */
  df: number | null;
  /** Two-sided p-value; null when the test could not run. */
  p_value: number | null;
  /** p_value < alpha. */
  significant: boolean;
  detail: string;
}

export interface ABComparison {
  alpha: number;
  tests: ABTest[];
}

export interface ShadowComparison {
  mirrored: number;
  /** Pairs where both outputs had a numeric first value. */
  compared: number;
  shadow_errors: number;
  shadow_error_rate: number | null;
  /** Equal within 1e-6 relative, or the same label at 0.5 for two probabilities. */
  agreement_rate: number | null;
  /** Equal within 1e-6 relative only. */
  value_agreement_rate: number | null;
  mean_abs_diff: number | null;
  /** PSI and KS of the shadow's sampled predictions against the primary's (null before the first compared pair). */
  psi: number | null;
  ks_statistic: number | null;
  ks_p_value: number | null;
  sample_size: number;
}

/** Result of a two-sample test. */
export interface TestResult {
  statistic: number | null;
  /** Two-sided. */
  pValue: number | null;
  /** Welch–Satterthwaite df (t-tests). */
  df: number | null;
}

/**
 * Above n₁·n₂ = 10⁶ pairs (and unequal sizes) the KS p-value is scipy's method='asymp',
 * kstwo.sf(D, round(n₁n₂/(n₁+n₂))): the exact lattice recursion costs O(n₁·n₂·D) and took close to a
 * second at 10000 × 9999, too long for an analysis that runs on the server's event loop every tick.
 * Equal sizes stay exact at any n (that recursion is O(n)).
 */
export const KS_EXACT_MAX_PAIRS = 1_000_000;
export const DEFAULT_ERROR_RATE_MARGIN = 0.01;
export const DEFAULT_LATENCY_FLOOR_MS = 5;
export const DEFAULT_MIN_PREDICTIONS = 100;
export const DEFAULT_MIN_LABELLED = 30;
/** Significance level of the A/B tests, and the one-sided level a quality drop must reach before it fails a canary. */
export const DEFAULT_ALPHA = 0.05;

const finiteOrNull = (x: number): number | null => (Number.isFinite(x) ? x : null);
const clip01 = (p: number): number => Math.min(1, Math.max(0, p));
const fmt = (x: number | null, digits = 4): string => (x === null || !Number.isFinite(x) ? 'n/a' : Number(x.toPrecision(digits)).toString());
const pct = (x: number | null): string => (x === null || !Number.isFinite(x) ? 'n/a' : `${Number((x * 100).toPrecision(3))}%`);

/**
 * Two-proportion z-test with the pooled standard error (statsmodels proportions_ztest, prop_var=False):
 * z = (p_b − p_a)/√(p̂(1−p̂)(1/n_a + 1/n_b)), p̂ = (x_a + x_b)/(n_a + n_b), p = 2·Φ(−|z|).
 * Both proportions 0 or both 1: z = 0, p = 1. Either n = 0: nulls.
 */
export function twoProportionZTest(successesA: number, nA: number, successesB: number, nB: number): TestResult {
  if (nA <= 0 || nB <= 0) return { statistic: null, pValue: null, df: null };
  const pooled = (successesA + successesB) / (nA + nB);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / nA + 1 / nB));
  const difference = successesB / nB - successesA / nA;
  if (se === 0) return { statistic: 0, pValue: 1, df: null };
  const z = difference / se;
  return { statistic: z, pValue: clip01(2 * normalSf(Math.abs(z))), df: null };
}

/**
 * Welch's unequal-variances t-test on b − a from running moments (scipy.stats.ttest_ind(equal_var=False)):
 * t = (m_b − m_a)/√(s²_a/n_a + s²_b/n_b), df = (s²_a/n_a + s²_b/n_b)²/((s²_a/n_a)²/(n_a−1) + (s²_b/n_b)²/(n_b−1)).
 * Needs two values on each side (else nulls). Both samples constant: t = 0, p = 1 when the means are
 * equal; p = 0 (t null) when they differ.
 */
export function welchTTest(a: Moments, b: Moments): TestResult {
  if (a.count < 2 || b.count < 2) return { statistic: null, pValue: null, df: null };
  const va = a.variance / a.count;
  const vb = b.variance / b.count;
  const difference = b.mean - a.mean;
  const se = Math.sqrt(va + vb);
  if (se === 0) return difference === 0 ? { statistic: 0, pValue: 1, df: null } : { statistic: null, pValue: 0, df: null };
  const t = difference / se;
  const df = ((va + vb) * (va + vb)) / ((va * va) / (a.count - 1) + (vb * vb) / (b.count - 1));
  return { statistic: t, pValue: clip01(2 * studentTSf(Math.abs(t), df)), df };
}

/**
 * PSI (on the reference's deciles, or its values when it has ≤ 20 distinct ones; the same binning as
 * the drift PSI) and the two-sample KS test of `current` against `reference`. Non-finite values are
 * left out; null when either sample is then empty.
 */
export function predictionShift(reference: ArrayLike<number>, current: ArrayLike<number>): PredictionShift | null {
  const ref = numericSample(reference);
  const cur = numericSample(current);
  if (ref.sorted.length === 0 || cur.sorted.length === 0) return null;
  const { ref: r, cur: c, binning } = binnedProportions(ref, cur);
  let psi = 0;
  for (let i = 0; i < r.length; i++) {
    const p = r[i]! === 0 ? PSI_EPSILON : r[i]!;
    const q = c[i]! === 0 ? PSI_EPSILON : c[i]!;
    psi += (q - p) * Math.log(q / p);
  }
  const n1 = ref.sorted.length;
  const n2 = cur.sorted.length;
  let ks: { statistic: number; pValue: number; method: 'exact' | 'asymptotic' };
  if (n1 === n2 || n1 * n2 <= KS_EXACT_MAX_PAIRS) {
    ks = ksTwoSampleSorted(ref.sorted, cur.sorted);
  } else {
    const d = ksStatisticSorted(ref.sorted, cur.sorted);
    const en = Math.round((n1 * n2) / (n1 + n2));
    ks = { statistic: d, pValue: Math.min(1, Math.max(0, kstwoSf(en, d))), method: 'asymptotic' };
  }
  return { psi, bins: r.length, binning, ks_statistic: ks.statistic, ks_p_value: ks.pValue, ks_method: ks.method, reference_n: n1, current_n: n2 };
}

/** A label as a number (finite numbers; booleans and 'true'/'false' as 1/0; numeric strings), a class name (other strings), or null. */
function labelValue(label: unknown): number | string | null {
  if (typeof label === 'number') return Number.isFinite(label) ? label : null;
  if (typeof label === 'boolean') return label ? 1 : 0;
  if (typeof label !== 'string') return null;
  const text = label.trim();
  if (text === '') return null;
  const lower = text.toLowerCase();
  if (lower === 'true') return 1;
  if (lower === 'false') return 0;
  const n = Number(text);
  return Number.isFinite(n) ? n : text;
}

/**
 * Whether a prediction is right: equal to a numeric label; for a probability in [0, 1] and a 0/1
 * label, (p ≥ 0.5) equal to the label; for a class-name label, its text equal to the prediction's.
 */
export function predictionCorrect(prediction: number, label: unknown): boolean | null {
  const value = labelValue(label);
  if (value === null) return null;
  if (typeof value === 'string') return String(prediction) === value;
  if (prediction === value) return true;
  return (value === 0 || value === 1) && prediction >= 0 && prediction <= 1 && (prediction >= 0.5 ? 1 : 0) === value;
}

/** 'accuracy' when every usable label is 0/1, boolean or a class name (or there are none), else 'mae'. */
export function inferQualityMetric(...labelled: ReadonlyArray<readonly LabelledPrediction[]>): QualityMetric {
  for (const list of labelled) {
    for (const { label } of list) {
      const value = labelValue(label);
      if (typeof value === 'number' && value !== 0 && value !== 1) return 'mae';
    }
  }
  return 'accuracy';
}

/** Per-request scores: 1/0 correctness (accuracy) or |prediction − label| (mae), as running moments. */
function scores(labelled: readonly LabelledPrediction[], metric: QualityMetric): { moments: Moments; correct: number } {
  let count = 0;
  let mean = 0;
  let m2 = 0;
  let correct = 0;
  for (const { prediction, label } of labelled) {
    let score: number;
    if (metric === 'accuracy') {
      const right = predictionCorrect(prediction, label);
      if (right === null) continue;
      score = right ? 1 : 0;
      correct += score;
    } else {
      const value = labelValue(label);
      if (typeof value !== 'number') continue;
      score = Math.abs(prediction - value);
    }
    count++;
    const delta = score - mean;
    mean += delta / count;
    m2 += delta * (score - mean);
  }
  // An accuracy is a ratio of counts: report it exactly rather than as the running mean.
  if (metric === 'accuracy' && count > 0) mean = correct / count;
  return { moments: { count, mean: count > 0 ? mean : Number.NaN, variance: count > 1 ? m2 / (count - 1) : Number.NaN }, correct };
}

/** A variant's accuracy or MAE over its labelled requests. */
export function measureQuality(labelled: readonly LabelledPrediction[], metric: QualityMetric): QualityMeasure {
  const { moments } = scores(labelled, metric);
  return { metric, labelled: moments.count, value: finiteOrNull(moments.mean) };
}

const check = (name: AnalysisCheck['name'], value: number | null, threshold: number | null, passed: boolean, detail: string, skipped = false): AnalysisCheck => ({ name, value, threshold, passed, skipped, detail });
const skip = (name: AnalysisCheck['name'], threshold: number | null, detail: string, value: number | null = null): AnalysisCheck => check(name, value, threshold, true, detail, true);

/**
 * Analyses a canary step: the canary's window against the stable's.
 *
 * Checks: `requests` (≥ minRequests), `error_rate`, `latency_p99_ratio`, `latency_p99` (absolute),
 * `prediction_psi` (KS reported beside it) and `quality` (when both variants have ≥ minLabelled
 * labelled requests; it fails only when the drop exceeds maxQualityDrop *and* is significant one-sided
 * at 5 %, so the noise of a few dozen labels cannot roll back a good version).
 *
 * Verdict: 'fail' as soon as the canary's errors alone exceed threshold × minRequests (its rate
 * could not come back under the threshold by minRequests), whatever its request count; otherwise
 * 'wait' while it has fewer than minRequests requests; otherwise 'fail' when any check fails, else
 * 'pass'. Checks are computed (and shown) while waiting too.
 */
export function analyseCanary(stable: VariantStats, canary: VariantStats, options: CanaryAnalysisOptions, labels?: VariantLabels): CanaryAnalysis {
  const margin = options.errorRateMargin ?? DEFAULT_ERROR_RATE_MARGIN;
  const floorMs = options.latencyFloorMs ?? DEFAULT_LATENCY_FLOOR_MS;
  const minPredictions = options.minPredictions ?? DEFAULT_MIN_PREDICTIONS;
  const minLabelled = Math.max(2, options.minLabelled ?? DEFAULT_MIN_LABELLED);
  const enough = canary.requests >= options.minRequests;
  const checks: AnalysisCheck[] = [];

  // Error rate.
  const stableCounts = stable.requests >= options.minRequests && stable.requests > 0;
  const errorThreshold = stableCounts ? Math.max(options.maxErrorRate, stable.errorRate + margin) : options.maxErrorRate;
  const thresholdSource = errorThreshold > options.maxErrorRate ? ` (the stable's ${pct(stable.errorRate)} + ${pct(margin)})` : '';
  // Below the minimum, errors alone beyond threshold × minRequests already decide: the rate cannot come back under the limit by then.
  const earlyFail = !enough && canary.errors > errorThreshold * options.minRequests;
  // The count is not what fails an early failure: keep it out of the failed checks (they become the rollback's reason).
  checks.push(check('requests', canary.requests, options.minRequests, enough || earlyFail, `${canary.requests} canary requests of the ${options.minRequests} a step needs${earlyFail ? ' (not awaited: the error rate already fails)' : ''}`));
  if (canary.requests === 0) {
    checks.push(skip('error_rate', errorThreshold, 'no canary requests yet'));
  } else {
    const rate = canary.errorRate;
    const passed = !earlyFail && rate <= errorThreshold;
    let detail = `canary error rate ${pct(rate)} (${canary.errors} of ${canary.requests}), limit ${pct(errorThreshold)}${thresholdSource}`;
    if (earlyFail) detail += `; ${canary.errors} errors already exceed ${fmt(errorThreshold * options.minRequests)} of the first ${options.minRequests} requests`;
    checks.push(check('error_rate', rate, errorThreshold, passed, detail));
  }

  // Latency.
  const [canaryP99] = canary.latencyQuantiles([0.99]) as [number];
  const [stableP99] = stable.latencyQuantiles([0.99]) as [number];
  if (Number.isNaN(canaryP99)) {
    checks.push(skip('latency_p99_ratio', null, 'no successful canary requests'));
  } else if (Number.isNaN(stableP99)) {
    checks.push(skip('latency_p99_ratio', null, 'no successful stable requests to compare with', canaryP99));
  } else {
    const limit = Math.max(options.maxLatencyRatio * stableP99, floorMs);
    const why = limit === floorMs ? `the ${floorMs} ms floor` : `${options.maxLatencyRatio} × the stable's ${fmt(stableP99)} ms`;
    checks.push(check('latency_p99_ratio', canaryP99, limit, canaryP99 <= limit, `canary p99 ${fmt(canaryP99)} ms, stable p99 ${fmt(stableP99)} ms (ratio ${fmt(canaryP99 / stableP99, 3)}); limit ${fmt(limit)} ms: ${why}`));
  }
  const maxP99 = options.maxP99Ms ?? null;
  if (maxP99 === null) checks.push(skip('latency_p99', null, 'no absolute p99 limit set', finiteOrNull(canaryP99)));
  else if (Number.isNaN(canaryP99)) checks.push(skip('latency_p99', maxP99, 'no successful canary requests'));
  else checks.push(check('latency_p99', canaryP99, maxP99, canaryP99 <= maxP99, `canary p99 ${fmt(canaryP99)} ms, limit ${fmt(maxP99)} ms`));

  // Prediction shift.
  const stableSample = stable.predictionSample();
  const canarySample = canary.predictionSample();
  const shift = predictionShift(stableSample, canarySample);
  const maxPsi = options.maxPredictionPsi ?? null;
  if (maxPsi === null) {
    checks.push(skip('prediction_psi', null, 'no PSI limit set', shift?.psi ?? null));
  } else if (shift === null || stableSample.length < minPredictions || canarySample.length < minPredictions) {
    checks.push(skip('prediction_psi', maxPsi, `${stableSample.length} stable and ${canarySample.length} canary predictions; the PSI check needs ${minPredictions} each`, shift?.psi ?? null));
  } else {
    const detail = `PSI ${fmt(shift.psi)} over ${shift.bins} bins (${shift.binning}) of ${shift.reference_n} stable and ${shift.current_n} canary predictions, limit ${fmt(maxPsi)}; KS D ${fmt(shift.ks_statistic)}, p ${fmt(shift.ks_p_value, 3)}`;
    checks.push(check('prediction_psi', shift.psi, maxPsi, shift.psi <= maxPsi, detail));
  }

  // Quality.
  let quality: CanaryAnalysis['quality'] = null;
  const maxDrop = options.maxQualityDrop ?? null;
  if (!labels) {
    checks.push(skip('quality', maxDrop, 'no labels'));
  } else {
    const metric = options.qualityMetric ?? inferQualityMetric(labels.stable, labels.canary);
    const s = scores(labels.stable, metric);
    const c = scores(labels.canary, metric);
    quality = {
      stable: { metric, labelled: s.moments.count, value: finiteOrNull(s.moments.mean) },
      canary: { metric, labelled: c.moments.count, value: finiteOrNull(c.moments.mean) },
    };
    if (maxDrop === null) {
      checks.push(skip('quality', null, 'no quality limit set'));
    } else if (s.moments.count < minLabelled || c.moments.count < minLabelled) {
      checks.push(skip('quality', maxDrop, `${s.moments.count} stable and ${c.moments.count} canary labelled requests; the quality check needs ${minLabelled} each`));
    } else {
      // drop > 0 means the canary is worse; the one-sided p-value tests exactly that direction.
      let drop: number;
      let pWorse: number;
      if (metric === 'accuracy') {
        drop = s.moments.mean - c.moments.mean;
        const z = twoProportionZTest(c.correct, c.moments.count, s.correct, s.moments.count).statistic ?? 0;
        pWorse = normalSf(z);
      } else {
        drop = c.moments.mean - s.moments.mean;
        const t = welchTTest(s.moments, c.moments);
        pWorse = t.statistic !== null ? studentTSf(t.statistic, t.df ?? Infinity) : drop > 0 ? 0 : 1;
      }
      const failed = drop > maxDrop && pWorse < DEFAULT_ALPHA;
      const measured = metric === 'accuracy' ? `accuracy ${pct(s.moments.mean)} stable vs ${pct(c.moments.mean)} canary` : `MAE ${fmt(s.moments.mean)} stable vs ${fmt(c.moments.mean)} canary`;
      const significance = drop > maxDrop && !failed ? ', not significant: not failed' : '';
      checks.push(check('quality', drop, maxDrop, !failed, `${measured} (${s.moments.count} and ${c.moments.count} labelled): drop ${fmt(drop)}, limit ${fmt(maxDrop)}, one-sided p ${fmt(pWorse, 3)}${significance}`));
    }
  }

  let verdict: CanaryVerdict;
  if (earlyFail) verdict = 'fail';
  else if (!enough) verdict = 'wait';
  else verdict = checks.every((c) => c.passed) ? 'pass' : 'fail';
  return { verdict, checks, shift, quality };
}

function abTest(metric: ABTest['metric'], test: ABTest['test'], a: number, b: number, nA: number, nB: number, result: TestResult, alpha: number, unit = ''): ABTest {
  const ran = result.pValue !== null;
  const difference = ran ? b - a : null;
  const significant = ran && result.pValue! < alpha;
  const detail = ran
    ? `b − a = ${fmt(difference)}${unit} (${fmt(a)} vs ${fmt(b)}), p = ${fmt(result.pValue, 3)}: ${significant ? 'significant' : 'not significant'} at ${alpha}`
    : `too little data (${nA} and ${nB}; the test needs ${test === 'welch_t' ? 'two values' : 'one value'} on each side)`;
  return { metric, test, a: finiteOrNull(a), b: finiteOrNull(b), n_a: nA, n_b: nB, difference, statistic: result.statistic, df: result.df, p_value: result.pValue, significant, detail };
}

/**
 * Tests the difference between two variants (b − a): error rate (two-proportion z), mean prediction and
 * mean latency of successful requests (Welch's t), and quality when labels are given (accuracy:
 * two-proportion z; MAE: Welch's t on absolute errors; the metric is inferred from the labels unless given).
 * Every p-value is two-sided; `significant` means p < alpha.
 */
export function compareAB(a: VariantStats, b: VariantStats, labels?: VariantLabels, options: { alpha?: number; qualityMetric?: QualityMetric | null } = {}): ABComparison {
  const alpha = options.alpha ?? DEFAULT_ALPHA;
  const tests: ABTest[] = [];
  tests.push(abTest('error_rate', 'two_proportion_z', a.errorRate, b.errorRate, a.requests, b.requests, twoProportionZTest(a.errors, a.requests, b.errors, b.requests), alpha));
  const pa = a.predictionStats();
  const pb = b.predictionStats();
  tests.push(abTest('mean_prediction', 'welch_t', pa.mean, pb.mean, pa.count, pb.count, welchTTest(pa, pb), alpha));
  const la = a.latencyStats();
  const lb = b.latencyStats();
  tests.push(abTest('mean_latency_ms', 'welch_t', la.mean, lb.mean, la.count, lb.count, welchTTest(la, lb), alpha, ' ms'));
  if (labels) {
    const metric = options.qualityMetric ?? inferQualityMetric(labels.stable, labels.canary);
    const qa = scores(labels.stable, metric);
    const qb = scores(labels.canary, metric);
    const result = metric === 'accuracy' ? twoProportionZTest(qa.correct, qa.moments.count, qb.correct, qb.moments.count) : welchTTest(qa.moments, qb.moments);
    tests.push(abTest(metric, metric === 'accuracy' ? 'two_proportion_z' : 'welch_t', qa.moments.mean, qb.moments.mean, qa.moments.count, qb.moments.count, result, alpha));
  }
  return { alpha, tests };
}

/** The shadow's agreement with the primary and the shift of its predictions (primary as the reference). */
export function compareShadow(stats: ShadowStats): ShadowComparison {
  const { primary, shadow } = stats.samples();
  const shift = predictionShift(primary, shadow);
  const compared = stats.compared;
  return {
    mirrored: stats.mirrored,
    compared,
    shadow_errors: stats.shadowErrors,
    shadow_error_rate: finiteOrNull(stats.shadowErrorRate),
    agreement_rate: finiteOrNull(stats.agreementRate),
    value_agreement_rate: compared > 0 ? stats.valueAgreements / compared : null,
    mean_abs_diff: finiteOrNull(stats.absoluteDifferenceStats().mean),
    psi: shift?.psi ?? null,
    ks_statistic: shift?.ks_statistic ?? null,
    ks_p_value: shift?.ks_p_value ?? null,
    sample_size: primary.length,
  };
}
