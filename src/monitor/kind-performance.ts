// The performance monitor kind: once labels arrive as feedback, the deployment's live quality per
// window and per model version — accuracy, precision, recall, F1, ROC AUC and log loss for
// classification; MAE, RMSE, R² and MAPE for regression — with the label coverage of the window, and
// beside each version's reference metrics (what was measured on held-out data when the version was
// trained: its tracked run's metrics, or `reference.<metric>` tags on the version).
import { PlinthError } from '../core/index.js';
import { getVersion } from '../registry/index.js';
import { getRun } from '../tracking/index.js';
import type { Db } from '../store/index.js';
import { readLabelledWindow, type LabelledRow, type LabelledWindow } from './labelled-window.js';
import { accuracy, binaryScores, logLoss, macroScores, mae, mape, r2, rmse, rocAuc, rocAucOneVsRest } from './metrics.js';
import { finiteMetrics, type MonitorContext, type MonitorKind, type MonitorOutcome } from './monitor-kind.js';
import {
  checkPredictionSettings, classify, decideScoring, predictionSettingsJson, regress,
  type PredictionSettings, type PredictionTask, type Scoring,
} from './prediction-task.js';

/** A live performance metric: its name, the tasks it applies to and whether larger is better. */
export interface PerformanceMetricDefinition {
  name: string;
  tasks: readonly PredictionTask[];
  greaterIsBetter: boolean;
  description: string;
}

/** The metrics of the performance kind, in report order (docs/monitoring.md reads the same list). */
export const PERFORMANCE_METRICS: readonly PerformanceMetricDefinition[] = Object.freeze([
  { name: 'accuracy', tasks: ['binary', 'multiclass'], greaterIsBetter: true, description: 'share of rows whose predicted class is the label' },
  { name: 'precision', tasks: ['binary', 'multiclass'], greaterIsBetter: true, description: 'tp/(tp+fp) of the positive class (binary) or its macro mean over the classes seen (multiclass); 0 when nothing is predicted positive' },
  { name: 'recall', tasks: ['binary', 'multiclass'], greaterIsBetter: true, description: 'tp/(tp+fn), binary or macro' },
  { name: 'f1', tasks: ['binary', 'multiclass'], greaterIsBetter: true, description: 'harmonic mean of precision and recall (binary), mean of per-class F1 (macro)' },
  { name: 'roc_auc', tasks: ['binary', 'multiclass'], greaterIsBetter: true, description: 'area under the ROC curve of the positive class\'s probability (ties count ½); one-vs-rest macro for multiclass; needs probabilities and both classes' },
  { name: 'log_loss', tasks: ['binary', 'multiclass'], greaterIsBetter: false, description: 'mean −ln p(label), p clipped to [1e-15, 1 − 1e-15]; needs probabilities' },
  { name: 'mae', tasks: ['regression'], greaterIsBetter: false, description: 'mean |y − ŷ|' },
  { name: 'rmse', tasks: ['regression'], greaterIsBetter: false, description: '√(mean (y − ŷ)²)' },
  { name: 'r2', tasks: ['regression'], greaterIsBetter: true, description: '1 − SS_res/SS_tot; left out for constant labels' },
  { name: 'mape', tasks: ['regression'], greaterIsBetter: false, description: 'mean |y − ŷ| / max(|y|, 2.22e-16), a fraction' },
]);

/** Labelled rows a window needs before metrics are reported. */
export const DEFAULT_PERFORMANCE_MIN_LABELS = 30;

/** Reference metric lookup order in a version's tracked run, for metric `m`. */
export const REFERENCE_RUN_KEYS: readonly ((m: string) => string)[] = Object.freeze([
  (m: string) => `val_${m}`, (m: string) => `validation_${m}`, (m: string) => `test_${m}`, (m: string) => m, (m: string) => `cv_${m}_mean`,
]);

export interface PerformanceConfig extends PredictionSettings {
  /** Status `degraded` when a metric is worse than its reference by more than this (absolute); null: never. */
  maxDrop: number | null;
}

/** Metrics of one group of rows. */
export interface GroupScores {
  labelled_rows: number;
  /** Rows whose prediction or label could not be scored (e.g. a class name label for regression). */
  unscored_rows: number;
  metrics: Record<string, number>;
  /** Metric → why it is absent. */
  skipped: Record<string, string>;
}

