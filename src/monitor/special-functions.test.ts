// Special functions against closed forms, published table values and numeric integration written here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chiSquareSf, erfc, logGamma, normalSf, regularizedBeta, regularizedGammaP, regularizedGammaQ, studentTSf } from './special-functions.js';

function close(actual: number, expected: number, rel = 1e-9, label = ''): void {
  const ok = Math.abs(actual - expected) <= rel * Math.abs(expected) || Math.abs(actual - expected) < 1e-300;
  assert.ok(ok, `${label} expected ${expected}, got ${actual} (relative ${Math.abs(actual - expected) / Math.abs(expected)})`);
}

/** Composite Simpson's rule with n (even) intervals: independent of the code under test. */
function simpson(f: (x: number) => number, a: number, b: number, n = 20_000): number {
  const h = (b - a) / n;
  let s = f(a) + f(b);
  for (let i = 1; i < n; i++) s += (i % 2 ? 4 : 2) * f(a + i * h);
  return (s * h) / 3;
}

test('logGamma: factorials and Γ(1/2) = √π', () => {
  let factorial = 1;
  for (let n = 1; n <= 20; n++) {
    close(logGamma(n + 1), Math.log((factorial *= n)), 1e-13, `ln ${n}!`);
  }
  close(logGamma(0.5), Math.log(Math.sqrt(Math.PI)), 1e-13);
  close(logGamma(100), 359.1342053695754, 1e-13); // ln 99! (published, e.g. Abramowitz & Stegun / math.lgamma(100))
});

test('chi-square survival: closed form for even df', () => {
  // sf(x; 2k) = e^{−x/2} Σ_{j<k} (x/2)^j / j!
  for (const k of [1, 2, 3, 5, 10, 50]) {
    for (const x of [0.1, 1, 3.5, 10, 40, 150, 400]) {
      let term = 1;
      let sum = 1;
      for (let j = 1; j < k; j++) sum += (term *= x / 2 / j);
      close(chiSquareSf(x, 2 * k), Math.exp(-x / 2) * sum, 1e-10, `df=${2 * k} x=${x}`);
    }
  }
});

test('chi-square survival: published critical values', () => {
  // scipy.stats.chi2.ppf(0.95, 1) = 3.841458820694124; chi2.ppf(0.95, 5) = 11.070497693516351;
  // chi2.ppf(0.99, 10) = 23.209251158954356 (the standard table values to 3 decimals: 3.841, 11.070, 23.209)
  close(chiSquareSf(3.841458820694124, 1), 0.05, 1e-9);
  close(chiSquareSf(11.070497693516351, 5), 0.05, 1e-9);
  close(chiSquareSf(23.209251158954356, 10), 0.01, 1e-9);
});

test('chi-square survival: numeric integration of the density for odd df', () => {
  for (const df of [1, 3, 7]) {
    const k = df / 2;
    const logNorm = -k * Math.log(2) - logGamma(k);
    const density = (t: number) => Math.exp(logNorm + (k - 1) * Math.log(t) - t / 2);
    for (const x of [2, 5, 12]) {
      const expected = simpson(density, x, x + 400, 400_000);
      close(chiSquareSf(x, df), expected, 1e-8, `df=${df} x=${x}`);
    }
  }
});

test('erfc and the normal survival function', () => {
  // erfc(2) = 0.004677734981047266 (published: A&S table 7.1); norm.sf(1) = 1 − Φ(1) = 0.15865525393145707
  close(erfc(2), 0.004677734981047266, 1e-12);
  close(normalSf(1), 0.15865525393145707, 1e-12);
  // scipy.stats.norm.ppf(0.975) = 1.959963984540054
  close(normalSf(1.959963984540054), 0.025, 1e-12);
  // norm.sf(10) = 7.61985302416047e-24 (tail: relative accuracy, no cancellation)
  close(normalSf(10), 7.61985302416047e-24, 1e-9);
  close(erfc(-1), 2 - erfc(1), 1e-15);
  for (const x of [0.3, 1.1, 2.5, 4]) {
    const expected = (2 / Math.sqrt(Math.PI)) * simpson((t) => Math.exp(-t * t), x, x + 12, 200_000);
    close(erfc(x), expected, 1e-9, `erfc(${x})`);
  }
});

