// The performance kind's scoring of labelled rows (hand-worked confusion matrices, pair counts and
// log-likelihoods; scikit-learn's documented examples), task inference and its configuration.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PlinthError } from '../core/index.js';
import { checkPerformanceConfig, performanceMonitorKind, scoreRows } from './kind-performance.js';
import { scalarValue, type LabelledRow, type LabelledWindow, type ScalarValue } from './labelled-window.js';
import { decideScoring } from './prediction-task.js';

const close = (actual: number | undefined, expected: number, tolerance = 1e-12) =>
  assert.ok(actual !== undefined && Math.abs(actual - expected) <= tolerance * Math.max(1, Math.abs(expected)), `${actual} ≠ ${expected}`);

function row(prediction: ScalarValue | null, label: ScalarValue | null, probabilities: number[] | null = null, extra: Partial<LabelledRow> = {}): LabelledRow {
  return { requestId: `r${Math.random()}`, role: 'primary', model: 'm@1', at: 0, prediction, probabilities, label, ...extra };
}

function windowOf(rows: LabelledRow[], datatype: string | null = 'INT64'): LabelledWindow {
  return {
    deployment: 'd', requests: rows.length, labelledRequests: rows.length, unusableLabels: 0,
    versions: { 'm@1': { requests: rows.length, labelled_requests: rows.length } },
    windowStart: 0, windowEnd: 0, truncated: false, rows,
    outputs: { 'm@1': { prediction: 'label', predictionDatatype: datatype, probabilities: null } },
  };
}

const config = (c: unknown = {}) => checkPerformanceConfig(c);

// p(positive) and label of eight rows.
const P = [0.9, 0.8, 0.7, 0.6, 0.4, 0.3, 0.2, 0.1];
const Y = [1, 1, 0, 1, 0, 1, 0, 0];

describe('performance scoring: binary', () => {
  // Predicted 1 for p ≥ 0.5: rows 1–4 (labels 1 1 0 1: tp 3, fp 1), predicted 0: rows 5–8 (labels
  // 0 1 0 0: fn 1, tn 3). Accuracy 6/8, precision 3/4, recall 3/4, F1 3/4.
  // ROC AUC: positives .9 .8 .6 .3 against negatives .7 .4 .2 .1 — pairs ranked right 4 + 4 + 3 + 2
  // of 16 = 0.8125. Log loss: −(ln .9 + ln .8 + ln .3 + ln .6 + ln .6 + ln .3 + ln .8 + ln .9)/8.
  const expectedLogLoss = -Math.log(0.9 * 0.8 * 0.3 * 0.6) / 4;

  it('from class probabilities and the label output', () => {
    const rows = P.map((p, i) => row(p >= 0.5 ? 1 : 0, Y[i]!, [1 - p, p]));
    const scoring = decideScoring(windowOf(rows), config());
    assert.deepEqual({ task: scoring.task, classes: scoring.classes, positive: scoring.positive }, { task: 'binary', classes: ['0', '1'], positive: '1' });
    const s = scoreRows(rows, scoring, 0.5);
    assert.equal(s.labelled_rows, 8);
    assert.equal(s.metrics.accuracy, 0.75);
    assert.equal(s.metrics.precision, 0.75);
    assert.equal(s.metrics.recall, 0.75);
    assert.equal(s.metrics.f1, 0.75);
    assert.equal(s.metrics.roc_auc, 0.8125);
    close(s.metrics.log_loss, expectedLogLoss);
  });

  it('from a single score in [0, 1] (the positive class at or above the threshold)', () => {
    const rows = P.map((p, i) => row(p, Y[i]!));
    const scoring = decideScoring(windowOf(rows, 'FP32'), config());
    assert.equal(scoring.task, 'binary');
    assert.equal(scoring.taskFrom, 'labels');
    const s = scoreRows(rows, scoring, 0.5);
    assert.equal(s.metrics.accuracy, 0.75);
    assert.equal(s.metrics.roc_auc, 0.8125);
    close(s.metrics.log_loss, expectedLogLoss);
    // Threshold 0.75: predicted 1 only for .9 and .8 (both right) → tp 2, fp 0, fn 2: precision 1, recall 1/2.
    const strict = scoreRows(rows, scoring, 0.75);
    assert.equal(strict.metrics.precision, 1);
    assert.equal(strict.metrics.recall, 0.5);
    assert.equal(strict.metrics.accuracy, 6 / 8);
  });

  it('with named classes and another positive class', () => {
    // Classes ham (column 0) and spam (column 1), scikit-learn's log_loss example: 0.21616…
    const rows = [row('spam', 'spam', [0.1, 0.9]), row('ham', 'ham', [0.9, 0.1]), row('ham', 'ham', [0.8, 0.2]), row('spam', 'spam', [0.35, 0.65])];
    const scoring = decideScoring(windowOf(rows, 'BYTES'), config({ classes: ['ham', 'spam'], positive_class: 'spam' }));
    const s = scoreRows(rows, scoring, 0.5);
    close(s.metrics.log_loss, 0.21616187468057912);
    assert.equal(s.metrics.accuracy, 1);
    assert.equal(s.metrics.roc_auc, 1);
    // Positive class ham: recall of ham is 2/2, precision 2/2 as well.
    const asHam = scoreRows(rows, decideScoring(windowOf(rows, 'BYTES'), config({ classes: ['ham', 'spam'], positive_class: 'ham' })), 0.5);
    assert.equal(asHam.metrics.recall, 1);
  });

  it('skips ROC AUC with one class among the labels, and probabilities-based metrics without probabilities', () => {
    const one = [row(1, 1, [0.2, 0.8]), row(0, 1, [0.6, 0.4])];
    const s = scoreRows(one, decideScoring(windowOf(one), config()), 0.5);
    assert.equal(s.metrics.roc_auc, undefined);
    assert.match(s.skipped.roc_auc!, /two classes/);
    close(s.metrics.log_loss, -(Math.log(0.8) + Math.log(0.4)) / 2);
    const bare = [row(1, 1), row(0, 1)];
    const b = scoreRows(bare, decideScoring(windowOf(bare), config()), 0.5);
    assert.equal(b.metrics.accuracy, 0.5);
    assert.equal(b.metrics.log_loss, undefined);
    assert.match(b.skipped.log_loss!, /no class probabilities/);
  });
});

