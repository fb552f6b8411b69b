// The boosting objectives: base scores, gradients and hessians, and the transform from raw scores
// to predictions. Scores are class-major: class k's score of row i is at scores[k·rows + i].
import type { Task } from './matrix.js';

/** Smallest hessian used, so leaves of pure nodes stay finite. */
export const MIN_HESSIAN = 1e-16;

/** Number of score columns (trees per round): 1 for binary and regression, K for multiclass. */
export function scoreColumns(task: Task, classes: number): number {
  return task === 'multiclass' ? classes : 1;
}

/** The starting score per column: mean label (regression), log-odds (binary), log-priors (multiclass). */
export function baseScores(task: Task, labels: ArrayLike<number>, classes: number): number[] {
  const n = labels.length;
  if (task === 'regression') {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += labels[i]!;
    return [Math.fround(sum / n)];
  }
  const counts = new Float64Array(classes);
  for (let i = 0; i < n; i++) counts[labels[i]!]! += 1;
  if (task === 'binary') {
    const p = Math.min(Math.max(counts[1]! / n, 1e-6), 1 - 1e-6);
    return [Math.fround(Math.log(p / (1 - p)))];
  }
  // Centered log-priors; absent classes get a floor so softmax stays finite.
  const logs = Array.from(counts, (c) => Math.log(Math.max(c, 0.5) / n));
  const mean = logs.reduce((a, b) => a + b, 0) / classes;
  return logs.map((l) => Math.fround(l - mean));
}

/**
 * Fills the gradients and hessians (interleaved in `gh`: gh[2r], gh[2r + 1]) for score column `k` at the rows listed (all rows when `index` is null).
 * Binary: logloss on sigmoid; multiclass: softmax cross-entropy (hessian p(1−p)); regression:
 * squared error (gradient score − y, hessian 1).
 */
export function computeGradients(
  task: Task, k: number, columns: number, scores: Float64Array, labels: ArrayLike<number>, rows: number,
  index: Int32Array | null, count: number, gh: Float32Array,
): void {
  const n = index ? count : rows;
  for (let i = 0; i < n; i++) {
    const r = index ? index[i]! : i;
    const y = labels[r]!;
    if (task === 'regression') {
      gh[2 * r] = scores[r]! - y;
      gh[2 * r + 1] = 1;
    } else if (task === 'binary') {
      const p = 1 / (1 + Math.exp(-scores[r]!));
      gh[2 * r] = p - y;
      gh[2 * r + 1] = Math.max(p * (1 - p), MIN_HESSIAN);
    } else {
      let max = -Infinity;
      for (let c = 0; c < columns; c++) max = Math.max(max, scores[c * rows + r]!);
      let sum = 0;
      for (let c = 0; c < columns; c++) sum += Math.exp(scores[c * rows + r]! - max);
      const p = Math.exp(scores[k * rows + r]! - max) / sum;
      gh[2 * r] = p - (y === k ? 1 : 0);
      gh[2 * r + 1] = Math.max(p * (1 - p), MIN_HESSIAN);
    }
  }
}

/**
 * Turns raw scores into predictions, row-major [rows, outputs]: probabilities [1 − p, p] (binary),
 * softmax probabilities (multiclass), or the score itself (regression).
 */
export function transformScores(task: Task, columns: number, scores: Float64Array, rows: number): Float64Array {
  if (task === 'regression') return Float64Array.from(scores.subarray(0, rows));
  if (task === 'binary') {
    const out = new Float64Array(rows * 2);
    for (let i = 0; i < rows; i++) {
      const p = 1 / (1 + Math.exp(-scores[i]!));
      out[2 * i] = 1 - p;
      out[2 * i + 1] = p;
    }
    return out;
  }
  const out = new Float64Array(rows * columns);
  for (let i = 0; i < rows; i++) {
    let max = -Infinity;
    for (let c = 0; c < columns; c++) max = Math.max(max, scores[c * rows + i]!);
    let sum = 0;
    for (let c = 0; c < columns; c++) sum += Math.exp(scores[c * rows + i]! - max);
    for (let c = 0; c < columns; c++) out[i * columns + c] = Math.exp(scores[c * rows + i]! - max) / sum;
  }
  return out;
}

/** The validation loss used for early stopping: logloss, multiclass logloss, or RMSE. */
export function validationLoss(task: Task, columns: number, scores: Float64Array, labels: ArrayLike<number>, rows: number): number {
  if (task === 'regression') {
    let sum = 0;
    for (let i = 0; i < rows; i++) { const d = scores[i]! - labels[i]!; sum += d * d; }
    return Math.sqrt(sum / rows);
  }
  const probs = transformScores(task, columns, scores, rows);
  const width = task === 'binary' ? 2 : columns;
  let sum = 0;
  for (let i = 0; i < rows; i++) sum -= Math.log(Math.max(probs[i * width + labels[i]!]!, 1e-15));
  return sum / rows;
}
