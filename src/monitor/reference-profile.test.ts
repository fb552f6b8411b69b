// Reference profile blobs: a round trip keeps every value and count; large numeric columns become a
// quantile sample whose distribution function stays within 1/m of the full one (checked by counting);
// exact extremes survive sampling; bytes that are not a profile are refused.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isPlinthError } from '../core/index.js';
import type { FeatureWindow } from './drift.js';
import { decodeReferenceProfile, encodeReferenceProfile, profileFromWindow, quantileSample } from './reference-profile.js';
import { categoricalSample, numericSample } from './samples.js';

/** A deterministic pseudo-random sequence (mulberry32). */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('reference profile blobs', () => {
  it('round-trips numeric values, category counts, other types and the prediction', () => {
    const window: FeatureWindow = {
      rows: 5,
      columns: new Map([
        ['age', { type: 'numeric', sample: numericSample([31, Number.NaN, -2.5, 1e300, 7]), rows: 5 }],
        ['country', { type: 'categorical', sample: categoricalSample(['FR', 'DE', null, 'FR', 'é"\\']), rows: 5 }],
        ['member', { type: 'boolean', sample: categoricalSample(['true', 'false', 'true', 'true', null]), rows: 5 }],
        ['when', { type: 'datetime', sample: null, rows: 5 }],
      ]),
    };
    const prediction = { type: 'numeric', sample: numericSample([0.1, 0.2, 0.3, 0.4, 0.5]), rows: 5 };
    const decoded = decodeReferenceProfile(encodeReferenceProfile(profileFromWindow(window, prediction)));
    assert.equal(decoded.rows, 5);
    assert.deepEqual([...decoded.columns.keys()], ['age', 'country', 'member', 'when']);
    const age = decoded.columns.get('age')!;
    assert.equal(age.sample?.kind, 'numeric');
    assert.deepEqual(Array.from(age.sample.kind === 'numeric' ? age.sample.sorted : []), [-2.5, 7, 31, 1e300]);
    assert.equal(age.sample.missing, 1);
    assert.deepEqual([age.min, age.max, age.count, age.sampled], [-2.5, 1e300, 4, false]);
    const country = decoded.columns.get('country')!.sample!;
    assert.equal(country.kind, 'categorical');
    assert.deepEqual(country.kind === 'categorical' ? [...country.counts].sort() : [], [['DE', 1], ['FR', 2], ['é"\\', 1]]);
    assert.equal(country.kind === 'categorical' ? country.total : -1, 4);
    assert.equal(country.missing, 1);
    assert.equal(decoded.columns.get('member')!.type, 'boolean');
    assert.equal(decoded.columns.get('when')!.sample, null);
    assert.equal(decoded.columns.get('when')!.rows, 5);
    const predicted = decoded.prediction?.sample;
    assert.deepEqual(Array.from(predicted?.kind === 'numeric' ? predicted.sorted : []), [0.1, 0.2, 0.3, 0.4, 0.5]);
  });

  it('samples a large numeric column to within 1/m of its distribution, keeping exact extremes and counts', () => {
    const next = random(7);
    const n = 300_000;
    const m = 10_000;
    const values = Float64Array.from({ length: n }, () => (next() - 0.5) * 1000 + (next() < 0.1 ? 5000 : 0));
    const window: FeatureWindow = { rows: n, columns: new Map([['x', { type: 'numeric', sample: numericSample(values), rows: n }]]) };
    const profile = decodeReferenceProfile(encodeReferenceProfile(profileFromWindow(window, null, m)));
    const x = profile.columns.get('x')!;
    const sample = x.sample?.kind === 'numeric' ? x.sample.sorted : new Float64Array();
    assert.equal(sample.length, m);
    assert.equal(x.count, n);
    assert.equal(x.sampled, true);
    let min = Infinity;
    let max = -Infinity;
    for (const v of values) {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    assert.deepEqual([x.min, x.max], [min, max]);
    for (let i = 1; i < m; i++) assert.ok(sample[i - 1]! <= sample[i]!, 'the sample is sorted');
    // F(t) by counting, on both, at 200 points across the range.
    const all = Array.from(values);
    const inSample = Array.from(sample);
    for (let k = 0; k < 200; k++) {
      const t = -600 + (k / 199) * 6200;
      const full = all.filter((v) => v <= t).length / n;
      const sampled = inSample.filter((v) => v <= t).length / m;
      assert.ok(Math.abs(full - sampled) <= 1 / m + 1e-12, `F(${t}): ${full} vs ${sampled}`);
    }
  });

  it('leaves short columns whole', () => {
    const sorted = Float64Array.from([1, 2, 3]);
    assert.equal(quantileSample(sorted, 3), sorted);
    assert.deepEqual(Array.from(quantileSample(Float64Array.from([1, 2, 3, 4]), 2)), [2, 4]);
  });

  it('refuses bytes that are not a profile', () => {
    for (const bytes of [Buffer.from('not a profile'), Buffer.from('PLNTHREF\xff\xff\xff\x7f', 'latin1'), Buffer.concat([Buffer.from('PLNTHREF', 'latin1'), Buffer.from([2, 0, 0, 0]), Buffer.from('{]')])]) {
      assert.throws(() => decodeReferenceProfile(bytes), (error: unknown) => isPlinthError(error) && error.code === 'ARTIFACT_CORRUPT');
    }
  });
});
