// `plinth train` and `plinth search`: train a gradient-boosted or linear model on a CSV or Parquet
// file with holdout or k-fold evaluation, export it to ONNX, register it; search hyperparameters
// (grid, random, TPE) with every trial a child run of the search's run, resumable. Training runs
// in this process; the server (PLINTH_URL) is used for tracking and the registry only. Progress
// bars go to stderr when it is a terminal and --json is off. Every check of the input runs before
// any training and before any run is created.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { PlinthError } from '../../core/index.js';
import {
  checkSearchSpace,
  crossValidate,
  enumerateGrid,
  evaluationBatch,
  exportGbdtToOnnx,
  exportLinearToOnnx,
  gbdtGainImportance,
  holdoutSplit,
  kFold,
  loadTrainingTable,
  METRICS,
  parseParamValue,
  predictGbdt,
  predictLinear,
  runSearch,
  stratifiedKFold,
  takeLabels,
  takeRows,
  trainGbdt,
  trainLinear,
  TrialPruned,
  type FeatureMatrix,
  type MetricSummary,
  type Params,
  type SearchSpace,
  type Task,
  type Trial,
  type TrainingTable,
} from '../../train/index.js';
import type { PlinthClient } from '../client.js';
import { clientFor, wantsJson } from '../context.js';
import { collect } from '../options.js';
import { emit, formatTable } from '../output.js';

const TASKS = ['binary', 'multiclass', 'regression'] as const;
const ALGORITHMS = ['gbdt', 'linear'] as const;
type Algorithm = (typeof ALGORITHMS)[number];

/** The parameters `--param` accepts per algorithm, with their type (camelCase or snake_case). */
const ALGORITHM_PARAMS: Readonly<Record<Algorithm, Readonly<Record<string, 'int' | 'float'>>>> = Object.freeze({
  gbdt: {
    trees: 'int', learningRate: 'float', maxDepth: 'int', maxLeaves: 'int', minChildWeight: 'float', minSamplesLeaf: 'int',
    lambda: 'float', minSplitGain: 'float', subsample: 'float', colsampleByTree: 'float', maxBins: 'int', earlyStoppingRounds: 'int', threads: 'int',
  },
  linear: { lambda: 'float', maxIterations: 'int', tolerance: 'float' },
});

/** The metric a search optimises unless --metric says otherwise. */
const DEFAULT_SEARCH_METRIC: Record<Task, string> = { binary: 'roc_auc', multiclass: 'log_loss', regression: 'rmse' };
/** Share of the training rows held out for early stopping when earlyStoppingRounds > 0. */
const EARLY_STOPPING_FRACTION = 0.1;
const DEFAULT_HOLDOUT = 0.2;
const PARENT_TAG = 'mlflow.parentRunId';

function invalid(message: string): PlinthError {
  return new PlinthError('INVALID_ARGUMENT', message);
}

// ---------------------------------------------------------------------------------------------
// Options

interface CommonOptions {
  data: string;
  label: string;
  task: string;
  algo: string;
  features?: string;
  categorical?: string;
  param: string[];
  cv?: string;
  holdout?: string;
  seed: string;
  experiment?: string;
}

interface TrainOptions extends CommonOptions {
  out?: string;
  register?: string;
}

interface SearchCommandOptions extends CommonOptions {
  space?: string;
  paramRange: string[];
  sampler: string;
  trials: string;
  metric?: string;
  prune?: boolean;
  resume?: string;
}

/** Evaluation: k-fold cross-validation, or one seeded holdout split. */
type Evaluation = { kind: 'cv'; folds: number } | { kind: 'holdout'; fraction: number };

interface Setup {
  data: string;
  label: string;
  task: Task;
  algo: Algorithm;
  features: string[] | undefined;
  categorical: string[];
  params: Record<string, number>;
  evaluation: Evaluation;
  seed: number;
}

function list(text: string | undefined, flag: string): string[] | undefined {
  if (text === undefined) return undefined;
  const names = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (names.length === 0) throw invalid(`${flag} names no columns`);
  return names;
}

function integerOption(text: string, flag: string, min: number): number {
  if (!/^-?[0-9]+$/.test(text.trim()) || Number(text) < min) throw invalid(`${flag} must be an integer ≥ ${min}, got ${JSON.stringify(text)}`);
  return Number(text);
}

/** The canonical (camelCase) name of an algorithm parameter, accepting snake_case. @throws INVALID_ARGUMENT for an unknown one */
function paramName(algo: Algorithm, name: string): string {
  const camel = name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
  if (Object.hasOwn(ALGORITHM_PARAMS[algo], camel)) return camel;
  throw invalid(`unknown ${algo} parameter ${JSON.stringify(name)}; known: ${Object.keys(ALGORITHM_PARAMS[algo]).join(', ')}`);
}

function paramValue(algo: Algorithm, name: string, text: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value)) throw invalid(`--param ${name} must be a number, got ${JSON.stringify(text)}`);
  if (ALGORITHM_PARAMS[algo][name] === 'int' && !Number.isInteger(value)) throw invalid(`--param ${name} must be an integer, got ${JSON.stringify(text)}`);
  return value;
}

