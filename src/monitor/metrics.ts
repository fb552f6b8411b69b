// Evaluation metrics of predictions against labels, shared by live monitoring and training (train
// re-exports them): accuracy, precision, recall and F1 (binary on a positive class, or macro
// averaged over the classes present, as scikit-learn's average='macro'), ROC AUC (ties averaged,
// as roc_auc_score; one-vs-rest macro for several classes), log loss, MAE, RMSE, R² and MAPE
// (scikit-learn's mean_absolute_percentage_error: a fraction, |y| floored at machine epsilon).
import { PlinthError } from '../core/index.js';

function invalid(message: string): PlinthError {
  return new PlinthError('INVALID_ARGUMENT', message);
}

function sameLength(a: ArrayLike<number>, b: ArrayLike<number>, what: string): void {
  if (a.length !== b.length) throw invalid(`${what}: ${a.length} labels but ${b.length} predictions`);
  if (a.length === 0) throw invalid(`${what}: no rows`);
}

/** Share of predicted labels equal to the true ones. @throws INVALID_ARGUMENT on empty or unequal inputs */
export function accuracy(labels: ArrayLike<number>, predicted: ArrayLike<number>): number {
  sameLength(labels, predicted, 'accuracy');
  let right = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i] === predicted[i]) right++;
  return right / labels.length;
}

/** Precision, recall and F1 of one class, or their macro averages. */
export interface ClassificationScores {
  precision: number;
  recall: number;
  f1: number;
}

/** tp / (tp + fp), tp / (tp + fn) and their harmonic mean for class `c`; 0 where a denominator is 0 (scikit-learn's zero_division=0). */
function classScores(labels: ArrayLike<number>, predicted: ArrayLike<number>, c: number): ClassificationScores {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i] === c;
    const p = predicted[i] === c;
    if (y && p) tp++;
    else if (p) fp++;
    else if (y) fn++;
  }
  const precision = tp + fp === 0 ? 0 : tp / (tp + fp);
  const recall = tp + fn === 0 ? 0 : tp / (tp + fn);
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { precision, recall, f1 };
}

/**
 * Precision, recall and F1 of the positive class (scikit-learn's average='binary'), 0 where a
 * denominator is 0. @throws INVALID_ARGUMENT on empty or unequal inputs
 */
export function binaryScores(labels: ArrayLike<number>, predicted: ArrayLike<number>, positive = 1): ClassificationScores {
  sameLength(labels, predicted, 'precision/recall');
  return classScores(labels, predicted, positive);
}

/**
 * Unweighted means of each class's precision, recall and F1 over the classes that occur in the
 * labels or the predictions (scikit-learn's average='macro'; F1 is the mean of the per-class F1s).
 * @throws INVALID_ARGUMENT on empty or unequal inputs
 */
export function macroScores(labels: ArrayLike<number>, predicted: ArrayLike<number>): ClassificationScores {
  sameLength(labels, predicted, 'precision/recall');
  const classes = new Set<number>();
  for (let i = 0; i < labels.length; i++) { classes.add(labels[i]!); classes.add(predicted[i]!); }
  const sum = { precision: 0, recall: 0, f1: 0 };
  for (const c of classes) {
    const s = classScores(labels, predicted, c);
    sum.precision += s.precision;
    sum.recall += s.recall;
    sum.f1 += s.f1;
  }
  return { precision: sum.precision / classes.size, recall: sum.recall / classes.size, f1: sum.f1 / classes.size };
}

/**
 * Area under the ROC curve of binary labels (1 positive, anything else negative) against scores:
 * the probability that a random positive scores above a random negative, ties counting one half
 * (the Mann–Whitney statistic with average ranks).
 * @throws INVALID_ARGUMENT when only one class is present.
 */
export function rocAuc(labels: ArrayLike<number>, scores: ArrayLike<number>): number {
  sameLength(labels, scores, 'ROC AUC');
  const n = labels.length;
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => scores[a]! - scores[b]!);
  let positives = 0;
  let rankSum = 0;
  for (let i = 0; i < n;) {
    let j = i;
    while (j + 1 < n && scores[order[j + 1]!] === scores[order[i]!]) j++;
    // Ranks i+1..j+1 share their average.
    const rank = (i + j + 2) / 2;
    for (let k = i; k <= j; k++) if (labels[order[k]!] === 1) { positives++; rankSum += rank; }
    i = j + 1;
  }
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) throw invalid('ROC AUC needs both classes in the labels');
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/**
 * One-vs-rest macro ROC AUC of class indices against row-major [rows, classes] probabilities: the
 * mean over the classes present in the labels of the AUC of "this class" against its probability
 * column (scikit-learn's multi_class='ovr', average='macro' when every class occurs).
 * @throws INVALID_ARGUMENT when fewer than two classes occur in the labels.
 */
