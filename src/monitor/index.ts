// Public API of the monitoring area: the table of drift tests and their statistics, window
// comparison with the dataset verdict, window readers (files, inline columns), the HTML report
// and the route plugin (POST /api/v1/drift). Definitions in docs/monitoring.md.
export { monitorRoutes } from './routes.js';
export type { MonitorRoutesOptions } from './routes.js';
export {
  DRIFT_TESTS,
  DRIFT_TEST_NAMES,
  PSI_BINS,
  PSI_EPSILON,
  VALUE_BINS_MAX_DISTINCT,
  DEFAULT_SMALL_REFERENCE,
  DEFAULT_FEW_VALUES,
  defaultDriftTest,
  isDriftTestName,
  quantileEdges,
  binProportions,
  binnedProportions,
  wassersteinSorted,
  jensenShannonDistance,
} from './drift-tests.js';
export type { DriftTestName, DriftTestDefinition, FeatureKind, TestOutcome } from './drift-tests.js';
export {
  compareWindows,
  evaluateFeature,
  driftVerdict,
  adjustPValues,
  validateDriftOptions,
  DEFAULT_DRIFT_SHARE,
  MIN_VALUES,
  CORRECTIONS,
} from './drift.js';
export type { Correction, DriftOptions, DriftReport, DatasetDrift, FeatureDrift, FeatureStatus, FeatureColumn, FeatureWindow } from './drift.js';
export { ksTwoSampleSorted, ksStatisticSorted, kstwoSf, smirnovSf, KS_MAX_EXACT_N } from './kolmogorov-smirnov.js';
export type { KsResult } from './kolmogorov-smirnov.js';
export { chiSquareSf, normalSf, erfc, regularizedGammaP, regularizedGammaQ, logGamma, regularizedBeta, studentTSf } from './special-functions.js';
export { numericSample, categoricalSample, categoricalSampleFromCodes, radixSortFloat64, sampleSize } from './samples.js';
export type { NumericSample, CategoricalSample, FeatureSample } from './samples.js';
export { readWindowFile, windowFromColumns } from './windows.js';
export { renderDriftReportHtml, reportHistograms, reportHistogram, REPORT_NUMERIC_BINS, REPORT_TOP_CATEGORIES } from './report-html.js';
export type { DriftReportPage, ReportHistogram } from './report-html.js';
export { registerMonitorKind, monitorKind, requireMonitorKind, registeredMonitorKinds, finiteMetrics, MONITOR_KIND_NAMES } from './monitor-kind.js';
export type { MonitorKind, MonitorKindName, MonitorContext, MonitorOutcome, MonitorWindow, MonitorResult, MonitorResultListener, ReferencePredictor } from './monitor-kind.js';
export { AlertService } from './alerts.js';
export type { AlertServiceOptions } from './alerts.js';
export { alertRoutes } from './alert-routes.js';
export type { AlertRoutesOptions } from './alert-routes.js';
export { createAlertRule, listAlertRules, getAlertRule, updateAlertRule, deleteAlertRule, conditionHolds, checkWebhookUrl, ALERT_COMPARISONS, ALERT_SEVERITIES, ROLLOUT_ROLLED_BACK_METRIC } from './alert-rules.js';
export type { AlertRuleInfo, AlertRuleInput, AlertRulePatch, AlertComparison, AlertSeverity } from './alert-rules.js';
export { evaluateAlerts, alertInputOfRollout, ALERT_EVENT_STATES } from './alert-evaluator.js';
export type { AlertInput, AlertPayload, AlertEventState, CreatedAlertEvent, RolloutDecision } from './alert-evaluator.js';
export { listAlertEvents, getAlertEvent } from './alert-events.js';
export type { AlertEventInfo, AlertDeliveryInfo, AlertEventQuery } from './alert-events.js';
export { WebhookSender, webhookSignature, retryDelayMs, DEFAULT_WEBHOOK_OPTIONS, SIGNATURE_HEADER, TIMESTAMP_HEADER, EVENT_HEADER, ATTEMPT_HEADER } from './alert-webhooks.js';
export type { WebhookSenderOptions } from './alert-webhooks.js';
export { accuracy, binaryScores, macroScores, rocAuc, rocAucOneVsRest, logLoss, rmse, mae, r2, mape, MAPE_EPSILON } from './metrics.js';
export type { ClassificationScores } from './metrics.js';
export { Adwin, ADWIN_DEFAULTS } from './concept/adwin.js';
export type { AdwinOptions } from './concept/adwin.js';
export { Ddm, DDM_DEFAULTS } from './concept/ddm.js';
export type { DdmOptions } from './concept/ddm.js';
export { PageHinkley, PAGE_HINKLEY_DEFAULTS } from './concept/page-hinkley.js';
export type { PageHinkleyOptions, PageHinkleyMode } from './concept/page-hinkley.js';
export { monitorApiRoutes, resultView } from './monitor-routes.js';
export type { MonitorApiRoutesOptions } from './monitor-routes.js';
export { MonitorScheduler } from './scheduler.js';
export type { MonitorSchedulerOptions } from './scheduler.js';
export {
  createMonitor,
  getMonitor,
  listMonitors,
  deleteMonitor,
  updateMonitor,
  runMonitor,
  dueMonitors,
  listResults,
  latestResults,
  assertDeploymentExists,
  checkWindowSpec,
  windowAt,
  DEFAULT_MONITOR_WINDOW,
  DEFAULT_SCHEDULE_SECONDS,
  MAX_RESULTS_PAGE,
} from './monitors.js';
export type { Monitor, MonitorWindowSpec, CreateMonitorInput, UpdateMonitorInput, ResultQuery } from './monitors.js';
export { readLiveWindow, liveFeatureWindow, livePredictionColumn, liveColumnAsFeature, MAX_WINDOW_REQUESTS, MAX_WINDOW_ROWS } from './live-window.js';
export type { LiveWindow, LiveColumn, LiveValue } from './live-window.js';
export { REFERENCE_SAMPLE_LIMIT, quantileSample, profileFromWindow, profileWindow, encodeReferenceProfile, decodeReferenceProfile, describeProfile } from './reference-profile.js';
export type { ReferenceProfile, ProfileColumn } from './reference-profile.js';
export { setReferenceFromDataset, setReferenceFromTraffic, getReferenceRecord, describeReference, loadReferenceProfile, REFERENCE_PREDICTION_ROWS } from './reference-profiles.js';
export type { ReferenceProfileRecord } from './reference-profiles.js';
export { driftMonitorKind, checkDriftConfig, evaluateDrift, windowSummary } from './kind-drift.js';
export type { DriftMonitorConfig } from './kind-drift.js';
export { qualityMonitorKind, checkQualityConfig, evaluateQuality, featureQuality, QUALITY_CODES } from './kind-quality.js';
export type { QualityMonitorConfig, QualityCode, FeatureQuality } from './kind-quality.js';
export { readDatasetWindow, readDatasetTable, readFileTable, tableWindow } from './windows.js';
export type { FileTable } from './windows.js';
export { performanceMonitorKind, checkPerformanceConfig, performanceConfigJson, evaluatePerformance, scoreRows, referenceMetrics, PERFORMANCE_METRICS, DEFAULT_PERFORMANCE_MIN_LABELS, REFERENCE_RUN_KEYS } from './kind-performance.js';
export type { PerformanceConfig, PerformanceResult, PerformanceMetricDefinition, GroupScores, VersionPerformance, ReferenceMetrics } from './kind-performance.js';
export { conceptMonitorKind, checkConceptConfig, conceptConfigJson, evaluateConcept, errorStream, DETECTOR_NAMES, DETECTOR_SETTINGS, DEFAULT_CONCEPT_MIN_LABELS } from './kind-concept.js';
export type { ConceptConfig, ConceptResult, DetectorRun, Detection, DetectorName } from './kind-concept.js';
export { readLabelledWindow, chooseOutputs, scalarValue, MAX_LABELLED_REQUESTS, PREDICTION_OUTPUT_NAMES, PROBABILITY_OUTPUT_NAMES } from './labelled-window.js';
export type { LabelledWindow, LabelledRow, OutputChoice, OutputOptions, ScalarValue } from './labelled-window.js';
export { checkPredictionSettings, decideScoring, classify, regress, classKey, PREDICTION_TASKS, PREDICTION_SETTING_KEYS } from './prediction-task.js';
export type { PredictionSettings, PredictionTask, Scoring, ClassifiedRow } from './prediction-task.js';
export { buildDeploymentDriftReport } from './drift-report.js';
export type { DeploymentDriftReport, DeploymentDriftReportOptions } from './drift-report.js';
export { driftReportRoutes } from './report-routes.js';
export type { DriftReportRoutesOptions } from './report-routes.js';