/** One model version's figures in the window. */
export interface VersionPerformance extends GroupScores {
  model: string;
  role: 'primary' | 'shadow';
  requests: number | null;
  labelled_requests: number | null;
  label_coverage: number | null;
  reference: ReferenceMetrics;
}

/** A version's reference metrics and where each came from. */
export interface ReferenceMetrics {
  metrics: Record<string, number>;
  /** Metric → `tag reference.<m>` or `run <id> metric <key>`. */
  sources: Record<string, string>;
}

/**
 * Validates a performance monitor's settings: task, classes, positive_class, threshold,
 * prediction_output, probability_output, min_labels (default 30), max_drop.
 * @throws PlinthError INVALID_ARGUMENT naming the field
 */
export function checkPerformanceConfig(config: unknown): PerformanceConfig {
  const { settings, raw } = checkPredictionSettings(config, ['max_drop'], DEFAULT_PERFORMANCE_MIN_LABELS);
  const maxDrop = raw.max_drop ?? null;
  if (maxDrop !== null && (typeof maxDrop !== 'number' || !Number.isFinite(maxDrop) || maxDrop < 0)) throw new PlinthError('INVALID_ARGUMENT', 'config.max_drop must be a non-negative number');
  return { ...settings, maxDrop: maxDrop as number | null };
}

/** Index of each class key: the known classes first, then other keys seen, sorted. */
function classIndex(classes: readonly string[], keys: Iterable<string>): Map<string, number> {
  const index = new Map(classes.map((c, i) => [c, i]));
  for (const k of [...new Set(keys)].filter((k) => !index.has(k)).sort()) index.set(k, index.size);
  return index;
}

/** Scores rows of one group (already labelled) under a scoring. Never throws for data; what cannot be computed is skipped with a reason. */
export function scoreRows(rows: readonly LabelledRow[], scoring: Scoring, threshold: number): GroupScores {
  const metrics: Record<string, number> = {};
  const skipped: Record<string, string> = {};
  if (scoring.task === 'regression') {
    const y: number[] = [];
    const yhat: number[] = [];
    for (const row of rows) {
      const r = regress(row);
      if (r) { y.push(r.label); yhat.push(r.predicted); }
    }
    const out: GroupScores = { labelled_rows: y.length, unscored_rows: rows.length - y.length, metrics, skipped };
    if (y.length === 0) return out;
    metrics.mae = mae(y, yhat);
    metrics.rmse = rmse(y, yhat);
    metrics.mape = mape(y, yhat);
    if (y.length < 2 || y.every((v) => v === y[0])) skipped.r2 = 'constant labels';
    else metrics.r2 = r2(y, yhat);
    return out;
  }
  const classified = rows.map((r) => classify(r, scoring, threshold)).filter((c) => c !== null);
  const out: GroupScores = { labelled_rows: classified.length, unscored_rows: rows.length - classified.length, metrics, skipped };
  if (classified.length === 0) return out;
  const index = classIndex(scoring.classes, classified.flatMap((c) => [c.label, c.predicted]));
  const labels = Int32Array.from(classified, (c) => index.get(c.label)!);
  const predicted = Int32Array.from(classified, (c) => index.get(c.predicted)!);
  metrics.accuracy = accuracy(labels, predicted);
  const scores = scoring.task === 'binary' ? binaryScores(labels, predicted, index.get(scoring.positive!)!) : macroScores(labels, predicted);
  metrics.precision = scores.precision;
  metrics.recall = scores.recall;
  metrics.f1 = scores.f1;
  const k = scoring.classes.length;
  const withProbabilities = classified.filter((c) => c.probabilities !== null && index.get(c.label)! < k);
  if (withProbabilities.length === 0) {
    skipped.roc_auc = skipped.log_loss = 'the model gives no class probabilities';
    return out;
  }
  const pl = Int32Array.from(withProbabilities, (c) => index.get(c.label)!);
  const pp = new Float64Array(withProbabilities.length * k);
  withProbabilities.forEach((c, i) => pp.set(c.probabilities!, i * k));
  metrics.log_loss = logLoss(pl, pp, k);
  const present = new Set(pl);
  if (present.size < 2) {
    skipped.roc_auc = 'needs at least two classes among the labels';
  } else if (scoring.task === 'binary') {
    const positive = index.get(scoring.positive!)!;
    metrics.roc_auc = rocAuc(Int32Array.from(pl, (l) => (l === positive ? 1 : 0)), Float64Array.from(withProbabilities, (c) => c.probabilities![positive]!));
  } else {
    metrics.roc_auc = rocAucOneVsRest(pl, pp, k);
  }
  return out;
}

