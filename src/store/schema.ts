// Row types of every table, as Kysely sees them. Timestamps are integer milliseconds since the
// Unix epoch; JSON values are stored as text; booleans as 0/1, so one schema serves SQLite and PostgreSQL.
import type { Generated } from 'kysely';

export interface TokensTable {
  id: string;
  name: string;
  role: string;
  token_hash: string;
  created_at: number;
  created_by: string | null;
  revoked_at: number | null;
  last_used_at: number | null;
}

export interface AuditLogTable {
  id: Generated<number>;
  at: number;
  actor: string;
  actor_token_id: string | null;
  action: string;
  resource_type: string;
  resource_id: string;
  /** JSON object */
  details: string;
  request_id: string | null;
}

export interface ArtifactsTable {
  sha256: string;
  size: number;
  created_at: number;
}

export interface ModelsTable {
  id: string;
  name: string;
  description: string;
  /** JSON object of string → string */
  tags: string;
  created_at: number;
  updated_at: number;
  /** The number the next registered version gets; bumped atomically. */
  next_version: number;
}

export interface ModelVersionsTable {
  id: string;
  model_id: string;
  version: number;
  artifact_sha256: string;
  artifact_size: number;
  /** JSON: the ONNX signature (inputs and outputs). */
  signature: string;
  /** JSON or null: the feature schema. */
  feature_schema: string | null;
  run_id: string | null;
  description: string;
  /** JSON object of string → string */
  tags: string;
  approval_status: string;
  created_at: number;
  updated_at: number;
  created_by: string | null;
  /** The MLflow flavor of a version registered from a model without an ONNX flavor (not servable); null for ONNX models. */
  flavor: string | null;
}

export interface ModelVersionDatasetsTable {
  model_version_id: string;
  dataset_version_id: string;
  /** 'training' | 'validation' | 'test' */
  role: string;
}

export interface ModelVersionApprovalsTable {
  id: Generated<number>;
  model_version_id: string;
  status: string;
  comment: string;
  actor: string | null;
  at: number;
}

export interface ModelAliasesTable {
  model_id: string;
  alias: string;
  version: number;
  updated_at: number;
}

export interface DatasetsTable {
  id: string;
  name: string;
  description: string;
  tags: string;
  created_at: number;
  updated_at: number;
  next_version: number;
}

export interface DatasetVersionsTable {
  id: string;
  dataset_id: string;
  version: number;
  content_sha256: string;
  size: number;
  /** 'csv' | 'parquet' */
  format: string;
  filename: string;
  row_count: number;
  /** JSON: inferred schema */
  schema: string;
  /** JSON: profile */
  profile: string;
  description: string;
  tags: string;
  created_at: number;
  created_by: string | null;
}

export interface ExperimentsTable {
  id: Generated<number>;
  name: string;
  artifact_location: string;
  /** 'active' | 'deleted' */
  lifecycle_stage: string;
  creation_time: number;
  last_update_time: number;
}

export interface ExperimentTagsTable {
  experiment_id: number;
  key: string;
  value: string;
}

export interface RunsTable {
  run_id: string;
  experiment_id: number;
  name: string;
  /** RUNNING | SCHEDULED | FINISHED | FAILED | KILLED */
  status: string;
  start_time: number;
  end_time: number | null;
  lifecycle_stage: string;
  artifact_uri: string;
  user_id: string;
  deleted_time: number | null;
}

export interface RunParamsTable {
  run_id: string;
  key: string;
  value: string;
}

export interface RunTagsTable {
  run_id: string;
  key: string;
  value: string;
}

export interface RunMetricsTable {
  id: Generated<number>;
  run_id: string;
  key: string;
  /** null when the logged value was NaN */
  value: number | null;
  timestamp: number;
  step: number;
}

export interface RunLatestMetricsTable {
  run_id: string;
  key: string;
  value: number | null;
  timestamp: number;
  step: number;
}

/** A file of a run's artifacts: a relative path inside the run, pointing at content-addressed bytes. */
export interface RunArtifactsTable {
  run_id: string;
  /** Relative POSIX path, e.g. `model/model.onnx`; never empty, absolute or with `.`/`..` segments. */
  path: string;
  sha256: string;
  size: number;
  created_at: number;
}

/** Per-model serving settings (src/serving/serving-config.ts). */
export interface ServingConfigsTable {
  /** A registered model's name. */
  model_name: string;
  /** JSON: `{ runtime, batching: { enabled, max_batch_size, max_queue_delay_microseconds, max_queue_size, timeout_ms } }` */
  config: string;
  updated_at: number;
  updated_by: string | null;
}

