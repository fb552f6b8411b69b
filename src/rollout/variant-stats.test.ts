// VariantStats and ShadowStats against values worked out by hand, exact sorted quantiles, two-pass
// moments and a chi-square check of the reservoir's uniformity (all computed here, not by the code under test).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EXACT_LATENCY_LIMIT, ShadowStats, VariantStats, predictionsAgree, valuesAgree } from './variant-stats.js';

/** A test-local PRNG (xorshift32), independent of the one in the code under test. */
function xorshift(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 4294967296;
  };
}

/** numpy.quantile(method='linear') over a copy sorted here. */
function exactQuantile(values: number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  const h = q * (s.length - 1);
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, s.length - 1);
  return s[lo]! + (h - lo) * (s[hi]! - s[lo]!);
}

function close(actual: number, expected: number, tolerance: number, label = ''): void {
  assert.ok(Math.abs(actual - expected) <= tolerance, `${label} expected ${expected} ± ${tolerance}, got ${actual}`);
}

test('counts, error rate and exact quantiles of a few requests (by hand)', () => {
  const stats = new VariantStats(1_000);
  // Successful latencies 10, 1, 5, 7 ms; two errors whose latency must not count.
  stats.record({ ok: true, latencyMs: 10, prediction: 0.2, requestId: 'r1' });
  stats.record({ ok: false, latencyMs: 9_000, requestId: 'r2' });
  stats.record({ ok: true, latencyMs: 1, prediction: 0.4, requestId: 'r3' });
  stats.record({ ok: true, latencyMs: 5, prediction: 0.9, requestId: 'r4' });
  stats.record({ ok: false, latencyMs: 0.1, prediction: 123, requestId: 'r5' });
  stats.record({ ok: true, latencyMs: 7, requestId: 'r6' });
  // sorted 1, 5, 7, 10: p50 at h = 1.5 → 5 + 0.5·2 = 6; p99 at h = 2.97 → 7 + 0.97·3 = 9.91
  assert.deepEqual(stats.summary(), {
    started_at: 1_000,
    requests: 6,
    errors: 2,
    error_rate: 2 / 6,
    p50_ms: 6,
    p99_ms: 7 + 0.97 * 3,
    mean_latency_ms: 23 / 4,
    latency_quantiles: 'exact',
    predictions: 3,
    mean_prediction: 0.5,
    // deviations −0.3, −0.1, 0.4: (0.09 + 0.01 + 0.16)/2 = 0.13
    prediction_std: stats.summary().prediction_std,
  });
  close(stats.summary().prediction_std!, Math.sqrt(0.13), 1e-12);
  close(stats.summary().p99_ms!, 9.91, 1e-12);
  assert.equal(stats.predictionStats().count, 3);
  close(stats.latencyStats().variance, ((10 - 5.75) ** 2 + (1 - 5.75) ** 2 + (5 - 5.75) ** 2 + (7 - 5.75) ** 2) / 3, 1e-12);
});

test('an empty window summarises as nulls, not NaN', () => {
  const summary = new VariantStats(0).summary();
  assert.equal(summary.requests, 0);
  assert.equal(summary.error_rate, null);
  assert.equal(summary.p50_ms, null);
  assert.equal(summary.p99_ms, null);
  assert.equal(summary.mean_prediction, null);
  assert.equal(summary.prediction_std, null);
  assert.doesNotThrow(() => JSON.stringify(summary));
  const onlyErrors = new VariantStats(0);
  onlyErrors.record({ ok: false, latencyMs: 3, requestId: 'x' });
  assert.equal(onlyErrors.summary().error_rate, 1);
  assert.equal(onlyErrors.summary().p99_ms, null);
});

test('exact quantiles up to the limit, then within 1 % relative of the exact ones', () => {
  const random = xorshift(42);
  // Log-normal latencies spanning several decades (median ≈ 20 ms), plus a few sub-µs and very slow ones.
  const values: number[] = [];
  const stats = new VariantStats(0);
  const qs = [0, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1];
  for (let i = 0; i < 100_000; i++) {
    const u1 = random() || 1e-12;
    const u2 = random();
    const z = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    let ms = Math.exp(Math.log(20) + 1.5 * z);
    if (i % 5000 === 7) ms = 0.0004;
    if (i % 7000 === 3) ms = 250_000;
    values.push(ms);
    stats.record({ ok: true, latencyMs: ms, requestId: String(i) });
    if (i + 1 === EXACT_LATENCY_LIMIT) {
      assert.equal(stats.latencyExact, true);
      const got = stats.latencyQuantiles(qs);
      qs.forEach((q, k) => assert.equal(got[k], exactQuantile(values, q), `exact q=${q}`));
    }
  }
  assert.equal(stats.latencyExact, false);
  const got = stats.latencyQuantiles(qs);
  qs.forEach((q, k) => {
    const exact = exactQuantile(values, q);
    assert.ok(Math.abs(got[k]! - exact) <= 0.01 * exact, `q=${q}: exact ${exact}, histogram ${got[k]}`);
  });
  // The extremes are clamped to the exact minimum and maximum.
  assert.equal(got[0], Math.min(...values));
  assert.equal(got[qs.length - 1], Math.max(...values));
});