/**
 * A version's reference metrics: `reference.<metric>` tags on the version, else its tracked run's
 * metrics `val_<m>`, `validation_<m>`, `test_<m>`, `<m>`, `cv_<m>_mean` (the first present).
 * A version without a run (or whose run was deleted) has only its tags.
 */
export async function referenceMetrics(db: Db, model: string, task: PredictionTask): Promise<ReferenceMetrics> {
  const at = model.lastIndexOf('@');
  const out: ReferenceMetrics = { metrics: {}, sources: {} };
  let version;
  try {
    version = await getVersion(db, model.slice(0, at), { kind: 'version', version: Number(model.slice(at + 1)) });
  } catch (error) {
    if (error instanceof PlinthError) return out;
    throw error;
  }
  const names = PERFORMANCE_METRICS.filter((m) => m.tasks.includes(task)).map((m) => m.name);
  let runMetrics = new Map<string, number>();
  if (version.run_id) {
    try {
      const run = await getRun(db, version.run_id);
      runMetrics = new Map(run.data.metrics.filter((m) => Number.isFinite(m.value)).map((m) => [m.key, m.value]));
    } catch (error) {
      if (!(error instanceof PlinthError)) throw error;
    }
  }
  for (const name of names) {
    const tag = version.tags[`reference.${name}`];
    const tagged = tag === undefined || tag.trim() === '' ? Number.NaN : Number(tag);
    if (Number.isFinite(tagged)) {
      out.metrics[name] = tagged;
      out.sources[name] = `tag reference.${name}`;
      continue;
    }
    for (const key of REFERENCE_RUN_KEYS.map((f) => f(name))) {
      const v = runMetrics.get(key);
      if (v !== undefined) {
        out.metrics[name] = v;
        out.sources[name] = `run ${version.run_id} metric ${key}`;
        break;
      }
    }
  }
  return out;
}

/** The metrics of a group worse than their reference by more than maxDrop: name → drop. */
function drops(group: GroupScores, reference: ReferenceMetrics, maxDrop: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const def of PERFORMANCE_METRICS) {
    const now = group.metrics[def.name];
    const ref = reference.metrics[def.name];
    if (now === undefined || ref === undefined) continue;
    const drop = def.greaterIsBetter ? ref - now : now - ref;
    if (drop > maxDrop) out[def.name] = drop;
  }
  return out;
}

/** The whole stored result of a performance evaluation. */
export interface PerformanceResult {
  config: Record<string, unknown>;
  task: PredictionTask | null;
  task_from: string | null;
  classes: string[];
  positive_class: string | null;
  requests: number;
  labelled_requests: number;
  label_coverage: number | null;
  unusable_labels: number;
  truncated: boolean;
  /** The primary traffic of every version together. */
  overall: GroupScores;
  /** The reference of the version that answered most labelled requests. */
  reference: ReferenceMetrics & { model: string | null };
  versions: VersionPerformance[];
  /** Metric → drop beyond max_drop, per `model@version`. */
  degraded: Record<string, Record<string, number>>;
  reason: string | null;
}

