// The rollout analyses against values worked out independently: Welch's t-tests of Wikipedia's two
// examples (scipy.stats.ttest_ind(equal_var=False) values written down), two-proportion z-tests by
// hand (scipy.stats.norm.sf for their p-values), PSI on hand-made bins, scipy.stats.ks_2samp, and
// every canary verdict path.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  analyseCanary,
  compareAB,
  compareShadow,
  inferQualityMetric,
  measureQuality,
  predictionCorrect,
  predictionShift,
  twoProportionZTest,
  welchTTest,
  type AnalysisCheck,
  type CanaryAnalysisOptions,
} from './analysis.js';
import { ShadowStats, VariantStats, type LabelledPrediction } from './variant-stats.js';

function close(actual: number | null, expected: number, relative: number, label = ''): void {
  assert.ok(actual !== null, `${label} expected ${expected}, got null`);
  assert.ok(Math.abs(actual - expected) <= relative * Math.abs(expected), `${label} expected ${expected}, got ${actual}`);
}

interface Traffic {
  requests: number;
  errors?: number;
  latency?: (i: number) => number;
  prediction?: (i: number) => number;
}

/** A window with `requests` requests, the first `errors` of them failed. */
function window(traffic: Traffic, seed = 1): VariantStats {
  const stats = new VariantStats(0, { seed });
  const errors = traffic.errors ?? 0;
  for (let i = 0; i < traffic.requests; i++) {
    const ok = i >= errors;
    stats.record({ ok, latencyMs: traffic.latency ? traffic.latency(i) : 10, prediction: traffic.prediction ? traffic.prediction(i) : 0.5, requestId: `r${i}` });
  }
  return stats;
}

const OPTIONS: CanaryAnalysisOptions = { minRequests: 100, maxErrorRate: 0.05, maxLatencyRatio: 1.5, maxP99Ms: null, maxPredictionPsi: 0.25, maxQualityDrop: 0.05, qualityMetric: null };

const byName = (checks: AnalysisCheck[], name: AnalysisCheck['name']): AnalysisCheck => {
  const found = checks.find((c) => c.name === name);
  assert.ok(found, `no ${name} check`);
  return found;
};

// Wikipedia, "Welch's t-test", examples 1 and 2.
const A1 = [27.5, 21.0, 19.0, 23.6, 17.0, 17.9, 16.9, 20.1, 21.9, 22.6, 23.1, 19.6, 19.0, 21.7, 21.4];
const A2 = [27.1, 22.0, 20.8, 23.4, 23.4, 23.5, 25.8, 22.0, 24.8, 20.2, 21.9, 22.1, 22.9, 20.5, 24.4];
const B1 = [17.2, 20.9, 22.6, 18.1, 21.7, 21.4, 23.5, 24.2, 14.7, 21.8];
const B2 = [21.5, 22.8, 21.0, 23.0, 21.6, 23.6, 22.5, 20.7, 23.4, 21.8, 20.7, 21.7, 21.5, 22.5, 23.6, 21.5, 22.5, 23.5, 21.5, 21.8];

/** Mean and sample variance by two passes (independent of the running moments under test). */
function moments(values: number[]): { count: number; mean: number; variance: number } {
  const mean = values.reduce((s, x) => s + x, 0) / values.length;
  return { count: values.length, mean, variance: values.reduce((s, x) => s + (x - mean) ** 2, 0) / (values.length - 1) };
}

test("Welch's t-test: Wikipedia's examples as scipy computes them", () => {
  // scipy.stats.ttest_ind(A2, A1, equal_var=False): t = 2.455356398286006, p = 0.021378001462866992, df = 24.988529290231416
  // (Wikipedia's table: t = 2.46, df = 25.0, p = 0.021)
  const one = welchTTest(moments(A1), moments(A2));
  close(one.statistic, 2.455356398286006, 1e-12, 't');
  close(one.df, 24.988529290231416, 1e-12, 'df');
  close(one.pValue, 0.021378001462866992, 1e-9, 'p');
  // ttest_ind(B2, B1, equal_var=False): t = 1.5654335235985037, p = 0.14884169660532817, df = 9.904741248650831 (Wikipedia: 1.57, 9.9, 0.149)
  const two = welchTTest(moments(B1), moments(B2));
  close(two.statistic, 1.5654335235985037, 1e-12, 't');
  close(two.df, 9.904741248650831, 1e-12, 'df');
  close(two.pValue, 0.14884169660532817, 1e-9, 'p');
  // Swapping the samples flips t, not p.
  close(welchTTest(moments(A2), moments(A1)).statistic, -2.455356398286006, 1e-12);
  assert.deepEqual(welchTTest({ count: 1, mean: 3, variance: Number.NaN }, moments(A1)), { statistic: null, pValue: null, df: null });
  assert.deepEqual(welchTTest({ count: 5, mean: 3, variance: 0 }, { count: 4, mean: 3, variance: 0 }), { statistic: 0, pValue: 1, df: null });
  assert.equal(welchTTest({ count: 5, mean: 3, variance: 0 }, { count: 4, mean: 4, variance: 0 }).pValue, 0);
});