describe('performance scoring: multiclass and regression', () => {
  it('scikit-learn\'s macro example with class names (no probabilities)', () => {
    // y_true [0, 1, 2, 0, 1, 2], y_pred [0, 2, 1, 0, 0, 1] with 0 cat, 1 dog, 2 bird:
    // precision 0.2222…, recall 0.3333…, F1 0.2666…; accuracy 2/6.
    const names = ['cat', 'dog', 'bird'];
    const y = [0, 1, 2, 0, 1, 2];
    const p = [0, 2, 1, 0, 0, 1];
    const rows = y.map((v, i) => row(names[p[i]!]!, names[v]!));
    const scoring = decideScoring(windowOf(rows, 'BYTES'), config());
    assert.equal(scoring.task, 'multiclass');
    assert.deepEqual(scoring.classes, ['bird', 'cat', 'dog']);
    const s = scoreRows(rows, scoring, 0.5);
    close(s.metrics.accuracy, 2 / 6);
    close(s.metrics.precision, 2 / 9);
    close(s.metrics.recall, 1 / 3);
    close(s.metrics.f1, 0.8 / 3);
  });

  it('one-vs-rest ROC AUC and log loss from three-class probabilities', () => {
    // Rows (probabilities of classes 0, 1, 2; label): [.7 .2 .1; 2], [.2 .6 .2; 1], [.1 .3 .6; 2], [.3 .3 .4; 0].
    // Class 2: positives .1 .6 vs .2 .4 → 2 of 4 pairs = 0.5; class 1: .6 vs .2 .3 .3 → 1;
    // class 0: .3 vs .7 .2 .1 → 2/3. Mean 0.7222…; log loss −(ln .1 + ln .6 + ln .6 + ln .3)/4.
    const rows = [row(null, 2, [0.7, 0.2, 0.1]), row(null, 1, [0.2, 0.6, 0.2]), row(null, 2, [0.1, 0.3, 0.6]), row(null, 0, [0.3, 0.3, 0.4])];
    const scoring = decideScoring(windowOf(rows, 'FP32'), config());
    assert.equal(scoring.task, 'multiclass');
    const s = scoreRows(rows, scoring, 0.5);
    close(s.metrics.roc_auc, (0.5 + 1 + 2 / 3) / 3);
    close(s.metrics.log_loss, -(Math.log(0.1) + Math.log(0.6) + Math.log(0.6) + Math.log(0.3)) / 4);
    // Predicted by argmax: 0, 1, 2, 2 against 2, 1, 2, 0 → accuracy 2/4.
    assert.equal(s.metrics.accuracy, 0.5);
  });

  it('scikit-learn\'s regression example: MAE 0.5, RMSE 0.612…, R² 0.948…, MAPE 0.327…', () => {
    const rows = [row(2.5, 3), row(0, -0.5), row(2, 2), row(8, 7)];
    const scoring = decideScoring(windowOf(rows, 'FP32'), config());
    assert.equal(scoring.task, 'regression');
    const s = scoreRows(rows, scoring, 0.5);
    assert.equal(s.metrics.mae, 0.5);
    close(s.metrics.rmse, 0.6123724356957945);
    close(s.metrics.r2, 0.9486081370449679);
    close(s.metrics.mape, 0.3273809523809524);
    // A class name label cannot be scored for regression; constant labels leave R² out.
    const odd = scoreRows([row(1, 'x'), row(1, 2), row(3, 2)], scoring, 0.5);
    assert.equal(odd.unscored_rows, 1);
    assert.equal(odd.metrics.mae, 1); // |1 − 2| and |3 − 2|
    assert.match(odd.skipped.r2!, /constant/);
  });

  it('labels as sent: numbers, booleans, numeric strings, class names', () => {
    assert.equal(scalarValue(1), 1);
    assert.equal(scalarValue(true), 1);
    assert.equal(scalarValue(' 2.5 '), 2.5);
    assert.equal(scalarValue('1e3'), 1000);
    assert.equal(scalarValue('false'), 0);
    assert.equal(scalarValue('spam'), 'spam');
    assert.equal(scalarValue('0x10'), '0x10');
    assert.equal(scalarValue(null), null);
    assert.equal(scalarValue({ a: 1 }), null);
    assert.equal(scalarValue(Number.NaN), null);
  });
});

