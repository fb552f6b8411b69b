// ADWIN, DDM and Page-Hinkley against River: the examples River publishes in its documentation
// (streams drawn with CPython's random module, re-created here with an independent Mersenne
// Twister), hand-worked sequences, a small re-implementation of the textbook rules, and
// stationary streams with no detection.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Adwin, ADWIN_DEFAULTS } from './adwin.js';
import { Ddm, DDM_DEFAULTS } from './ddm.js';
import { PageHinkley, PAGE_HINKLEY_DEFAULTS } from './page-hinkley.js';

/** CPython's random.Random(seed) for a small non-negative integer seed: MT19937 seeded by init_by_array([seed]). */
class PythonRandom {
  private mt = new Uint32Array(624);
  private index = 624;

  constructor(seed: number) {
    const mt = this.mt;
    mt[0] = 19650218;
    for (let i = 1; i < 624; i++) mt[i] = (Math.imul(1812433253, mt[i - 1]! ^ (mt[i - 1]! >>> 30)) + i) >>> 0;
    const key = [seed >>> 0];
    let i = 1;
    let j = 0;
    for (let k = Math.max(624, key.length); k > 0; k--) {
      mt[i] = ((mt[i]! ^ Math.imul(mt[i - 1]! ^ (mt[i - 1]! >>> 30), 1664525)) + key[j]! + j) >>> 0;
      i++; j++;
      if (i >= 624) { mt[0] = mt[623]!; i = 1; }
      if (j >= key.length) j = 0;
    }
    for (let k = 623; k > 0; k--) {
      mt[i] = ((mt[i]! ^ Math.imul(mt[i - 1]! ^ (mt[i - 1]! >>> 30), 1566083941)) - i) >>> 0;
      i++;
      if (i >= 624) { mt[0] = mt[623]!; i = 1; }
    }
    mt[0] = 0x80000000;
  }

