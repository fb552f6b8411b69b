// Registered pipelines and their runs. A run executes its steps one after the other in the
// definition's run order, in the background of the server process, at most one run per pipeline
// at a time. Each step run is recorded (status, timings, outputs, its log truncated, its error);
// a cacheable step whose cache key (its kind, parameters and the output hashes of its ancestors)
// matches a succeeded step of an earlier run reuses that step's outputs (`cached: true`). The
// run is linked to a tracking run (params and metrics the steps log) and its lineage (dataset →
// tracking run → model version → deployment) is recorded when it ends.
//
// Several servers may share one database. A run claims its pipeline in the database: a unique index
// allows one queued or running run per pipeline, so of two servers starting the same pipeline at
// once exactly one inserts its run (the other gets PIPELINE_RUN_IN_PROGRESS). The run records its
// owner (`host#pid#instance`) and renews a lease (`heartbeat_at`) while it executes. Recovery (at
// start and at every trigger check) fails only abandoned runs: a lease older than `leaseMs`, or an
// owner on this host whose process (or, in this process, whose service instance) is gone. An owner
// that finds its claim lost (another server failed its run) aborts the run at once.
//
// A failed or stopped run leaves datasets, the registry and deployments as they were: a table a
// dataset step builds from logged predictions is stored as a dataset version only by the register
// step (after every gate) or when the run succeeds; register and rollout steps come after every gate.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { appendAudit, type Actor } from '../auth/index.js';
import { newId, nowMs, PlinthError, sha256Hex, type Logger } from '../core/index.js';
import type { RolloutController } from '../rollout/index.js';
import { isUniqueViolation, parseJson, type ArtifactStore, type Db, type PipelineRunsTable, type PipelineStepRunsTable, type PipelinesTable } from '../store/index.js';
import { createExperiment, createRun, getExperimentByName, updateRun } from '../tracking/index.js';
import { nextTick } from './cron.js';
import { ancestorsOf, parsePipelineText, schedulesOf, STEP_KINDS, type PipelineSpec, type StepSpec } from './spec.js';
import { StepWorker } from './train-worker.js';
import { blobsOf, STEP_EXECUTORS, StepStopped, storePendingTables, type StepContext, type StepOutputs } from './steps.js';

/** What started a run. */
export type TriggerType = 'manual' | 'schedule' | 'alert';

/** Run states: queued → running → succeeded | failed | stopped (a gate failed). */
export const RUN_STATUSES = Object.freeze(['queued', 'running', 'succeeded', 'failed', 'stopped'] as const);
export type RunStatus = (typeof RUN_STATUSES)[number];
const ACTIVE: readonly string[] = ['queued', 'running'];
/** Service instances of this process whose runs are executing (recovery tells a dead one from a live one). */
const LIVE_INSTANCES = new Set<string>();
/** How long a run's claim lasts without a heartbeat, ms. */
export const DEFAULT_LEASE_MS = 60_000;

/** True when a process with that id exists on this host (EPERM: it exists, owned by another user). */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Bytes of a step's log kept: the head and the tail, with the cut marked. */
export const MAX_STEP_LOG_BYTES = 64 * 1024;
const LOG_HEAD_BYTES = 16 * 1024;
/** Runs a history page lists at most. */
export const MAX_HISTORY = 1000;

export interface PipelineServiceOptions {
  db: Db;
  artifacts: ArtifactStore;
  rollouts: RolloutController;
  logger?: Logger;
  /** Wall clock, ms. @default Date.now */
  now?: () => number;
  /** Environment command steps start from. @default PATH and HOME of this process */
  baseEnv?: Record<string, string>;
  /**
   * How long a run's claim lasts without a heartbeat, ms: another server fails a run whose owner has
   * not renewed it for this long. Every server sharing a database should use the same value.
   * @default 60000
   */
  leaseMs?: number;
  /** How often a server renews the claims of its runs, ms. @default leaseMs / 4 */
  heartbeatMs?: number;
}

export interface PipelineInfo {
  name: string;
  description: string;
  triggers: PipelineSpec['triggers'];
  steps: Array<{ id: string; kind: string; needs: string[]; params: Record<string, unknown> }>;
  yaml: string;
  created_at: number;
  created_by: string;
  updated_at: number;
  /** The next schedule tick, ms; null without a schedule trigger. */
  next_scheduled_at: number | null;
  last_run: PipelineRunSummary | null;
}