test('two-proportion z-test by hand', () => {
  // 30/1000 vs 50/1000: p̂ = 0.04, se = √(0.04·0.96·0.002) = 0.0087636…, z = 0.02/se = 2.2821773229381925,
  // p = 2·norm.sf(z) = 0.022478873366125248
  const r = twoProportionZTest(30, 1000, 50, 1000);
  close(r.statistic, 2.2821773229381925, 1e-12, 'z');
  close(r.pValue, 0.022478873366125248, 1e-9, 'p');
  // 12/400 vs 9/150: z = 1.6350865318121965, p = 0.10203090910844641
  const s = twoProportionZTest(12, 400, 9, 150);
  close(s.statistic, 1.6350865318121965, 1e-12, 'z');
  close(s.pValue, 0.10203090910844641, 1e-9, 'p');
  assert.deepEqual(twoProportionZTest(0, 10, 0, 20), { statistic: 0, pValue: 1, df: null });
  assert.deepEqual(twoProportionZTest(0, 0, 1, 20), { statistic: null, pValue: null, df: null });
});

test('PSI on hand-made bins and the KS test beside it', () => {
  // Reference 0…99: deciles 9.9, 19.8, …, 89.1 put 10 % in each bin. Current: 20 values in 0…9 (40 %)
  // and 30 in 90…99 (60 %), the 8 bins between empty (0.0001).
  const reference = Array.from({ length: 100 }, (_, i) => i);
  const current = [...Array.from({ length: 20 }, (_, i) => i % 10), ...Array.from({ length: 30 }, (_, i) => 90 + (i % 10))];
  const expectedPsi = (0.4 - 0.1) * Math.log(0.4 / 0.1) + (0.6 - 0.1) * Math.log(0.6 / 0.1) + 8 * (0.0001 - 0.1) * Math.log(0.0001 / 0.1);
  const shift = predictionShift(reference, current)!;
  close(shift.psi, expectedPsi, 1e-12, 'psi');
  assert.equal(shift.bins, 10);
  assert.equal(shift.binning, 'reference_quantiles');
  // scipy.stats.ks_2samp(reference, current): D = 0.5 (F_ref(89) = 0.9 vs F_cur(89) = 0.4), p = 5.2852820637809495e-08
  assert.equal(shift.ks_statistic, 0.5);
  close(shift.ks_p_value, 5.2852820637809495e-8, 1e-6, 'ks p');
  assert.equal(shift.reference_n, 100);
  assert.equal(shift.current_n, 50);
  // Identical samples: no shift.
  const same = predictionShift(reference, reference)!;
  assert.equal(same.psi, 0);
  assert.equal(same.ks_statistic, 0);
  assert.equal(shift.ks_method, 'exact');
  // Beyond 10⁶ pairs with unequal sizes, scipy's method='asymp': ks_2samp(arange(1200), 0.9·arange(1500) + 50,
  // method='asymp') gives D = 0.14866666666666667, p = 2.4758900258557453e-13 (the exact p is 2.6154e-13)
  const big = predictionShift(Array.from({ length: 1200 }, (_, i) => i), Array.from({ length: 1500 }, (_, i) => 0.9 * i + 50))!;
  assert.equal(big.ks_method, 'asymptotic');
  close(big.ks_statistic, 0.14866666666666667, 1e-12, 'D');
  close(big.ks_p_value, 2.4758900258557453e-13, 1e-6, 'asymptotic p');
  assert.equal(predictionShift([], reference), null);
  assert.equal(predictionShift([Number.NaN], reference), null);
});

