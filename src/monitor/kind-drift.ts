// The drift monitor kind: a live window of a deployment's traffic against the reference profile of
// the model version that answered most of it, feature by feature with the same tests, thresholds,
// correction and dataset verdict as the offline comparison (compareWindows), plus the prediction
// (the first output) tested on its own. The dataset verdict counts the features only.
import { PlinthError } from '../core/index.js';
import { compareWindows, CORRECTIONS, evaluateFeature, type Correction, type DriftOptions, type FeatureDrift, type FeatureWindow } from './drift.js';
import { DRIFT_TEST_NAMES, isDriftTestName, type DriftTestName } from './drift-tests.js';
import { liveFeatureWindow, livePredictionColumn, readLiveWindow, type LiveWindow } from './live-window.js';
import { finiteMetrics, type MonitorContext, type MonitorKind, type MonitorOutcome } from './monitor-kind.js';
import { profileAsColumn } from './reference-profile.js';
import { loadReferenceProfile } from './reference-profiles.js';

export interface DriftMonitorConfig {
  /** Per-feature test overrides. */
  tests: Record<string, DriftTestName>;
  /** Per-feature thresholds (a p-value or a distance, as the feature's test reads it). */
  thresholds: Record<string, number>;
  /** @default 0.5 */
  drift_share: number | null;
  /** @default 'none' */
  correction: Correction;
  /** Only these features (all when null). */
  features: string[] | null;
  /** The prediction's test and threshold (the default test by type and size when null). */
  prediction_test: DriftTestName | null;
  prediction_threshold: number | null;
}

const KEYS = ['tests', 'thresholds', 'drift_share', 'correction', 'features', 'prediction_test', 'prediction_threshold'];

