// What each step kind does when it runs (the kinds and their parameters are in spec.ts). A step
// reads what earlier steps produced through the nearest ancestor that provides it, and returns
// JSON outputs the run records; big things (tables, model files) live in the artifact store and
// the outputs hold their sha256, so cached outputs stay usable by later runs. Only the register
// and rollout steps change the registry or a deployment, and the checker puts them after every gate.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline as streamPipeline } from 'node:stream/promises';
import type { Actor } from '../auth/index.js';
import { PlinthError } from '../core/index.js';
import { getDatasetVersion, profileFile, registerDatasetVersion, resolveDatasetVersion, type DatasetVersion } from '../datasets/index.js';
import { listPredictionRows } from '../predlog/index.js';
import { openVersionArtifact, parseModelReference, registerVersion, resolveModelVersion, setAlias, type FeatureSchema } from '../registry/index.js';
import { getDeployment, stableModel, type RolloutController } from '../rollout/index.js';
import type { ArtifactStore, Db } from '../store/index.js';
import { logBatch } from '../tracking/index.js';
import { METRICS, metricsFor, type Task } from '../train/index.js';
import { providerOf, type PipelineSpec, type StepSpec } from './spec.js';
import { holdoutOf, type ScoreJob, type TrainParams } from './train-job.js';
import type { StepWorker } from './train-worker.js';

/** A step's recorded outputs (JSON). `hash` identifies the content for the cache keys of later steps. */
export type StepOutputs = Record<string, unknown> & { hash: string };

/** Stored content: what the artifact store needs to find and verify it. */
interface Blob {
  sha256: string;
  size: number;
}

/** What a running step can use. */
export interface StepContext {
  db: Db;
  artifacts: ArtifactStore;
  rollouts: RolloutController;
  actor: Actor;
  pipeline: PipelineSpec;
  step: StepSpec;
  runId: string;
  runNumber: number;
  trackingRunId: string;
  /** Outputs of the steps that ran (or were reused) before this one, by step id. */
  outputs: ReadonlyMap<string, StepOutputs>;
  /** A folder of this step's own, removed after the run. */
  scratch: string;
  /** A folder the run's steps share for table files (one copy per table; the worker keeps the last it read), removed after the run. */
  tables: string;
  /** Environment every command step starts from (PATH and the like). */
  baseEnv: Record<string, string>;
  log(line: string): void;
  now(): number;
  /** Aborted when the run must end at once (its claim on the pipeline was lost): workers are terminated. */
  signal: AbortSignal;
  /** The run's worker thread for heavy work (train, score, table checks). */
  worker: StepWorker;
  /** Stores the run's pending tables as dataset versions now (storePendingTables) and records their outputs. */
  storePendingTables(): Promise<void>;
}

/** A step that stops the run without being broken (a gate that the candidate did not pass). */
export class StepStopped extends Error {
  constructor(message: string, readonly outputs: StepOutputs) {
    super(message);
    this.name = 'StepStopped';
  }
}

const DAY_MS = 86_400_000;
const PREDICTION_PAGE = 5_000;
const MAX_PREDICTION_REQUESTS = 200_000;
const DEFAULT_COMMAND_TIMEOUT_S = 3600;
/** Bytes of a command's output kept in memory for the log (the log itself is truncated again when stored). */
const COMMAND_CAPTURE_BYTES = 256 * 1024;

function failed(message: string): PlinthError {
  return new PlinthError('INVALID_ARGUMENT', message);
}

function output(ctx: StepContext, id: string): StepOutputs {
  const out = ctx.outputs.get(id);
  if (!out) throw new Error(`outputs of step ${id} are missing`);
  return out;
}

function provider(ctx: StepContext, what: Parameters<typeof providerOf>[2], of = ctx.step.id): StepSpec {
  const step = providerOf(ctx.pipeline.steps, of, what);
  if (!step) throw new Error(`step ${of} has no ${what} provider`);
  return step;
}

// ---------------------------------------------------------------------------------------------
// Tables

/** A dataset version as a table step's outputs. */
function tableOutputs(version: DatasetVersion, extra: Record<string, unknown> = {}): StepOutputs {
  return {
    hash: version.content_sha256,
    dataset: version.dataset, version: version.version, dataset_version_id: version.id,
    content: { sha256: version.content_sha256, size: version.size }, format: version.format, rows: version.row_count,
    columns: version.schema.columns.map((c) => c.name),
    ...extra,
  };
}