function parseSetup(options: CommonOptions): Setup {
  if (!(TASKS as readonly string[]).includes(options.task)) throw invalid(`--task must be one of ${TASKS.join(', ')}, got ${JSON.stringify(options.task)}`);
  if (!(ALGORITHMS as readonly string[]).includes(options.algo)) throw invalid(`--algo must be one of ${ALGORITHMS.join(', ')}, got ${JSON.stringify(options.algo)}`);
  const algo = options.algo as Algorithm;
  const params: Record<string, number> = {};
  for (const pair of options.param) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw invalid(`--param ${JSON.stringify(pair)} must be key=value`);
    const name = paramName(algo, pair.slice(0, eq).trim());
    params[name] = paramValue(algo, name, pair.slice(eq + 1));
  }
  if (options.cv !== undefined && options.holdout !== undefined) throw invalid('give --cv or --holdout, not both');
  let evaluation: Evaluation;
  if (options.cv !== undefined) evaluation = { kind: 'cv', folds: integerOption(options.cv, '--cv', 2) };
  else {
    const fraction = options.holdout === undefined ? DEFAULT_HOLDOUT : Number(options.holdout);
    if (!(fraction > 0 && fraction < 1)) throw invalid(`--holdout must be a fraction in (0, 1), got ${JSON.stringify(options.holdout)}`);
    evaluation = { kind: 'holdout', fraction };
  }
  const categorical = list(options.categorical, '--categorical') ?? [];
  if (algo === 'linear' && categorical.length > 0) throw invalid('--algo linear takes numeric features only: one-hot encode categorical columns first, or use --algo gbdt');
  return {
    data: options.data, label: options.label, task: options.task as Task, algo,
    features: list(options.features, '--features'), categorical, params, evaluation, seed: integerOption(options.seed, '--seed', 0),
  };
}

/** Checks the table fits the evaluation (rows per fold, classes per fold) before any training. */
function checkEvaluation(setup: Setup, table: TrainingTable): void {
  const rows = table.features.rows;
  if (setup.evaluation.kind === 'cv') {
    const k = setup.evaluation.folds;
    if (setup.task === 'regression') kFold(rows, k, setup.seed);
    else stratifiedKFold(table.labels, k, setup.seed);
    return;
  }
  const split = holdoutSplit(rows, setup.evaluation.fraction, setup.seed);
  if (setup.task !== 'regression') {
    const present = new Set(Array.from(takeLabels(table.labels, split.train)));
    if (present.size < 2) throw invalid(`the training part of the ${setup.evaluation.fraction} holdout has a single class; use more rows or --cv`);
  }
}

// ---------------------------------------------------------------------------------------------
// Training

/** A fitted model, whatever its algorithm. */
interface Fitted {
  predict(matrix: FeatureMatrix): Float64Array;
  onnx(): Uint8Array;
  importance: Float64Array | null;
  params: Record<string, number>;
}

function rounds(setup: Setup, params: Record<string, number>): number {
  return setup.algo === 'gbdt' ? (params.trees ?? 100) : 1;
}

/** Trains one model; `onRound` counts trees (GBDT) or the single fit (linear). */
function fit(setup: Setup, params: Record<string, number>, classes: number, features: FeatureMatrix, labels: Float64Array, onRound?: () => void): Fitted {
  if (setup.algo === 'linear') {
    const model = trainLinear({ task: setup.task, features, labels, classes, params });
    onRound?.();
    return { predict: (m) => predictLinear(model, m), onnx: () => exportLinearToOnnx(model), importance: null, params: { ...model.params } };
  }
  let train = { features, labels };
  let validation: { features: FeatureMatrix; labels: Float64Array } | undefined;
  if ((params.earlyStoppingRounds ?? 0) > 0) {
    // Early stopping watches a seeded share of the training rows, never the evaluation's test rows.
    const split = holdoutSplit(features.rows, EARLY_STOPPING_FRACTION, setup.seed + 1);
    train = { features: takeRows(features, split.train), labels: takeLabels(labels, split.train) };
    validation = { features: takeRows(features, split.test), labels: takeLabels(labels, split.test) };
  }
  const model = trainGbdt({
    task: setup.task, features: train.features, labels: train.labels, classes, params: { ...params, seed: setup.seed },
    ...(validation ? { validation } : {}), ...(onRound ? { onRound: () => onRound() } : {}),
  });
  const { seed: _seed, ...rest } = model.params;
  return { predict: (m) => predictGbdt(model, m), onnx: () => exportGbdtToOnnx(model), importance: gbdtGainImportance(model), params: rest };
}

function metricValue(name: string, task: Task, classes: number, labels: ArrayLike<number>, output: Float64Array): number {
  try {
    return METRICS[name]!.compute(labels, { task, classes, output });
  } catch {
    return Number.NaN; // e.g. ROC AUC of a test part with one class
  }
}

function metricNames(task: Task): string[] {
  return Object.values(METRICS).filter((m) => m.tasks.includes(task)).map((m) => m.name);
}