export function rocAucOneVsRest(labels: ArrayLike<number>, probabilities: ArrayLike<number>, classes: number): number {
  if (probabilities.length !== labels.length * classes) throw invalid(`ROC AUC: ${probabilities.length} probabilities for ${labels.length} rows × ${classes} classes`);
  const present = new Set<number>();
  for (let i = 0; i < labels.length; i++) present.add(labels[i]!);
  if (present.size < 2) throw invalid('ROC AUC needs at least two classes in the labels');
  let sum = 0;
  let count = 0;
  const binary = new Float64Array(labels.length);
  const column = new Float64Array(labels.length);
  for (const c of [...present].sort((a, b) => a - b)) {
    if (!Number.isInteger(c) || c < 0 || c >= classes) throw invalid(`ROC AUC: label ${c} is not a class index`);
    for (let i = 0; i < labels.length; i++) { binary[i] = labels[i] === c ? 1 : 0; column[i] = probabilities[i * classes + c]!; }
    sum += rocAuc(binary, column);
    count++;
  }
  return sum / count;
}

/**
 * Mean negative log-likelihood of the true class. `probabilities` is row-major [rows, classes];
 * probabilities are clipped to [1e-15, 1 − 1e-15] as scikit-learn does.
 * @throws INVALID_ARGUMENT when the shapes disagree or a label is not a class index.
 */
export function logLoss(labels: ArrayLike<number>, probabilities: ArrayLike<number>, classes: number): number {
  if (probabilities.length !== labels.length * classes) throw invalid(`log loss: ${probabilities.length} probabilities for ${labels.length} rows × ${classes} classes`);
  if (labels.length === 0) throw invalid('log loss: no rows');
  let sum = 0;
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i]!;
    if (!Number.isInteger(y) || y < 0 || y >= classes) throw invalid(`log loss: label ${y} is not a class index`);
    const p = Math.min(Math.max(probabilities[i * classes + y]!, 1e-15), 1 - 1e-15);
    sum -= Math.log(p);
  }
  return sum / labels.length;
}

/** Root mean squared error. */
export function rmse(labels: ArrayLike<number>, predicted: ArrayLike<number>): number {
  sameLength(labels, predicted, 'RMSE');
  let sum = 0;
  for (let i = 0; i < labels.length; i++) { const d = predicted[i]! - labels[i]!; sum += d * d; }
  return Math.sqrt(sum / labels.length);
}

/** Mean absolute error. */
export function mae(labels: ArrayLike<number>, predicted: ArrayLike<number>): number {
  sameLength(labels, predicted, 'MAE');
  let sum = 0;
  for (let i = 0; i < labels.length; i++) sum += Math.abs(predicted[i]! - labels[i]!);
  return sum / labels.length;
}

/** Coefficient of determination 1 − SS_res / SS_tot. @throws INVALID_ARGUMENT for constant labels */
export function r2(labels: ArrayLike<number>, predicted: ArrayLike<number>): number {
  sameLength(labels, predicted, 'R²');
  let mean = 0;
  for (let i = 0; i < labels.length; i++) mean += labels[i]!;
  mean /= labels.length;
  let res = 0;
  let tot = 0;
  for (let i = 0; i < labels.length; i++) {
    res += (labels[i]! - predicted[i]!) ** 2;
    tot += (labels[i]! - mean) ** 2;
  }
  if (tot === 0) throw invalid('R² is undefined for constant labels');
  return 1 - res / tot;
}

/** Machine epsilon of float64, the floor of |y| in MAPE (numpy.finfo(float64).eps). */
export const MAPE_EPSILON = 2.220446049250313e-16;

/**
 * Mean absolute percentage error as a fraction (not ×100): mean of |y − ŷ| / max(|y|, ε) with
 * ε = 2.22e-16, as scikit-learn's mean_absolute_percentage_error (huge, not infinite, when a label is 0).
 */
export function mape(labels: ArrayLike<number>, predicted: ArrayLike<number>): number {
  sameLength(labels, predicted, 'MAPE');
  let sum = 0;
  for (let i = 0; i < labels.length; i++) sum += Math.abs(labels[i]! - predicted[i]!) / Math.max(Math.abs(labels[i]!), MAPE_EPSILON);
  return sum / labels.length;
}