export interface PipelineRunSummary {
  id: string;
  pipeline: string;
  number: number;
  trigger: TriggerType;
  trigger_details: Record<string, unknown> | null;
  status: RunStatus;
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  tracking_run_id: string | null;
  error: string | null;
  created_by: string;
}

export interface StepRunInfo {
  id: string;
  kind: string;
  status: 'pending' | 'running' | 'succeeded' | 'failed' | 'skipped';
  cached: boolean;
  cache_key: string | null;
  started_at: number | null;
  finished_at: number | null;
  duration_ms: number | null;
  outputs: Record<string, unknown> | null;
  log: string;
  error: string | null;
}

/** What a run produced, in the order data flowed. */
export interface Lineage {
  datasets: Array<{ dataset: string; version: number; reference: string; step: string }>;
  tracking_run_id: string | null;
  model_versions: Array<{ model: string; version: number; reference: string; step: string; datasets: string[] }>;
  deployments: Array<{ deployment: string; revision: number; model: string; step: string }>;
}

export interface PipelineRunInfo extends PipelineRunSummary {
  lineage: Lineage | null;
  steps: StepRunInfo[];
}

function notFound(name: string): PlinthError {
  return new PlinthError('PIPELINE_NOT_FOUND', `no pipeline named ${JSON.stringify(name.slice(0, 200))}`);
}

/** Keeps the head and the tail of a long log. */
export function truncateLog(text: string, max = MAX_STEP_LOG_BYTES): string {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length <= max) return text;
  const head = bytes.subarray(0, LOG_HEAD_BYTES).toString('utf8');
  const tail = bytes.subarray(bytes.length - (max - LOG_HEAD_BYTES)).toString('utf8');
  return `${head}\n… [${bytes.length - max} bytes cut] …\n${tail}`;
}

function runSummary(row: PipelineRunsTable): PipelineRunSummary {
  return {
    id: row.id, pipeline: row.pipeline, number: Number(row.number), trigger: row.trigger as TriggerType,
    trigger_details: row.trigger_details === null ? null : parseJson<Record<string, unknown>>(row.trigger_details),
    status: row.status as RunStatus, created_at: Number(row.created_at),
    started_at: row.started_at === null ? null : Number(row.started_at), finished_at: row.finished_at === null ? null : Number(row.finished_at),
    tracking_run_id: row.tracking_run_id, error: row.error, created_by: row.created_by,
  };
}

function stepInfo(row: Omit<PipelineStepRunsTable, 'id'> & { id: number }): StepRunInfo {
  const started = row.started_at === null ? null : Number(row.started_at);
  const finished = row.finished_at === null ? null : Number(row.finished_at);
  return {
    id: row.step, kind: row.kind, status: row.status as StepRunInfo['status'], cached: Number(row.cached) === 1, cache_key: row.cache_key,
    started_at: started, finished_at: finished, duration_ms: started !== null && finished !== null ? finished - started : null,
    outputs: row.outputs === null ? null : parseJson<Record<string, unknown>>(row.outputs), log: row.log, error: row.error,
  };
}

/** Pipelines and runs over one database; runs execute in this process. */
export class PipelineService {
  private readonly now: () => number;
  /** Pipelines with a run under way in this process (by pipeline id), until its end is recorded. */
  private readonly active = new Set<string>();
  /** Runs under way, until their last write. */
  private readonly pending = new Set<Promise<void>>();
  private readonly baseEnv: Record<string, string>;
  private stopping = false;
  /** This service's name in `pipeline_runs.owner`. */
  readonly owner: string;
  private readonly instance = newId();
  private readonly leaseMs: number;
  private readonly heartbeatMs: number;
  /** Runs this service executes, by run id: their abort controllers. */
  private readonly executing = new Map<string, AbortController>();
  private heartbeat: NodeJS.Timeout | null = null;

  constructor(private readonly options: PipelineServiceOptions) {
    this.now = options.now ?? nowMs;
    this.leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
    this.heartbeatMs = options.heartbeatMs ?? Math.max(10, Math.floor(this.leaseMs / 4));
    this.owner = `${os.hostname()}#${process.pid}#${this.instance}`;
    LIVE_INSTANCES.add(this.instance);
    // The one place the pipeline area reads the environment: what external commands start from.
    this.baseEnv = options.baseEnv ?? Object.fromEntries(['PATH', 'HOME', 'LANG', 'TMPDIR'].flatMap((k) => (process.env[k] !== undefined ? [[k, process.env[k]!]] : [])));
  }