/** The outcome of evaluating one parameter set. */
interface EvaluationResult {
  crossValidation?: Record<string, MetricSummary>;
  test?: Record<string, number>;
  /** The model trained on the holdout's training rows (holdout evaluation only). */
  model?: Fitted;
}

/**
 * Evaluates parameters: k-fold cross-validation (each fold reported through `onFold`), or a holdout.
 * `metrics` restricts what is computed.
 */
function evaluate(setup: Setup, table: TrainingTable, params: Record<string, number>, metrics: string[], onRound?: () => void, onFold?: (fold: number, values: Record<string, number>) => void): EvaluationResult {
  const classes = table.classes?.length ?? 1;
  const { features, labels } = table;
  if (setup.evaluation.kind === 'cv') {
    const crossValidation = crossValidate({
      task: setup.task, features, labels, classes, folds: setup.evaluation.folds, seed: setup.seed, metrics,
      fitPredict: (train, test) => fit(setup, params, classes, train.features, train.labels, onRound).predict(test),
      ...(onFold ? { onFold } : {}),
    });
    return { crossValidation };
  }
  const split = holdoutSplit(features.rows, setup.evaluation.fraction, setup.seed);
  const model = fit(setup, params, classes, takeRows(features, split.train), takeLabels(labels, split.train), onRound);
  const output = model.predict(takeRows(features, split.test));
  const testLabels = takeLabels(labels, split.test);
  const test = Object.fromEntries(metrics.map((name) => [name, metricValue(name, setup.task, classes, testLabels, output)]));
  return { test, model };
}

// ---------------------------------------------------------------------------------------------
// Progress bars (stderr, terminals only, never with --json)

interface Progress {
  increment(by?: number, payload?: Record<string, unknown>): void;
  stop(): void;
}

const NO_PROGRESS: Progress = { increment() {}, stop() {} };

function progress(enabled: boolean, format: string, total: number, payload: Record<string, unknown> = {}): Progress {
  if (!enabled || process.stderr.isTTY !== true || total <= 0) return NO_PROGRESS;
  const bar = new cliProgress.SingleBar({ format, stream: process.stderr, hideCursor: true, etaBuffer: 100, clearOnComplete: false }, cliProgress.Presets.shades_classic);
  bar.start(total, 0, payload);
  return { increment: (by = 1, p) => bar.increment(by, p), stop: () => bar.stop() };
}

// ---------------------------------------------------------------------------------------------
// Tracking over HTTP

interface KeyValue {
  key: string;
  value: string;
}
interface RunReply {
  info: { run_id: string; experiment_id: string; status: string; start_time: number };
  data: { metrics: Array<{ key: string; value: number | string; step: number }>; params: KeyValue[]; tags: KeyValue[] };
}
type MetricBody = { key: string; value: number | string; timestamp: number; step?: number };

async function experimentId(client: PlinthClient, name: string | undefined): Promise<string | undefined> {
  if (name === undefined) return undefined;
  try {
    const { experiment } = await client.request<{ experiment: { experiment_id: string } }>('GET', `/api/v1/experiments/by-name/${encodeURIComponent(name)}`);
    return experiment.experiment_id;
  } catch (error) {
    if (!(error instanceof PlinthError) || error.status !== 404) throw error;
  }
  const { experiment } = await client.request<{ experiment: { experiment_id: string } }>('POST', '/api/v1/experiments', { json: { name } });
  return experiment.experiment_id;
}

async function createRun(client: PlinthClient, experiment: string | undefined, name: string, tags: Record<string, string>, startTime = Date.now()): Promise<RunReply> {
  const { run } = await client.request<{ run: RunReply }>('POST', '/api/v1/runs', {
    json: { ...(experiment !== undefined ? { experiment_id: experiment } : {}), run_name: name, start_time: startTime, tags: Object.entries(tags).map(([key, value]) => ({ key, value })) },
  });
  return run;
}

/** Logs metrics, params and tags, in as many calls as the server's per-call limits need. */
async function logToRun(client: PlinthClient, runId: string, batch: { metrics?: MetricBody[]; params?: KeyValue[]; tags?: KeyValue[] }): Promise<void> {
  const metrics = (batch.metrics ?? []).map((m) => ({ ...m, value: typeof m.value === 'number' && !Number.isFinite(m.value) ? String(m.value) : m.value }));
  const bodies: Array<Record<string, unknown[]>> = [];
  for (let i = 0; i < metrics.length; i += 900) bodies.push({ metrics: metrics.slice(i, i + 900) });
  for (let i = 0; i < (batch.params ?? []).length; i += 100) bodies.push({ params: batch.params!.slice(i, i + 100) });
  for (let i = 0; i < (batch.tags ?? []).length; i += 100) bodies.push({ tags: batch.tags!.slice(i, i + 100) });
  for (const body of bodies) await client.request('POST', `/api/v1/runs/${encodeURIComponent(runId)}/log-batch`, { json: body });
}

async function endRun(client: PlinthClient, runId: string, status: 'FINISHED' | 'FAILED' | 'KILLED', endTime = Date.now()): Promise<void> {
  await client.request('PATCH', `/api/v1/runs/${encodeURIComponent(runId)}`, { json: { status, end_time: endTime } });
}

