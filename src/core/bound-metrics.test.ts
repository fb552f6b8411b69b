// Bound counters and histograms print what prom-client's own metrics print for the same observations.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Counter, Histogram, Registry } from 'prom-client';
import { BoundCounter, BoundHistogram } from './bound-metrics.js';

describe('bound metrics', () => {
  it('a histogram prints the buckets, sum and count worked out by hand', async () => {
    const registry = new Registry();
    const histogram = new BoundHistogram({ name: 'h_seconds', help: 'help text', labelNames: ['model', 'version'] as const, buckets: [0.001, 0.01, 0.1], registers: [registry] });
    const child = histogram.labels({ model: 'a', version: '1' });
    // 0.001 sits in the first bucket (le is inclusive); 0.5 only in +Inf.
    for (const v of [0.0005, 0.001, 0.005, 0.05, 0.5]) child.observe(v);
    histogram.observe({ model: 'b', version: '2' }, 0.02);
    const text = await registry.metrics();
    assert.equal(text, [
      '# HELP h_seconds help text',
      '# TYPE h_seconds histogram',
      'h_seconds_bucket{le="0.001",model="a",version="1"} 2',
      'h_seconds_bucket{le="0.01",model="a",version="1"} 3',
      'h_seconds_bucket{le="0.1",model="a",version="1"} 4',
      'h_seconds_bucket{le="+Inf",model="a",version="1"} 5',
      'h_seconds_sum{model="a",version="1"} 0.5565',
      'h_seconds_count{model="a",version="1"} 5',
      'h_seconds_bucket{le="0.001",model="b",version="2"} 0',
      'h_seconds_bucket{le="0.01",model="b",version="2"} 0',
      'h_seconds_bucket{le="0.1",model="b",version="2"} 1',
      'h_seconds_bucket{le="+Inf",model="b",version="2"} 1',
      'h_seconds_sum{model="b",version="2"} 0.02',
      'h_seconds_count{model="b",version="2"} 1',
      '',
    ].join('\n'));
  });

  it('prints the same text as prom-client for the same observations (series in order of first use)', async () => {
    const ours = new Registry();
    const theirs = new Registry();
    const buckets = [1, 2, 4, 8, 16, 32, 64];
    const bound = new BoundHistogram({ name: 'rows', help: 'rows', labelNames: ['model'] as const, buckets, registers: [ours] });
    const reference = new Histogram({ name: 'rows', help: 'rows', labelNames: ['model'] as const, buckets, registers: [theirs] });
    const boundCount = new BoundCounter({ name: 'requests_total', help: 'requests', labelNames: ['model', 'status'] as const, registers: [ours] });
    const referenceCount = new Counter({ name: 'requests_total', help: 'requests', labelNames: ['model', 'status'] as const, registers: [theirs] });
    for (let i = 0; i < 200; i++) {
      const model = i % 3 === 0 ? 'y' : 'x';
      const rows = (i * 7) % 70;
      bound.labels({ model }).observe(rows);
      reference.observe({ model }, rows);
      const status = i % 5 === 0 ? '400' : '200';
      boundCount.labels({ model, status }).inc();
      referenceCount.inc({ model, status });
    }
    assert.equal(await ours.metrics(), await theirs.metrics());
    // Tests and tools read samples through get() as well.
    assert.deepEqual((await bound.get()).values.map((v) => [v.metricName, v.value]), (await reference.get()).values.map((v) => [v.metricName, v.value]));
  });

  it('keeps one child per label set and resets to zero', async () => {
    const counter = new BoundCounter({ name: 'c_total', help: 'c', labelNames: ['route'] as const });
    assert.equal(counter.labels({ route: '/a' }), counter.labels({ route: '/a' }));
    counter.labels({ route: '/a' }).inc(3);
    counter.inc({ route: '/a' });
    assert.deepEqual((await counter.get()).values, [{ labels: { route: '/a' }, value: 4 }]);
    counter.reset();
    assert.deepEqual((await counter.get()).values, [{ labels: { route: '/a' }, value: 0 }]);
  });
});
