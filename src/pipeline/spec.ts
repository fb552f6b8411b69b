// Pipeline definitions: the YAML (or JSON) text a user registers, parsed and checked into a
// PipelineSpec before anything runs. The step kinds are one frozen table (STEP_KINDS) that the
// checker, the runner and docs/pipelines.md all read: each kind names its required and optional
// parameters, what it provides to later steps, what it needs from an earlier one, and whether its
// outputs may be cached. Steps form a DAG through `needs`; the run order is a topological order
// that keeps the file's order where it can.
import { parse as parseYaml } from 'yaml';
import { assertValidName, PlinthError } from '../core/index.js';
import { parseCron, type CronSchedule } from './cron.js';

/** What a step hands to the steps after it. */
export type Provides = 'table' | 'validated' | 'model' | 'evaluation' | 'gate' | 'version' | 'deployment';

/** One kind of step. */
export interface StepKind {
  kind: string;
  description: string;
  /** Parameters that must be present. */
  required: readonly string[];
  /** Parameters that may be present (besides id, kind, needs). */
  optional: readonly string[];
  provides: Provides | null;
  /** What must be among the step's ancestors (the nearest one is used). */
  consumes: readonly Provides[];
  /** Outputs can be reused by a later run with the same cache key. */
  cacheable: boolean;
  /** The step changes the registry or a deployment: it runs only after every gate of the pipeline. */
  writes: boolean;
}

/** The step kinds, by name. */
export const STEP_KINDS: Readonly<Record<string, StepKind>> = Object.freeze({
  dataset: {
    kind: 'dataset',
    description: 'A table: a dataset version (`dataset: name@N`), or the newest `days` of a deployment\'s logged predictions joined with their feedback labels (`predictions: {deployment, days, label}`), stored as a new dataset version once the run passes its gates (by the register step, or when the run succeeds).',
    required: [], optional: ['dataset', 'predictions'], provides: 'table', consumes: [], cacheable: false, writes: false,
  },
  validate: {
    kind: 'validate',
    description: 'Checks the table: the label column (present, no missing values, at least two classes), the expected columns (`columns`, or the feature schema of `model`), `min_rows`.',
    required: ['label'], optional: ['columns', 'model', 'min_rows', 'task'], provides: 'validated', consumes: ['table'], cacheable: true, writes: false,
  },
  train: {
    kind: 'train',
    description: 'Trains `algo` (gbdt | linear) for `task` (binary | multiclass | regression) on the training part of a seeded holdout split; `params`, `features`, `categorical`, `holdout` (default 0.2), `seed`; an optional `search` block ({sampler, trials, metric, space}) picks the params first.',
    required: ['label', 'task', 'algo'], optional: ['params', 'features', 'categorical', 'holdout', 'seed', 'search'], provides: 'model', consumes: ['table'], cacheable: true, writes: false,
  },
  evaluate: {
    kind: 'evaluate',
    description: 'Scores the trained model (through the ONNX runtime) on the holdout rows; `metrics` (default: every metric of the task).',
    required: [], optional: ['metrics'], provides: 'evaluation', consumes: ['model'], cacheable: true, writes: false,
  },
  gate: {
    kind: 'gate',
    description: 'Scores the current champion (`champion: {deployment}` or `{model: name@alias}`) on the same holdout and passes when the candidate beats it by `margin` on `metric`; `if_no_champion`: pass (default) or fail. A failed gate stops the run.',
    required: ['metric', 'champion'], optional: ['margin', 'if_no_champion'], provides: 'gate', consumes: ['evaluation'], cacheable: false, writes: false,
  },
  register: {
    kind: 'register',
    description: 'Registers the model (trained, or written by a command step) as a new version of `model`, with lineage (dataset version, tracking run); optional `alias`, `description`.',
    required: ['model'], optional: ['alias', 'description'], provides: 'version', consumes: ['model'], cacheable: false, writes: true,
  },
  rollout: {
    kind: 'rollout',
    description: 'Starts a canary of the registered version on `deployment`; `steps`, `interval_seconds`, `min_requests`, `analysis` as POST /deployments/{name}/rollout takes them.',
    required: ['deployment'], optional: ['steps', 'interval_seconds', 'min_requests', 'analysis'], provides: 'deployment', consumes: ['version'], cacheable: false, writes: true,
  },
  command: {
    kind: 'command',
    description: 'Runs an external command (`argv` list, `env`, `cwd`, `timeout_seconds`), capturing stdout and stderr to the step\'s log; fails on a non-zero exit code. A declared `output` ONNX file it writes becomes the model a following register step registers. `cache: true` lets its outputs be reused.',
    required: ['argv'], optional: ['env', 'cwd', 'output', 'timeout_seconds', 'cache'], provides: null, consumes: [], cacheable: true, writes: false,
  },
} satisfies Record<string, StepKind>);