test('accuracy, MAE and the metric inferred from the labels', () => {
  assert.equal(predictionCorrect(1, 1), true);
  assert.equal(predictionCorrect(0.73, 1), true);
  assert.equal(predictionCorrect(0.73, 0), false);
  assert.equal(predictionCorrect(0.5, true), true);
  assert.equal(predictionCorrect(0.2, 'false'), true);
  assert.equal(predictionCorrect(3, '3'), true);
  assert.equal(predictionCorrect(2, 3), false);
  assert.equal(predictionCorrect(0.9, 2), false);
  assert.equal(predictionCorrect(1, 'cat'), false);
  assert.equal(predictionCorrect(1, null), null);
  assert.equal(predictionCorrect(1, { a: 1 }), null);
  const labelled: LabelledPrediction[] = [
    { prediction: 0.9, label: 1 },
    { prediction: 0.2, label: 1 },
    { prediction: 0.4, label: 0 },
    { prediction: 0.6, label: false },
    { prediction: 0.6, label: null },
  ];
  assert.deepEqual(measureQuality(labelled, 'accuracy'), { metric: 'accuracy', labelled: 4, value: 0.5 });
  const regression: LabelledPrediction[] = [
    { prediction: 2.5, label: 3 },
    { prediction: 10, label: '7' },
    { prediction: 1, label: 'n/a' },
  ];
  assert.deepEqual(measureQuality(regression, 'mae'), { metric: 'mae', labelled: 2, value: 1.75 });
  assert.equal(inferQualityMetric(labelled), 'accuracy');
  assert.equal(inferQualityMetric(labelled, regression), 'mae');
  assert.equal(inferQualityMetric([{ prediction: 1, label: 'spam' }]), 'accuracy');
  assert.equal(inferQualityMetric([]), 'accuracy');
});

test('canary: wait below the minimum request count', () => {
  const stable = window({ requests: 500 });
  const canary = window({ requests: 40, errors: 2 });
  const result = analyseCanary(stable, canary, OPTIONS);
  assert.equal(result.verdict, 'wait');
  const requests = byName(result.checks, 'requests');
  assert.deepEqual([requests.value, requests.threshold, requests.passed], [40, 100, false]);
  // 2 errors ≤ 0.05 × 100 = 5: it could still pass.
  assert.equal(byName(result.checks, 'error_rate').value, 2 / 40);
});

test('canary: fails at once when its errors alone exceed max error rate × min requests', () => {
  const stable = window({ requests: 500 });
  // 5 errors of 10 requests: exactly 0.05 × 100, the canary could still end at 5 % → wait.
  assert.equal(analyseCanary(stable, window({ requests: 10, errors: 5 }), OPTIONS).verdict, 'wait');
  // 6 errors: even 94 successes next would leave 6 % → fail before the minimum.
  const result = analyseCanary(stable, window({ requests: 10, errors: 6 }), OPTIONS);
  assert.equal(result.verdict, 'fail');
  const errorRate = byName(result.checks, 'error_rate');
  assert.equal(errorRate.passed, false);
  assert.equal(errorRate.value, 0.6);
  assert.equal(errorRate.threshold, 0.05);
  assert.match(errorRate.detail, /6 errors already exceed 5 of the first 100 requests/);
  // Only the error rate is reported as failed (the failed checks become the rollback's reason).
  assert.deepEqual(result.checks.filter((c) => !c.passed).map((c) => c.name), ['error_rate']);
  // A canary that fails every request is rolled back as soon as it shows more than 5 errors.
  assert.equal(analyseCanary(stable, window({ requests: 6, errors: 6 }), OPTIONS).verdict, 'fail');
});

test('canary: passes when every check does', () => {
  const stable = window({ requests: 1000, errors: 10, latency: (i) => 8 + (i % 5), prediction: (i) => (i % 200) / 200 });
  const canary = window({ requests: 150, errors: 3, latency: (i) => 9 + (i % 5), prediction: (i) => ((i * 7) % 150) / 150 }, 2);
  const result = analyseCanary(stable, canary, { ...OPTIONS, maxP99Ms: 50 });
  assert.equal(result.verdict, 'pass', JSON.stringify(result.checks, null, 1));
  assert.deepEqual(result.checks.map((c) => c.name), ['requests', 'error_rate', 'latency_p99_ratio', 'latency_p99', 'prediction_psi', 'quality']);
  assert.ok(result.checks.every((c) => c.passed));
  assert.equal(byName(result.checks, 'quality').skipped, true);
  assert.equal(byName(result.checks, 'prediction_psi').skipped, false);
  // Canary latencies 9…13 ms, all equal shares: p99 = 13; stable 8…12: p99 = 12 → limit 18.
  const latency = byName(result.checks, 'latency_p99_ratio');
  assert.equal(latency.value, 13);
  assert.equal(latency.threshold, 18);
  assert.ok(result.shift !== null && result.shift.psi < 0.05);
  assert.doesNotThrow(() => JSON.stringify(result));
});