/** The metrics, params of an evaluation for a run (MetricBody form). */
function evaluationLog(params: Record<string, string | number | boolean>, result: EvaluationResult, importance?: { names: string[]; values: Float64Array }): { metrics: MetricBody[]; params: KeyValue[] } {
  const batch = evaluationBatch({
    params,
    ...(result.crossValidation ? { crossValidation: result.crossValidation } : {}),
    ...(result.test ? { test: result.test } : {}),
    ...(importance ? { importance: { kind: 'gain', names: importance.names, values: importance.values } } : {}),
  }, Date.now());
  return { metrics: (batch.metrics ?? []).map((m) => ({ key: m.key, value: m.value, timestamp: m.timestamp ?? Date.now(), ...(m.step !== undefined ? { step: m.step } : {}) })), params: batch.params ?? [] };
}

function setupParams(setup: Setup): Record<string, string | number> {
  return {
    algorithm: setup.algo, task: setup.task, data: path.basename(setup.data), label: setup.label, seed: setup.seed,
    evaluation: setup.evaluation.kind === 'cv' ? `cv:${setup.evaluation.folds}` : `holdout:${setup.evaluation.fraction}`,
    ...(setup.categorical.length > 0 ? { categorical: setup.categorical.join(',').slice(0, 6000) } : {}),
  };
}

// ---------------------------------------------------------------------------------------------
// Output

function formatNumber(value: number): string {
  return Number.isFinite(value) ? String(Number(value.toPrecision(6))) : String(value);
}

function metricLines(result: EvaluationResult, folds?: number): string {
  if (result.crossValidation) {
    const rows = Object.entries(result.crossValidation).map(([name, s]) => ({ name, mean: formatNumber(s.mean), std: formatNumber(s.std), folds: s.folds.map(formatNumber).join(' ') }));
    return `cross-validation, ${folds} folds (mean ± std):\n` + formatTable(rows, [
      { header: 'metric', value: (r) => r.name },
      { header: 'mean', value: (r) => r.mean },
      { header: '± std', value: (r) => r.std },
      { header: 'per fold', value: (r) => r.folds },
    ]);
  }
  const rows = Object.entries(result.test ?? {}).map(([name, value]) => ({ name, value: formatNumber(value) }));
  return 'holdout test set:\n' + formatTable(rows, [{ header: 'metric', value: (r) => r.name }, { header: 'value', value: (r) => r.value }]);
}

function jsonNumber(value: number): number | string {
  return Number.isFinite(value) ? value : String(value);
}

function evaluationJson(setup: Setup, result: EvaluationResult): unknown {
  if (result.crossValidation) {
    return {
      kind: 'cv', folds: (setup.evaluation as { folds: number }).folds,
      metrics: Object.fromEntries(Object.entries(result.crossValidation).map(([k, s]) => [k, { mean: jsonNumber(s.mean), std: jsonNumber(s.std), folds: s.folds.map(jsonNumber) }])),
    };
  }
  return { kind: 'holdout', fraction: (setup.evaluation as { fraction: number }).fraction, metrics: Object.fromEntries(Object.entries(result.test ?? {}).map(([k, v]) => [k, jsonNumber(v)])) };
}

// ---------------------------------------------------------------------------------------------
// plinth train

const MODEL_NAME_RE = /^[A-Za-z0-9._-]{1,128}$/;

