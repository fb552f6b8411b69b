// The table of evaluation metrics the cross-validation reads by name (accuracy, ROC AUC, log loss,
// RMSE, MAE, R²) over the metric functions of the monitoring area.
import { accuracy, logLoss, mae, r2, rmse, rocAuc } from '../monitor/index.js';
import type { Task } from './matrix.js';

// The metric functions live in the monitoring area (live performance uses the same code) and are
// re-exported here, so training keeps its imports.
export { accuracy, rocAuc, logLoss, rmse, mae, r2 };

/**
 * Predictions as every metric reads them: `output` row-major [rows, classes] probabilities for
 * classification, [rows] values for regression.
 */
export interface Predictions {
  task: Task;
  classes: number;
  output: Float64Array;
}

/** A metric: its name, the tasks it applies to, whether larger is better, and how to compute it. */
export interface MetricDefinition {
  name: string;
  tasks: readonly Task[];
  greaterIsBetter: boolean;
  compute(labels: ArrayLike<number>, predictions: Predictions): number;
}

/** The most probable class per row of row-major probabilities (first on ties). */
export function argmaxRows(probabilities: ArrayLike<number>, classes: number): Int32Array {
  const rows = probabilities.length / classes;
  const out = new Int32Array(rows);
  for (let i = 0; i < rows; i++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (probabilities[i * classes + c]! > probabilities[i * classes + best]!) best = c;
    out[i] = best;
  }
  return out;
}

/** The metrics by name. */
export const METRICS: Readonly<Record<string, MetricDefinition>> = Object.freeze({
  accuracy: { name: 'accuracy', tasks: ['binary', 'multiclass'], greaterIsBetter: true, compute: (y, p) => accuracy(y, argmaxRows(p.output, p.classes)) },
  roc_auc: {
    name: 'roc_auc', tasks: ['binary'], greaterIsBetter: true,
    compute: (y, p) => rocAuc(y, Float64Array.from({ length: y.length }, (_, i) => p.output[2 * i + 1]!)),
  },
  log_loss: { name: 'log_loss', tasks: ['binary', 'multiclass'], greaterIsBetter: false, compute: (y, p) => logLoss(y, p.output, p.classes) },
  rmse: { name: 'rmse', tasks: ['regression'], greaterIsBetter: false, compute: (y, p) => rmse(y, p.output) },
  mae: { name: 'mae', tasks: ['regression'], greaterIsBetter: false, compute: (y, p) => mae(y, p.output) },
  r2: { name: 'r2', tasks: ['regression'], greaterIsBetter: true, compute: (y, p) => r2(y, p.output) },
});

/** The names of the metrics that apply to a task, in table order. */
export function metricsFor(task: Task): string[] {
  return Object.values(METRICS).filter((m) => m.tasks.includes(task)).map((m) => m.name);
}