describe('performance config', () => {
  const invalid = (c: unknown, field: RegExp) =>
    assert.throws(() => performanceMonitorKind.checkConfig(c), (e) => e instanceof PlinthError && e.code === 'INVALID_ARGUMENT' && field.test(e.message));

  it('fills defaults and is stable when checked again', () => {
    const once = performanceMonitorKind.checkConfig({ classes: ['no', 'yes'], positive_class: 'yes' });
    assert.deepEqual(once, { task: null, classes: ['no', 'yes'], positive_class: 'yes', threshold: 0.5, prediction_output: null, probability_output: null, min_labels: 30, max_drop: null });
    assert.deepEqual(performanceMonitorKind.checkConfig(once), once);
    assert.deepEqual(performanceMonitorKind.checkConfig(undefined), performanceMonitorKind.checkConfig({}));
  });

  it('refuses bad settings, naming the field', () => {
    invalid([], /config must be an object/);
    invalid({ task: 'ranking' }, /config\.task/);
    invalid({ classes: ['a'] }, /config\.classes/);
    invalid({ classes: ['a', 'a'] }, /twice/);
    invalid({ task: 'binary', classes: ['a', 'b', 'c'] }, /exactly 2/);
    invalid({ classes: ['a', 'b'], positive_class: 'c' }, /config\.positive_class/);
    invalid({ threshold: 1 }, /config\.threshold/);
    invalid({ min_labels: 0 }, /config\.min_labels/);
    invalid({ max_drop: -1 }, /config\.max_drop/);
    invalid({ prediction_output: '' }, /config\.prediction_output/);
    invalid({ window: 3 }, /config\.window is not a setting/);
  });
});