/** A checked step. `params` holds every parameter but id, kind and needs. */
export interface StepSpec {
  id: string;
  kind: string;
  needs: string[];
  params: Record<string, unknown>;
}

/** What starts a pipeline besides a manual run. */
export type TriggerSpec =
  | { type: 'schedule'; cron: string }
  | { type: 'alert'; rule?: string; deployment?: string; metric?: string };

export interface PipelineSpec {
  name: string;
  description: string;
  triggers: TriggerSpec[];
  /** In run order (a topological order of `needs`). */
  steps: StepSpec[];
}

const STEP_ID_RE = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;
const MAX_STEPS = 100;
const MAX_TEXT = 256 * 1024;
export const TASKS = ['binary', 'multiclass', 'regression'] as const;
export const ALGORITHMS = ['gbdt', 'linear'] as const;
export const SAMPLERS = ['grid', 'random', 'tpe'] as const;

function bad(message: string): PlinthError {
  return new PlinthError('INVALID_PIPELINE', message);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function stringOf(v: unknown, where: string): string {
  if (typeof v !== 'string' || v.length === 0) throw bad(`${where} must be a non-empty string`);
  return v;
}

function stringList(v: unknown, where: string): string[] {
  if (!Array.isArray(v) || v.length === 0 || !v.every((s) => typeof s === 'string' && s.length > 0)) throw bad(`${where} must be a list of non-empty strings`);
  return v as string[];
}

function numberOf(v: unknown, where: string, min: number, max: number, integer = false): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max || (integer && !Number.isInteger(v))) {
    throw bad(`${where} must be ${integer ? 'an integer' : 'a number'} in [${min}, ${max}]`);
  }
  return v;
}

/** Parses the text of a pipeline file (YAML, of which JSON is a subset). @throws PlinthError INVALID_PIPELINE */
export function parsePipelineText(text: string): PipelineSpec {
  if (text.length > MAX_TEXT) throw bad(`the pipeline file is larger than ${MAX_TEXT} bytes`);
  let value: unknown;
  try {
    value = parseYaml(text, { maxAliasCount: 100 });
  } catch (error) {
    throw bad(`the pipeline file is not valid YAML: ${(error as Error).message.split('\n')[0]}`);
  }
  return checkPipeline(value);
}