function bad(message: string): PlinthError {
  return new PlinthError('INVALID_ARGUMENT', message);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkTest(value: unknown, field: string): DriftTestName {
  if (typeof value !== 'string' || !isDriftTestName(value)) throw bad(`${field}: unknown drift test ${JSON.stringify(String(value).slice(0, 50))}; use one of ${DRIFT_TEST_NAMES.join(', ')}`);
  return value;
}

function checkThreshold(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw bad(`${field}: a threshold must be a finite number ≥ 0`);
  return value;
}

/**
 * Validates a drift monitor's settings.
 * @throws PlinthError INVALID_ARGUMENT naming the field (config.tests.<feature>, config.drift_share, …)
 */
export function checkDriftConfig(config: unknown): DriftMonitorConfig {
  const given = config === undefined || config === null ? {} : config;
  if (!isObject(given)) throw bad('config: must be an object');
  const c: Record<string, unknown> = { ...given };
  const unknown = Object.keys(c).find((k) => !KEYS.includes(k));
  if (unknown !== undefined) throw bad(`config.${unknown.slice(0, 100)}: unknown setting of a drift monitor (allowed: ${KEYS.join(', ')})`);
  // null means "not set" (the normalised form stores unset settings as null).
  for (const key of KEYS) if (c[key] === null) delete c[key];
  const out: DriftMonitorConfig = { tests: {}, thresholds: {}, drift_share: null, correction: 'none', features: null, prediction_test: null, prediction_threshold: null };
  if (c.tests !== undefined) {
    if (!isObject(c.tests)) throw bad('config.tests: must be an object of feature → test name');
    for (const [feature, test] of Object.entries(c.tests)) out.tests[feature] = checkTest(test, `config.tests.${feature.slice(0, 100)}`);
  }
  if (c.thresholds !== undefined) {
    if (!isObject(c.thresholds)) throw bad('config.thresholds: must be an object of feature → number');
    for (const [feature, t] of Object.entries(c.thresholds)) out.thresholds[feature] = checkThreshold(t, `config.thresholds.${feature.slice(0, 100)}`);
  }
  if (c.drift_share !== undefined) {
    const share = c.drift_share;
    if (typeof share !== 'number' || !(share > 0 && share <= 1)) throw bad('config.drift_share: must be a number in (0, 1]');
    out.drift_share = share;
  }
  if (c.correction !== undefined) {
    if (typeof c.correction !== 'string' || !CORRECTIONS.includes(c.correction as Correction)) throw bad(`config.correction: use one of ${CORRECTIONS.join(', ')}`);
    out.correction = c.correction as Correction;
  }
  if (c.features !== undefined) {
    if (!Array.isArray(c.features) || c.features.length === 0 || !c.features.every((f) => typeof f === 'string' && f.length > 0)) throw bad('config.features: must be a non-empty array of feature names');
    out.features = [...new Set(c.features as string[])];
  }
  if (c.prediction_test !== undefined) out.prediction_test = checkTest(c.prediction_test, 'config.prediction_test');
  if (c.prediction_threshold !== undefined) out.prediction_threshold = checkThreshold(c.prediction_threshold, 'config.prediction_threshold');
  return out;
}

/** The window's shape, as every kind built on live windows reports it. */
export function windowSummary(live: LiveWindow): Record<string, unknown> {
  return {
    requests: live.requests,
    rows: live.rows,
    start: live.windowStart,
    end: live.windowEnd,
    model: live.model ? `${live.model.name}@${live.model.version}` : null,
    versions: live.versions,
    other_version_requests: live.otherVersionRequests,
    truncated: live.truncated,
    columns_from: live.columnsFrom,
    skipped: live.skipped,
  };
}

function restrict(window: FeatureWindow, names: ReadonlySet<string>): FeatureWindow {
  return { rows: window.rows, columns: new Map([...window.columns].filter(([name]) => names.has(name))) };
}

/** Flat metrics of a drift result: dataset figures and, per feature and for the prediction, statistic, p-value and verdict. */
function driftMetrics(report: ReturnType<typeof compareWindows>, prediction: FeatureDrift | null, rows: number): Record<string, number> {
  const m: Record<string, number | null> = {
    'drift.rows': rows,
    'drift.features': report.dataset.features,
    'drift.evaluated_features': report.dataset.evaluated,
    'drift.drifted_features': report.dataset.drifted_features,
    'drift.share': report.dataset.share,
    'drift.dataset_drifted': report.dataset.drifted === null ? null : report.dataset.drifted ? 1 : 0,
  };
  const per = (prefix: string, f: FeatureDrift) => {
    m[`${prefix}.statistic`] = f.statistic;
    m[`${prefix}.p_value`] = f.adjusted_p_value;
    m[`${prefix}.drifted`] = f.drifted === null ? null : f.drifted ? 1 : 0;
  };
  for (const f of report.features) per(`drift.feature.${f.feature}`, f);
  if (prediction) per('drift.prediction', prediction);
  return finiteMetrics(m);
}

/** Evaluates a drift monitor on one window. */
export async function evaluateDrift(ctx: MonitorContext, config: DriftMonitorConfig): Promise<MonitorOutcome> {
  const live = await readLiveWindow(ctx.db, ctx.deployment, ctx.window);
  const window = windowSummary(live);
  const empty = (status: string, reason: string): MonitorOutcome => ({
    status,
    rows: live.requests,
    windowStart: live.windowStart,
    windowEnd: live.windowEnd,
    metrics: { 'drift.rows': live.rows },
    result: { status, reason, window },
  });
  if (live.rows === 0 || !live.model) return empty('not_enough_data', 'not enough data: the window holds no answered requests');
  const loaded = await loadReferenceProfile(ctx.db, ctx.artifacts, live.model.name, live.model.version, ctx.predict);
  if (!loaded) return empty('no_reference', `${live.model.name}@${live.model.version} has no reference profile and no training dataset link: set one with PUT /api/v1/models/${live.model.name}/versions/${live.model.version}/reference`);
  const { record, profile } = loaded;
  const current = liveFeatureWindow(live);
  const names = new Set(config.features ?? current.columns.keys());
  const reference: FeatureWindow = restrict({ rows: profile.rows, columns: new Map([...profile.columns].map(([n, c]) => [n, profileAsColumn(c)])) }, names);
  const options: DriftOptions = {
    tests: config.tests,
    thresholds: config.thresholds,
    correction: config.correction,
    ...(config.drift_share !== null ? { driftShare: config.drift_share } : {}),
  };
  const report = compareWindows(reference, restrict(current, names), options);
  let prediction: FeatureDrift | null = null;
  const currentPrediction = livePredictionColumn(live);
  const predictionOptions: DriftOptions = {
    ...(config.prediction_test ? { tests: { prediction: config.prediction_test } } : {}),
    ...(config.prediction_threshold !== null ? { thresholds: { prediction: config.prediction_threshold } } : {}),
  };
  prediction = evaluateFeature('prediction', profile.prediction ? profileAsColumn(profile.prediction) : undefined, currentPrediction ?? undefined, predictionOptions);
  if (!profile.prediction) prediction.reason = `the reference profile holds no prediction${typeof record.source.prediction_reason === 'string' ? `: ${record.source.prediction_reason}` : ''}`;
  const status = report.dataset.drifted === null ? 'not_enough_data' : report.dataset.drifted ? 'drifted' : 'ok';
  return {
    status,
    rows: live.requests,
    windowStart: live.windowStart,
    windowEnd: live.windowEnd,
    metrics: driftMetrics(report, prediction, live.rows),
    result: {
      status,
      reason: report.dataset.reason,
      window,
      reference: { model: `${record.model}@${record.version}`, source: record.source, rows: record.summary.rows, created_at: record.created_at, sample_limit: record.summary.sample_limit },
      dataset: report.dataset,
      features: report.features,
      prediction,
    },
  };
}

/** The drift kind, for registerMonitorKind. */
export const driftMonitorKind: MonitorKind<DriftMonitorConfig> = {
  kind: 'drift',
  checkConfig: checkDriftConfig,
  evaluate: evaluateDrift,
};