test('canary: an error rate above the limit fails once the minimum is reached', () => {
  const stable = window({ requests: 1000 });
  const result = analyseCanary(stable, window({ requests: 100, errors: 5 }), OPTIONS);
  assert.equal(byName(result.checks, 'error_rate').passed, true); // 5 % ≤ 5 %
  assert.equal(result.verdict, 'pass');
  // 6 errors in 100 would have failed early; 9 in 150 is 6 % after the minimum.
  const failing = analyseCanary(stable, window({ requests: 150, errors: 9 }), { ...OPTIONS, minRequests: 150 });
  assert.equal(failing.verdict, 'fail');
  assert.equal(byName(failing.checks, 'error_rate').value, 0.06);
});

test("canary: the stable's own error rate (plus 1 point) raises the limit", () => {
  const stable = window({ requests: 400, errors: 40 }); // 10 %
  const ok = analyseCanary(stable, window({ requests: 100, errors: 11 }), OPTIONS);
  const check = byName(ok.checks, 'error_rate');
  close(check.threshold, 0.11, 1e-12);
  assert.equal(check.passed, true);
  assert.equal(ok.verdict, 'pass');
  assert.equal(analyseCanary(stable, window({ requests: 200, errors: 23 }), OPTIONS).verdict, 'fail'); // 11.5 %
  // A stable window below the minimum does not count: the limit stays at 5 %.
  const fewStable = window({ requests: 50, errors: 5 });
  const result = analyseCanary(fewStable, window({ requests: 200, errors: 8 }), OPTIONS);
  assert.equal(byName(result.checks, 'error_rate').threshold, 0.05);
  assert.equal(result.verdict, 'pass'); // 4 %
});

test('canary: a slow version fails the p99 ratio; a few ms under the floor never do', () => {
  const stable = window({ requests: 500, latency: () => 10 });
  const slow = analyseCanary(stable, window({ requests: 100, latency: (i) => (i < 95 ? 10 : 40) }), OPTIONS);
  // p99 of 95×10 and 5×40 ms: h = 98.01 → 40; limit 1.5 × 10 = 15
  const latency = byName(slow.checks, 'latency_p99_ratio');
  assert.equal(latency.value, 40);
  assert.equal(latency.threshold, 15);
  assert.equal(latency.passed, false);
  assert.equal(slow.verdict, 'fail');
  const fastStable = window({ requests: 500, latency: () => 1 });
  const floor = analyseCanary(fastStable, window({ requests: 100, latency: () => 4.5 }), OPTIONS);
  assert.equal(byName(floor.checks, 'latency_p99_ratio').threshold, 5);
  assert.equal(floor.verdict, 'pass');
  assert.equal(analyseCanary(fastStable, window({ requests: 100, latency: () => 6 }), OPTIONS).verdict, 'fail');
  // The absolute limit, on its own.
  const absolute = analyseCanary(stable, window({ requests: 100, latency: () => 12 }), { ...OPTIONS, maxP99Ms: 11 });
  assert.deepEqual([byName(absolute.checks, 'latency_p99').passed, absolute.verdict], [false, 'fail']);
  assert.equal(byName(absolute.checks, 'latency_p99_ratio').passed, true);
});

test('canary: a shifted prediction distribution fails the PSI check; too few predictions skip it', () => {
  const stable = window({ requests: 1000, prediction: (i) => (i % 100) / 100 });
  const shifted = analyseCanary(stable, window({ requests: 200, prediction: (i) => 0.9 + (i % 10) / 100 }), OPTIONS);
  const psi = byName(shifted.checks, 'prediction_psi');
  assert.equal(psi.passed, false);
  // Stable deciles put 10 % in each bin; the canary puts everything in the top one:
  // 0.9·ln(10) + 9·(0.0001 − 0.1)·ln(0.001)
  close(psi.value, 0.9 * Math.log(10) + 9 * (0.0001 - 0.1) * Math.log(0.001), 1e-9, 'psi');
  assert.match(psi.detail, /KS D 0\.9/);
  assert.equal(shifted.verdict, 'fail');
  const few = analyseCanary(stable, window({ requests: 200, prediction: () => 0.95 }), { ...OPTIONS, minPredictions: 500 });
  assert.equal(byName(few.checks, 'prediction_psi').skipped, true);
  assert.equal(few.verdict, 'pass');
  const unset = analyseCanary(stable, window({ requests: 200, prediction: () => 0.95 }), { ...OPTIONS, maxPredictionPsi: null });
  assert.equal(unset.verdict, 'pass');
});