function checkTrigger(value: unknown, where: string): TriggerSpec | null {
  if (value === 'manual') return null;
  if (!isObject(value)) throw bad(`${where} must be "manual", {schedule: "<cron>"} or {on_alert: {…}}`);
  const keys = Object.keys(value);
  if (keys.length !== 1) throw bad(`${where} must have exactly one of manual, schedule, on_alert`);
  if ('manual' in value) return null;
  if ('schedule' in value) {
    const cron = stringOf(value.schedule, `${where}.schedule`);
    parseCron(cron, `${where}.schedule`);
    return { type: 'schedule', cron };
  }
  if ('on_alert' in value) {
    const on = value.on_alert;
    if (!isObject(on)) throw bad(`${where}.on_alert must be {rule: NAME} or {deployment: NAME, metric: METRIC}`);
    for (const k of Object.keys(on)) if (!['rule', 'deployment', 'metric'].includes(k)) throw bad(`${where}.on_alert: unknown key ${JSON.stringify(k)} (rule, deployment, metric)`);
    const trigger: TriggerSpec = { type: 'alert' };
    if (on.rule !== undefined) trigger.rule = stringOf(on.rule, `${where}.on_alert.rule`);
    if (on.deployment !== undefined) trigger.deployment = stringOf(on.deployment, `${where}.on_alert.deployment`);
    if (on.metric !== undefined) trigger.metric = stringOf(on.metric, `${where}.on_alert.metric`);
    if (trigger.rule === undefined && trigger.deployment === undefined) throw bad(`${where}.on_alert needs a rule or a deployment`);
    return trigger;
  }
  throw bad(`${where}: unknown trigger ${JSON.stringify(keys[0])} (manual, schedule, on_alert)`);
}

