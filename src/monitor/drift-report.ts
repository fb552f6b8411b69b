// The drift report of a deployment as one self-contained HTML page: the newest window of its traffic
// against the reference profile of the model version that answered it, with the settings of one of
// its drift monitors (the one named, else the first by name, else the defaults) — the same
// comparison the drift kind makes, plus the histograms that need both windows. The prediction (first
// output) is shown as one more row, beside the features; the dataset verdict counts features only.
// When the window is empty or the version has no reference, the newest stored drift result of the
// deployment is rendered instead (statistics and verdicts, no histograms).
import { PlinthError } from '../core/index.js';
import type { ArtifactStore, Db } from '../store/index.js';
import { compareWindows, evaluateFeature, type DriftOptions, type DriftReport, type FeatureDrift, type FeatureWindow } from './drift.js';
import { checkDriftConfig, type DriftMonitorConfig } from './kind-drift.js';
import { liveFeatureWindow, livePredictionColumn, readLiveWindow } from './live-window.js';
import { assertDeploymentExists, DEFAULT_MONITOR_WINDOW, getMonitor, latestResults, listMonitors, windowAt, type MonitorWindowSpec } from './monitors.js';
import { profileAsColumn } from './reference-profile.js';
import { loadReferenceProfile } from './reference-profiles.js';
import { renderDriftReportHtml, reportHistogram, type ReportHistogram } from './report-html.js';

/** What to report on. */
export interface DeploymentDriftReportOptions {
  /** A drift monitor of the deployment whose settings and window are used. */
  monitor?: string | undefined;
  /** Overrides the window (the monitor's, else the newest 1000 requests). */
  window?: MonitorWindowSpec | undefined;
  /** ms since epoch; the window ends here. */
  now: number;
}

/** The rendered page and what it shows. */
export interface DeploymentDriftReport {
  html: string;
  /** `fresh`: computed now from the window; `stored`: the newest stored drift result. */
  source: 'fresh' | 'stored';
  /** The monitor whose settings (fresh) or result (stored) were used; null: defaults. */
  monitor: string | null;
  report: DriftReport;
  /** The prediction's row (also the last row of the page). */
  prediction: FeatureDrift | null;
}

function restrict(window: FeatureWindow, names: ReadonlySet<string>): FeatureWindow {
  return { rows: window.rows, columns: new Map([...window.columns].filter(([name]) => names.has(name))) };
}

function isoOrDash(ms: number | null): string {
  return ms === null ? '—' : new Date(ms).toISOString();
}

function describeWindow(spec: MonitorWindowSpec): string {
  return 'requests' in spec ? `newest ${spec.requests} requests` : `last ${spec.seconds} s`;
}

async function settingsFor(db: Db, deployment: string, options: DeploymentDriftReportOptions): Promise<{ monitor: string | null; config: DriftMonitorConfig; window: MonitorWindowSpec }> {
  if (options.monitor !== undefined) {
    const monitor = await getMonitor(db, deployment, options.monitor);
    if (monitor.kind !== 'drift') throw new PlinthError('INVALID_ARGUMENT', `monitor ${monitor.name} is a ${monitor.kind} monitor; a drift report reads a drift monitor`);
    return { monitor: monitor.name, config: checkDriftConfig(monitor.config), window: options.window ?? monitor.window };
  }
  const first = (await listMonitors(db, deployment)).find((m) => m.kind === 'drift');
  if (first) return { monitor: first.name, config: checkDriftConfig(first.config), window: options.window ?? first.window };
  return { monitor: null, config: checkDriftConfig({}), window: options.window ?? DEFAULT_MONITOR_WINDOW };
}