/** What MLflow clients see of a model version beyond Plinth's record (src/mlflow). */
export interface MlflowModelVersionsTable {
  model_version_id: string;
  /** The `source` given at registration, e.g. `mlflow-artifacts:/0/<run>/artifacts/model`. */
  source: string;
  run_link: string;
  /** None | Staging | Production | Archived */
  stage: string;
}

/** A dataset input of a run (MLflow's runs/log-inputs). */
export interface MlflowRunInputsTable {
  id: Generated<number>;
  run_id: string;
  name: string;
  digest: string;
  /** JSON: MLflow's Dataset message. */
  dataset: string;
  /** JSON: the input's tags, a list of {key, value}. */
  tags: string;
}

/** A deployment: the stable name applications call (src/rollout). */
export interface DeploymentsTable {
  id: string;
  name: string;
  description: string;
  /** The current revision's number (1 at creation). */
  revision: number;
  /** JSON: the current DeploymentSpec (routes, weights, rollout state). */
  spec: string;
  created_at: number;
  created_by: string;
  updated_at: number;
}

/** Every spec a deployment has had, numbered from 1 (src/rollout). */
export interface DeploymentRevisionsTable {
  deployment_id: string;
  revision: number;
  /** What made it: create, rollout, step, promote, rollback, update. */
  action: string;
  reason: string | null;
  /** JSON: the DeploymentSpec of this revision. */
  spec: string;
  created_at: number;
  actor: string;
}

/** One served request (or its shadow) of a deployment (src/predlog). */
export interface PredictionLogTable {
  id: Generated<number>;
  deployment: string;
  request_id: string;
  /** `primary` (the variant that answered) or `shadow` (a mirrored copy whose answer was discarded). */
  role: string;
  model_name: string;
  model_version: number;
  at: number;
  latency_ms: number;
  /** The HTTP status the variant's answer had (200, or the error's). */
  status: number;
  /** JSON: the inputs by name (sensitive features hashed or dropped). */
  inputs: string;
  /** JSON: the outputs by name; null when the variant failed. */
  outputs: string | null;
  error: string | null;
}

/** A ground-truth label for a logged request (src/predlog). */
export interface PredictionFeedbackTable {
  deployment: string;
  request_id: string;
  /** JSON: the label as the client sent it. */
  label: string;
  received_at: number;
  actor: string;
}

/** What the drift tests need of a model version's reference data, kept as an artifact (src/monitor). */
export interface ReferenceProfilesTable {
  id: string;
  model_name: string;
  model_version: number;
  /** JSON: where the reference came from, e.g. {"dataset": "flights@3"} or {"deployment": "x", "since", "until"}. */
  source: string;
  /** The profile blob (per-feature samples or sketches, category counts, prediction) in the artifact store. */
  artifact_sha256: string;
  /** JSON: a small summary (features, rows) for listings. */
  summary: string;
  created_at: number;
  created_by: string;
}

/** A per-deployment check run on a schedule or on demand (src/monitor). */
export interface MonitorsTable {
  id: string;
  deployment: string;
  name: string;
  /** drift | quality | performance | concept */
  kind: string;
  /** JSON: the kind's settings, with the window (by count or by time). */
  config: string;
  /** Seconds between runs; null runs only on demand. */
  schedule_seconds: number | null;
  /** 0/1 */
  enabled: number;
  created_at: number;
  created_by: string;
  last_run_at: number | null;
  next_run_at: number | null;
}

/** One evaluation of a monitor: the time series behind the API, CLI, gauges and alerts (src/monitor). */
export interface MonitorResultsTable {
  id: Generated<number>;
  monitor_id: string;
  deployment: string;
  kind: string;
  window_start: number | null;
  window_end: number | null;
  /** Logged requests (or labelled requests) the window held. */
  rows: number;
  /** ok | drifted | degraded | not_enough_data | … (per kind) */
  status: string;
  /** JSON: flat metric name → number, what alert rules and gauges read. */
  metrics: string;
  /** JSON: the whole result. */
  result: string;
  computed_at: number;
}

/** An alert rule on a monitor metric (src/monitor). */
export interface AlertRulesTable {
  id: string;
  name: string;
  /** null: every deployment. */
  deployment: string | null;
  metric: string;
  /** gt | gte | lt | lte */
  comparison: string;
  threshold: number;
  /** How long the condition must hold before the alert fires, seconds. */
  for_seconds: number;
  severity: string;
  webhook_url: string | null;
  /** HMAC key for the webhook signature header. */
  webhook_secret: string | null;
  /** 0/1 */
  enabled: number;
  /** inactive | pending | firing */
  state: string;
  pending_since: number | null;
  created_at: number;
  created_by: string;
}

