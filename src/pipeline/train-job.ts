// The CPU-heavy part of the train, evaluate and gate steps, as jobs that run on a worker thread
// (train-worker.ts starts one per job; train-worker-entry.ts runs it): reading the table file,
// the seeded holdout split, the hyperparameter search, fitting, the ONNX export and scoring models
// through onnxruntime on the holdout rows. A job reads the table file itself (parsing is itself heavy
// work), and knows nothing of the database: what it needs comes in the job, what it made goes back
// in its result (model bytes as a transferable buffer).
import type { FeatureSchema } from '../registry/index.js';
import { createInlineSession, type TensorMap } from '../serving/index.js';
import {
  checkSearchSpace,
  exportGbdtToOnnx,
  exportLinearToOnnx,
  holdoutSplit,
  loadTrainingTable,
  METRICS,
  metricsFor,
  predictGbdt,
  predictLinear,
  runSearch,
  takeLabels,
  takeRows,
  trainGbdt,
  trainLinear,
  type FeatureMatrix,
  type Task,
  type TrainingTable,
} from '../train/index.js';
import { PlinthError } from '../core/index.js';

/** A train step's parameters (spec.ts checks them). */
export interface TrainParams {
  label: string;
  task: Task;
  algo: 'gbdt' | 'linear';
  params?: Record<string, number>;
  features?: string[];
  categorical?: string[];
  holdout?: number;
  seed?: number;
  search?: { sampler: 'grid' | 'random' | 'tpe'; trials: number; metric?: string; space: unknown };
}

/** Loads a table file as the train step would and checks it (the validate step's `task` check). */
export interface CheckJob {
  kind: 'check';
  file: string;
  label: string;
  task: Task;
  features?: string[];
}

/** Trains (after an optional search) on the training part of the holdout split and exports ONNX. */
export interface TrainJob {
  kind: 'train';
  file: string;
  params: TrainParams;
}

/** Scores ONNX models on a train step's holdout rows: one row of metrics per model. */
export interface ScoreJob {
  kind: 'score';
  file: string;
  /** The train step whose holdout split is scored. */
  params: TrainParams;
  /** A model's bytes and, for a model trained elsewhere, its feature schema (columns found by name). */
  models: Array<{ bytes: Uint8Array; schema: FeatureSchema | null }>;
  metrics: string[];
}

export type Job = CheckJob | TrainJob | ScoreJob;

export interface CheckResult {
  kind: 'check';
  rows: number;
}

export interface TrainResult {
  kind: 'train';
  /** The exported ONNX model. */
  onnx: Uint8Array;
  params: Record<string, number>;
  search: { metric: string; best: Record<string, unknown>; best_value: number | null; trials: number } | null;
  classes: string[] | null;
  features: string[];
  featureSchema: FeatureSchema;
  trainRows: number;
  holdoutRows: number;
  /** Time spent fitting the final model, ms. */
  fitMs: number;
}

export interface ScoreResult {
  kind: 'score';
  holdoutRows: number;
  /** scores[model][metric]; NaN where a metric is undefined on these rows. */
  scores: number[][];
}

export type JobResult = CheckResult | TrainResult | ScoreResult;

const DEFAULT_HOLDOUT = 0.2;
const EARLY_STOPPING_FRACTION = 0.1;
const DEFAULT_METRIC: Record<Task, string> = { binary: 'roc_auc', multiclass: 'log_loss', regression: 'rmse' };

function failed(message: string): PlinthError {
  return new PlinthError('INVALID_ARGUMENT', message);
}

/** The holdout fraction of a train step. */
export function holdoutOf(p: TrainParams): number {
  return p.holdout ?? DEFAULT_HOLDOUT;
}

/**
 * The tables a worker loaded last, by file and loading options (jobs copy the rows they use and
 * never change a table): the steps of one run read the same file once.
 */
export class TableCache {
  readonly #tables = new Map<string, Promise<TrainingTable>>();
  constructor(private readonly capacity = 2) {}