/** The newest stored drift result (of the named monitor, or of any drift monitor) as a report page. */
async function storedReport(db: Db, deployment: string, monitor: string | undefined, why: string): Promise<DeploymentDriftReport> {
  const results = (await latestResults(db, deployment, 'drift')).filter((r) => monitor === undefined || r.monitor === monitor);
  const usable = results
    .filter((r) => {
      const body = r.result as { features?: unknown; dataset?: unknown } | null;
      return body !== null && Array.isArray(body.features) && typeof body.dataset === 'object' && body.dataset !== null;
    })
    .sort((a, b) => b.computedAt - a.computedAt)[0];
  if (!usable) throw new PlinthError('DRIFT_REPORT_UNAVAILABLE', `no drift report for ${deployment}: ${why}, and no drift monitor has a stored result`);
  const body = usable.result as { features: FeatureDrift[]; dataset: DriftReport['dataset']; prediction?: FeatureDrift | null; window?: { rows?: number; model?: string | null }; reference?: { model?: string; rows?: number; source?: unknown } };
  const report: DriftReport = { reference_rows: body.reference?.rows ?? 0, current_rows: body.window?.rows ?? usable.rows, dataset: body.dataset, features: body.features };
  const prediction = body.prediction ?? null;
  const page: DriftReport = prediction ? { ...report, features: [...report.features, prediction] } : report;
  const html = renderDriftReportHtml({
    title: `Data drift report: ${deployment}`,
    reference: `${body.reference?.model ?? 'reference'} profile`,
    current: `stored result of monitor ${usable.monitor}, ${isoOrDash(usable.windowStart)} – ${isoOrDash(usable.windowEnd)} (${why}; no histograms)`,
    report: page,
    histograms: new Map(),
    generatedAt: new Date(usable.computedAt),
  });
  return { html, source: 'stored', monitor: usable.monitor, report, prediction };
}

/**
 * Builds a deployment's drift report page.
 * @throws PlinthError DEPLOYMENT_NOT_FOUND, MONITOR_NOT_FOUND, INVALID_ARGUMENT (a monitor that is not
 *   a drift monitor), DRIFT_REPORT_UNAVAILABLE (empty window or no reference, and no stored result)
 */
export async function buildDeploymentDriftReport(db: Db, artifacts: ArtifactStore, deployment: string, options: DeploymentDriftReportOptions): Promise<DeploymentDriftReport> {
  await assertDeploymentExists(db, deployment);
  const { monitor, config, window } = await settingsFor(db, deployment, options);
  const live = await readLiveWindow(db, deployment, windowAt(window, options.now));
  if (live.rows === 0 || !live.model) return storedReport(db, deployment, options.monitor, `the ${describeWindow(window)} hold no answered requests`);
  const loaded = await loadReferenceProfile(db, artifacts, live.model.name, live.model.version);
  if (!loaded) return storedReport(db, deployment, options.monitor, `${live.model.name}@${live.model.version} has no reference profile`);
  const { record, profile } = loaded;
  const current = liveFeatureWindow(live);
  const names = new Set(config.features ?? current.columns.keys());
  const reference: FeatureWindow = restrict({ rows: profile.rows, columns: new Map([...profile.columns].map(([n, c]) => [n, profileAsColumn(c)])) }, names);
  const restricted = restrict(current, names);
  const driftOptions: DriftOptions = {
    tests: config.tests,
    thresholds: config.thresholds,
    correction: config.correction,
    ...(config.drift_share !== null ? { driftShare: config.drift_share } : {}),
  };
  const report = compareWindows(reference, restricted, driftOptions);
  const histograms = new Map<string, ReportHistogram | null>(report.features.map((f) => [f.feature, reportHistogram(reference.columns.get(f.feature)?.sample, restricted.columns.get(f.feature)?.sample)]));
  const referencePrediction = profile.prediction ? profileAsColumn(profile.prediction) : undefined;
  const currentPrediction = livePredictionColumn(live) ?? undefined;
  const prediction = evaluateFeature('prediction', referencePrediction, currentPrediction, {
    ...(config.prediction_test ? { tests: { prediction: config.prediction_test } } : {}),
    ...(config.prediction_threshold !== null ? { thresholds: { prediction: config.prediction_threshold } } : {}),
  });
  if (!profile.prediction) prediction.reason = 'the reference profile holds no prediction (a dataset reference without prediction_column)';
  // The page lists the prediction after the features, under a name no feature can clash with.
  const predictionRow: FeatureDrift = { ...prediction, feature: '(prediction)' };
  histograms.set('(prediction)', reportHistogram(referencePrediction?.sample, currentPrediction?.sample));
  const html = renderDriftReportHtml({
    title: `Data drift report: ${deployment}`,
    reference: `${record.model}@${record.version} reference profile (${JSON.stringify(record.source)}, ${record.summary.rows} rows)`,
    current: `${deployment}: ${describeWindow(window)}, ${live.requests} requests of ${live.model.name}@${live.model.version}, ${isoOrDash(live.windowStart)} – ${isoOrDash(live.windowEnd)}${monitor ? `, settings of monitor ${monitor}` : ''}`,
    report: { ...report, features: [...report.features, predictionRow] },
    histograms,
    generatedAt: new Date(options.now),
  });
  return { html, source: 'fresh', monitor, report, prediction };
}