/** Checks one step's parameters against its kind (types and values the runner relies on). */
function checkStepParams(step: StepSpec): void {
  const p = step.params;
  const at = `step ${step.id} (${step.kind})`;
  switch (step.kind) {
    case 'dataset': {
      if ((p.dataset === undefined) === (p.predictions === undefined)) throw bad(`${at} needs exactly one of dataset (a dataset version name@N) or predictions`);
      if (p.dataset !== undefined) stringOf(p.dataset, `${at}.dataset`);
      if (p.predictions !== undefined) {
        const q = p.predictions;
        if (!isObject(q)) throw bad(`${at}.predictions must be {deployment, days, label?, register_as?}`);
        for (const k of Object.keys(q)) if (!['deployment', 'days', 'label', 'register_as', 'min_rows'].includes(k)) throw bad(`${at}.predictions: unknown key ${JSON.stringify(k)}`);
        stringOf(q.deployment, `${at}.predictions.deployment`);
        numberOf(q.days, `${at}.predictions.days`, 0.000001, 3650);
        if (q.label !== undefined) stringOf(q.label, `${at}.predictions.label`);
        if (q.register_as !== undefined) assertName(stringOf(q.register_as, `${at}.predictions.register_as`), `${at}.predictions.register_as`);
        if (q.min_rows !== undefined) numberOf(q.min_rows, `${at}.predictions.min_rows`, 1, 1e9, true);
      }
      break;
    }
    case 'validate':
      stringOf(p.label, `${at}.label`);
      if (p.columns !== undefined) stringList(p.columns, `${at}.columns`);
      if (p.model !== undefined) stringOf(p.model, `${at}.model`);
      if (p.min_rows !== undefined) numberOf(p.min_rows, `${at}.min_rows`, 1, 1e9, true);
      if (p.task !== undefined && !(TASKS as readonly unknown[]).includes(p.task)) throw bad(`${at}.task must be one of ${TASKS.join(', ')}`);
      break;
    case 'train': {
      stringOf(p.label, `${at}.label`);
      if (!(TASKS as readonly unknown[]).includes(p.task)) throw bad(`${at}.task must be one of ${TASKS.join(', ')}`);
      if (!(ALGORITHMS as readonly unknown[]).includes(p.algo)) throw bad(`${at}.algo must be one of ${ALGORITHMS.join(', ')}`);
      if (p.params !== undefined) {
        if (!isObject(p.params)) throw bad(`${at}.params must be a map of numbers`);
        for (const [k, v] of Object.entries(p.params)) if (typeof v !== 'number' || !Number.isFinite(v)) throw bad(`${at}.params.${k} must be a number`);
      }
      if (p.features !== undefined) stringList(p.features, `${at}.features`);
      if (p.categorical !== undefined) stringList(p.categorical, `${at}.categorical`);
      if (p.categorical !== undefined && p.algo === 'linear') throw bad(`${at}: linear models take numeric features only; drop categorical or use algo gbdt`);
      if (p.holdout !== undefined) numberOf(p.holdout, `${at}.holdout`, 0.01, 0.9);
      if (p.seed !== undefined) numberOf(p.seed, `${at}.seed`, 0, 2 ** 31, true);
      if (p.search !== undefined) {
        const s = p.search;
        if (!isObject(s)) throw bad(`${at}.search must be {sampler, trials, metric?, space}`);
        for (const k of Object.keys(s)) if (!['sampler', 'trials', 'metric', 'space'].includes(k)) throw bad(`${at}.search: unknown key ${JSON.stringify(k)}`);
        if (!(SAMPLERS as readonly unknown[]).includes(s.sampler)) throw bad(`${at}.search.sampler must be one of ${SAMPLERS.join(', ')}`);
        numberOf(s.trials, `${at}.search.trials`, 1, 1000, true);
        if (s.metric !== undefined) stringOf(s.metric, `${at}.search.metric`);
        if (!isObject(s.space) || Object.keys(s.space).length === 0) throw bad(`${at}.search.space must be a non-empty map of parameter specs`);
      }
      break;
    }
    case 'evaluate':
      if (p.metrics !== undefined) stringList(p.metrics, `${at}.metrics`);
      break;
    case 'gate': {
      stringOf(p.metric, `${at}.metric`);
      const c = p.champion;
      if (!isObject(c) || (c.deployment === undefined) === (c.model === undefined)) throw bad(`${at}.champion must be {deployment: NAME} or {model: name@alias}`);
      for (const k of Object.keys(c)) if (!['deployment', 'model'].includes(k)) throw bad(`${at}.champion: unknown key ${JSON.stringify(k)}`);
      if (c.deployment !== undefined) stringOf(c.deployment, `${at}.champion.deployment`);
      if (c.model !== undefined) stringOf(c.model, `${at}.champion.model`);
      if (p.margin !== undefined) numberOf(p.margin, `${at}.margin`, -1e9, 1e9);
      if (p.if_no_champion !== undefined && p.if_no_champion !== 'pass' && p.if_no_champion !== 'fail') throw bad(`${at}.if_no_champion must be pass or fail`);
      break;
    }
    case 'register':
      assertName(stringOf(p.model, `${at}.model`), `${at}.model`);
      if (p.alias !== undefined) stringOf(p.alias, `${at}.alias`);
      if (p.description !== undefined && typeof p.description !== 'string') throw bad(`${at}.description must be a string`);
      break;
    case 'rollout':
      stringOf(p.deployment, `${at}.deployment`);
      if (p.steps !== undefined && (!Array.isArray(p.steps) || !p.steps.every((s) => typeof s === 'number'))) throw bad(`${at}.steps must be a list of percentages`);
      if (p.interval_seconds !== undefined) numberOf(p.interval_seconds, `${at}.interval_seconds`, 0, 86_400 * 30);
      if (p.min_requests !== undefined) numberOf(p.min_requests, `${at}.min_requests`, 0, 1e9, true);
      if (p.analysis !== undefined && !isObject(p.analysis)) throw bad(`${at}.analysis must be a map`);
      break;
    case 'command': {
      const argv = stringList(p.argv, `${at}.argv`);
      if (argv.length > 1000) throw bad(`${at}.argv is too long`);
      if (p.env !== undefined) {
        if (!isObject(p.env)) throw bad(`${at}.env must be a map of strings`);
        for (const [k, v] of Object.entries(p.env)) {
          if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw bad(`${at}.env: ${JSON.stringify(k)} is not an environment variable name`);
          if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') throw bad(`${at}.env.${k} must be a string`);
        }
      }
      if (p.cwd !== undefined) stringOf(p.cwd, `${at}.cwd`);
      if (p.output !== undefined) stringOf(p.output, `${at}.output`);
      if (p.timeout_seconds !== undefined) numberOf(p.timeout_seconds, `${at}.timeout_seconds`, 1, 86_400);
      if (p.cache !== undefined && typeof p.cache !== 'boolean') throw bad(`${at}.cache must be true or false`);
      break;
    }
    default:
      break;
  }
}

