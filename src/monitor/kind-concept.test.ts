// The concept kind: the error stream of a labelled window in log order, the detectors run over it
// (detection points worked out by hand or by a small loop of the textbook rule), statuses and
// metrics, and its configuration.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PlinthError } from '../core/index.js';
import { checkConceptConfig, conceptMonitorKind, evaluateConcept, type ConceptResult } from './kind-concept.js';
import type { LabelledRow, LabelledWindow, ScalarValue } from './labelled-window.js';

function windowOf(pairs: Array<[ScalarValue, ScalarValue]>, datatype = 'INT64'): LabelledWindow {
  const rows: LabelledRow[] = pairs.map(([prediction, label], i) => ({ requestId: `r${i}`, role: 'primary', model: 'm@1', at: 1000 + i, prediction, probabilities: null, label }));
  // A shadow row must not enter the stream.
  rows.push({ requestId: 'r0', role: 'shadow', model: 'm@2', at: 1000, prediction: 1, probabilities: null, label: 0 });
  return {
    deployment: 'd', requests: pairs.length, labelledRequests: pairs.length, unusableLabels: 0,
    versions: { 'm@1': { requests: pairs.length, labelled_requests: pairs.length } },
    windowStart: 1000, windowEnd: 1000 + pairs.length - 1, truncated: false, rows,
    outputs: { 'm@1': { prediction: 'label', predictionDatatype: datatype, probabilities: null } },
  };
}

const config = (c: unknown = {}) => checkConceptConfig(c);