  private next32(): number {
    const mt = this.mt;
    if (this.index >= 624) {
      for (let k = 0; k < 624; k++) {
        const y = (mt[k]! & 0x80000000) | (mt[(k + 1) % 624]! & 0x7fffffff);
        mt[k] = mt[(k + 397) % 624]! ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
      }
      this.index = 0;
    }
    let y = mt[this.index++]!;
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** random.random(): 53 random bits in [0, 1). */
  random(): number {
    const a = this.next32() >>> 5;
    const b = this.next32() >>> 6;
    return (a * 67108864 + b) / 9007199254740992;
  }

  /** random.choices(population, k=k) without weights. */
  choices(population: number[], k: number): number[] {
    return Array.from({ length: k }, () => population[Math.floor(this.random() * population.length)]!);
  }

  /** random.choices(population, weights, k=k): bisect_right on the cumulative weights. */
  weightedChoices(population: number[], weights: number[], k: number): number[] {
    const cum: number[] = [];
    let acc = 0;
    for (const w of weights) { acc += w; cum.push(acc); }
    const total = cum[cum.length - 1]!;
    return Array.from({ length: k }, () => {
      const x = this.random() * total;
      let lo = 0;
      let hi = population.length - 1;
      while (lo < hi) { const mid = (lo + hi) >> 1; if (x < cum[mid]!) hi = mid; else lo = mid + 1; }
      return population[lo]!;
    });
  }
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

describe('the stand-in for CPython random', () => {
  it('gives CPython\'s documented first draws', () => {
    // CPython: random.seed(42); random.random() → 0.6394267984578837, then 0.025010755222666936.
    const r = new PythonRandom(42);
    assert.equal(r.random(), 0.6394267984578837);
    assert.equal(r.random(), 0.025010755222666936);
  });
});

describe('ADWIN', () => {
  it('has River\'s defaults', () => {
    assert.deepEqual({ ...ADWIN_DEFAULTS }, { delta: 0.002, clock: 32, maxBuckets: 5, minWindowLength: 5, gracePeriod: 10 });
  });

  it('reproduces River\'s documented example: one change, at index 1023', () => {
    const rng = new PythonRandom(12345);
    const stream = [...rng.choices([0, 1], 1000), ...rng.choices(range(4, 8), 1000)];
    const adwin = new Adwin();
    const detections: number[] = [];
    stream.forEach((x, i) => { if (adwin.update(x)) detections.push(i); });
    assert.deepEqual(detections, [1023]);
    assert.equal(stream[1023], 4);
  });

  it('detects an abrupt 0 → 1 step where River\'s cuts, worked by hand, first pass the bound', () => {
    // 64 zeros then ones. Cuts are checked at the 32nd, 64th, 96th, 128th … value only.
    // Index 95 (W = 96): the histogram (≤ 5 buckets per size, the two oldest merging) holds, oldest
    // first, 2 buckets of 16 zeros, 4 of 8 zeros, 5 of 4 ones, 4 of 2 ones, 4 single ones. River
    // visits every bucket of a size but the newest, so W0 grows 16, 24, 32, 40 (all zeros) …; the
    // widest gap is at n0 = 40, n1 = 56: |0 − 32/56| = 0.571 < ε = 0.684 (below) — no change.
    // Index 127 (W = 128): 4 buckets of 16 zeros come first; at n0 = 48 (zeros), n1 = 80 holding all
    // 64 ones, |0 − 0.8| = 0.8 > ε = 0.593 — change.
    const epsilon = (w: number, n0: number, n1: number, varianceInWindow: number) => {
      const deltaPrime = Math.log(2 * Math.log(w) / 0.002);
      const m = 1 / (n0 - 5 + 1) + 1 / (n1 - 5 + 1);
      return Math.sqrt(2 * m * varianceInWindow * deltaPrime) + (2 / 3) * deltaPrime * m;
    };
    // Variance of 64 zeros and 32 ones: 96 · (1/3)(2/3) / 96 = 2/9; of 64 and 64: 1/4.
    const at95 = epsilon(96, 40, 56, 2 / 9);
    const at127 = epsilon(128, 48, 80, 1 / 4);
    assert.ok(Math.abs(at95 - 0.684) < 1e-3 && 32 / 56 < at95, String(at95));
    assert.ok(Math.abs(at127 - 0.593) < 1e-3 && 0.8 > at127, String(at127));
    const adwin = new Adwin();
    const stream = [...Array<number>(64).fill(0), ...Array<number>(64).fill(1)];
    const detections: number[] = [];
    stream.forEach((x, i) => { if (adwin.update(x)) detections.push(i); });
    assert.deepEqual(detections, [127]);
    // The window dropped its oldest buckets (two of 16 zeros) until no cut passed.
    assert.equal(adwin.width, 96);
  });

  it('stays quiet on a constant and on a stationary stream', () => {
    const constant = new Adwin();
    for (let i = 0; i < 5000; i++) assert.equal(constant.update(0.25), false);
    assert.equal(constant.width, 5000);
    assert.equal(constant.estimation, 0.25);
    const rng = new PythonRandom(7);
    const stationary = new Adwin();
    let detections = 0;
    for (const x of rng.choices([0, 1], 5000)) if (stationary.update(x)) detections++;
    assert.equal(detections, 0);
  });

  it('starts over on the update after a detection', () => {
    const adwin = new Adwin();
    for (let i = 0; i < 64; i++) adwin.update(0);
    for (let i = 0; i < 64; i++) adwin.update(1);
    assert.equal(adwin.driftDetected, true);
    adwin.update(1);
    assert.equal(adwin.width, 1);
    assert.equal(adwin.driftDetected, false);
  });
});

/** DDM written from the definition (Gama et al.), kept apart from the implementation under test. */
function ddmByDefinition(stream: number[]): { warnings: number[]; drifts: number[] } {
  const warnings: number[] = [];
  const drifts: number[] = [];
  let errors = 0;
  let n = 0;
  let best = { p: Infinity, s: Infinity };
  let warning = false;
  for (let i = 0; i < stream.length; i++) {
    n++;
    errors += stream[i]!;
    const p = errors / n;
    const s = Math.sqrt(p * (1 - p) / n);
    if (n <= 30) continue;
    if (p + s <= best.p + best.s) best = { p, s };
    if (p + s > best.p + 3 * best.s) {
      drifts.push(i);
      n = 0; errors = 0; best = { p: Infinity, s: Infinity }; warning = false;
      continue;
    }
    const nowWarning = p + s > best.p + 2 * best.s;
    if (nowWarning && !warning) warnings.push(i);
    warning = nowWarning;
  }
  return { warnings, drifts };
}

describe('DDM', () => {
  it('has River\'s defaults', () => {
    assert.deepEqual({ ...DDM_DEFAULTS }, { warmStart: 30, warningThreshold: 2, driftThreshold: 3 });
  });

  it('reproduces River\'s documented example: warning at 1084, change at 1334, warning at 1492', () => {
    const rng = new PythonRandom(42);
    const stream = [...rng.choices([0, 1], 1000), ...rng.weightedChoices([0, 1], [0.3, 0.7], 1000)];
    const ddm = new Ddm();
    const printed: string[] = [];
    let printWarning = true;
    stream.forEach((x, i) => {
      ddm.update(x);
      if (ddm.warningDetected && printWarning) { printed.push(`warning ${i}`); printWarning = false; }
      if (ddm.driftDetected) { printed.push(`change ${i}`); printWarning = true; }
    });
    assert.deepEqual(printed, ['warning 1084', 'change 1334', 'warning 1492']);
    // The definition, computed with running counts instead of a running mean, agrees.
    const byDefinition = ddmByDefinition(stream);
    assert.deepEqual(byDefinition.drifts, [1334]);
  });

  it('detects a jump of the error rate from 0.1 to 1 where the definition says', () => {
    // One error in every ten for 200 values, then only errors.
    const stream = [...range(0, 200).map((i) => (i % 10 === 9 ? 1 : 0)), ...Array<number>(100).fill(1)];
    const expected = ddmByDefinition(stream);
    const ddm = new Ddm();
    const drifts: number[] = [];
    const warnings: number[] = [];
    let warning = false;
    stream.forEach((x, i) => {
      ddm.update(x);
      if (ddm.driftDetected) drifts.push(i);
      if (ddm.warningDetected && !warning) warnings.push(i);
      warning = ddm.warningDetected;
    });
    assert.deepEqual(drifts, expected.drifts);
    assert.deepEqual(warnings, expected.warnings);
    assert.ok(drifts.length >= 1 && drifts[0]! > 200 && drifts[0]! < 215, String(drifts));
  });

  it('worked by hand: no errors for 31 values, then errors', () => {
    // n = 31: p = 0, s = 0 → p_min = s_min = 0. The first error (n = 32) gives p + s > 0 = p_min + 3·s_min.
    const ddm = new Ddm();
    for (let i = 0; i < 31; i++) assert.equal(ddm.update(0), false);
    assert.equal(ddm.update(1), true);
    assert.equal(ddm.warningDetected, false);
    // The next update starts over.
    ddm.update(1);
    assert.equal(ddm.count, 1);
    assert.equal(ddm.driftDetected, false);
  });

  it('stays quiet on a stationary error stream', () => {
    const rng = new PythonRandom(3);
    const ddm = new Ddm();
    let drifts = 0;
    for (const x of rng.weightedChoices([0, 1], [0.8, 0.2], 3000)) if (ddm.update(x)) drifts++;
    assert.equal(drifts, 0);
  });
});

describe('Page-Hinkley', () => {
  it('has River\'s defaults', () => {
    assert.deepEqual({ ...PAGE_HINKLEY_DEFAULTS }, { minInstances: 30, delta: 0.005, threshold: 50, alpha: 1 - 0.0001, mode: 'both' });
  });

  it('reproduces River\'s documented example: change at index 1006, value 5', () => {
    const rng = new PythonRandom(12345);
    const stream = [...rng.choices([0, 1], 1000), ...rng.choices(range(4, 8), 1000)];
    const ph = new PageHinkley();
    let first = -1;
    stream.forEach((x, i) => { if (ph.update(x) && first < 0) first = i; });
    assert.equal(first, 1006);
    assert.equal(stream[1006], 5);
  });

  it('worked by hand: 40 zeros then tens cross λ = 50 at the sixth ten', () => {
    // Zeros: mean 0, dev 0, sum_up = α·sum − δ stays ≤ 0 and its minimum m ≈ −40δ·(1−small) ≈ −0.19992.
    // Tens from n = 41: mean_n = 10(n−40)/n, dev = 10 − mean_n = 400/n.
    // sum_up after k tens ≈ m·α^k + Σ (400/(40+j) − δ)·α^(k−j): k = 5 gives ≈ 43.6, k = 6 ≈ 52.2,
    // so sum_up − m crosses 50 at the sixth ten, index 45.
    const alpha = 1 - 0.0001;
    const delta = 0.005;
    let sum = 0;
    let min = Infinity;
    let mean = 0;
    let index = -1;
    const stream = [...Array<number>(40).fill(0), ...Array<number>(20).fill(10)];
    for (let i = 0; i < stream.length && index < 0; i++) {
      const n = i + 1;
      mean += (stream[i]! - mean) / n;
      sum = alpha * sum + (stream[i]! - mean) - delta;
      min = Math.min(min, sum);
      if (n >= 30 && sum - min > 50) index = i;
    }
    assert.equal(index, 45);
    const ph = new PageHinkley();
    const detections: number[] = [];
    stream.forEach((x, i) => { if (ph.update(x)) detections.push(i); });
    assert.equal(detections[0], 45);
  });

  it('detects a fall in mode both and down, not in mode up', () => {
    const stream = [...Array<number>(40).fill(10), ...Array<number>(40).fill(0)];
    const first = (mode: 'up' | 'down' | 'both') => {
      const ph = new PageHinkley({ mode });
      return stream.findIndex((x) => ph.update(x));
    };
    // Falling by 10 mirrors the rise above: dev = −400/n, crossing at the sixth value of the new level.
    assert.equal(first('down'), 45);
    assert.equal(first('both'), 45);
    assert.equal(first('up'), -1);
  });

  it('stays quiet on a stationary stream and before min_instances', () => {
    const rng = new PythonRandom(11);
    const ph = new PageHinkley();
    let drifts = 0;
    for (const x of rng.choices([0, 1], 2000)) if (ph.update(x)) drifts++;
    assert.equal(drifts, 0);
    const early = new PageHinkley();
    // A huge jump at the 2nd value cannot signal before 30 values.
    const seq = [0, 1000, ...Array<number>(27).fill(1000)];
    assert.equal(seq.some((x) => early.update(x)), false);
  });
});