test('P + Q = 1 and the edges', () => {
  for (const a of [0.5, 1, 4.5, 30]) for (const x of [0.01, 1, 10, 60]) close(regularizedGammaP(a, x) + regularizedGammaQ(a, x), 1, 1e-12);
  assert.equal(regularizedGammaQ(2, 0), 1);
  assert.equal(chiSquareSf(0, 3), 1);
  assert.ok(Number.isNaN(regularizedGammaP(-1, 1)));
});

test('regularized incomplete beta: the binomial sum for integer a, b, and scipy values', () => {
  // I_x(a, b) = Σ_{j=a}^{a+b−1} C(a+b−1, j) x^j (1−x)^{a+b−1−j} for integers a, b ≥ 1
  const choose = (n: number, k: number) => {
    let c = 1;
    for (let i = 1; i <= k; i++) c = (c * (n - k + i)) / i;
    return c;
  };
  for (const [a, b] of [[1, 1], [2, 3], [5, 2], [7, 9], [20, 15]] as const) {
    for (const x of [0.05, 0.3, 0.5, 0.77, 0.99]) {
      let expected = 0;
      for (let j = a; j <= a + b - 1; j++) expected += choose(a + b - 1, j) * x ** j * (1 - x) ** (a + b - 1 - j);
      close(regularizedBeta(x, a, b), expected, 1e-11, `I_${x}(${a}, ${b})`);
    }
  }
  // scipy.special.betainc(2.5, 3.7, 0.4), betainc(0.5, 0.5, 0.2) (= 2/π·asin(√0.2)), betainc(200, 300, 0.41)
  close(regularizedBeta(0.4, 2.5, 3.7), 0.5151961496687577, 1e-11);
  close(regularizedBeta(0.2, 0.5, 0.5), (2 / Math.PI) * Math.asin(Math.sqrt(0.2)), 1e-12);
  close(regularizedBeta(0.41, 200, 300), 0.677628164772179, 1e-9);
  assert.equal(regularizedBeta(0, 2, 3), 0);
  assert.equal(regularizedBeta(1, 2, 3), 1);
  assert.ok(Number.isNaN(regularizedBeta(1.5, 2, 3)));
  assert.ok(Number.isNaN(regularizedBeta(0.5, 0, 3)));
});

test("Student's t survival: closed forms for df 1 and 2, published quantiles, real df", () => {
  for (const t of [-7, -1.3, 0, 0.4, 2, 15, 300]) {
    // df = 1 is the Cauchy distribution: sf(t) = 1/2 − atan(t)/π; df = 2: sf(t) = 1/2 − t/(2√(t² + 2))
    close(studentTSf(t, 1), 0.5 - Math.atan(t) / Math.PI, 1e-11, `df=1 t=${t}`);
    close(studentTSf(t, 2), 0.5 - t / (2 * Math.sqrt(t * t + 2)), 1e-11, `df=2 t=${t}`);
  }
  // The two-sided 5 % critical values of the t tables: t.ppf(0.975, 10) = 2.228138851986274, t.ppf(0.975, 30) = 2.0422724563012378
  close(studentTSf(2.228138851986274, 10), 0.025, 1e-11);
  close(studentTSf(2.0422724563012378, 30), 0.025, 1e-11);
  // scipy.stats.t.sf at non-integer df (Welch–Satterthwaite gives such df) and far in the tail
  close(studentTSf(3.5, 4.7), 0.009564796750138218, 1e-10);
  close(studentTSf(-1.2, 2.5), 0.8342805811670612, 1e-10);
  close(studentTSf(12, 3.3), 0.00038929606084669457, 1e-9);
  close(studentTSf(40, 7), 7.951089992425182e-10, 1e-9);
  close(studentTSf(2.5, 1e6), 0.006209744751081627, 1e-7);
  // Numeric integration of the density at df = 5.5
  const df = 5.5;
  const logNorm = logGamma((df + 1) / 2) - logGamma(df / 2) - 0.5 * Math.log(df * Math.PI);
  const density = (u: number) => Math.exp(logNorm - ((df + 1) / 2) * Math.log1p((u * u) / df));
  close(studentTSf(1.7, df), simpson(density, 1.7, 1.7 + 2000, 2_000_000) + studentTSf(1.7 + 2000, df), 1e-8);
  close(studentTSf(2, 2e7), normalSf(2), 1e-6); // beyond 10⁷ df: the normal
  assert.equal(studentTSf(Infinity, 4), 0);
  assert.ok(Number.isNaN(studentTSf(1, 0)));
});