function assertName(name: string, where: string): void {
  try {
    assertValidName(name, where);
  } catch (error) {
    throw bad((error as Error).message);
  }
}

/** What a step provides, a command step providing a model when it declares an output. */
export function providesOf(step: StepSpec): Provides | null {
  if (step.kind === 'command') return step.params.output !== undefined ? 'model' : null;
  return STEP_KINDS[step.kind]!.provides;
}

/** Every ancestor of a step (through needs, transitively). */
export function ancestorsOf(steps: readonly StepSpec[], id: string): Set<string> {
  const byId = new Map(steps.map((s) => [s.id, s]));
  const seen = new Set<string>();
  const stack = [...(byId.get(id)?.needs ?? [])];
  while (stack.length > 0) {
    const next = stack.pop()!;
    if (seen.has(next)) continue;
    seen.add(next);
    stack.push(...(byId.get(next)?.needs ?? []));
  }
  return seen;
}

/**
 * The nearest ancestor (latest in run order) of `id` that provides `what`, or undefined.
 * `steps` must be in run order.
 */
export function providerOf(steps: readonly StepSpec[], id: string, what: Provides): StepSpec | undefined {
  const ancestors = ancestorsOf(steps, id);
  let found: StepSpec | undefined;
  for (const s of steps) {
    if (s.id === id) break;
    if (ancestors.has(s.id) && providesOf(s) === what) found = s;
  }
  return found;
}

/**
 * Checks a parsed pipeline document: name, triggers, steps (unique ids, known kinds, required and
 * known parameters, existing dependencies, no cycle, each step's inputs among its ancestors, every
 * register and rollout step after every gate). Returns the steps in run order.
 * @throws PlinthError INVALID_PIPELINE naming the first problem.
 */