  get db(): Db {
    return this.options.db;
  }

  /** Whether the owner of a run has abandoned it: its lease expired, or its process or instance is gone. */
  private abandoned(owner: string | null, heartbeatAt: number | null, now: number): string | null {
    if (owner === this.owner) return null;
    const expired = heartbeatAt === null || heartbeatAt < now - this.leaseMs;
    if (owner === null) return 'interrupted: the server executing the run stopped';
    const [host, pidText, instance] = owner.split('#');
    const pid = Number(pidText);
    if (host === os.hostname() && Number.isInteger(pid) && pid > 0) {
      if (pid === process.pid ? !LIVE_INSTANCES.has(instance ?? '') : !processAlive(pid)) return 'interrupted: the server executing the run stopped';
    }
    return expired ? `interrupted: the server executing the run (${owner}) stopped renewing its claim` : null;
  }

  /**
   * Marks runs that their servers abandoned as failed: queued or running runs whose owner's lease
   * expired, or whose owner was a process (or, in this process, a service) that is gone. Runs
   * another live server executes are left alone. Called at start and at every trigger check.
   * @returns how many runs were marked failed
   */
  async recoverInterrupted(): Promise<number> {
    const rows = await this.db.selectFrom('pipeline_runs').select(['id', 'owner', 'heartbeat_at']).where('status', 'in', ACTIVE as string[]).execute();
    const now = this.now();
    const found = rows.flatMap((r) => {
      const reason = this.abandoned(r.owner, r.heartbeat_at === null ? null : Number(r.heartbeat_at), now);
      return reason === null ? [] : [{ id: r.id, reason, heartbeat: r.heartbeat_at === null ? null : Number(r.heartbeat_at) }];
    });
    if (found.length === 0) return 0;
    const at = this.now();
    let failed = 0;
    await this.db.transaction().execute(async (trx) => {
      for (const { id, reason, heartbeat } of found) {
        // Only while still active and not renewed since it was read: a run that ended meanwhile
        // keeps its own end, and an owner that renewed its lease just now keeps its run.
        const updated = await trx.updateTable('pipeline_runs').set({ status: 'failed', finished_at: at, error: reason })
          .where('id', '=', id).where('status', 'in', ACTIVE as string[])
          .where((eb) => (heartbeat === null ? eb('heartbeat_at', 'is', null) : eb('heartbeat_at', '=', heartbeat)))
          .executeTakeFirst();
        if (Number(updated.numUpdatedRows) === 0) continue;
        failed++;
        await trx.updateTable('pipeline_step_runs').set({ status: 'failed', finished_at: at, error: 'interrupted' }).where('run_id', '=', id).where('status', '=', 'running').execute();
        await trx.updateTable('pipeline_step_runs').set({ status: 'skipped' }).where('run_id', '=', id).where('status', '=', 'pending').execute();
      }
    });
    if (failed > 0) this.options.logger?.warn({ runs: found.map((f) => f.id) }, 'pipeline runs abandoned by their servers were marked failed');
    return failed;
  }

  /** Renews the claims of this service's runs; aborts a run whose claim another server took away. */
  private async beat(): Promise<void> {
    const ids = [...this.executing.keys()];
    if (ids.length === 0) return;
    const renewed = await this.db.updateTable('pipeline_runs').set({ heartbeat_at: this.now() })
      .where('id', 'in', ids).where('owner', '=', this.owner).where('status', 'in', ACTIVE as string[]).returning('id').execute();
    const alive = new Set(renewed.map((r) => r.id));
    for (const id of ids) {
      const controller = this.executing.get(id);
      if (!alive.has(id) && controller && !controller.signal.aborted) {
        this.options.logger?.warn({ run: id }, 'a pipeline run lost its claim (another server marked it failed); stopping it');
        controller.abort(new Error('the run lost its claim on the pipeline: another server marked it failed'));
      }
    }
  }