test('the 1 % bound holds for every rank of a narrow, repetitive distribution', () => {
  const stats = new VariantStats(0);
  const values: number[] = [];
  for (let i = 0; i < 3000; i++) {
    const ms = 3 + (i % 17) * 0.013;
    values.push(ms);
    stats.record({ ok: true, latencyMs: ms, requestId: String(i) });
  }
  for (let q = 0; q <= 1; q += 0.0137) {
    const exact = exactQuantile(values, q);
    const [got] = stats.latencyQuantiles([q]);
    assert.ok(Math.abs(got! - exact) <= 0.01 * exact, `q=${q}: exact ${exact}, histogram ${got}`);
  }
});

test('running moments match a two-pass computation', () => {
  const random = xorshift(7);
  const stats = new VariantStats(0);
  const predictions: number[] = [];
  for (let i = 0; i < 20_000; i++) {
    // A large offset: the naive Σx² formula would lose digits here, Welford does not.
    const p = 1e6 + random() * 3;
    predictions.push(p);
    stats.record({ ok: true, latencyMs: 1, prediction: p, requestId: String(i) });
  }
  const mean = predictions.reduce((s, x) => s + x, 0) / predictions.length;
  const variance = predictions.reduce((s, x) => s + (x - mean) ** 2, 0) / (predictions.length - 1);
  const m = stats.predictionStats();
  close(m.mean, mean, 1e-13 * mean);
  close(m.variance, variance, 1e-9 * variance);
  close(variance, 9 / 12, 0.02); // uniform on [0, 3): variance 3²/12
});

test('the reservoir keeps everything below its size and a uniform sample above it', () => {
  const small = new VariantStats(0, { sampleSize: 100 });
  for (let i = 0; i < 60; i++) small.record({ ok: true, latencyMs: 1, prediction: i, requestId: String(i) });
  assert.deepEqual([...small.predictionSample()], Array.from({ length: 60 }, (_, i) => i));

  const stats = new VariantStats(0, { seed: 12345 });
  const n = 200_000;
  for (let i = 0; i < n; i++) stats.record({ ok: true, latencyMs: 1, prediction: i, requestId: String(i) });
  const sample = stats.predictionSample();
  assert.equal(sample.length, 10_000);
  assert.equal(new Set(sample).size, 10_000, 'without replacement');
  // Each tenth of the stream should hold 1000 of the kept values: chi-square with 9 df below
  // its 0.999 quantile 27.877 (chi2.ppf(0.999, 9)).
  const counts = new Array<number>(10).fill(0);
  for (const v of sample) counts[Math.floor((v / n) * 10)]!++;
  const chi2 = counts.reduce((s, c) => s + (c - 1000) ** 2 / 1000, 0);
  assert.ok(chi2 < 27.877, `deciles ${counts.join(' ')}: χ² = ${chi2}`);
  // Another seed keeps another sample.
  const other = new VariantStats(0, { seed: 999 });
  for (let i = 0; i < n; i++) other.record({ ok: true, latencyMs: 1, prediction: i, requestId: String(i) });
  assert.notDeepEqual([...other.predictionSample()].sort(), [...sample].sort());
});

test('every position of the stream is kept with probability k/n (over many seeds)', () => {
  // 4000 reservoirs of 10 over 100 values: each position is expected 400 times.
  const positions = 100;
  const inclusion = new Array<number>(positions).fill(0);
  for (let seed = 1; seed <= 4000; seed++) {
    const stats = new VariantStats(0, { seed, sampleSize: 10, recentSize: 1 });
    for (let i = 0; i < positions; i++) stats.record({ ok: true, latencyMs: 1, prediction: i, requestId: '' });
    for (const v of stats.predictionSample()) inclusion[v]!++;
  }
  const chi2 = inclusion.reduce((s, c) => s + (c - 400) ** 2 / 400, 0);
  // chi2.ppf(0.999, 99) = 148.23
  assert.ok(chi2 < 148.23, `χ² = ${chi2}; first ${inclusion.slice(0, 5).join(' ')}, last ${inclusion.slice(-5).join(' ')}`);
  const first10 = inclusion.slice(0, 10).reduce((s, c) => s + c, 0) / 10;
  const last10 = inclusion.slice(-10).reduce((s, c) => s + c, 0) / 10;
  close(first10, 400, 40, 'early positions');
  close(last10, 400, 40, 'late positions');
});