describe('concept kind', () => {
  it('finds the jump of a classifier\'s error rate from 0 to 1', () => {
    // 200 right answers, then 200 wrong ones.
    const pairs: Array<[number, number]> = [...Array.from({ length: 200 }, (): [number, number] => [1, 1]), ...Array.from({ length: 200 }, (): [number, number] => [0, 1])];
    const outcome = evaluateConcept(windowOf(pairs), config());
    const result = outcome.result as ConceptResult;
    assert.equal(outcome.status, 'drifted');
    assert.equal(result.task, 'binary');
    assert.equal(result.error, 'zero_one');
    assert.equal(result.labelled_rows, 400);
    assert.equal(outcome.metrics['concept.error_rate'], 0.5);
    const byName = Object.fromEntries(result.detectors.map((d) => [d.detector, d]));
    // DDM, by hand: after 31 zeros p_min = s_min = 0, so the first error (index 200) has
    // p + s > p_min + 3·s_min = 0. It starts over at 201; all errors from there give p = 1, s = 0: no more.
    assert.deepEqual(byName.ddm!.detections, [{ index: 200, request_id: 'r200', at: 1200 }]);
    // Page-Hinkley, by the textbook rule: running mean, sum_up = α·sum + (x − mean) − δ, drift when
    // sum_up − min(sum_up) > 50 after ≥ 30 values.
    let mean = 0;
    let sum = 0;
    let min = Infinity;
    let expected = -1;
    for (let i = 0; i < 400 && expected < 0; i++) {
      const x = i < 200 ? 0 : 1;
      mean += (x - mean) / (i + 1);
      sum = 0.9999 * sum + (x - mean) - 0.005;
      min = Math.min(min, sum);
      if (i + 1 >= 30 && sum - min > 50) expected = i;
    }
    assert.ok(expected > 200);
    assert.equal(byName.page_hinkley!.detections[0]!.index, expected);
    assert.equal(byName.page_hinkley!.detections[0]!.request_id, `r${expected}`);
    // ADWIN checks every 32 values: it cannot see the change before index 223 (the first tick after
    // the first wrong answers), and with 24+ errors against 200 zeros it must by a few ticks later.
    const adwin = byName.adwin!.detections[0]!.index;
    assert.ok(adwin >= 223 && adwin <= 287 && (adwin + 1) % 32 === 0, String(adwin));
    assert.equal(outcome.metrics['concept.adwin.drift'], 1);
    assert.equal(outcome.metrics['concept.ddm.detections'], 1);
    assert.equal(outcome.metrics['concept.drift'], 1);
    assert.equal(outcome.metrics['concept.ddm.last_detection_at'], 1200);
  });

  it('stays ok on a steady error rate', () => {
    // One error in every five, evenly spread: no detector fires.
    const pairs = Array.from({ length: 500 }, (_, i): [string, string] => [i % 5 === 0 ? 'cat' : 'dog', 'dog']);
    const outcome = evaluateConcept(windowOf(pairs, 'BYTES'), config());
    assert.equal(outcome.status, 'ok');
    assert.equal(outcome.metrics['concept.error_rate'], 0.2);
    for (const name of ['adwin', 'ddm', 'page_hinkley']) assert.equal(outcome.metrics[`concept.${name}.drift`], 0, name);
  });

  it('reads absolute errors for regression, without DDM', () => {
    // Predictions off by 0.1 for 100 rows, then by 5: the absolute error jumps from 0.1 to 5.
    const pairs = Array.from({ length: 200 }, (_, i): [number, number] => [i < 100 ? 10.1 : 15, 10]);
    const outcome = evaluateConcept(windowOf(pairs, 'FP32'), config());
    const result = outcome.result as ConceptResult;
    assert.equal(result.task, 'regression');
    assert.equal(result.error, 'absolute');
    assert.deepEqual(result.skipped.map((s) => s.detector), ['ddm']);
    assert.equal(outcome.status, 'drifted');
    close(outcome.metrics['concept.mean_absolute_error']!, (100 * 0.1 + 100 * 5) / 200);
    // Page-Hinkley: deviations after the jump are 4.9·100/(100+k) (less δ); the sum passes 50 within
    // the first dozen values (4.9 · Σ 100/(100+k) for k ≤ 11 ≈ 51).
    const ph = result.detectors.find((d) => d.detector === 'page_hinkley')!;
    assert.ok(ph.detections[0]!.index >= 100 && ph.detections[0]!.index <= 112, String(ph.detections[0]!.index));
  });

  it('needs min_labels scored rows', () => {
    const outcome = evaluateConcept(windowOf(Array.from({ length: 10 }, (): [number, number] => [1, 1])), config());
    assert.equal(outcome.status, 'not_enough_data');
    assert.equal(outcome.metrics['concept.labelled_rows'], 10);
    assert.match((outcome.result as ConceptResult).reason!, /fewer than min_labels 30/);
    const empty = evaluateConcept({ ...windowOf([]), requests: 0, rows: [] }, config());
    assert.equal(empty.status, 'not_enough_data');
  });

  it('config: River\'s defaults filled in, detectors turned off, bad settings named', () => {
    const json = conceptMonitorKind.checkConfig({ detectors: { ddm: false, page_hinkley: { threshold: 20, mode: 'up' } } });
    assert.deepEqual((json as { detectors: unknown }).detectors, {
      adwin: { delta: 0.002, clock: 32, max_buckets: 5, min_window_length: 5, grace_period: 10 },
      ddm: null,
      page_hinkley: { min_instances: 30, delta: 0.005, threshold: 20, alpha: 0.9999, mode: 'up' },
    });
    assert.deepEqual(conceptMonitorKind.checkConfig(json), json);
    const invalid = (c: unknown, field: RegExp) => assert.throws(() => conceptMonitorKind.checkConfig(c), (e) => e instanceof PlinthError && e.code === 'INVALID_ARGUMENT' && field.test(e.message));
    invalid({ detectors: { kswin: {} } }, /config\.detectors\.kswin/);
    invalid({ detectors: { adwin: { delta: 2 } } }, /config\.detectors\.adwin\.delta/);
    invalid({ detectors: { adwin: { clock: 0 } } }, /config\.detectors\.adwin\.clock/);
    invalid({ detectors: { page_hinkley: { mode: 'sideways' } } }, /config\.detectors\.page_hinkley\.mode/);
    invalid({ detectors: { ddm: { lambda: 1 } } }, /config\.detectors\.ddm\.lambda/);
    invalid({ detectors: { adwin: false, ddm: false, page_hinkley: null } }, /every detector off/);
    invalid({ detectors: [] }, /config\.detectors/);
    assert.equal((conceptMonitorKind.checkConfig({ task: 'regression' }) as { detectors: { ddm: unknown } }).detectors.ddm, null);
  });
});

function close(actual: number, expected: number) {
  assert.ok(Math.abs(actual - expected) < 1e-12, `${actual} ≠ ${expected}`);
}