  private startHeartbeat(): void {
    if (this.heartbeat) return;
    this.heartbeat = setInterval(() => {
      this.beat().catch((error: unknown) => this.options.logger?.warn({ err: error }, 'renewing pipeline run claims failed'));
    }, this.heartbeatMs);
    this.heartbeat.unref();
  }

  private stopHeartbeatWhenIdle(): void {
    if (this.executing.size > 0 || !this.heartbeat) return;
    clearInterval(this.heartbeat);
    this.heartbeat = null;
  }

  /** Waits for every run under way (tests, shutdown); new runs are refused once `stop` was called. */
  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.settled();
    this.stopHeartbeatWhenIdle();
    LIVE_INSTANCES.delete(this.instance);
  }

  // -------------------------------------------------------------------------------------------
  // Definitions

  private async row(name: string): Promise<PipelinesTable> {
    const row = await this.db.selectFrom('pipelines').selectAll().where('name', '=', name).executeTakeFirst();
    if (!row) throw notFound(name);
    return row;
  }

  /** The checked definition of a stored row. */
  specOf(row: PipelinesTable): PipelineSpec {
    return parseJson<PipelineSpec>(row.spec)!;
  }

  private async info(row: PipelinesTable): Promise<PipelineInfo> {
    const spec = this.specOf(row);
    const last = await this.db.selectFrom('pipeline_runs').selectAll().where('pipeline_id', '=', row.id).orderBy('number', 'desc').limit(1).executeTakeFirst();
    const ticks = schedulesOf(spec).map((s) => nextTick(s, this.now())).filter((t): t is number => t !== null);
    return {
      name: row.name, description: spec.description, triggers: spec.triggers,
      steps: spec.steps.map((s) => ({ id: s.id, kind: s.kind, needs: s.needs, params: s.params })),
      yaml: row.yaml, created_at: Number(row.created_at), created_by: row.created_by, updated_at: Number(row.updated_at),
      next_scheduled_at: ticks.length > 0 ? Math.min(...ticks) : null,
      last_run: last ? runSummary(last) : null,
    };
  }

  /**
   * Creates a pipeline from its YAML text, or replaces the definition of the pipeline with that name.
   * Nothing runs. A new pipeline's triggers look forward: schedule ticks and alert events before it
   * was created do not start it.
   * @throws PlinthError INVALID_PIPELINE (nothing stored)
   */
  async apply(actor: Actor, yaml: string): Promise<{ created: boolean; pipeline: PipelineInfo }> {
    const spec = parsePipelineText(yaml);
    const now = this.now();
    const created = await this.db.transaction().execute(async (trx) => {
      const existing = await trx.selectFrom('pipelines').select('id').where('name', '=', spec.name).executeTakeFirst();
      if (existing) {
        await trx.updateTable('pipelines').set({ yaml, spec: JSON.stringify(spec), updated_at: now }).where('id', '=', existing.id).execute();
        await appendAudit(trx, actor, { action: 'pipeline.update', resourceType: 'pipeline', resourceId: spec.name, details: { steps: spec.steps.length } });
        return false;
      }
      const cursor = await trx.selectFrom('alert_events').select((eb) => eb.fn.max('id').as('max')).executeTakeFirst();
      await trx.insertInto('pipelines').values({
        id: newId(), name: spec.name, yaml, spec: JSON.stringify(spec), created_at: now, created_by: actor.name, updated_at: now,
        schedule_checked_at: now, alert_cursor: cursor?.max === null || cursor?.max === undefined ? 0 : Number(cursor.max),
      }).execute();
      await appendAudit(trx, actor, { action: 'pipeline.create', resourceType: 'pipeline', resourceId: spec.name, details: { steps: spec.steps.length } });
      return true;
    }).catch((error: unknown) => {
      if (isUniqueViolation(error)) throw new PlinthError('CONFLICT', `pipeline ${spec.name} was created at the same time by another request; apply again`);
      throw error;
    });
    return { created, pipeline: await this.get(spec.name) };
  }

  async list(): Promise<PipelineInfo[]> {
    const rows = await this.db.selectFrom('pipelines').selectAll().orderBy('name').execute();
    return Promise.all(rows.map((r) => this.info(r)));
  }

  /** @throws PlinthError PIPELINE_NOT_FOUND */
  async get(name: string): Promise<PipelineInfo> {
    return this.info(await this.row(name));
  }

  /** Every stored pipeline row (the trigger scheduler reads them). */
  async rows(): Promise<PipelinesTable[]> {
    return this.db.selectFrom('pipelines').selectAll().orderBy('name').execute();
  }

  /**
   * Deletes a pipeline with its run history (registered models, datasets and tracking runs stay).
   * @throws PlinthError PIPELINE_NOT_FOUND, PIPELINE_RUN_IN_PROGRESS
   */
  async delete(actor: Actor, name: string): Promise<{ deleted: string; runs: number }> {
    const row = await this.row(name);
    return this.db.transaction().execute(async (trx) => {
      const active = await trx.selectFrom('pipeline_runs').select('number').where('pipeline_id', '=', row.id).where('status', 'in', ACTIVE as string[]).executeTakeFirst();
      if (active || this.active.has(row.id)) throw new PlinthError('PIPELINE_RUN_IN_PROGRESS', `pipeline ${name} has a run in progress; wait for it to end`);
      const runs = await trx.selectFrom('pipeline_runs').select('id').where('pipeline_id', '=', row.id).execute();
      if (runs.length > 0) await trx.deleteFrom('pipeline_step_runs').where('run_id', 'in', runs.map((r) => r.id)).execute();
      await trx.deleteFrom('pipeline_runs').where('pipeline_id', '=', row.id).execute();
      await trx.deleteFrom('pipelines').where('id', '=', row.id).execute();
      await appendAudit(trx, actor, { action: 'pipeline.delete', resourceType: 'pipeline', resourceId: name, details: { runs: runs.length } });
      return { deleted: name, runs: runs.length };
    });
  }

  /** Records the triggers' bookkeeping (schedule checked up to, alert events seen up to). */
  async markTriggers(pipelineId: string, changes: { schedule_checked_at?: number; alert_cursor?: number }): Promise<void> {
    await this.db.updateTable('pipelines').set(changes).where('id', '=', pipelineId).execute();
  }

  // -------------------------------------------------------------------------------------------
  // Runs

  /** True when the pipeline has a run queued or running. */
  async hasActiveRun(pipelineId: string): Promise<boolean> {
    if (this.active.has(pipelineId)) return true;
    const row = await this.db.selectFrom('pipeline_runs').select('id').where('pipeline_id', '=', pipelineId).where('status', 'in', ACTIVE as string[]).executeTakeFirst();
    return row !== undefined;
  }

  /**
   * Starts a run in the background and returns it (queued). At most one run per pipeline at a time.
   * @throws PlinthError PIPELINE_NOT_FOUND, PIPELINE_RUN_IN_PROGRESS, SERVICE_UNAVAILABLE while stopping
   */
  async startRun(actor: Actor, name: string, trigger: TriggerType = 'manual', details: Record<string, unknown> | null = null): Promise<PipelineRunSummary> {
    if (this.stopping) throw new PlinthError('SERVICE_UNAVAILABLE', 'the server is shutting down; no new pipeline runs');
    const row = await this.row(name);
    const inProgress = () => new PlinthError('PIPELINE_RUN_IN_PROGRESS', `pipeline ${name} already has a run in progress; a pipeline runs one at a time`);
    if (this.active.has(row.id)) throw inProgress();
    const spec = this.specOf(row);
    const at = this.now();
    const runId = newId();
    let run: PipelineRunsTable;
    try {
      run = await this.db.transaction().execute(async (trx) => {
        const active = await trx.selectFrom('pipeline_runs').select('id').where('pipeline_id', '=', row.id).where('status', 'in', ACTIVE as string[]).executeTakeFirst();
        if (active) throw inProgress();
        const last = await trx.selectFrom('pipeline_runs').select((eb) => eb.fn.max('number').as('max')).where('pipeline_id', '=', row.id).executeTakeFirst();
        const number = (last?.max === null || last?.max === undefined ? 0 : Number(last.max)) + 1;
        const values: PipelineRunsTable = {
          id: runId, pipeline_id: row.id, pipeline: name, number, trigger, trigger_details: details === null ? null : JSON.stringify(details),
          status: 'queued', created_at: at, started_at: null, finished_at: null, tracking_run_id: null, lineage: null, error: null, created_by: actor.name,
          owner: this.owner, heartbeat_at: at,
        };
        await trx.insertInto('pipeline_runs').values(values).execute();
        await trx.insertInto('pipeline_step_runs').values(spec.steps.map((s, position) => ({
          run_id: runId, step: s.id, kind: s.kind, position, status: 'pending', cached: 0, cache_key: null, started_at: null, finished_at: null, outputs: null, log: '', error: null,
        }))).execute();
        await appendAudit(trx, actor, { action: 'pipeline.run', resourceType: 'pipeline', resourceId: name, details: { run: number, trigger } });
        return values;
      });
    } catch (error) {
      // The unique index on a pipeline's active run (or on its run numbers): another server's run won.
      if (isUniqueViolation(error)) throw inProgress();
      throw error;
    }
    this.active.add(row.id);
    const controller = new AbortController();
    this.executing.set(run.id, controller);
    this.startHeartbeat();
    const work: Promise<void> = this.execute(actor, spec, run, controller.signal)
      .catch((error: unknown) => this.options.logger?.error({ err: error, pipeline: name, run: run.number }, 'pipeline run failed unexpectedly'))
      .finally(() => {
        this.active.delete(row.id);
        this.executing.delete(run.id);
        this.stopHeartbeatWhenIdle();
        this.pending.delete(work);
      });
    this.pending.add(work);
    return runSummary(run);
  }

  private async runRow(name: string, idOrNumber: string): Promise<PipelineRunsTable> {
    const pipeline = await this.row(name);
    let query = this.db.selectFrom('pipeline_runs').selectAll().where('pipeline_id', '=', pipeline.id);
    query = /^[0-9]{1,9}$/.test(idOrNumber) ? query.where('number', '=', Number(idOrNumber)) : query.where('id', '=', idOrNumber);
    const row = await query.executeTakeFirst();
    if (!row) throw new PlinthError('PIPELINE_RUN_NOT_FOUND', `pipeline ${name} has no run ${JSON.stringify(idOrNumber.slice(0, 100))}`);
    return row;
  }

  /** A run with its steps (logs included) and lineage. @throws PlinthError PIPELINE_NOT_FOUND, PIPELINE_RUN_NOT_FOUND */
  async getRun(name: string, idOrNumber: string): Promise<PipelineRunInfo> {
    const row = await this.runRow(name, idOrNumber);
    const steps = await this.db.selectFrom('pipeline_step_runs').selectAll().where('run_id', '=', row.id).orderBy('position').execute();
    return { ...runSummary(row), lineage: row.lineage === null ? null : parseJson<Lineage>(row.lineage), steps: steps.map((s) => stepInfo({ ...s, id: Number(s.id) })) };
  }

  /** Runs of a pipeline, newest first. @throws PlinthError PIPELINE_NOT_FOUND */
  async listRuns(name: string, limit = 100): Promise<Array<PipelineRunSummary & { steps: Array<{ id: string; status: string; cached: boolean }> }>> {
    const pipeline = await this.row(name);
    const rows = await this.db.selectFrom('pipeline_runs').selectAll().where('pipeline_id', '=', pipeline.id).orderBy('number', 'desc').limit(Math.min(Math.max(1, limit), MAX_HISTORY)).execute();
    if (rows.length === 0) return [];
    const steps = await this.db.selectFrom('pipeline_step_runs').select(['run_id', 'step', 'status', 'cached', 'position']).where('run_id', 'in', rows.map((r) => r.id)).orderBy('position').execute();
    return rows.map((r) => ({ ...runSummary(r), steps: steps.filter((s) => s.run_id === r.id).map((s) => ({ id: s.step, status: s.status, cached: Number(s.cached) === 1 })) }));
  }

  // -------------------------------------------------------------------------------------------
  // Execution

  private async trackingRun(actor: Actor, spec: PipelineSpec, run: PipelineRunsTable): Promise<string> {
    const experimentName = `pipeline-${spec.name}`;
    let experimentId: string;
    try {
      experimentId = (await getExperimentByName(this.db, experimentName)).experiment_id;
    } catch {
      try {
        experimentId = (await createExperiment(this.db, actor, { name: experimentName })).experiment_id;
      } catch {
        experimentId = (await getExperimentByName(this.db, experimentName)).experiment_id;
      }
    }
    const tracked = await createRun(this.db, actor, {
      experiment_id: experimentId, run_name: `${spec.name}-${run.number}`, start_time: this.now(),
      tags: [{ key: 'plinth.pipeline', value: spec.name }, { key: 'plinth.pipeline_run', value: String(run.number) }, { key: 'plinth.trigger', value: run.trigger }],
    });
    return tracked.info.run_id;
  }

  private cacheKey(spec: PipelineSpec, step: StepSpec, outputs: ReadonlyMap<string, StepOutputs>): string | null {
    const kind = STEP_KINDS[step.kind]!;
    if (!kind.cacheable || (step.kind === 'command' && step.params.cache !== true)) return null;
    const inputs = [...ancestorsOf(spec.steps, step.id)].sort().map((id) => [id, outputs.get(id)?.hash ?? '']);
    return sha256Hex(JSON.stringify({ pipeline: spec.name, kind: step.kind, params: step.params, inputs }));
  }

  private async cachedOutputs(key: string): Promise<{ outputs: StepOutputs; run: number; step: string } | null> {
    const hit = await this.db
      .selectFrom('pipeline_step_runs as s')
      .innerJoin('pipeline_runs as r', 'r.id', 's.run_id')
      .select(['s.outputs', 's.step', 'r.number'])
      .where('s.cache_key', '=', key)
      .where('s.status', '=', 'succeeded')
      .orderBy('s.id', 'desc')
      .limit(1)
      .executeTakeFirst();
    if (!hit || hit.outputs === null) return null;
    const outputs = parseJson<StepOutputs>(hit.outputs)!;
    for (const blob of blobsOf(outputs)) if (!(await this.options.artifacts.has(blob.sha256))) return null;
    return { outputs, run: Number(hit.number), step: hit.step };
  }

  private async execute(actor: Actor, spec: PipelineSpec, run: PipelineRunsTable, signal: AbortSignal): Promise<void> {
    const db = this.db;
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'plinth-pipeline-'));
    fs.mkdirSync(path.join(scratch, '.tables'));
    // Started by the first heavy step, ended with the run.
    const worker = new StepWorker();
    const outputs = new Map<string, StepOutputs>();
    let status: RunStatus = 'succeeded';
    let runError: string | null = null;
    let trackingRunId: string | null = null;
    // Stores the run's pending tables as dataset versions and records their new outputs.
    const storeTables = async () => {
      const stored = await storePendingTables({ db, artifacts: this.options.artifacts, actor, pipeline: spec }, outputs);
      for (const [id, out] of stored) {
        outputs.set(id, out);
        await db.updateTable('pipeline_step_runs').set({ outputs: JSON.stringify(out) }).where('run_id', '=', run.id).where('step', '=', id).execute();
      }
    };
    try {
      await db.updateTable('pipeline_runs').set({ status: 'running', started_at: this.now() }).where('id', '=', run.id).execute();
      trackingRunId = await this.trackingRun(actor, spec, run);
      await db.updateTable('pipeline_runs').set({ tracking_run_id: trackingRunId }).where('id', '=', run.id).execute();
      for (const step of spec.steps) {
        const stepRow = () => db.updateTable('pipeline_step_runs').where('run_id', '=', run.id).where('step', '=', step.id);
        if (status === 'succeeded' && signal.aborted) {
          status = 'failed';
          runError = (signal.reason as Error | undefined)?.message ?? 'the run was cancelled';
        }
        if (status !== 'succeeded') {
          await stepRow().set({ status: 'skipped' }).execute();
          continue;
        }
        const started = this.now();
        const lines: string[] = [];
        let logBytes = 0;
        const log = (line: string) => {
          // Keeps memory bounded for chatty commands; the stored log is truncated again.
          if (logBytes > MAX_STEP_LOG_BYTES * 4) return;
          logBytes += line.length + 1;
          lines.push(line);
        };
        const key = this.cacheKey(spec, step, outputs);
        await stepRow().set({ status: 'running', started_at: started, cache_key: key }).execute();
        try {
          const hit = key === null ? null : await this.cachedOutputs(key);
          let result: StepOutputs;
          if (hit) {
            result = hit.outputs;
            log(`reused the outputs of run ${hit.run}, step ${hit.step} (cache key ${key!.slice(0, 12)})`);
          } else {
            const stepScratch = path.join(scratch, step.id);
            fs.mkdirSync(stepScratch, { recursive: true });
            const ctx: StepContext = {
              db, artifacts: this.options.artifacts, rollouts: this.options.rollouts, actor, pipeline: spec, step,
              runId: run.id, runNumber: Number(run.number), trackingRunId, outputs, scratch: stepScratch, baseEnv: this.baseEnv, log, now: this.now,
              tables: path.join(scratch, '.tables'), signal, worker, storePendingTables: storeTables,
            };
            result = await STEP_EXECUTORS[step.kind]!(ctx);
            if (result.hash === '') result.hash = key ?? sha256Hex(JSON.stringify(result));
          }
          outputs.set(step.id, result);
          await stepRow().set({ status: 'succeeded', cached: hit ? 1 : 0, finished_at: this.now(), outputs: JSON.stringify(result), log: truncateLog(lines.join('\n')) }).execute();
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          const stopped = error instanceof StepStopped;
          if (!stopped && !(error instanceof PlinthError)) this.options.logger?.error({ err: error, pipeline: spec.name, run: run.number, step: step.id }, 'pipeline step failed');
          status = stopped ? 'stopped' : 'failed';
          runError = `step ${step.id} (${step.kind}): ${message}`;
          log(`error: ${message}`);
          if (stopped) outputs.set(step.id, (error as StepStopped).outputs);
          await stepRow().set({
            status: 'failed', finished_at: this.now(), error: message.slice(0, 4000), log: truncateLog(lines.join('\n')),
            ...(stopped ? { outputs: JSON.stringify((error as StepStopped).outputs) } : {}),
          }).execute();
        }
      }
      // Only a run that succeeded keeps the tables it built.
      if (status === 'succeeded') await storeTables();
    } catch (error) {
      status = 'failed';
      runError = `the run could not proceed: ${error instanceof Error ? error.message : String(error)}`;
      this.options.logger?.error({ err: error, pipeline: spec.name, run: run.number }, 'pipeline run failed');
    } finally {
      await worker.close();
      fs.rmSync(scratch, { recursive: true, force: true });
    }
    const lineage = lineageOf(spec, outputs, trackingRunId);
    if (trackingRunId) {
      await updateRun(db, actor, trackingRunId, { status: status === 'succeeded' ? 'FINISHED' : 'FAILED', end_time: this.now() })
        .catch((error: unknown) => this.options.logger?.warn({ err: error }, 'ending the tracking run of a pipeline run failed'));
    }
    await db.updateTable('pipeline_step_runs').set({ status: 'skipped' }).where('run_id', '=', run.id).where('status', '=', 'pending').execute();
    // Only while the claim holds: a run another server already marked failed keeps that end.
    const ended = await db.updateTable('pipeline_runs').set({ status, finished_at: this.now(), error: runError, lineage: JSON.stringify(lineage) })
      .where('id', '=', run.id).where('owner', '=', this.owner).where('status', 'in', ACTIVE as string[]).executeTakeFirst();
    if (Number(ended.numUpdatedRows) === 0) this.options.logger?.warn({ pipeline: spec.name, run: run.number }, 'a pipeline run ended after losing its claim; its recorded end stays');
    // Whoever reads the ended run may start the next one at once.
    this.active.delete(run.pipeline_id);
  }
}

/** The lineage of a run's outputs: tables, the tracking run, registered versions, rollouts. */
export function lineageOf(spec: PipelineSpec, outputs: ReadonlyMap<string, StepOutputs>, trackingRunId: string | null): Lineage {
  const lineage: Lineage = { datasets: [], tracking_run_id: trackingRunId, model_versions: [], deployments: [] };
  for (const step of spec.steps) {
    const out = outputs.get(step.id);
    if (!out) continue;
    // A table not stored as a dataset version (the run failed before) is no part of the lineage.
    if (step.kind === 'dataset' && typeof out.version === 'number') lineage.datasets.push({ dataset: out.dataset as string, version: out.version as number, reference: `${out.dataset as string}@${out.version as number}`, step: step.id });
    if (step.kind === 'register') lineage.model_versions.push({ model: out.model as string, version: out.version as number, reference: out.reference as string, step: step.id, datasets: (out.datasets as string[]) ?? [] });
    if (step.kind === 'rollout') lineage.deployments.push({ deployment: out.deployment as string, revision: out.revision as number, model: out.model as string, step: step.id });
  }
  return lineage;
}