test('the most recent (request id, prediction) pairs and the label join', () => {
  const stats = new VariantStats(0, { recentSize: 3 });
  stats.record({ ok: true, latencyMs: 1, prediction: 0.1, requestId: 'a' });
  stats.record({ ok: true, latencyMs: 1, prediction: 0.2, requestId: 'b' });
  stats.record({ ok: false, latencyMs: 1, requestId: 'failed' });
  stats.record({ ok: true, latencyMs: 1, prediction: 0.3, requestId: 'c' });
  stats.record({ ok: true, latencyMs: 1, requestId: 'd' });
  assert.deepEqual(stats.recent(), [
    { requestId: 'b', prediction: 0.2 },
    { requestId: 'c', prediction: 0.3 },
    { requestId: 'd', prediction: null },
  ]);
  const labels = new Map<string, unknown>([
    ['a', 1], // evicted
    ['c', 0],
    ['d', 1], // no prediction
    ['zzz', 1],
  ]);
  assert.deepEqual(stats.labelled(labels), [{ prediction: 0.3, label: 0 }]);
});

test('sizes must be positive integers', () => {
  assert.throws(() => new VariantStats(0, { sampleSize: 0 }), RangeError);
  assert.throws(() => new VariantStats(0, { recentSize: 2.5 }), RangeError);
  assert.throws(() => new ShadowStats(0, { sampleSize: -1 }), RangeError);
});

test('agreement: equal within 1e-6 relative, or the same label for probabilities', () => {
  assert.equal(valuesAgree(100, 100.00009), true); // 9e-5 ≤ 1e-6·100.00009
  assert.equal(valuesAgree(100, 100.0002), false);
  assert.equal(valuesAgree(0, 0), true);
  assert.equal(predictionsAgree(0.7, 0.51), true);
  assert.equal(predictionsAgree(0.7, 0.49), false);
  assert.equal(predictionsAgree(2, 3), false);
  assert.equal(predictionsAgree(0.5, 1.5), false);
});

test('shadow pairs: agreement, mean absolute difference, error rate and paired samples (by hand)', () => {
  const stats = new ShadowStats(5);
  stats.record({ primary: 0.9, shadow: 0.8, shadowOk: true }); // same label, |d| 0.1
  stats.record({ primary: 0.2, shadow: 0.6, shadowOk: true }); // labels differ, |d| 0.4
  stats.record({ primary: 0.3, shadow: 0.3, shadowOk: true }); // equal, |d| 0
  stats.record({ primary: 0.3, shadowOk: false }); // shadow error
  stats.record({ primary: 0.3, shadow: Number.NaN, shadowOk: true }); // not comparable
  assert.equal(stats.mirrored, 5);
  assert.equal(stats.shadowErrors, 1);
  assert.equal(stats.shadowErrorRate, 0.2);
  assert.equal(stats.compared, 3);
  assert.equal(stats.agreements, 2);
  assert.equal(stats.valueAgreements, 1);
  assert.equal(stats.agreementRate, 2 / 3);
  close(stats.absoluteDifferenceStats().mean, 0.5 / 3, 1e-15);
  const { primary, shadow } = stats.samples();
  assert.deepEqual([...primary], [0.9, 0.2, 0.3]);
  assert.deepEqual([...shadow], [0.8, 0.6, 0.3]);
});

test('shadow samples stay paired once the reservoir replaces values', () => {
  const stats = new ShadowStats(0, { sampleSize: 50, seed: 3 });
  for (let i = 0; i < 5000; i++) stats.record({ primary: i, shadow: 2 * i + 1, shadowOk: true });
  const { primary, shadow } = stats.samples();
  assert.equal(primary.length, 50);
  for (let k = 0; k < 50; k++) assert.equal(shadow[k], 2 * primary[k]! + 1);
  assert.ok(Math.max(...primary) >= 50, 'later pairs replaced early ones');
});
