// Public API of the pipelines area: definitions in YAML with their step kinds, the service that
// stores and runs them, the trigger scheduler (cron schedules, alert events) and the HTTP routes.
export { STEP_KINDS, TASKS, ALGORITHMS, SAMPLERS, parsePipelineText, checkPipeline, providerOf, ancestorsOf, schedulesOf } from './spec.js';
export type { StepKind, StepSpec, TriggerSpec, PipelineSpec, Provides } from './spec.js';
export { parseCron, lastTickIn, nextTick } from './cron.js';
export type { CronSchedule } from './cron.js';
export { PipelineService, RUN_STATUSES, MAX_STEP_LOG_BYTES, MAX_HISTORY, truncateLog, lineageOf } from './service.js';
export type { PipelineServiceOptions, PipelineInfo, PipelineRunSummary, PipelineRunInfo, StepRunInfo, Lineage, TriggerType, RunStatus } from './service.js';
export { STEP_EXECUTORS, StepStopped } from './steps.js';
export type { StepContext, StepOutputs } from './steps.js';
export { PipelineScheduler, alertMatches } from './triggers.js';
export type { PipelineSchedulerOptions, TriggerOutcome } from './triggers.js';
export { pipelineRoutes } from './routes.js';
export type { PipelineRoutesOptions } from './routes.js';
