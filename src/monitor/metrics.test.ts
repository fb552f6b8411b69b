// Performance metrics against scikit-learn's documented examples (values printed in its docs) and
// hand-worked cases.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PlinthError } from '../core/index.js';
import { accuracy, binaryScores, logLoss, macroScores, mae, mape, r2, rmse, rocAuc, rocAucOneVsRest } from './metrics.js';

const close = (actual: number, expected: number, tolerance = 1e-12) => assert.ok(Math.abs(actual - expected) <= tolerance * Math.max(1, Math.abs(expected)), `${actual} ≠ ${expected}`);

describe('classification metrics', () => {
  it('scikit-learn accuracy_score example', () => {
    // accuracy_score([0, 1, 2, 3], [0, 2, 1, 3]) = 0.5
    assert.equal(accuracy([0, 1, 2, 3], [0, 2, 1, 3]), 0.5);
  });

  it('scikit-learn precision/recall/f1 macro example', () => {
    // y_true = [0, 1, 2, 0, 1, 2], y_pred = [0, 2, 1, 0, 0, 1]:
    // precision_score(average='macro') = 0.22…, recall_score = 0.33…, f1_score = 0.26…
    // By hand: class 0 tp 2 fp 1 fn 0 → P 2/3, R 1, F1 0.8; classes 1 and 2 have tp 0 → 0.
    const s = macroScores([0, 1, 2, 0, 1, 2], [0, 2, 1, 0, 0, 1]);
    close(s.precision, 2 / 9);
    close(s.recall, 1 / 3);
    close(s.f1, 0.8 / 3);
  });

  it('binary precision, recall and F1 of the positive class, by hand', () => {
    // labels 1 1 1 0 0 0 0, predictions 1 1 0 1 0 0 0: tp 2, fp 1, fn 1 → P 2/3, R 2/3, F1 2/3.
    const s = binaryScores([1, 1, 1, 0, 0, 0, 0], [1, 1, 0, 1, 0, 0, 0]);
    close(s.precision, 2 / 3);
    close(s.recall, 2 / 3);
    close(s.f1, 2 / 3);
    // No predicted positive: precision 0 (zero_division=0), recall 0, F1 0.
    assert.deepEqual(binaryScores([1, 0], [0, 0]), { precision: 0, recall: 0, f1: 0 });
    // Another positive class.
    close(binaryScores([2, 2, 0], [2, 0, 0], 2).recall, 0.5);
  });

  it('ROC AUC by pairs, one-vs-rest macro', () => {
    // Pairs (pos, neg): 0.35>0.1 yes, 0.35>0.4 no, 0.8>0.1 yes, 0.8>0.4 yes → 3/4.
    assert.equal(rocAuc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]), 0.75);
    assert.equal(rocAuc([0, 1, 0, 1], [0.5, 0.5, 0.2, 0.9]), 0.875);
    assert.throws(() => rocAuc([1, 1], [0.2, 0.3]), (e) => e instanceof PlinthError && e.code === 'INVALID_ARGUMENT');
    // Three classes, probabilities rows: class 0 column .7 .2 .1 .3; class 1 .2 .6 .3 .3; class 2 .1 .2 .6 .4
    // labels 0 1 2 2. AUC(0 vs rest) = 1 (0.7 above all); AUC(1) = 1 (0.6 above .2 .3 .3);
    // AUC(2): positives .6 .4 vs negatives .1 .2 → 1. Swap to make class 2 imperfect: see below.
    const p = [0.7, 0.2, 0.1, 0.2, 0.6, 0.2, 0.1, 0.3, 0.6, 0.3, 0.3, 0.4];
    assert.equal(rocAucOneVsRest([0, 1, 2, 2], p, 3), 1);
    // Labels 0 1 2 0: class 0 positives .7 .3 vs .2 .1 → 1; class 1: .6 vs .2 .3 .3 → 1;
    // class 2: .6 vs .1 .2 .4 → 1. Labels 2 1 2 0: class 2 positives .1 .6 vs .2 .4 → pairs (0.1: 0 of 2,
    // 0.6: 2 of 2) → 0.5; class 1: .6 vs .2 .3 .3 → 1; class 0: .3 vs .7 .2 .1 → 2/3. Mean (0.5 + 1 + 2/3)/3.
    close(rocAucOneVsRest([2, 1, 2, 0], p, 3), (0.5 + 1 + 2 / 3) / 3);
  });

  it('scikit-learn log_loss example', () => {
    // log_loss(["spam", "ham", "ham", "spam"], [[.1, .9], [.9, .1], [.8, .2], [.35, .65]]) = 0.21616…
    // (classes sorted: ham 0, spam 1)
    close(logLoss([1, 0, 0, 1], [0.1, 0.9, 0.9, 0.1, 0.8, 0.2, 0.35, 0.65], 2), 0.21616187468057912, 1e-12);
  });
});

describe('regression metrics', () => {
  // scikit-learn's examples: y_true = [3, -0.5, 2, 7], y_pred = [2.5, 0.0, 2, 8].
  const y = [3, -0.5, 2, 7];
  const yhat = [2.5, 0.0, 2, 8];

  it('MAE 0.5, RMSE 0.612…, R² 0.948…', () => {
    assert.equal(mae(y, yhat), 0.5);
    close(rmse(y, yhat), 0.6123724356957945);
    close(r2(y, yhat), 0.9486081370449679);
  });

  it('MAPE: scikit-learn examples', () => {
    // mean_absolute_percentage_error(y_true, y_pred) = 0.3273…: (0.5/3 + 0.5/0.5 + 0 + 1/7) / 4.
    close(mape(y, yhat), 0.3273809523809524);
    // [1, 10, 1e6] vs [0.9, 15, 1.2e6] → 0.2666…: (0.1 + 0.5 + 0.2) / 3.
    close(mape([1, 10, 1e6], [0.9, 15, 1.2e6]), 0.26666666666666666);
    // A zero label is floored at machine epsilon: huge but finite.
    assert.ok(Number.isFinite(mape([0], [1])) && mape([0], [1]) > 1e15);
  });

  it('refuses empty and unequal inputs', () => {
    assert.throws(() => mape([], []), /no rows/);
    assert.throws(() => mae([1, 2], [1]), /2 labels but 1 predictions/);
  });
});
