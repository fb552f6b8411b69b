// The concept-drift monitor kind: the streaming detectors (ADWIN, DDM, Page-Hinkley, River's
// algorithms and defaults) run over the error stream of the window's labelled predictions, in log
// order (oldest first; rows of one request in order). Classification errors are 0/1 (the predicted
// class differs from the label) and go to all three; regression errors are |ŷ − y| and go to ADWIN
// and Page-Hinkley (DDM reads only 0/1). Each evaluation runs the detectors afresh over its window,
// so a result says whether the error rate changed within that window, and where.
import { PlinthError } from '../core/index.js';
import { Adwin, ADWIN_DEFAULTS } from './concept/adwin.js';
import { Ddm, DDM_DEFAULTS } from './concept/ddm.js';
import { PageHinkley, PAGE_HINKLEY_DEFAULTS, type PageHinkleyMode } from './concept/page-hinkley.js';
import { readLabelledWindow, type LabelledRow, type LabelledWindow } from './labelled-window.js';
import { finiteMetrics, type MonitorContext, type MonitorKind, type MonitorOutcome } from './monitor-kind.js';
import { checkPredictionSettings, classify, decideScoring, predictionSettingsJson, regress, type PredictionSettings, type PredictionTask } from './prediction-task.js';

export type DetectorName = 'adwin' | 'ddm' | 'page_hinkley';
export const DETECTOR_NAMES: readonly DetectorName[] = Object.freeze(['adwin', 'ddm', 'page_hinkley']);

/** A detector's settings in the monitor's JSON config: River's parameter names and defaults. */
interface SettingDefinition {
  key: string;
  default: number | string;
  check: (v: unknown) => boolean;
  rule: string;
}

const positiveInteger = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 1_000_000;
const nonNegativeInteger = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 1_000_000;
const positiveNumber = (v: unknown) => typeof v === 'number' && Number.isFinite(v) && v > 0;

/** Every detector's settings, River's names, defaults and domains (docs/monitoring.md lists the same). */
export const DETECTOR_SETTINGS: Readonly<Record<DetectorName, readonly SettingDefinition[]>> = Object.freeze({
  adwin: [
    { key: 'delta', default: ADWIN_DEFAULTS.delta, check: (v) => typeof v === 'number' && v > 0 && v < 1, rule: 'a number in (0, 1)' },
    { key: 'clock', default: ADWIN_DEFAULTS.clock, check: positiveInteger, rule: 'an integer ≥ 1' },
    { key: 'max_buckets', default: ADWIN_DEFAULTS.maxBuckets, check: positiveInteger, rule: 'an integer ≥ 1' },
    { key: 'min_window_length', default: ADWIN_DEFAULTS.minWindowLength, check: positiveInteger, rule: 'an integer ≥ 1' },
    { key: 'grace_period', default: ADWIN_DEFAULTS.gracePeriod, check: nonNegativeInteger, rule: 'an integer ≥ 0' },
  ],
  ddm: [
    { key: 'warm_start', default: DDM_DEFAULTS.warmStart, check: nonNegativeInteger, rule: 'an integer ≥ 0' },
    { key: 'warning_threshold', default: DDM_DEFAULTS.warningThreshold, check: positiveNumber, rule: 'a number > 0' },
    { key: 'drift_threshold', default: DDM_DEFAULTS.driftThreshold, check: positiveNumber, rule: 'a number > 0' },
  ],
  page_hinkley: [
    { key: 'min_instances', default: PAGE_HINKLEY_DEFAULTS.minInstances, check: nonNegativeInteger, rule: 'an integer ≥ 0' },
    { key: 'delta', default: PAGE_HINKLEY_DEFAULTS.delta, check: (v) => typeof v === 'number' && Number.isFinite(v) && v >= 0, rule: 'a number ≥ 0' },
    { key: 'threshold', default: PAGE_HINKLEY_DEFAULTS.threshold, check: positiveNumber, rule: 'a number > 0' },
    { key: 'alpha', default: PAGE_HINKLEY_DEFAULTS.alpha, check: (v) => typeof v === 'number' && v > 0 && v <= 1, rule: 'a number in (0, 1]' },
    { key: 'mode', default: PAGE_HINKLEY_DEFAULTS.mode, check: (v) => v === 'up' || v === 'down' || v === 'both', rule: 'up, down or both' },
  ],
});

/** Labelled rows a window needs before the detectors run. */
export const DEFAULT_CONCEPT_MIN_LABELS = 30;

export interface ConceptConfig extends PredictionSettings {
  /** Each detector's settings (River's names); null: the detector is off. */
  detectors: Record<DetectorName, Record<string, number | string> | null>;
}