/** Copies a stored table to the step's scratch folder (the trainers read files). */
async function tableFile(ctx: StepContext, table: StepOutputs): Promise<string> {
  const content = table.content as Blob;
  const file = path.join(ctx.tables, `table-${content.sha256}.${table.format === 'parquet' ? 'parquet' : 'csv'}`);
  if (!fs.existsSync(file)) {
    // Written under a temporary name: the file appears whole or not at all.
    const partial = `${file}.${process.pid}.partial`;
    await streamPipeline(await ctx.artifacts.open(content), fs.createWriteStream(partial));
    fs.renameSync(partial, file);
  }
  return file;
}

function csvField(value: string | number | null): string {
  if (value === null) return '';
  const text = String(value);
  return /[",\n\r]/.test(text) || text !== text.trim() ? `"${text.replace(/"/g, '""')}"` : text;
}

/** Rows of a logged tensor: the first dimension (a scalar counts as one row). */
function tensorRows(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [value];
}

/** Decodes one logged request into feature rows, using the feature schema when it fits. */
function decodeRequest(inputs: Record<string, unknown>, schema: FeatureSchema | null): { names: string[]; rows: Array<Array<string | number | null>> } | null {
  const names = Object.keys(inputs);
  const features = schema?.features ?? null;
  const cell = (v: unknown, j: number): string | number | null => {
    if (v === null || v === undefined || (typeof v === 'number' && Number.isNaN(v))) return null;
    const feature = features?.[j];
    if (feature?.type === 'categorical' && typeof v === 'number' && feature.categories) return feature.categories[v] ?? null;
    if (typeof v === 'number' || typeof v === 'string') return v;
    if (typeof v === 'boolean') return v ? 1 : 0;
    return JSON.stringify(v);
  };
  if (names.length === 1) {
    // One matrix input [N, F]: columns are the schema's features in order.
    const rows = tensorRows(inputs[names[0]!]);
    const width = Array.isArray(rows[0]) ? rows[0].length : 1;
    const columnNames = features && features.length === width ? features.map((f) => f.name) : Array.from({ length: width }, (_, j) => (width === 1 ? names[0]! : `${names[0]}_${j}`));
    return { names: columnNames, rows: rows.map((r) => (Array.isArray(r) ? r.map((v, j) => cell(Array.isArray(v) ? v[0] : v, j)) : [cell(r, 0)])) };
  }
  // One input per feature: each [N] or [N, 1].
  const ordered = features ? features.map((f) => f.name).filter((n) => names.includes(n)) : names.sort();
  const columns = ordered.map((n) => tensorRows(inputs[n]));
  const count = columns[0]?.length ?? 0;
  if (columns.some((c) => c.length !== count)) return null;
  return {
    names: ordered,
    rows: Array.from({ length: count }, (_, i) => columns.map((c, j) => {
      const v = c[i];
      const index = features ? features.findIndex((f) => f.name === ordered[j]) : -1;
      return cell(Array.isArray(v) ? v[0] : v, index);
    })),
  };
}

/** The labels of a logged request's rows: a list with one per row, or one value for a one-row request. */
function labelsOf(text: string, rows: number): Array<string | number> | null {
  let value: unknown = text;
  try {
    value = JSON.parse(text);
  } catch {
    // a bare string label
  }
  const scalar = (v: unknown) => (typeof v === 'number' || typeof v === 'string' ? v : typeof v === 'boolean' ? (v ? 1 : 0) : null);
  if (Array.isArray(value)) {
    const flat = value.map((v) => scalar(Array.isArray(v) ? v[0] : v));
    return flat.length === rows && flat.every((v) => v !== null) ? (flat as Array<string | number>) : null;
  }
  const one = scalar(value);
  return rows === 1 && one !== null ? [one] : null;
}

async function datasetStep(ctx: StepContext): Promise<StepOutputs> {
  const p = ctx.step.params;
  if (typeof p.dataset === 'string') {
    const version = await resolveDatasetVersion(ctx.db, p.dataset);
    ctx.log(`dataset ${version.dataset}@${version.version}: ${version.row_count} rows, ${version.schema.columns.length} columns (sha256 ${version.content_sha256.slice(0, 12)})`);
    return tableOutputs(version);
  }
  const q = p.predictions as { deployment: string; days: number; label?: string; register_as?: string; min_rows?: number };
  const labelColumn = q.label ?? 'label';
  const deployment = await getDeployment(ctx.db, q.deployment);
  const model = await resolveModelVersion(ctx.db, stableModel(deployment));
  const until = ctx.now() + 1;
  const since = until - 1 - q.days * DAY_MS;
  let names: string[] | null = null;
  const lines: string[] = [];
  let requests = 0;
  let unlabelled = 0;
  let skipped = 0;
  let pageToken: string | undefined;
  do {
    const page = await listPredictionRows(ctx.db, q.deployment, { since, until, role: 'primary', limit: PREDICTION_PAGE, ...(pageToken ? { pageToken } : {}) });
    for (const row of page.rows) {
      requests++;
      if (row.status >= 400) continue;
      if (row.label === null) {
        unlabelled++;
        continue;
      }
      const decoded = decodeRequest(JSON.parse(row.inputs) as Record<string, unknown>, model.feature_schema);
      const labels = decoded ? labelsOf(row.label, decoded.rows.length) : null;
      if (!decoded || !labels || (names !== null && decoded.names.join('\u0000') !== names.join('\u0000'))) {
        skipped++;
        continue;
      }
      names ??= decoded.names;
      decoded.rows.forEach((r, i) => lines.push([...r, labels[i]!].map(csvField).join(',')));
    }
    pageToken = page.nextPageToken ?? undefined;
  } while (pageToken && requests < MAX_PREDICTION_REQUESTS);
  ctx.log(`deployment ${q.deployment}: ${requests} logged requests in the last ${q.days} days, ${unlabelled} without feedback, ${skipped} not decodable, ${lines.length} labelled rows`);
  if (names === null || lines.length < (q.min_rows ?? 1)) throw failed(`deployment ${q.deployment} has ${lines.length} labelled rows in the last ${q.days} days; at least ${q.min_rows ?? 1} needed`);
  if (names.includes(labelColumn)) throw failed(`the label column name ${JSON.stringify(labelColumn)} is also a feature name; choose another predictions.label`);
  // Newest first from the log: the file lists rows oldest first.
  lines.reverse();
  const text = [[...names, labelColumn].map(csvField).join(','), ...lines].join('\n') + '\n';
  // The table is stored as a dataset version only once the run has passed its gates (storePendingTables):
  // a run that fails leaves the datasets as they were. Until then its bytes are an unreferenced blob.
  const filename = `${q.deployment}-feedback.csv`;
  const file = path.join(ctx.scratch, filename);
  fs.writeFileSync(file, text);
  const profiled = await profileFile(file, filename);
  const blob = await ctx.artifacts.put(fs.createReadStream(file));
  const name = q.register_as ?? `${ctx.pipeline.name}-feedback`;
  ctx.log(`table of ${profiled.rowCount} rows (sha256 ${blob.sha256.slice(0, 12)}); stored as a version of dataset ${name} once the run passes its gates`);
  return {
    hash: blob.sha256,
    dataset: name, version: null, dataset_version_id: null,
    content: { sha256: blob.sha256, size: blob.size }, format: profiled.format, rows: profiled.rowCount,
    columns: profiled.schema.columns.map((c) => c.name),
    pending: {
      filename,
      description: `logged predictions of ${q.deployment} with feedback, ${q.days} days before ${new Date(until - 1).toISOString()} (pipeline ${ctx.pipeline.name} run ${ctx.runNumber})`,
      tags: { 'plinth.pipeline': ctx.pipeline.name, 'plinth.deployment': q.deployment },
    },
    source: { deployment: q.deployment, days: q.days, model: `${model.model}@${model.version}` }, label: labelColumn,
  };
}

/** A table step's outputs whose dataset version is not stored yet (a predictions table of a run under way). */
function pendingOf(table: StepOutputs): { filename: string; description: string; tags: Record<string, string> } | null {
  return (table.pending as { filename: string; description: string; tags: Record<string, string> } | undefined) ?? null;
}

/**
 * Stores the tables of `dataset` steps that are still pending as dataset versions (audited like
 * any registration) and returns the updated outputs by step id; the caller records them. The
 * runner calls it before the first step that writes (register, rollout) and when a run succeeds,
 * never for a failed or stopped run.
 * @throws PlinthError INVALID_DATASET_FILE and the other codes of registerDatasetVersion
 */
export async function storePendingTables(
  ctx: { db: Db; artifacts: ArtifactStore; actor: Actor; pipeline: PipelineSpec },
  outputs: ReadonlyMap<string, StepOutputs>,
): Promise<Map<string, StepOutputs>> {
  const stored = new Map<string, StepOutputs>();
  for (const step of ctx.pipeline.steps) {
    const table = outputs.get(step.id);
    const pending = step.kind === 'dataset' && table ? pendingOf(table) : null;
    if (!table || !pending) continue;
    const staged = await ctx.artifacts.stage(await ctx.artifacts.open(table.content as Blob));
    const registered = await registerDatasetVersion(ctx.db, ctx.artifacts, ctx.actor, { name: table.dataset as string, staged, filename: pending.filename, description: pending.description, tags: pending.tags });
    const { pending: _pending, hash: _hash, dataset: _dataset, version: _version, dataset_version_id: _id, content: _content, format: _format, rows: _rows, columns: _columns, ...extra } = table;
    stored.set(step.id, { ...tableOutputs(registered.version, extra), stored: registered.created ? 'created' : 'existing' });
  }
  return stored;
}

// ---------------------------------------------------------------------------------------------
// validate

async function validateStep(ctx: StepContext): Promise<StepOutputs> {
  const p = ctx.step.params as { label: string; columns?: string[]; model?: string; min_rows?: number; task?: Task };
  const tableStep = provider(ctx, 'table');
  const table = output(ctx, tableStep.id);
  const pending = pendingOf(table);
  // A table not stored yet is profiled here as registering it would.
  const version = pending
    ? { dataset: `${table.dataset as string} (not stored yet)`, version: 'pending', ...(await profileFile(await tableFile(ctx, table), pending.filename)), row_count: table.rows as number }
    : await getDatasetVersion(ctx.db, table.dataset as string, table.version as number);
  const columns = new Set(version.schema.columns.map((c) => c.name));
  const problems: string[] = [];
  if (!columns.has(p.label)) problems.push(`the label column ${JSON.stringify(p.label)} is missing`);
  let expected = p.columns ?? [];
  if (p.model !== undefined) {
    const model = await resolveModelVersion(ctx.db, p.model);
    if (!model.feature_schema) problems.push(`model ${model.model}@${model.version} has no feature schema to check against`);
    else expected = [...expected, ...model.feature_schema.features.map((f) => f.name)];
  }
  const missing = [...new Set(expected)].filter((c) => !columns.has(c));
  if (missing.length > 0) problems.push(`expected columns missing: ${missing.join(', ')}`);
  if (p.min_rows !== undefined && version.row_count < p.min_rows) problems.push(`${version.row_count} rows, fewer than min_rows ${p.min_rows}`);
  const labelProfile = (version.profile.columns as Array<{ name: string }>).find((c) => c.name === p.label) as { missing?: number } | undefined;
  if (labelProfile && typeof labelProfile.missing === 'number' && labelProfile.missing > 0) problems.push(`the label ${JSON.stringify(p.label)} is missing in ${labelProfile.missing} rows`);
  if (problems.length > 0) throw failed(`dataset ${version.dataset}@${version.version} does not pass validation: ${problems.join('; ')}`);
  if (p.task !== undefined) {
    // Loading checks the label for the task (classes, numbers) and every expected feature's values.
    await ctx.worker.run(
      { kind: 'check', file: await tableFile(ctx, table), label: p.label, task: p.task, ...(expected.length > 0 ? { features: [...new Set(expected)].filter((c) => c !== p.label) } : {}) },
      { signal: ctx.signal },
    );
  }
  ctx.log(`dataset ${version.dataset}@${version.version}: ${version.row_count} rows; label ${p.label} present${expected.length > 0 ? `; ${new Set(expected).size} expected columns present` : ''}`);
  return { hash: '', rows: version.row_count, label: p.label, checked_columns: [...new Set(expected)] };
}

// ---------------------------------------------------------------------------------------------
// train

async function trainStep(ctx: StepContext): Promise<StepOutputs> {
  const p = ctx.step.params as unknown as TrainParams;
  const seed = p.seed ?? 0;
  const file = await tableFile(ctx, output(ctx, provider(ctx, 'table').id));
  // Loading, the search and fitting run on a worker thread: serving goes on meanwhile.
  const trained = await ctx.worker.run({ kind: 'train', file, params: p }, { log: ctx.log, signal: ctx.signal });
  const blob = await ctx.artifacts.put(Readable.from([Buffer.from(trained.onnx.buffer, trained.onnx.byteOffset, trained.onnx.byteLength)]));
  ctx.log(`trained ${p.algo} (${p.task}) on ${trained.trainRows} rows, ${trained.features.length} features in ${trained.fitMs} ms on a worker thread; holdout ${trained.holdoutRows} rows`);
  const logged = { algorithm: p.algo, task: p.task, label: p.label, seed: String(seed), holdout: String(holdoutOf(p)), ...Object.fromEntries(Object.entries(trained.params).map(([k, v]) => [k, String(v)])) };
  await logBatch(ctx.db, ctx.actor, ctx.trackingRunId, { params: Object.entries(logged).map(([key, value]) => ({ key: `${ctx.step.id}.${key}`, value: String(value) })) }).catch((error: unknown) => ctx.log(`tracking: ${(error as Error).message}`));
  return {
    hash: blob.sha256,
    model: { sha256: blob.sha256, size: blob.size }, algo: p.algo, task: p.task, label: p.label,
    params: trained.params, classes: trained.classes, features: trained.features, feature_schema: trained.featureSchema,
    train_rows: trained.trainRows, holdout_rows: trained.holdoutRows,
    ...(trained.search ? { search: trained.search } : {}),
  };
}

/** The table file a train step read (its holdout split is what evaluate and the gate score). */
async function trainTableFile(ctx: StepContext, trainStep: StepSpec): Promise<string> {
  return tableFile(ctx, output(ctx, provider(ctx, 'table', trainStep.id).id));
}

// ---------------------------------------------------------------------------------------------
// evaluate, gate

async function evaluateStep(ctx: StepContext): Promise<StepOutputs> {
  const trainStep = provider(ctx, 'model');
  if (trainStep.kind !== 'train') throw failed(`step ${ctx.step.id}: evaluate scores a model trained by a train step, not by ${trainStep.kind} step ${trainStep.id}`);
  const trained = output(ctx, trainStep.id);
  const p = trainStep.params as unknown as TrainParams;
  const names = (ctx.step.params.metrics as string[] | undefined) ?? metricsFor(p.task);
  for (const name of names) if (!METRICS[name]?.tasks.includes(p.task)) throw failed(`metric ${JSON.stringify(name)} does not apply to ${p.task} (use ${metricsFor(p.task).join(', ')})`);
  const bytes = await ctx.artifacts.read(trained.model as Blob);
  const scored = await ctx.worker.run(
    { kind: 'score', file: await trainTableFile(ctx, trainStep), params: p, models: [{ bytes, schema: null }], metrics: names },
    { log: ctx.log, signal: ctx.signal },
  );
  const metrics = Object.fromEntries(names.map((name, k) => [name, scored.scores[0]![k]!]));
  ctx.log(`holdout (${scored.holdoutRows} rows): ${Object.entries(metrics).map(([k, v]) => `${k} ${v.toPrecision(6)}`).join(', ')}`);
  await logBatch(ctx.db, ctx.actor, ctx.trackingRunId, {
    metrics: Object.entries(metrics).filter(([, v]) => Number.isFinite(v)).map(([k, v]) => ({ key: `holdout.${k}`, value: v, timestamp: ctx.now() })),
  }).catch((error: unknown) => ctx.log(`tracking: ${(error as Error).message}`));
  return { hash: '', metrics: jsonMetrics(metrics), holdout_rows: scored.holdoutRows, model_step: trainStep.id };
}

function jsonMetrics(metrics: Record<string, number>): Record<string, number | string> {
  return Object.fromEntries(Object.entries(metrics).map(([k, v]) => [k, Number.isFinite(v) ? v : String(v)]));
}

async function gateStep(ctx: StepContext): Promise<StepOutputs> {
  const p = ctx.step.params as { metric: string; champion: { deployment?: string; model?: string }; margin?: number; if_no_champion?: 'pass' | 'fail' };
  const evaluateStepSpec = provider(ctx, 'evaluation');
  const trainStep = provider(ctx, 'model', evaluateStepSpec.id);
  const train = trainStep.params as unknown as TrainParams;
  const definition = METRICS[p.metric];
  if (!definition || !definition.tasks.includes(train.task)) throw failed(`gate metric ${JSON.stringify(p.metric)} does not apply to ${train.task} (use ${metricsFor(train.task).join(', ')})`);
  const candidateBytes = await ctx.artifacts.read(output(ctx, trainStep.id).model as Blob);
  const margin = p.margin ?? 0;

  let reference: string | null = null;
  try {
    reference = p.champion.deployment !== undefined ? stableModel(await getDeployment(ctx.db, p.champion.deployment)) : p.champion.model!;
    await resolveModelVersion(ctx.db, reference);
  } catch (error) {
    const code = (error as PlinthError).code;
    if (code !== 'DEPLOYMENT_NOT_FOUND' && code !== 'MODEL_NOT_FOUND' && code !== 'ALIAS_NOT_FOUND' && code !== 'MODEL_VERSION_NOT_FOUND') throw error;
    reference = null;
  }
  const file = await trainTableFile(ctx, trainStep);
  const models: ScoreJob['models'] = [{ bytes: candidateBytes, schema: null }];
  let championVersion: { model: string; version: number } | null = null;
  if (reference !== null) {
    const { model: modelName, selector } = parseModelReference(reference);
    const { version, stream } = await openVersionArtifact({ db: ctx.db, artifacts: ctx.artifacts }, modelName, selector);
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    models.push({ bytes: Buffer.concat(chunks), schema: version.feature_schema });
    championVersion = { model: version.model, version: version.version };
  }
  // Both models score the same holdout rows on a worker thread.
  const scored = await ctx.worker.run({ kind: 'score', file, params: train, models, metrics: [p.metric] }, { log: ctx.log, signal: ctx.signal });
  const candidate = scored.scores[0]![0]!;
  if (championVersion === null) {
    const passed = (p.if_no_champion ?? 'pass') === 'pass';
    const outputs: StepOutputs = { hash: '', passed, metric: p.metric, candidate, champion: null, margin, reason: 'no champion' };
    ctx.log(`no champion (${JSON.stringify(p.champion)}): the gate ${passed ? 'passes' : 'fails'} (if_no_champion)`);
    if (!passed) throw new StepStopped('the gate failed: there is no champion and if_no_champion is fail', outputs);
    return outputs;
  }
  const champion = scored.scores[1]![0]!;
  const passed = Number.isFinite(candidate) && (!Number.isFinite(champion) || (definition.greaterIsBetter ? candidate >= champion + margin : candidate <= champion - margin));
  const championModel = `${championVersion.model}@${championVersion.version}`;
  const outputs: StepOutputs = { hash: '', passed, metric: p.metric, candidate, champion: Number.isFinite(champion) ? champion : String(champion), champion_model: championModel, margin, holdout_rows: scored.holdoutRows };
  ctx.log(`${p.metric}: candidate ${candidate.toPrecision(6)}, champion ${championModel} ${champion.toPrecision(6)}, margin ${margin}: ${passed ? 'passed' : 'failed'}`);
  await logBatch(ctx.db, ctx.actor, ctx.trackingRunId, {
    metrics: [{ key: 'gate.candidate', value: candidate, timestamp: ctx.now() }, { key: 'gate.champion', value: champion, timestamp: ctx.now() }, { key: 'gate.passed', value: passed ? 1 : 0, timestamp: ctx.now() }],
  }).catch((error: unknown) => ctx.log(`tracking: ${(error as Error).message}`));
  if (!passed) throw new StepStopped(`the gate failed: ${p.metric} ${candidate.toPrecision(6)} does not beat the champion's ${champion.toPrecision(6)} by ${margin}`, outputs);
  return outputs;
}

// ---------------------------------------------------------------------------------------------
// register, rollout

async function registerStep(ctx: StepContext): Promise<StepOutputs> {
  const p = ctx.step.params as { model: string; alias?: string; description?: string };
  // A rollout that cannot start must stop the run before anything is registered.
  for (const later of ctx.pipeline.steps) {
    if (later.kind !== 'rollout' || providerOf(ctx.pipeline.steps, later.id, 'version')?.id !== ctx.step.id) continue;
    const deployment = await getDeployment(ctx.db, later.params.deployment as string);
    if (deployment.rollout) {
      throw new PlinthError('ROLLOUT_IN_PROGRESS', `deployment ${deployment.name} has a ${deployment.rollout.strategy} rollout of ${deployment.rollout.model} in progress; step ${later.id} could not start a canary, so nothing is registered`);
    }
  }
  // The version's lineage names its training table: a table of this run is stored now, not before.
  await ctx.storePendingTables();
  const modelStep = provider(ctx, 'model');
  const made = output(ctx, modelStep.id);
  const blob = made.model as Blob;
  const links: Array<{ dataset: string; role: 'training' }> = [];
  const tableStep = providerOf(ctx.pipeline.steps, modelStep.kind === 'train' ? modelStep.id : ctx.step.id, 'table');
  if (tableStep) {
    const table = output(ctx, tableStep.id);
    links.push({ dataset: `${table.dataset as string}@${table.version as number}`, role: 'training' });
  }
  const evaluation = providerOf(ctx.pipeline.steps, ctx.step.id, 'evaluation');
  const tags: Record<string, string> = { 'plinth.pipeline': ctx.pipeline.name, 'plinth.pipeline_run': String(ctx.runNumber), 'plinth.pipeline_step': modelStep.id };
  if (modelStep.kind === 'train') {
    tags['plinth.task'] = made.task as string;
    tags['plinth.algorithm'] = made.algo as string;
    if (made.classes) tags['plinth.classes'] = JSON.stringify(made.classes).slice(0, 1024);
  }
  if (evaluation) for (const [k, v] of Object.entries(output(ctx, evaluation.id).metrics as Record<string, unknown>)) tags[`holdout.${k}`] = String(v);
  const metadata = {
    description: p.description ?? `registered by pipeline ${ctx.pipeline.name}, run ${ctx.runNumber}, from step ${modelStep.id}`,
    tags,
    run_id: ctx.trackingRunId,
    datasets: links,
    ...(made.feature_schema ? { feature_schema: made.feature_schema } : {}),
  };
  const version = await registerVersion({ db: ctx.db, artifacts: ctx.artifacts }, ctx.actor, { modelName: p.model, artifact: await ctx.artifacts.open(blob), metadata });
  ctx.log(`registered ${version.model}@${version.version}${links.length > 0 ? ` (trained on ${links[0]!.dataset})` : ''}`);
  if (p.alias !== undefined) {
    await setAlias(ctx.db, ctx.actor, version.model, p.alias, version.version);
    ctx.log(`alias ${p.alias} → ${version.model}@${version.version}`);
  }
  return { hash: `${version.model}@${version.version}`, model: version.model, version: version.version, reference: `${version.model}@${version.version}`, ...(p.alias !== undefined ? { alias: p.alias } : {}), datasets: links.map((l) => l.dataset) };
}

async function rolloutStep(ctx: StepContext): Promise<StepOutputs> {
  const p = ctx.step.params as { deployment: string; steps?: number[]; interval_seconds?: number; min_requests?: number; analysis?: Record<string, number> };
  const registered = output(ctx, provider(ctx, 'version').id);
  const model = registered.reference as string;
  const deployment = await ctx.rollouts.rollout(ctx.actor, p.deployment, {
    model, strategy: 'canary',
    ...(p.steps !== undefined ? { steps: p.steps } : {}),
    ...(p.interval_seconds !== undefined ? { interval_seconds: p.interval_seconds } : {}),
    ...(p.min_requests !== undefined ? { min_requests: p.min_requests } : {}),
    ...(p.analysis !== undefined ? { analysis: p.analysis } : {}),
  });
  ctx.log(`canary of ${model} started on deployment ${p.deployment} (revision ${deployment.revision})`);
  return { hash: `${p.deployment}#${deployment.revision}`, deployment: p.deployment, revision: deployment.revision, model, strategy: 'canary' };
}

// ---------------------------------------------------------------------------------------------
// command

async function commandStep(ctx: StepContext): Promise<StepOutputs> {
  const p = ctx.step.params as { argv: string[]; env?: Record<string, string | number | boolean>; cwd?: string; output?: string; timeout_seconds?: number };
  const cwd = p.cwd ?? ctx.scratch;
  if (!fs.existsSync(cwd) || !fs.statSync(cwd).isDirectory()) throw failed(`the working directory ${cwd} does not exist`);
  const env: Record<string, string> = { ...ctx.baseEnv, PLINTH_PIPELINE: ctx.pipeline.name, PLINTH_PIPELINE_RUN: String(ctx.runNumber), PLINTH_STEP: ctx.step.id };
  const tableStep = providerOf(ctx.pipeline.steps, ctx.step.id, 'table');
  if (tableStep) env.PLINTH_INPUT = await tableFile(ctx, output(ctx, tableStep.id));
  for (const [k, v] of Object.entries(p.env ?? {})) env[k] = String(v);
  const outputPath = p.output !== undefined ? path.resolve(cwd, p.output) : undefined;
  if (outputPath) {
    env.PLINTH_OUTPUT = outputPath;
    fs.rmSync(outputPath, { force: true });
  }
  const timeoutMs = (p.timeout_seconds ?? DEFAULT_COMMAND_TIMEOUT_S) * 1000;
  ctx.log(`$ ${p.argv.map((a) => (/^[A-Za-z0-9_./=:-]+$/.test(a) ? a : JSON.stringify(a))).join(' ')}`);
  const started = performance.now();
  const { code, signal, timedOut } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; timedOut: boolean }>((resolve, reject) => {
    // An aborted run (its claim lost) kills the command.
    const child = spawn(p.argv[0]!, p.argv.slice(1), { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], signal: ctx.signal, killSignal: 'SIGKILL' });
    let captured = 0;
    const capture = (stream: string) => (chunk: Buffer) => {
      if (captured >= COMMAND_CAPTURE_BYTES) return;
      captured += chunk.length;
      for (const line of chunk.toString('utf8').split('\n')) if (line !== '') ctx.log(`[${stream}] ${line}`);
      if (captured >= COMMAND_CAPTURE_BYTES) ctx.log('[output truncated]');
    };
    child.stdout.on('data', capture('stdout'));
    child.stderr.on('data', capture('stderr'));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      if (ctx.signal.aborted) reject(ctx.signal.reason instanceof Error ? ctx.signal.reason : new Error('the run was cancelled'));
      else reject(failed(`cannot start ${p.argv[0]}: ${error.message}`));
    });
    child.on('close', (exitCode, exitSignal) => {
      clearTimeout(timer);
      resolve({ code: exitCode, signal: exitSignal, timedOut });
    });
  });
  const seconds = ((performance.now() - started) / 1000).toFixed(2);
  ctx.log(`exit code ${code ?? 'none'}${signal ? ` (signal ${signal})` : ''} after ${seconds} s`);
  if (timedOut) throw failed(`the command ran past its timeout of ${timeoutMs / 1000} s and was killed`);
  if (code !== 0) throw failed(`the command exited with code ${code ?? `none (signal ${signal})`}`);
  const outputs: StepOutputs = { hash: '', exit_code: code };
  if (outputPath) {
    if (!fs.existsSync(outputPath) || !fs.statSync(outputPath).isFile()) throw failed(`the command did not write its declared output ${p.output}`);
    const blob = await ctx.artifacts.put(fs.createReadStream(outputPath));
    ctx.log(`output ${p.output}: ${blob.size} bytes (sha256 ${blob.sha256.slice(0, 12)})`);
    outputs.model = { sha256: blob.sha256, size: blob.size };
    outputs.hash = blob.sha256;
  }
  return outputs;
}

/** The executor of each step kind. */
export const STEP_EXECUTORS: Readonly<Record<string, (ctx: StepContext) => Promise<StepOutputs>>> = Object.freeze({
  dataset: datasetStep,
  validate: validateStep,
  train: trainStep,
  evaluate: evaluateStep,
  gate: gateStep,
  register: registerStep,
  rollout: rolloutStep,
  command: commandStep,
});

/** The blobs a step's outputs point at (a cached output is reused only while they are all stored). */
export function blobsOf(outputs: StepOutputs): Blob[] {
  const found: Blob[] = [];
  for (const key of ['model', 'content']) {
    const v = outputs[key] as Partial<Blob> | undefined;
    if (v && typeof v === 'object' && typeof v.sha256 === 'string' && typeof v.size === 'number') found.push(v as Blob);
  }
  return found;
}