  load(file: string, p: { label: string; task: Task; features?: string[]; categorical?: string[] }): Promise<TrainingTable> {
    const options = {
      label: p.label, task: p.task,
      ...(p.features ? { features: p.features } : {}),
      ...(p.categorical ? { categorical: p.categorical } : {}),
    };
    const key = JSON.stringify([file, options]);
    let table = this.#tables.get(key);
    if (table) {
      this.#tables.delete(key);
    } else {
      table = loadTrainingTable(file, options);
      // A failed load is not kept.
      table.catch(() => this.#tables.delete(key));
    }
    this.#tables.set(key, table);
    while (this.#tables.size > this.capacity) this.#tables.delete(this.#tables.keys().next().value!);
    return table;
  }
}

/** The holdout split of a train step, the same for the trainer, evaluate and the gate. */
function splitOf(rows: number, p: TrainParams) {
  return holdoutSplit(rows, holdoutOf(p), p.seed ?? 0);
}

/** A metric, or NaN where it is undefined (one class in the rows, and the like). */
export function metricOrNaN(name: string, task: Task, classes: number, labels: ArrayLike<number>, out: Float64Array): number {
  try {
    return METRICS[name]!.compute(labels, { task, classes, output: out });
  } catch {
    return Number.NaN;
  }
}

function fitModel(p: TrainParams, params: Record<string, number>, classes: number, features: FeatureMatrix, labels: Float64Array, seed: number): { predict(m: FeatureMatrix): Float64Array; onnx(): Uint8Array; params: Record<string, number> } {
  if (p.algo === 'linear') {
    const model = trainLinear({ task: p.task, features, labels, classes, params });
    return { predict: (m) => predictLinear(model, m), onnx: () => exportLinearToOnnx(model), params: { ...model.params } };
  }
  let train = { features, labels };
  let validation: { features: FeatureMatrix; labels: Float64Array } | undefined;
  if ((params.earlyStoppingRounds ?? 0) > 0) {
    const split = holdoutSplit(features.rows, EARLY_STOPPING_FRACTION, seed + 1);
    train = { features: takeRows(features, split.train), labels: takeLabels(labels, split.train) };
    validation = { features: takeRows(features, split.test), labels: takeLabels(labels, split.test) };
  }
  const model = trainGbdt({ task: p.task, features: train.features, labels: train.labels, classes, params: { ...params, seed }, ...(validation ? { validation } : {}) });
  const { seed: _seed, ...rest } = model.params;
  return { predict: (m) => predictGbdt(model, m), onnx: () => exportGbdtToOnnx(model), params: rest as Record<string, number> };
}

async function check(job: CheckJob, tables: TableCache): Promise<CheckResult> {
  const table = await tables.load(job.file, job);
  return { kind: 'check', rows: table.features.rows };
}

async function train(job: TrainJob, log: (line: string) => void, tables: TableCache): Promise<TrainResult> {
  const p = job.params;
  const seed = p.seed ?? 0;
  const table = await tables.load(job.file, p);
  const classes = table.classes?.length ?? 1;
  const split = splitOf(table.features.rows, p);
  const trainFeatures = takeRows(table.features, split.train);
  const trainLabels = takeLabels(table.labels, split.train);
  if (p.task !== 'regression' && new Set(Array.from(trainLabels)).size < 2) throw failed('the training part of the holdout split has a single class; use more rows');
  let params: Record<string, number> = { ...(p.params ?? {}) };
  let search: TrainResult['search'] = null;
  if (p.search) {
    const metric = p.search.metric ?? DEFAULT_METRIC[p.task];
    const definition = METRICS[metric];
    if (!definition || !definition.tasks.includes(p.task)) throw failed(`search metric ${JSON.stringify(metric)} does not apply to ${p.task} (use ${metricsFor(p.task).join(', ')})`);
    const space = checkSearchSpace(p.search.space);
    // Trials are scored on a split of the training rows: the holdout stays unseen until evaluate.
    const inner = holdoutSplit(trainFeatures.rows, DEFAULT_HOLDOUT, seed + 2);
    const fitF = takeRows(trainFeatures, inner.train);
    const fitL = takeLabels(trainLabels, inner.train);
    const valF = takeRows(trainFeatures, inner.test);
    const valL = takeLabels(trainLabels, inner.test);
    const base = params;
    const result = await runSearch({
      space, sampler: p.search.sampler, trials: p.search.trials, seed, direction: definition.greaterIsBetter ? 'maximize' : 'minimize',
      objective: (trialParams) => {
        const model = fitModel(p, { ...base, ...(trialParams as Record<string, number>) }, classes, fitF, fitL, seed);
        return metricOrNaN(metric, p.task, classes, valL, model.predict(valF));
      },
      onTrial: (t) => log(`trial ${t.number} ${t.state}: ${JSON.stringify(t.params)} → ${metric} ${t.value ?? 'n/a'}`),
    });
    if (!result.best) throw failed('the search found no complete trial');
    params = { ...params, ...(result.best.params as Record<string, number>) };
    search = { metric, best: result.best.params as Record<string, unknown>, best_value: result.best.value, trials: result.trials.length };
    log(`search (${p.search.sampler}, ${result.trials.length} trials): best ${metric} ${result.best.value} with ${JSON.stringify(result.best.params)}`);
  }
  const started = performance.now();
  const model = fitModel(p, params, classes, trainFeatures, trainLabels, seed);
  const onnx = model.onnx();
  return {
    kind: 'train', onnx, params: model.params, search, classes: table.classes, features: table.features.names, featureSchema: table.featureSchema,
    trainRows: trainFeatures.rows, holdoutRows: split.test.length, fitMs: Math.round(performance.now() - started),
  };
}

/**
 * The holdout matrix in a model's feature order: columns found by name (its feature schema),
 * categorical codes re-mapped through the category names; without a schema, the table's order.
 */
function alignFeatures(matrix: FeatureMatrix, table: TrainingTable, schema: FeatureSchema | null): FeatureMatrix {
  if (!schema) return matrix;
  const columns = schema.features.map((feature) => {
    const j = matrix.names.indexOf(feature.name);
    if (j < 0) throw failed(`the champion reads feature ${JSON.stringify(feature.name)}, which the holdout does not have`);
    const source = matrix.columns[j]!;
    const ours = table.categories[feature.name];
    if (!ours || !feature.categories) return source;
    const theirs = new Map(feature.categories.map((c, k) => [c, k]));
    return Float32Array.from(source, (code) => (Number.isNaN(code) ? Number.NaN : (theirs.get(ours[code] ?? '') ?? Number.NaN)));
  });
  return { rows: matrix.rows, names: schema.features.map((f) => f.name), columns };
}

/**
 * Runs an ONNX model with one FP32 [N, F] input on a matrix and returns what the metrics read:
 * probabilities [N, classes] row-major, or values [N].
 */
async function scoreOnnx(bytes: Uint8Array, matrix: FeatureMatrix, task: Task, classes: number): Promise<Float64Array> {
  const session = await createInlineSession(bytes, { intraOpNumThreads: 1, executionProviders: ['cpu'], graphOptimizationLevel: 'all' });
  try {
    const input = session.inputs[0];
    if (!input || session.inputs.length !== 1) throw failed(`the model has ${session.inputs.length} inputs; the pipeline scores models with one [N, features] input`);
    const width = matrix.columns.length;
    const data = new Float32Array(matrix.rows * width);
    for (let j = 0; j < width; j++) {
      const column = matrix.columns[j]!;
      for (let i = 0; i < matrix.rows; i++) data[i * width + j] = column[i]!;
    }
    const feeds: TensorMap = { [input.name]: { datatype: 'FP32', shape: [matrix.rows, width], data } };
    const outputs = await session.run(feeds);
    if (task === 'regression') {
      const out = outputs.prediction ?? outputs.variable ?? Object.values(outputs)[0];
      if (!out) throw failed('the model gives no output');
      return Float64Array.from(out.data as ArrayLike<number>);
    }
    const probabilities = outputs.probabilities ?? Object.values(outputs).find((t) => t.shape.length === 2 && t.shape[1] === classes && (t.datatype === 'FP32' || t.datatype === 'FP64'));
    if (!probabilities) throw failed(`the model gives no probabilities output [N, ${classes}]`);
    return Float64Array.from(probabilities.data as ArrayLike<number>);
  } finally {
    await session.release();
  }
}

async function score(job: ScoreJob, tables: TableCache): Promise<ScoreResult> {
  const p = job.params;
  const table = await tables.load(job.file, p);
  const split = splitOf(table.features.rows, p);
  const features = takeRows(table.features, split.test);
  const labels = takeLabels(table.labels, split.test);
  const classes = table.classes?.length ?? 1;
  const scores: number[][] = [];
  for (const model of job.models) {
    const out = await scoreOnnx(model.bytes, alignFeatures(features, table, model.schema), p.task, classes);
    scores.push(job.metrics.map((name) => metricOrNaN(name, p.task, classes, labels, out)));
  }
  return { kind: 'score', holdoutRows: features.rows, scores };
}

/**
 * Runs one job where it is called (the worker entry calls it; so can a test), loading its table
 * through `tables`.
 * @throws PlinthError INVALID_ARGUMENT (bad table, single class, no complete trial, a model that does not fit the holdout), INVALID_DATASET_FILE and the table loader's other codes
 */
export async function runJob(job: Job, log: (line: string) => void, tables: TableCache = new TableCache()): Promise<JobResult> {
  switch (job.kind) {
    case 'check':
      return check(job, tables);
    case 'train':
      return train(job, log, tables);
    case 'score':
      return score(job, tables);
  }
}