test('canary: quality fails on a significant accuracy drop, not on noise, and waits for labels', () => {
  const stable = window({ requests: 500 });
  const canary = window({ requests: 100 });
  // Stable 36/40 right, canary 20/40: drop 0.4, one-sided p = norm.sf(3.9036) ≈ 4.7e-5 → fail.
  const labelled = (right: number, total: number): LabelledPrediction[] => Array.from({ length: total }, (_, i) => ({ prediction: 0.8, label: i < right ? 1 : 0 }));
  const bad = analyseCanary(stable, canary, OPTIONS, { stable: labelled(36, 40), canary: labelled(20, 40) });
  const quality = byName(bad.checks, 'quality');
  close(quality.value, 0.4, 1e-12);
  assert.equal(quality.passed, false);
  assert.equal(bad.verdict, 'fail');
  assert.deepEqual(bad.quality, { stable: { metric: 'accuracy', labelled: 40, value: 0.9 }, canary: { metric: 'accuracy', labelled: 40, value: 0.5 } });
  // 36/40 vs 33/40: drop 0.075 > 0.05 but z = 0.97397, one-sided p = 0.16504: not significant → passes.
  const noisy = analyseCanary(stable, canary, OPTIONS, { stable: labelled(36, 40), canary: labelled(33, 40) });
  const noisyQuality = byName(noisy.checks, 'quality');
  close(noisyQuality.value, 0.075, 1e-12);
  assert.equal(noisyQuality.passed, true);
  assert.match(noisyQuality.detail, /p 0\.165.*not significant/);
  assert.equal(noisy.verdict, 'pass');
  // Too few labels: skipped and says so.
  const few = analyseCanary(stable, canary, OPTIONS, { stable: labelled(9, 10), canary: labelled(0, 10) });
  assert.equal(byName(few.checks, 'quality').skipped, true);
  assert.match(byName(few.checks, 'quality').detail, /10 stable and 10 canary labelled requests; the quality check needs 30 each/);
  assert.equal(few.verdict, 'pass');
  assert.match(byName(analyseCanary(stable, canary, OPTIONS).checks, 'quality').detail, /no labels/);
});

test('canary: MAE quality uses the one-sided Welch test on absolute errors', () => {
  const stable = window({ requests: 500 });
  const canary = window({ requests: 100 });
  const stableErrors = [0.1, 0.2, 0.3, 0.1, 0.2, 0.15];
  const canaryErrors = [0.4, 0.5, 0.3, 0.6, 0.2, 0.45, 0.35];
  // Labels of 3 (not 0/1): MAE is inferred. scipy ttest_ind(canary, stable, equal_var=False): t = 3.8260363585396653,
  // two-sided p = 0.0034911735548691235 → one-sided 0.0017455867774345617.
  const labels = { stable: stableErrors.map((e, i) => ({ prediction: i % 2 ? 3 + e : 3 - e, label: 3 })), canary: canaryErrors.map((e) => ({ prediction: 3 + e, label: '3' })) };
  const result = analyseCanary(stable, canary, { ...OPTIONS, minLabelled: 5 }, labels);
  const quality = byName(result.checks, 'quality');
  // MAE 1.05/6 = 0.175 vs 2.8/7 = 0.4: the canary is 0.225 worse
  close(quality.value, 2.8 / 7 - 1.05 / 6, 1e-12);
  assert.equal(quality.passed, false);
  assert.match(quality.detail, /one-sided p 0\.00175/);
  assert.equal(result.quality?.canary.metric, 'mae');
  assert.equal(result.verdict, 'fail');
});