/** Evaluates a labelled window (exported for tests and the report). */
export async function evaluatePerformance(db: Db, window: LabelledWindow, config: PerformanceConfig): Promise<MonitorOutcome> {
  const result: PerformanceResult = {
    config: performanceConfigJson(config),
    task: null,
    task_from: null,
    classes: [],
    positive_class: null,
    requests: window.requests,
    labelled_requests: window.labelledRequests,
    label_coverage: window.requests === 0 ? null : window.labelledRequests / window.requests,
    unusable_labels: window.unusableLabels,
    truncated: window.truncated,
    overall: { labelled_rows: 0, unscored_rows: 0, metrics: {}, skipped: {} },
    reference: { model: null, metrics: {}, sources: {} },
    versions: [],
    degraded: {},
    reason: null,
  };
  const flat: Record<string, number | null> = {
    'performance.requests': window.requests,
    'performance.labelled_requests': window.labelledRequests,
    'performance.label_coverage': result.label_coverage,
  };
  const outcome = (status: string): MonitorOutcome => ({
    status,
    rows: window.requests,
    windowStart: window.windowStart,
    windowEnd: window.windowEnd,
    metrics: finiteMetrics(flat),
    result,
  });
  if (window.requests === 0) {
    result.reason = 'no answered requests in the window';
    return outcome('not_enough_data');
  }
  const labelled = window.rows.filter((r) => r.role === 'primary');
  if (labelled.length === 0) {
    result.reason = 'no labels have arrived for the window\'s requests';
    return outcome('not_enough_data');
  }
  const scoring = decideScoring(window, config);
  result.task = scoring.task;
  result.task_from = scoring.taskFrom;
  result.classes = scoring.classes;
  result.positive_class = scoring.positive;
  result.overall = scoreRows(labelled, scoring, config.threshold);
  flat['performance.labelled_rows'] = result.overall.labelled_rows;
  if (result.overall.labelled_rows < config.minLabels) {
    result.reason = `${result.overall.labelled_rows} scored labelled rows, fewer than min_labels ${config.minLabels}`;
    return outcome('not_enough_data');
  }
  for (const [name, value] of Object.entries(result.overall.metrics)) flat[`performance.${name}`] = value;
  // Per version and role, primary first, then by labelled rows.
  const groups = new Map<string, LabelledRow[]>();
  for (const row of window.rows) {
    const key = `${row.role}\u0000${row.model}`;
    const list = groups.get(key);
    if (list) list.push(row);
    else groups.set(key, [row]);
  }
  const references = new Map<string, ReferenceMetrics>();
  for (const [key, rows] of groups) {
    const [role, model] = key.split('\u0000') as ['primary' | 'shadow', string];
    let reference = references.get(model);
    if (!reference) references.set(model, (reference = await referenceMetrics(db, model, scoring.task)));
    const scores = scoreRows(rows, scoring, config.threshold);
    const counts = role === 'primary' ? window.versions[model] : undefined;
    result.versions.push({
      model,
      role,
      requests: counts?.requests ?? null,
      labelled_requests: counts?.labelled_requests ?? null,
      label_coverage: counts && counts.requests > 0 ? counts.labelled_requests / counts.requests : null,
      ...scores,
      reference,
    });
  }
  result.versions.sort((a, b) => (a.role === b.role ? b.labelled_rows - a.labelled_rows || a.model.localeCompare(b.model) : a.role === 'primary' ? -1 : 1));
  const main = result.versions.find((v) => v.role === 'primary');
  if (main) {
    result.reference = { model: main.model, ...main.reference };
    for (const [name, value] of Object.entries(main.reference.metrics)) flat[`performance.reference.${name}`] = value;
  }
  for (const v of result.versions) {
    const prefix = `performance.${v.role === 'primary' ? 'version' : 'shadow'}.${v.model}`;
    flat[`${prefix}.labelled_rows`] = v.labelled_rows;
    if (v.label_coverage !== null) flat[`${prefix}.label_coverage`] = v.label_coverage;
    for (const [name, value] of Object.entries(v.metrics)) flat[`${prefix}.${name}`] = value;
    for (const [name, value] of Object.entries(v.reference.metrics)) flat[`${prefix}.reference.${name}`] = value;
    if (config.maxDrop !== null && v.role === 'primary' && v.labelled_rows >= config.minLabels) {
      const d = drops(v, v.reference, config.maxDrop);
      if (Object.keys(d).length > 0) result.degraded[v.model] = d;
    }
  }
  return outcome(Object.keys(result.degraded).length > 0 ? 'degraded' : 'ok');
}

/** A performance config in its stored JSON form (snake_case keys, defaults filled in). */
export function performanceConfigJson(config: PerformanceConfig): Record<string, unknown> {
  return { ...predictionSettingsJson(config), max_drop: config.maxDrop };
}

/**
 * The performance kind, as registered with the monitor scheduler. `checkConfig` answers the
 * normalised JSON form (checking it again gives the same), which is what the monitor stores.
 */
export const performanceMonitorKind: MonitorKind<Record<string, unknown>> = {
  kind: 'performance',
  checkConfig: (config: unknown) => performanceConfigJson(checkPerformanceConfig(config)),
  async evaluate(ctx: MonitorContext, stored: Record<string, unknown>): Promise<MonitorOutcome> {
    const config = checkPerformanceConfig(stored);
    const window = await readLabelledWindow(ctx.db, ctx.deployment, ctx.window, { predictionOutput: config.predictionOutput, probabilityOutput: config.probabilityOutput });
    return evaluatePerformance(ctx.db, window, config);
  },
};