/** A rule's transitions: firing, resolved (src/monitor). */
export interface AlertEventsTable {
  id: Generated<number>;
  rule_id: string;
  deployment: string | null;
  /** firing | resolved */
  state: string;
  value: number | null;
  at: number;
  /** JSON: what the webhook receives. */
  payload: string;
}

/** Webhook delivery attempts of alert events (src/monitor). */
export interface AlertDeliveriesTable {
  id: Generated<number>;
  event_id: number;
  attempt: number;
  /** pending | delivered | failed | gave_up */
  status: string;
  response_status: number | null;
  error: string | null;
  at: number;
  next_attempt_at: number | null;
}

/** Registered pipeline definitions (src/pipeline). */
export interface PipelinesTable {
  id: string;
  name: string;
  /** The YAML text as given. */
  yaml: string;
  /** JSON: the checked definition. */
  spec: string;
  created_at: number;
  created_by: string;
  updated_at: number;
  /** Schedule trigger: ticks at or before this time (ms) have been handled. */
  schedule_checked_at: number | null;
  /** Alert trigger: alert events with ids at or below this have been seen. */
  alert_cursor: number | null;
}

/** One run of a pipeline (src/pipeline). */
export interface PipelineRunsTable {
  id: string;
  pipeline_id: string;
  pipeline: string;
  /** 1, 2, … per pipeline. */
  number: number;
  /** manual | schedule | alert */
  trigger: string;
  /** JSON: what started it (the alert event, the schedule tick). */
  trigger_details: string | null;
  /** queued | running | succeeded | failed | stopped; at most one queued or running per pipeline (a unique index) */
  status: string;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  tracking_run_id: string | null;
  /** JSON: dataset → run → model version → deployment. */
  lineage: string | null;
  error: string | null;
  created_by: string;
  /** The server process executing the run: `host#pid#instance` (migration 10); null for older runs. */
  owner: string | null;
  /** When the owner last renewed its claim, ms; the run is abandoned once this is older than the lease. */
  heartbeat_at: number | null;
}

/** One step of a pipeline run (src/pipeline). */
export interface PipelineStepRunsTable {
  id: Generated<number>;
  run_id: string;
  step: string;
  kind: string;
  /** Execution order within the run. */
  position: number;
  /** pending | running | succeeded | failed | skipped */
  status: string;
  /** 0/1: outputs reused from an earlier run with the same cache key. */
  cached: number;
  cache_key: string | null;
  started_at: number | null;
  finished_at: number | null;
  /** JSON */
  outputs: string | null;
  /** Captured log text, truncated. */
  log: string;
  error: string | null;
}

/** Every table of the platform. */
export interface Schema {
  tokens: TokensTable;
  audit_log: AuditLogTable;
  artifacts: ArtifactsTable;
  models: ModelsTable;
  model_versions: ModelVersionsTable;
  model_version_datasets: ModelVersionDatasetsTable;
  model_version_approvals: ModelVersionApprovalsTable;
  model_aliases: ModelAliasesTable;
  datasets: DatasetsTable;
  dataset_versions: DatasetVersionsTable;
  experiments: ExperimentsTable;
  experiment_tags: ExperimentTagsTable;
  runs: RunsTable;
  run_params: RunParamsTable;
  run_tags: RunTagsTable;
  run_metrics: RunMetricsTable;
  run_latest_metrics: RunLatestMetricsTable;
  run_artifacts: RunArtifactsTable;
  mlflow_model_versions: MlflowModelVersionsTable;
  mlflow_run_inputs: MlflowRunInputsTable;
  serving_configs: ServingConfigsTable;
  deployments: DeploymentsTable;
  deployment_revisions: DeploymentRevisionsTable;
  prediction_log: PredictionLogTable;
  prediction_feedback: PredictionFeedbackTable;
  reference_profiles: ReferenceProfilesTable;
  monitors: MonitorsTable;
  monitor_results: MonitorResultsTable;
  alert_rules: AlertRulesTable;
  alert_events: AlertEventsTable;
  alert_deliveries: AlertDeliveriesTable;
  pipelines: PipelinesTable;
  pipeline_runs: PipelineRunsTable;
  pipeline_step_runs: PipelineStepRunsTable;
}