function bad(message: string): PlinthError {
  return new PlinthError('INVALID_ARGUMENT', message);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Validates a concept monitor's settings: the prediction settings (task, classes, …, min_labels,
 * default 30) and `detectors`: `{"adwin": {…}, "ddm": {…}, "page_hinkley": {…}}`, each River's
 * settings (omitted ones take River's defaults) or false/null to turn it off; omitted detectors are on
 * (DDM is off for task regression, and skipped when an inferred task is regression).
 * @throws PlinthError INVALID_ARGUMENT naming the field
 */
export function checkConceptConfig(config: unknown): ConceptConfig {
  const { settings, raw } = checkPredictionSettings(config, ['detectors'], DEFAULT_CONCEPT_MIN_LABELS);
  const given = raw.detectors ?? {};
  if (!isObject(given)) throw bad('config.detectors must be an object of detector name → settings (or false)');
  for (const key of Object.keys(given)) if (!DETECTOR_NAMES.includes(key as DetectorName)) throw bad(`config.detectors.${key} is not a detector (use ${DETECTOR_NAMES.join(', ')})`);
  const detectors = {} as ConceptConfig['detectors'];
  for (const name of DETECTOR_NAMES) {
    const value = given[name];
    if (value === false || value === null) {
      detectors[name] = null;
      continue;
    }
    const options = value === undefined || value === true ? {} : value;
    if (!isObject(options)) throw bad(`config.detectors.${name} must be an object of settings, true or false`);
    const defs = DETECTOR_SETTINGS[name];
    for (const key of Object.keys(options)) if (!defs.some((d) => d.key === key)) throw bad(`config.detectors.${name}.${key} is not a setting of ${name} (allowed: ${defs.map((d) => d.key).join(', ')})`);
    const out: Record<string, number | string> = {};
    for (const d of defs) {
      const v = options[d.key] ?? d.default;
      if (!d.check(v)) throw bad(`config.detectors.${name}.${d.key} must be ${d.rule}`);
      out[d.key] = v as number | string;
    }
    detectors[name] = out;
  }
  // DDM reads 0/1 errors: with task regression it is off.
  if (settings.task === 'regression') detectors.ddm = null;
  if (DETECTOR_NAMES.every((n) => detectors[n] === null)) throw bad('config.detectors turns every detector off');
  return { ...settings, detectors };
}

/** A concept config in its stored JSON form (snake_case keys, defaults filled in). */
export function conceptConfigJson(config: ConceptConfig): Record<string, unknown> {
  return { ...predictionSettingsJson(config), detectors: config.detectors };
}

/** One detection: where in the error stream, and which request. */
export interface Detection {
  /** 0-based position in the window's error stream. */
  index: number;
  request_id: string;
  /** ms since epoch of the request. */
  at: number;
}

/** One detector's run over the window. */
export interface DetectorRun {
  detector: DetectorName;
  settings: Record<string, number | string>;
  detections: Detection[];
  /** DDM only: whether the last value left it in the warning zone. */
  warning?: boolean;
  /** ADWIN: the window's mean error at the end; Page-Hinkley: the running mean; DDM: the error rate since its last reset. */
  estimation: number;
  /** ADWIN only: values in its window at the end. */
  width?: number;
}

export interface ConceptResult {
  config: Record<string, unknown>;
  task: PredictionTask | null;
  /** 0/1 (classification) or absolute (regression). */
  error: 'zero_one' | 'absolute' | null;
  requests: number;
  labelled_requests: number;
  labelled_rows: number;
  /** Mean of the error stream. */
  mean_error: number | null;
  detectors: DetectorRun[];
  skipped: Array<{ detector: DetectorName; reason: string }>;
  reason: string | null;
}

/** The error stream of the window's primary labelled rows, in log order. */
export function errorStream(window: LabelledWindow, config: PredictionSettings): { task: PredictionTask; errors: number[]; rows: LabelledRow[] } {
  const primary = window.rows.filter((r) => r.role === 'primary');
  const scoring = decideScoring(window, config);
  const errors: number[] = [];
  const rows: LabelledRow[] = [];
  for (const row of primary) {
    if (scoring.task === 'regression') {
      const r = regress(row);
      if (!r) continue;
      errors.push(Math.abs(r.predicted - r.label));
    } else {
      const c = classify(row, scoring, config.threshold);
      if (!c) continue;
      errors.push(c.predicted === c.label ? 0 : 1);
    }
    rows.push(row);
  }
  return { task: scoring.task, errors, rows };
}

function runDetector(name: DetectorName, settings: Record<string, number | string>, errors: readonly number[], rows: readonly LabelledRow[]): DetectorRun {
  const detections: Detection[] = [];
  const note = (i: number) => detections.push({ index: i, request_id: rows[i]!.requestId, at: rows[i]!.at });
  if (name === 'adwin') {
    const d = new Adwin({ delta: settings.delta as number, clock: settings.clock as number, maxBuckets: settings.max_buckets as number, minWindowLength: settings.min_window_length as number, gracePeriod: settings.grace_period as number });
    errors.forEach((e, i) => { if (d.update(e)) note(i); });
    return { detector: name, settings, detections, estimation: d.estimation, width: d.width };
  }
  if (name === 'ddm') {
    const d = new Ddm({ warmStart: settings.warm_start as number, warningThreshold: settings.warning_threshold as number, driftThreshold: settings.drift_threshold as number });
    errors.forEach((e, i) => { if (d.update(e)) note(i); });
    return { detector: name, settings, detections, warning: d.warningDetected, estimation: d.errorRate };
  }
  const d = new PageHinkley({ minInstances: settings.min_instances as number, delta: settings.delta as number, threshold: settings.threshold as number, alpha: settings.alpha as number, mode: settings.mode as PageHinkleyMode });
  errors.forEach((e, i) => { if (d.update(e)) note(i); });
  return { detector: name, settings, detections, estimation: d.estimation };
}

/** Evaluates a labelled window (exported for tests). */
export function evaluateConcept(window: LabelledWindow, config: ConceptConfig): MonitorOutcome {
  const result: ConceptResult = {
    config: conceptConfigJson(config),
    task: null,
    error: null,
    requests: window.requests,
    labelled_requests: window.labelledRequests,
    labelled_rows: 0,
    mean_error: null,
    detectors: [],
    skipped: [],
    reason: null,
  };
  const flat: Record<string, number | null> = { 'concept.requests': window.requests, 'concept.labelled_requests': window.labelledRequests };
  const outcome = (status: string): MonitorOutcome => ({ status, rows: window.requests, windowStart: window.windowStart, windowEnd: window.windowEnd, metrics: finiteMetrics(flat), result });
  if (window.requests === 0) {
    result.reason = 'no answered requests in the window';
    return outcome('not_enough_data');
  }
  const { task, errors, rows } = errorStream(window, config);
  result.task = task;
  result.error = task === 'regression' ? 'absolute' : 'zero_one';
  result.labelled_rows = errors.length;
  flat['concept.labelled_rows'] = errors.length;
  if (errors.length < config.minLabels) {
    result.reason = `${errors.length} scored labelled rows, fewer than min_labels ${config.minLabels}`;
    return outcome('not_enough_data');
  }
  let sum = 0;
  for (const e of errors) sum += e;
  result.mean_error = sum / errors.length;
  flat[task === 'regression' ? 'concept.mean_absolute_error' : 'concept.error_rate'] = result.mean_error;
  for (const name of DETECTOR_NAMES) {
    const settings = config.detectors[name];
    if (!settings) continue;
    if (name === 'ddm' && task === 'regression') {
      result.skipped.push({ detector: name, reason: 'DDM reads 0/1 errors; regression errors are absolute values' });
      continue;
    }
    const run = runDetector(name, settings, errors, rows);
    result.detectors.push(run);
    flat[`concept.${name}.drift`] = run.detections.length > 0 ? 1 : 0;
    flat[`concept.${name}.detections`] = run.detections.length;
    flat[`concept.${name}.estimation`] = run.estimation;
    if (run.warning !== undefined) flat[`concept.${name}.warning`] = run.warning ? 1 : 0;
    if (run.width !== undefined) flat[`concept.${name}.width`] = run.width;
    const last = run.detections[run.detections.length - 1];
    if (last) flat[`concept.${name}.last_detection_at`] = last.at;
  }
  const drifted = result.detectors.some((r) => r.detections.length > 0);
  flat['concept.drift'] = drifted ? 1 : 0;
  if (drifted) return outcome('drifted');
  return outcome(result.detectors.some((r) => r.warning) ? 'warning' : 'ok');
}

/**
 * The concept kind, as registered with the monitor scheduler. `checkConfig` answers the normalised
 * JSON form (checking it again gives the same), which is what the monitor stores.
 */
export const conceptMonitorKind: MonitorKind<Record<string, unknown>> = {
  kind: 'concept',
  checkConfig: (config: unknown) => conceptConfigJson(checkConceptConfig(config)),
  async evaluate(ctx: MonitorContext, stored: Record<string, unknown>): Promise<MonitorOutcome> {
    const config = checkConceptConfig(stored);
    const window = await readLabelledWindow(ctx.db, ctx.deployment, ctx.window, { predictionOutput: config.predictionOutput, probabilityOutput: config.probabilityOutput });
    return evaluateConcept(window, config);
  },
};