async function trainCommand(options: TrainOptions, command: Command): Promise<void> {
  const json = wantsJson(command);
  const setup = parseSetup(options);
  if (options.register !== undefined && !MODEL_NAME_RE.test(options.register)) throw invalid(`--register takes a model name of letters, digits, '.', '_' and '-', got ${JSON.stringify(options.register)}`);
  if (options.out !== undefined && fs.existsSync(options.out) && fs.statSync(options.out).isDirectory()) throw invalid(`--out ${options.out} is a directory`);
  const table = await loadTrainingTable(setup.data, { label: setup.label, task: setup.task, ...(setup.features ? { features: setup.features } : {}), categorical: setup.categorical });
  checkEvaluation(setup, table);
  const classes = table.classes?.length ?? 1;
  const tracked = options.register !== undefined || options.experiment !== undefined;
  const client = tracked ? clientFor(command) : null;
  const run = client ? await createRun(client, await experimentId(client, options.experiment), `train-${setup.algo}`, { 'plinth.command': 'train', 'plinth.algorithm': setup.algo, 'plinth.task': setup.task }) : null;

  const fits = setup.evaluation.kind === 'cv' ? setup.evaluation.folds + 1 : 1;
  const bar = progress(!json, `training [{bar}] {percentage}% | {value}/{total} ${setup.algo === 'gbdt' ? 'trees' : 'fits'} | ETA {eta_formatted}`, fits * rounds(setup, setup.params));
  try {
    const perFit = rounds(setup, setup.params);
    let done = 0;
    const onRound = () => {
      done++;
      bar.increment();
    };
    // Early stopping may end a fit before its last round: the bar catches up after each fit.
    const catchUp = () => {
      const fitsDone = Math.ceil(done / perFit);
      const behind = fitsDone * perFit - done;
      if (behind > 0) bar.increment(behind);
      done += behind;
    };
    const result = evaluate(setup, table, setup.params, metricNames(setup.task), onRound, () => catchUp());
    catchUp();
    const model = result.model ?? fit(setup, setup.params, classes, table.features, table.labels, onRound);
    catchUp();
    bar.stop();
    const bytes = model.onnx();
    let outFile = options.out;
    let tempDir: string | undefined;
    if (outFile === undefined && options.register !== undefined) {
      tempDir = fs.mkdtempSync(path.join(os.tmpdir(), 'plinth-train-'));
      outFile = path.join(tempDir, 'model.onnx');
    }
    if (outFile !== undefined) fs.writeFileSync(outFile, bytes);
    let registered: { model: string; version: number } | undefined;
    try {
      if (client && run) {
        const log = evaluationLog({ ...setupParams(setup), ...model.params }, result, model.importance ? { names: table.features.names, values: model.importance } : undefined);
        await logToRun(client, run.info.run_id, { ...log, tags: [{ key: 'plinth.rows', value: String(table.features.rows) }] });
        if (options.register !== undefined) {
          const metadata = {
            description: `${setup.algo} ${setup.task} model trained by plinth train on ${path.basename(setup.data)}`,
            tags: { 'plinth.task': setup.task, 'plinth.algorithm': setup.algo, ...(table.classes ? { 'plinth.classes': JSON.stringify(table.classes).slice(0, 1024) } : {}) },
            run_id: run.info.run_id,
            feature_schema: table.featureSchema,
          };
          const version = await client.upload<{ model: string; version: number }>(`/api/v1/models/${encodeURIComponent(options.register)}/versions`, [{ name: 'metadata', json: metadata }, { name: 'artifact', filePath: outFile! }], { progress: !json });
          registered = { model: version.model, version: version.version };
          await logToRun(client, run.info.run_id, { tags: [{ key: 'plinth.registered', value: `${version.model}@${version.version}` }] });
        }
        await endRun(client, run.info.run_id, 'FINISHED');
      }
    } finally {
      if (tempDir) fs.rmSync(tempDir, { recursive: true, force: true });
    }
    const out = {
      task: setup.task, algorithm: setup.algo, rows: table.features.rows, features: table.features.names, classes: table.classes,
      params: model.params, evaluation: evaluationJson(setup, result),
      ...(options.out !== undefined ? { out: options.out } : {}),
      ...(run ? { run_id: run.info.run_id } : {}),
      ...(registered ? { registered } : {}),
    };
    emit(json, out, () =>
      `trained ${setup.algo} (${setup.task}) on ${table.features.rows} rows, ${table.features.names.length} features\n` +
      metricLines(result, setup.evaluation.kind === 'cv' ? setup.evaluation.folds : undefined) +
      (options.out !== undefined ? `wrote ${options.out} (${bytes.length} bytes)\n` : '') +
      (run ? `run ${run.info.run_id}\n` : '') +
      (registered ? `registered ${registered.model}@${registered.version}\n` : ''),
    );
  } catch (error) {
    bar.stop();
    if (client && run) await endRun(client, run.info.run_id, 'FAILED').catch(() => undefined);
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------
// plinth search

function readSpaceFile(file: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw invalid(`cannot read the search space file ${file}: ${(error as Error).message}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new PlinthError('INVALID_JSON', `the search space file ${file} is not valid JSON: ${(error as Error).message}`);
  }
}

/** The search space from --space and --param-range, names canonical, types matching the algorithm's. */
function parseSpace(setup: Setup, options: SearchCommandOptions): SearchSpace {
  const raw: Record<string, unknown> = {};
  if (options.space !== undefined) {
    const file = readSpaceFile(options.space);
    if (typeof file !== 'object' || file === null || Array.isArray(file)) throw invalid(`the search space file ${options.space} must hold a JSON object`);
    Object.assign(raw, file);
  }
  for (const range of options.paramRange) {
    const m = /^([^=]+)=([^:]+):([^:]+)(?::([^:]+))?$/.exec(range);
    if (!m) throw invalid(`--param-range ${JSON.stringify(range)} must look like name=low:high, name=low:high:log or name=low:high:step`);
    const name = paramName(setup.algo, m[1]!.trim());
    const [low, high] = [Number(m[2]), Number(m[3])];
    if (!Number.isFinite(low) || !Number.isFinite(high)) throw invalid(`--param-range ${name}: low and high must be numbers`);
    const extra = m[4];
    if (extra !== undefined && extra !== 'log' && !(Number(extra) > 0)) throw invalid(`--param-range ${name}: the third part is "log" or a positive step, got ${JSON.stringify(extra)}`);
    raw[name] = { type: ALGORITHM_PARAMS[setup.algo][name], low, high, ...(extra === 'log' ? { log: true } : extra !== undefined ? { step: Number(extra) } : {}) };
  }
  if (Object.keys(raw).length === 0) throw invalid('give the search space with --space FILE.json or --param-range name=low:high[:log]');
  const space: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(raw)) {
    const canonical = paramName(setup.algo, name);
    if (Object.hasOwn(space, canonical)) throw invalid(`parameter ${canonical} is in the search space twice`);
    space[canonical] = spec;
  }
  const checked = checkSearchSpace(space);
  for (const [name, spec] of Object.entries(checked)) {
    const type = ALGORITHM_PARAMS[setup.algo][name];
    if (spec.type === 'categorical') {
      if (!spec.choices.every((c) => typeof c === 'number' && (type === 'float' || Number.isInteger(c)))) throw invalid(`parameter ${name} takes ${type === 'int' ? 'integers' : 'numbers'}; its choices must be too`);
    } else if (type === 'int' && spec.type !== 'int') throw invalid(`parameter ${name} is an integer: give it type "int"`);
    if (Object.hasOwn(setup.params, name)) throw invalid(`parameter ${name} is both fixed (--param) and searched`);
  }
  return checked;
}

/** The settings a resumed search must share with the search it continues. */
function searchSettings(setup: Setup, space: SearchSpace, sampler: string, metric: string, pruned: boolean): Record<string, string> {
  const settings: Record<string, string> = {
    ...Object.fromEntries(Object.entries(setupParams(setup)).map(([k, v]) => [k, String(v)])),
    sampler, metric, pruner: pruned ? 'median' : 'none',
    space: JSON.stringify(space).slice(0, 6000),
    fixed_params: JSON.stringify(setup.params).slice(0, 6000),
  };
  return settings;
}

interface ChildRun {
  runId: string;
  trial: Trial;
}

/** The finished trials of a search's child runs (complete: FINISHED with an `objective` metric; pruned: KILLED; both tagged so by the search). */
async function readHistory(client: PlinthClient, parent: RunReply, space: SearchSpace, pruned: boolean): Promise<{ trials: ChildRun[]; nextNumber: number }> {
  const children: RunReply[] = [];
  let pageToken: string | undefined;
  do {
    const query = new URLSearchParams({ experiment_id: parent.info.experiment_id, filter: `tags.${PARENT_TAG} = '${parent.info.run_id}'`, max_results: '1000' });
    if (pageToken) query.set('page_token', pageToken);
    const page = await client.request<{ runs: RunReply[]; next_page_token?: string }>('GET', `/api/v1/runs?${query.toString()}`);
    children.push(...page.runs);
    pageToken = page.next_page_token;
  } while (pageToken);
  const trials: ChildRun[] = [];
  let nextNumber = 0;
  for (const child of children) {
    const tag = (key: string) => child.data.tags.find((t) => t.key === key)?.value;
    const number = Number(tag('plinth.trial'));
    if (!Number.isInteger(number) || number < 0) continue;
    nextNumber = Math.max(nextNumber, number + 1);
    // The state tag is written when a trial ends; a run killed or failed otherwise is run again.
    const tagged = tag('plinth.trial.state');
    const state = tagged === 'complete' && child.info.status === 'FINISHED' ? 'complete' : tagged === 'pruned' && child.info.status === 'KILLED' ? 'pruned' : null;
    if (!state) continue;
    const params: Params = {};
    for (const [name, spec] of Object.entries(space)) {
      const value = child.data.params.find((p) => p.key === name)?.value;
      if (value === undefined) throw invalid(`trial run ${child.info.run_id} has no param ${name}: the search space differs from the one resumed`);
      params[name] = parseParamValue(spec, value, name);
    }
    const objective = child.data.metrics.find((m) => m.key === 'objective');
    if (state === 'complete' && objective === undefined) continue;
    let intermediate: Trial['intermediate'] = [];
    if (pruned) {
      const { metrics } = await client.request<{ metrics: Array<{ value: number | string; step: number }> }>('GET', `/api/v1/runs/${encodeURIComponent(child.info.run_id)}/metrics/intermediate/history`);
      intermediate = metrics.map((m) => ({ step: m.step, value: Number(m.value) })).sort((a, b) => a.step - b.step);
    }
    trials.push({
      runId: child.info.run_id,
      trial: { number, params, state, value: state === 'complete' ? Number(objective!.value) : null, intermediate, startTime: child.info.start_time, endTime: child.info.start_time },
    });
  }
  return { trials, nextNumber };
}

async function searchCommand(options: SearchCommandOptions, command: Command): Promise<void> {
  const json = wantsJson(command);
  const setup = parseSetup(options);
  const sampler = options.sampler;
  if (!['grid', 'random', 'tpe'].includes(sampler)) throw invalid(`--sampler must be grid, random or tpe, got ${JSON.stringify(sampler)}`);
  const trials = integerOption(options.trials, '--trials', 1);
  const space = parseSpace(setup, options);
  const metric = options.metric ?? DEFAULT_SEARCH_METRIC[setup.task];
  const definition = METRICS[metric];
  if (!definition || !definition.tasks.includes(setup.task)) throw invalid(`--metric ${JSON.stringify(metric)} does not apply to ${setup.task}; use one of ${metricNames(setup.task).join(', ')}`);
  const direction = definition.greaterIsBetter ? 'maximize' : 'minimize';
  const pruned = options.prune === true;
  if (pruned && setup.evaluation.kind !== 'cv') throw invalid('--prune needs --cv: trials are pruned on their running mean over folds');
  if (sampler === 'grid') enumerateGrid(space); // refuses continuous parameters before any work
  const table = await loadTrainingTable(setup.data, { label: setup.label, task: setup.task, ...(setup.features ? { features: setup.features } : {}), categorical: setup.categorical });
  checkEvaluation(setup, table);

  const client = clientFor(command);
  const settings = searchSettings(setup, space, sampler, metric, pruned);
  let parent: RunReply;
  let history: ChildRun[] = [];
  let firstNumber = 0;
  if (options.resume !== undefined) {
    ({ run: parent } = await client.request<{ run: RunReply }>('GET', `/api/v1/runs/${encodeURIComponent(options.resume)}`));
    if (parent.data.tags.find((t) => t.key === 'plinth.command')?.value !== 'search') throw invalid(`run ${options.resume} is not a plinth search`);
    for (const [key, value] of Object.entries(settings)) {
      const recorded = parent.data.params.find((p) => p.key === key)?.value;
      if (recorded !== value) throw invalid(`cannot resume run ${options.resume}: its ${key} is ${JSON.stringify(recorded ?? null)}, this search's is ${JSON.stringify(value)}`);
    }
    const read = await readHistory(client, parent, space, pruned);
    history = read.trials;
    firstNumber = read.nextNumber;
    await client.request('PATCH', `/api/v1/runs/${encodeURIComponent(parent.info.run_id)}`, { json: { status: 'RUNNING' } });
  } else {
    parent = await createRun(client, await experimentId(client, options.experiment), `search-${setup.algo}-${sampler}`, { 'plinth.command': 'search', 'plinth.algorithm': setup.algo, 'plinth.task': setup.task });
    await logToRun(client, parent.info.run_id, { params: Object.entries(settings).map(([key, value]) => ({ key, value })) });
  }
  const parentId = parent.info.run_id;
  await logToRun(client, parentId, { tags: [{ key: 'plinth.search.trials', value: String(trials) }] });

  const objectiveKey = setup.evaluation.kind === 'cv' ? `cv_${metric}_mean` : `test_${metric}`;
  const runIds = new Map<number, string>(history.map((h) => [h.trial.number, h.runId]));
  const evaluations = new Map<number, EvaluationResult>();
  const remaining = Math.max(0, trials - history.length);
  let best: number | undefined = history.filter((h) => h.trial.state === 'complete').map((h) => h.trial.value!).reduce<number | undefined>((b, v) => (b === undefined || (direction === 'maximize' ? v > b : v < b) ? v : b), undefined);
  const bar = progress(!json, `search [{bar}] {value}/{total} trials | best ${metric} {best} | ETA {eta_formatted}`, remaining, { best: best === undefined ? '-' : formatNumber(best) });
  let result;
  try {
    result = await runSearch({
      space, sampler: sampler as 'grid' | 'random' | 'tpe', trials, seed: setup.seed, direction,
      history: history.map((h) => h.trial),
      // Numbers continue after every earlier child run, interrupted ones included.
      firstTrialNumber: firstNumber,
      ...(pruned ? { pruner: { kind: 'median' as const, startupTrials: 5, warmupSteps: 0 } } : {}),
      throwOnPrune: true,
      onTrialStart: async ({ number, params }) => {
        const child = await createRun(client, parent.info.experiment_id, `trial-${number}`, { [PARENT_TAG]: parentId, 'plinth.trial': String(number), 'plinth.command': 'search-trial' });
        runIds.set(number, child.info.run_id);
        await logToRun(client, child.info.run_id, { params: Object.entries({ ...params, ...Object.fromEntries(Object.entries(setup.params).map(([k, v]) => [k, v])) }).map(([key, value]) => ({ key, value: String(value) })) });
      },
      objective: (params, report, { number: trialNumber }) => {
        const values = { ...setup.params, ...(params as Record<string, number>) };
        let sum = 0;
        const evaluation = evaluate(setup, table, values, [metric], undefined, (fold, foldValues) => {
          sum += foldValues[metric]!;
          report(fold, sum / fold);
        });
        evaluations.set(trialNumber, evaluation);
        return evaluation.crossValidation ? evaluation.crossValidation[metric]!.mean : evaluation.test![metric]!;
      },
      onTrial: async (trial) => {
        const runId = runIds.get(trial.number)!;
        const evaluation = evaluations.get(trial.number);
        const metrics: MetricBody[] = trial.intermediate.map((r) => ({ key: 'intermediate', value: r.value, step: r.step, timestamp: trial.endTime }));
        if (evaluation) metrics.push(...evaluationLog({}, evaluation).metrics);
        if (trial.state === 'complete') metrics.push({ key: 'objective', value: trial.value!, timestamp: trial.endTime });
        await logToRun(client, runId, { metrics, tags: [{ key: 'plinth.trial.state', value: trial.state }] });
        await endRun(client, runId, trial.state === 'complete' ? 'FINISHED' : trial.state === 'pruned' ? 'KILLED' : 'FAILED', trial.endTime);
        if (trial.state === 'complete' && (best === undefined || (direction === 'maximize' ? trial.value! > best : trial.value! < best))) best = trial.value!;
        bar.increment(1, { best: best === undefined ? '-' : formatNumber(best) });
      },
    });
  } catch (error) {
    bar.stop();
    if (!(error instanceof TrialPruned)) await endRun(client, parentId, 'FAILED').catch(() => undefined);
    throw error;
  }
  bar.stop();
  const bestTrial = result.best;
  const tags: KeyValue[] = [];
  const metrics: MetricBody[] = [];
  if (bestTrial) {
    tags.push({ key: 'plinth.best_trial', value: String(bestTrial.number) }, { key: 'plinth.best_run_id', value: runIds.get(bestTrial.number) ?? '' }, { key: 'plinth.best_params', value: JSON.stringify(bestTrial.params).slice(0, 8000) });
    metrics.push({ key: `best_${objectiveKey}`, value: bestTrial.value!, timestamp: Date.now() }, { key: 'best_objective', value: bestTrial.value!, timestamp: Date.now() });
  }
  await logToRun(client, parentId, { metrics, tags });
  await endRun(client, parentId, 'FINISHED');

  const rows = result.trials.map((t) => ({ number: t.number, state: t.state, value: t.value, params: t.params, run_id: runIds.get(t.number) ?? null }));
  const out = {
    parent_run_id: parentId, experiment_id: parent.info.experiment_id, sampler, metric: objectiveKey, direction,
    trials: rows,
    best: bestTrial ? { number: bestTrial.number, value: bestTrial.value, params: { ...setup.params, ...bestTrial.params }, run_id: runIds.get(bestTrial.number) ?? null } : null,
  };
  emit(json, out, () => {
    const counts = { complete: 0, pruned: 0, failed: 0 };
    for (const t of result.trials) counts[t.state]++;
    const head = `search ${parentId}: ${result.trials.length} trials (${counts.complete} complete, ${counts.pruned} pruned), ${sampler} sampler, ${direction} ${objectiveKey}\n`;
    if (!out.best) return `${head}no trial completed\n`;
    const params = Object.entries(out.best.params).map(([k, v]) => `  ${k}: ${v}`).join('\n');
    return `${head}best trial ${out.best.number}: ${objectiveKey} = ${formatNumber(out.best.value!)} (run ${out.best.run_id})\nparams:\n${params}\n` +
      formatTable(rows, [
        { header: 'trial', value: (r) => r.number },
        { header: 'state', value: (r) => r.state },
        { header: 'value', value: (r) => (r.value === null ? '' : formatNumber(r.value)) },
        ...Object.keys(space).map((name) => ({ header: name, value: (r: (typeof rows)[number]) => String(r.params[name]) })),
      ]);
  });
}

// ---------------------------------------------------------------------------------------------
// Registration

function commonOptions(command: Command): Command {
  return command
    .requiredOption('--data <file>', 'training data: a .csv or .parquet file')
    .requiredOption('--label <column>', 'the label column')
    .requiredOption('--task <task>', 'binary | multiclass | regression')
    .option('--algo <algorithm>', 'gbdt | linear', 'gbdt')
    .option('--features <columns>', 'feature columns, comma-separated (default: every column but the label)')
    .option('--categorical <columns>', 'columns read as categories, comma-separated (gbdt only)')
    .option('--param <key=value>', 'a training parameter, e.g. learning_rate=0.05 (repeatable)', collect, [])
    .option('--cv <folds>', 'k-fold cross-validation (stratified for classification)')
    .option('--holdout <fraction>', `share of rows held out for testing (default ${DEFAULT_HOLDOUT} without --cv)`)
    .option('--seed <n>', 'seed of splits and training', '0')
    .option('--experiment <name>', 'the experiment to log runs in (created if needed)');
}

/**
 * Adds `train` and `search` to the program. Bad input throws PlinthError INVALID_ARGUMENT (exit
 * code 2) before any training or tracking; `--resume` of an unknown run gives RUN_NOT_FOUND (3).
 */
export function registerTrainCommands(program: Command): void {
  commonOptions(program.command('train').description('train a model on a CSV or Parquet file, evaluate it, export it to ONNX, optionally register it'))
    .option('--out <file.onnx>', 'write the ONNX model here')
    .option('--register <name>', 'register the model as a new version of NAME (and log a run)')
    .action(trainCommand);

  commonOptions(program.command('search').description('search hyperparameters (grid, random or TPE); every trial is a child run of the search run'))
    .option('--space <file.json>', 'search space JSON {"name": {"type": "int"|"float"|"categorical", "low", "high", "log", "step", "choices"}}')
    .option('--param-range <name=low:high[:log|:step]>', 'a searched parameter (repeatable)', collect, [])
    .option('--sampler <sampler>', 'tpe | random | grid', 'tpe')
    .option('--trials <n>', 'trials in all (counting those of a resumed search)', '20')
    .option('--metric <name>', 'the metric to optimise (default roc_auc, log_loss or rmse by task)')
    .option('--prune', 'median pruning on the running mean over folds (needs --cv)')
    .option('--resume <run_id>', 'continue the search of this parent run')
    .action(searchCommand);
}
