// What the performance and concept monitors need to score a labelled row: the task (binary,
// multiclass or regression; given, or inferred from the model's outputs and the labels), the classes
// in probability-column order, the positive class, and each row's predicted class or value. Also the
// validation of the settings both kinds share.
import { PlinthError } from '../core/index.js';
import type { LabelledRow, LabelledWindow, OutputChoice, ScalarValue } from './labelled-window.js';

export type PredictionTask = 'binary' | 'multiclass' | 'regression';
export const PREDICTION_TASKS: readonly PredictionTask[] = Object.freeze(['binary', 'multiclass', 'regression']);

/** Settings shared by the performance and concept kinds (snake_case in the monitor's JSON config). */
export interface PredictionSettings {
  /** null: inferred per evaluation. */
  task: PredictionTask | null;
  /** Class names in probability-column order; null: column j is class j. */
  classes: string[] | null;
  /** The positive class of binary metrics; null: the second class (`1`). */
  positiveClass: string | null;
  /** A single score in [0, 1] of a binary model is the positive class at or above this. @default 0.5 */
  threshold: number;
  predictionOutput: string | null;
  probabilityOutput: string | null;
  /** Fewer labelled rows than this: status not_enough_data. */
  minLabels: number;
}

/** Keys of the shared settings in a monitor's config. */
export const PREDICTION_SETTING_KEYS: readonly string[] = Object.freeze(['task', 'classes', 'positive_class', 'threshold', 'prediction_output', 'probability_output', 'min_labels']);

function bad(message: string): PlinthError {
  return new PlinthError('INVALID_ARGUMENT', message);
}