test('A/B: per-metric tests on the difference', () => {
  // Errors 30/1000 vs 50/1000; predictions A1 vs A2 (Wikipedia's example 1); latencies B1 vs B2 (example 2).
  // Successful requests carry exactly the example values.
  const fill = (errors: number, latencies: number[], predictions: number[], total: number): VariantStats => {
    const stats = new VariantStats(0);
    for (let i = 0; i < errors; i++) stats.record({ ok: false, latencyMs: 1, requestId: `e${i}` });
    const ok = total - errors;
    for (let i = 0; i < ok; i++) {
      const latency = latencies[i];
      const prediction = predictions[i];
      // Requests past the example's length carry neither latency nor prediction (NaN latency is not measured).
      stats.record({ ok: true, latencyMs: latency ?? Number.NaN, prediction, requestId: `o${i}` });
    }
    return stats;
  };
  const va = fill(30, B1, A1, 1000);
  const vb = fill(50, B2, A2, 1000);
  const labels = {
    stable: Array.from({ length: 40 }, (_, i) => ({ prediction: 1, label: i < 36 ? 1 : 0 })),
    canary: Array.from({ length: 40 }, (_, i) => ({ prediction: 1, label: i < 20 ? 1 : 0 })),
  };
  const result = compareAB(va, vb, labels);
  assert.equal(result.alpha, 0.05);
  assert.deepEqual(result.tests.map((t) => t.metric), ['error_rate', 'mean_prediction', 'mean_latency_ms', 'accuracy']);
  const [errors, predictions, latency, accuracy] = result.tests as [typeof result.tests[0], typeof result.tests[0], typeof result.tests[0], typeof result.tests[0]];
  close(errors.statistic, 2.2821773229381925, 1e-12, 'z');
  close(errors.p_value, 0.022478873366125248, 1e-9, 'p');
  close(errors.difference, 0.02, 1e-12);
  assert.equal(errors.significant, true);
  close(predictions.statistic, 2.455356398286006, 1e-12, 't');
  close(predictions.df, 24.988529290231416, 1e-12, 'df');
  close(predictions.p_value, 0.021378001462866992, 1e-9, 'p');
  assert.equal(predictions.significant, true);
  assert.deepEqual([predictions.n_a, predictions.n_b], [15, 15]);
  close(latency.p_value, 0.14884169660532817, 1e-9, 'p');
  assert.equal(latency.significant, false);
  // 36/40 vs 20/40: z = −3.903600291794133, p = 9.477225139792279e-05
  close(accuracy.statistic, -3.903600291794133, 1e-12, 'z');
  close(accuracy.p_value, 9.477225139792279e-5, 1e-8, 'p');
  close(accuracy.difference, -0.4, 1e-12);
  assert.equal(accuracy.test, 'two_proportion_z');
  assert.doesNotThrow(() => JSON.stringify(result));
});

test('A/B: too little data gives null statistics, not NaN', () => {
  const result = compareAB(new VariantStats(0), window({ requests: 1 }));
  for (const t of result.tests) {
    assert.equal(t.p_value, null, t.metric);
    assert.equal(t.significant, false);
    assert.match(t.detail, /too little data/);
  }
  assert.equal(JSON.parse(JSON.stringify(result)).tests[0].a, null);
});

test('shadow: agreement, mean absolute difference, error rate, PSI and KS (by hand)', () => {
  // Primary 0…99; the shadow answers i mod 10 for i < 40 and 90 + i mod 10 above: equal for i < 10 and
  // i ≥ 90 (20 pairs); |difference| sums to 600 (i in 10…39) + 1500 (40…89) = 2100 over 100 pairs.
  const stats = new ShadowStats(0);
  for (let i = 0; i < 100; i++) stats.record({ primary: i, shadow: i < 40 ? i % 10 : 90 + (i % 10), shadowOk: true });
  for (let i = 0; i < 5; i++) stats.record({ primary: 1, shadowOk: false });
  const result = compareShadow(stats);
  assert.equal(result.mirrored, 105);
  assert.equal(result.compared, 100);
  assert.equal(result.shadow_errors, 5);
  close(result.shadow_error_rate, 5 / 105, 1e-15);
  assert.equal(result.agreement_rate, 0.2);
  assert.equal(result.value_agreement_rate, 0.2);
  close(result.mean_abs_diff, 21, 1e-12);
  // The shadow's predictions put 40 % in the primary's first decile and 60 % in its last.
  close(result.psi, 0.3 * Math.log(4) + 0.5 * Math.log(6) + 8 * (0.0001 - 0.1) * Math.log(0.001), 1e-12, 'psi');
  // scipy.stats.ks_2samp: D = 0.5, p = 1.0024645454361508e-11
  assert.equal(result.ks_statistic, 0.5);
  close(result.ks_p_value, 1.0024645454361508e-11, 1e-6, 'ks p');
  assert.equal(result.sample_size, 100);
  const empty = compareShadow(new ShadowStats(0));
  assert.deepEqual([empty.agreement_rate, empty.psi, empty.shadow_error_rate], [null, null, null]);
});