export function checkPipeline(value: unknown): PipelineSpec {
  if (!isObject(value)) throw bad('a pipeline file must hold a map with name, steps and optional triggers');
  for (const k of Object.keys(value)) if (!['name', 'description', 'triggers', 'trigger', 'steps'].includes(k)) throw bad(`unknown top-level key ${JSON.stringify(k)} (name, description, triggers, steps)`);
  const name = stringOf(value.name, 'name');
  assertName(name, 'pipeline name');
  if (value.description !== undefined && typeof value.description !== 'string') throw bad('description must be a string');
  const rawTriggers = value.triggers ?? value.trigger ?? [];
  const triggerList = Array.isArray(rawTriggers) ? rawTriggers : [rawTriggers];
  const triggers = triggerList.map((t, i) => checkTrigger(t, `triggers[${i}]`)).filter((t): t is TriggerSpec => t !== null);

  if (!Array.isArray(value.steps) || value.steps.length === 0) throw bad('steps must be a non-empty list');
  if (value.steps.length > MAX_STEPS) throw bad(`a pipeline has at most ${MAX_STEPS} steps`);
  const declared: StepSpec[] = [];
  const ids = new Set<string>();
  value.steps.forEach((raw: unknown, i: number) => {
    if (!isObject(raw)) throw bad(`steps[${i}] must be a map with id and kind`);
    const id = raw.id;
    if (typeof id !== 'string' || !STEP_ID_RE.test(id)) throw bad(`steps[${i}].id must be a letter followed by letters, digits, _ or - (at most 64)`);
    if (ids.has(id)) throw bad(`step id ${JSON.stringify(id)} is used twice`);
    ids.add(id);
    const kindName = raw.kind;
    if (typeof kindName !== 'string' || !Object.hasOwn(STEP_KINDS, kindName)) {
      throw bad(`step ${id}: unknown step kind ${JSON.stringify(kindName)} (known: ${Object.keys(STEP_KINDS).join(', ')})`);
    }
    const kind = STEP_KINDS[kindName]!;
    const needsRaw = raw.needs ?? [];
    const needs = typeof needsRaw === 'string' ? [needsRaw] : needsRaw;
    if (!Array.isArray(needs) || !needs.every((n) => typeof n === 'string')) throw bad(`step ${id}: needs must be a step id or a list of step ids`);
    const params: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(raw)) {
      if (k === 'id' || k === 'kind' || k === 'needs') continue;
      if (!kind.required.includes(k) && !kind.optional.includes(k)) {
        throw bad(`step ${id} (${kindName}): unknown parameter ${JSON.stringify(k)} (takes ${[...kind.required, ...kind.optional].join(', ')})`);
      }
      params[k] = v;
    }
    for (const r of kind.required) if (params[r] === undefined || params[r] === null) throw bad(`step ${id} (${kindName}): missing required parameter ${JSON.stringify(r)}`);
    declared.push({ id, kind: kindName, needs: [...new Set(needs as string[])], params });
  });
  for (const step of declared) {
    for (const n of step.needs) {
      if (!ids.has(n)) throw bad(`step ${step.id} needs ${JSON.stringify(n)}, which is not a step of this pipeline`);
      if (n === step.id) throw bad(`step ${step.id} needs itself`);
    }
    checkStepParams(step);
  }
  const ordered = topologicalOrder(declared);
  for (const step of ordered) {
    for (const what of STEP_KINDS[step.kind]!.consumes) {
      if (!providerOf(ordered, step.id, what)) throw bad(`step ${step.id} (${step.kind}) needs a step that provides a ${what} among its needs (directly or through them)`);
    }
    if ((step.kind === 'evaluate' || step.kind === 'gate') && providerOf(ordered, step.id, 'model')?.kind !== 'train') {
      throw bad(`step ${step.id} (${step.kind}) scores the holdout of a train step: its nearest model provider must be a train step`);
    }
  }
  const gates = ordered.filter((s) => s.kind === 'gate').map((s) => s.id);
  for (const step of ordered) {
    if (!STEP_KINDS[step.kind]!.writes) continue;
    const ancestors = ancestorsOf(ordered, step.id);
    const missing = gates.filter((g) => !ancestors.has(g));
    if (missing.length > 0) throw bad(`step ${step.id} (${step.kind}) changes the registry or a deployment and must come after the gate ${missing.join(', ')} (add it to needs)`);
  }
  return { name, description: typeof value.description === 'string' ? value.description : '', triggers, steps: ordered };
}

/** Kahn's algorithm, taking ready steps in file order. @throws PlinthError INVALID_PIPELINE on a cycle */
function topologicalOrder(steps: StepSpec[]): StepSpec[] {
  const remaining = new Map(steps.map((s) => [s.id, new Set(s.needs)]));
  const out: StepSpec[] = [];
  while (out.length < steps.length) {
    const ready = steps.find((s) => remaining.has(s.id) && remaining.get(s.id)!.size === 0);
    if (!ready) {
      const cycle = steps.filter((s) => remaining.has(s.id)).map((s) => s.id);
      throw bad(`the steps' needs form a cycle among ${cycle.join(', ')}`);
    }
    out.push(ready);
    remaining.delete(ready.id);
    for (const deps of remaining.values()) deps.delete(ready.id);
  }
  return out;
}

/** The schedule triggers' parsed cron expressions. */
export function schedulesOf(spec: PipelineSpec): CronSchedule[] {
  return spec.triggers.filter((t): t is { type: 'schedule'; cron: string } => t.type === 'schedule').map((t) => parseCron(t.cron));
}