/** A class name as a key: numbers and booleans as their number's text, strings trimmed ("true"/"false" as 1/0). */
export function classKey(v: ScalarValue | boolean): string {
  if (typeof v === 'boolean') return v ? '1' : '0';
  if (typeof v === 'number') return String(v);
  const t = v.trim();
  if (t === 'true') return '1';
  if (t === 'false') return '0';
  const n = Number(t);
  return t !== '' && Number.isFinite(n) ? String(n) : t;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Validates a kind's config object: the shared settings plus the kind's own keys.
 * @returns the shared settings and the raw object for the kind's own keys
 * @throws PlinthError INVALID_ARGUMENT naming the field (`config.<key>`)
 */
export function checkPredictionSettings(config: unknown, ownKeys: readonly string[], defaultMinLabels: number): { settings: PredictionSettings; raw: Record<string, unknown> } {
  const raw = config === undefined || config === null ? {} : config;
  if (!isObject(raw)) throw bad('config must be an object');
  const allowed = [...PREDICTION_SETTING_KEYS, ...ownKeys];
  for (const key of Object.keys(raw)) if (!allowed.includes(key)) throw bad(`config.${key} is not a setting of this monitor kind (allowed: ${allowed.join(', ')})`);
  const task = raw.task ?? null;
  if (task !== null && !PREDICTION_TASKS.includes(task as PredictionTask)) throw bad(`config.task must be one of ${PREDICTION_TASKS.join(', ')}`);
  let classes: string[] | null = null;
  if (raw.classes !== undefined && raw.classes !== null) {
    if (!Array.isArray(raw.classes) || raw.classes.length < 2 || raw.classes.length > 10_000) throw bad('config.classes must be an array of 2 to 10000 class names (numbers or strings)');
    classes = raw.classes.map((c, i) => {
      if ((typeof c !== 'string' || c.trim() === '') && !(typeof c === 'number' && Number.isFinite(c)) && typeof c !== 'boolean') throw bad(`config.classes[${i}] must be a non-empty string or a finite number`);
      return classKey(c as ScalarValue);
    });
    if (new Set(classes).size !== classes.length) throw bad('config.classes has a class twice');
    if (task === 'regression') throw bad('config.classes does not apply to task regression');
    if (task === 'binary' && classes.length !== 2) throw bad('config.classes must name exactly 2 classes for task binary');
  }
  let positiveClass: string | null = null;
  if (raw.positive_class !== undefined && raw.positive_class !== null) {
    const p = raw.positive_class;
    if ((typeof p !== 'string' || p.trim() === '') && !(typeof p === 'number' && Number.isFinite(p)) && typeof p !== 'boolean') throw bad('config.positive_class must be a class name or number');
    positiveClass = classKey(p as ScalarValue);
    if (classes && !classes.includes(positiveClass)) throw bad('config.positive_class must be one of config.classes');
  }
  const threshold = raw.threshold ?? 0.5;
  if (typeof threshold !== 'number' || !(threshold > 0 && threshold < 1)) throw bad('config.threshold must be a number in (0, 1)');
  const output = (key: string): string | null => {
    const v = raw[key];
    if (v === undefined || v === null) return null;
    if (typeof v !== 'string' || v === '' || v.length > 256) throw bad(`config.${key} must be an output name (1 to 256 characters)`);
    return v;
  };
  const minLabels = raw.min_labels ?? defaultMinLabels;
  if (typeof minLabels !== 'number' || !Number.isInteger(minLabels) || minLabels < 1 || minLabels > 1_000_000) throw bad('config.min_labels must be an integer from 1 to 1000000');
  return {
    settings: { task: task as PredictionTask | null, classes, positiveClass, threshold, predictionOutput: output('prediction_output'), probabilityOutput: output('probability_output'), minLabels },
    raw,
  };
}

/** The settings back in their JSON form (for the stored result). */
export function predictionSettingsJson(s: PredictionSettings): Record<string, unknown> {
  return {
    task: s.task, classes: s.classes, positive_class: s.positiveClass, threshold: s.threshold,
    prediction_output: s.predictionOutput, probability_output: s.probabilityOutput, min_labels: s.minLabels,
  };
}

/** How the rows of a window are scored: the task and classes, inferred where not given. */
export interface Scoring {
  task: PredictionTask;
  /** Classification: class keys in probability-column order (known classes); [] for regression. */
  classes: string[];
  /** Binary: the positive class key. */
  positive: string | null;
  /** How the task was decided. */
  taskFrom: 'config' | 'outputs' | 'labels';
}

function isClassName(v: ScalarValue | null): boolean {
  return typeof v === 'string';
}

/**
 * Decides the task and classes of a window: the config's, else classification when a version gives
 * probabilities or a BYTES/BOOL/integer prediction, or when every label is 0/1 or a class name; else
 * regression. Classes: the config's, else 0..K−1 from the probability width (K = 2 for a single
 * score), else the label and prediction values seen, sorted (numerically when all are numbers).
 */
export function decideScoring(window: LabelledWindow, s: PredictionSettings): Scoring {
  const choices = Object.values(window.outputs);
  let width = 0;
  for (const row of window.rows) if (row.probabilities && row.probabilities.length > width) width = row.probabilities.length;
  let task = s.task;
  let taskFrom: Scoring['taskFrom'] = 'config';
  if (task === null) {
    const classOutput = (c: OutputChoice) => c.predictionDatatype !== null && /^(BYTES|BOOL|INT\d+|UINT\d+)$/.test(c.predictionDatatype);
    if (width >= 2 || s.classes || choices.some(classOutput)) {
      taskFrom = 'outputs';
      task = (s.classes?.length ?? width) > 2 ? 'multiclass' : 'binary';
      if (width < 2 && !s.classes) {
        const seen = new Set<string>();
        for (const r of window.rows) {
          if (r.label !== null) seen.add(classKey(r.label));
          if (r.prediction !== null) seen.add(classKey(r.prediction));
        }
        task = seen.size > 2 || [...seen].some((k) => k !== '0' && k !== '1') ? 'multiclass' : 'binary';
      }
    } else {
      taskFrom = 'labels';
      const labels = window.rows.filter((r) => r.label !== null).map((r) => r.label!);
      const binary = labels.length > 0 && labels.every((l) => l === 0 || l === 1);
      task = binary ? 'binary' : labels.length > 0 && labels.some(isClassName) ? 'multiclass' : 'regression';
    }
  }
  if (task === 'regression') return { task, classes: [], positive: null, taskFrom };
  let classes = s.classes;
  if (!classes) {
    if (width >= 2) classes = Array.from({ length: width }, (_, j) => String(j));
    else if (task === 'binary') classes = ['0', '1'];
    else {
      const seen = new Set<string>();
      for (const r of window.rows) {
        if (r.label !== null) seen.add(classKey(r.label));
        if (r.prediction !== null) seen.add(classKey(r.prediction));
      }
      const keys = [...seen];
      const numeric = keys.every((k) => Number.isFinite(Number(k)));
      classes = keys.sort(numeric ? (a, b) => Number(a) - Number(b) : undefined);
    }
  }
  const positive = task === 'binary' ? (s.positiveClass ?? classes[1] ?? '1') : null;
  return { task, classes, positive, taskFrom };
}

/** A scored classification row: class keys, and probabilities in class order when known. */
export interface ClassifiedRow {
  predicted: string;
  label: string;
  /** Probabilities per class (in `classes` order), when the model gave them and their count fits. */
  probabilities: number[] | null;
}

/**
 * The predicted class of a row: the prediction output's value; for a binary model giving a single
 * score in [0, 1] (other than a class's own number), the positive class when the score ≥ threshold; for
 * probabilities only, the most probable class (the first on ties).
 */
export function classify(row: LabelledRow, scoring: Scoring, threshold: number): ClassifiedRow | null {
  if (row.label === null) return null;
  const label = classKey(row.label);
  let probabilities: number[] | null = null;
  const k = scoring.classes.length;
  if (row.probabilities && row.probabilities.length === k) probabilities = row.probabilities;
  let predicted: string | null = null;
  if (row.prediction !== null) {
    const p = row.prediction;
    if (scoring.task === 'binary' && typeof p === 'number' && p >= 0 && p <= 1 && !(Number.isInteger(p) && scoring.classes.includes(classKey(p)))) {
      // A probability of the positive class: [P(negative), P(positive)] in class order.
      const positiveIndex = scoring.classes.indexOf(scoring.positive!);
      probabilities ??= positiveIndex === 1 ? [1 - p, p] : [p, 1 - p];
      predicted = p >= threshold ? scoring.positive! : scoring.classes[1 - positiveIndex]!;
    } else {
      predicted = classKey(p);
    }
  } else if (probabilities) {
    let best = 0;
    for (let j = 1; j < probabilities.length; j++) if (probabilities[j]! > probabilities[best]!) best = j;
    predicted = scoring.classes[best]!;
  }
  if (predicted === null) return null;
  return { predicted, label, probabilities };
}

/** A scored regression row: the predicted and true values. */
export function regress(row: LabelledRow): { predicted: number; label: number } | null {
  if (typeof row.label !== 'number' || typeof row.prediction !== 'number') return null;
  return { predicted: row.prediction, label: row.label };
}
