// Public API of the pipelines area: definitions in YAML with their step kinds, the service that
// stores and runs them (claiming each run in the database), the heavy step work on worker threads,
// the trigger scheduler (cron schedules, alert events) and the HTTP routes.
export { STEP_KINDS, TASKS, ALGORITHMS, SAMPLERS, parsePipelineText, checkPipeline, providerOf, ancestorsOf, schedulesOf } from './spec.js';
export type { StepKind, StepSpec, TriggerSpec, PipelineSpec, Provides } from './spec.js';
export { parseCron, lastTickIn, nextTick } from './cron.js';
export type { CronSchedule } from './cron.js';
export { PipelineService, RUN_STATUSES, MAX_STEP_LOG_BYTES, MAX_HISTORY, DEFAULT_LEASE_MS, truncateLog, lineageOf } from './service.js';
export type { PipelineServiceOptions, PipelineInfo, PipelineRunSummary, PipelineRunInfo, StepRunInfo, Lineage, TriggerType, RunStatus } from './service.js';
export { STEP_EXECUTORS, StepStopped, storePendingTables } from './steps.js';
export { runJob, metricOrNaN, TableCache } from './train-job.js';
export type { Job, JobResult, TrainJob, TrainResult, ScoreJob, ScoreResult, CheckJob, CheckResult, TrainParams } from './train-job.js';
export { runJobInWorker, StepWorker } from './train-worker.js';
export type { WorkerJobOptions } from './train-worker.js';
export type { StepContext, StepOutputs } from './steps.js';
export { PipelineScheduler, alertMatches } from './triggers.js';
export type { PipelineSchedulerOptions, TriggerOutcome } from './triggers.js';
export { pipelineRoutes } from './routes.js';
export type { PipelineRoutesOptions } from './routes.js';
