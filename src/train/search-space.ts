// Search spaces of hyperparameter search: integer, float and categorical parameters, their checks,
// uniform (random) sampling and grid enumeration. The samplers in search.ts and tpe.ts read these.
import { PlinthError } from '../core/index.js';
import type { Random } from './random.js';

/** A value a parameter takes. */
export type ParamValue = number | string | boolean;
/** One trial's parameters by name. */
export type Params = Record<string, ParamValue>;

/**
 * One parameter's range. `int` and `float` span [low, high] (both included), optionally on a log
 * scale (low > 0) or on a grid of `step` from low; `choices` lists explicit values instead (grid
 * search over numbers needs `choices` or `step`). `categorical` takes one of `choices`.
 */
export type ParamSpec =
  | { type: 'int' | 'float'; low: number; high: number; log?: boolean; step?: number; choices?: undefined }
  | { type: 'int' | 'float'; choices: number[]; low?: undefined; high?: undefined; log?: undefined; step?: undefined }
  | { type: 'categorical'; choices: ParamValue[] };

/** Parameters by name. Order of keys is the order grids enumerate in (first key varies slowest). */
export type SearchSpace = Record<string, ParamSpec>;

function invalid(message: string): PlinthError {
  return new PlinthError('INVALID_ARGUMENT', message);
}

/**
 * Checks a search space (untrusted JSON from a file or flags) and returns it typed.
 * @throws PlinthError INVALID_ARGUMENT naming the first bad parameter.
 */
export function checkSearchSpace(value: unknown): SearchSpace {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid('a search space is an object {"name": {"type": "int"|"float"|"categorical", …}}');
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 0) throw invalid('the search space has no parameters');
  const space: SearchSpace = {};
  for (const [name, raw] of entries) {
    const at = `parameter ${JSON.stringify(name)}`;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw invalid(`${at} must be an object with a type`);
    const spec = raw as Record<string, unknown>;
    const known = ['type', 'low', 'high', 'log', 'step', 'choices'];
    const unknown = Object.keys(spec).find((k) => !known.includes(k));
    if (unknown) throw invalid(`${at} has unknown field ${JSON.stringify(unknown)} (allowed: ${known.join(', ')})`);
    const { type, low, high, log, step, choices } = spec;
    if (type === 'categorical') {
      if (!Array.isArray(choices) || choices.length === 0) throw invalid(`${at} is categorical and needs a non-empty "choices" array`);
      if (!choices.every((c) => ['number', 'string', 'boolean'].includes(typeof c))) throw invalid(`${at}: choices are numbers, strings or booleans`);
      if (new Set(choices.map((c) => JSON.stringify(c))).size !== choices.length) throw invalid(`${at} lists a choice twice`);
      space[name] = { type, choices: choices as ParamValue[] };
      continue;
    }
    if (type !== 'int' && type !== 'float') throw invalid(`${at} has type ${JSON.stringify(type)}; use int, float or categorical`);
    if (choices !== undefined) {
      if (!Array.isArray(choices) || choices.length === 0 || !choices.every((c) => typeof c === 'number' && Number.isFinite(c))) throw invalid(`${at}: "choices" must be a non-empty array of numbers`);
      if (type === 'int' && !choices.every((c) => Number.isInteger(c))) throw invalid(`${at} is int but lists a non-integer choice`);
      if (low !== undefined || high !== undefined || log !== undefined || step !== undefined) throw invalid(`${at}: give either "choices" or low/high (with log or step), not both`);
      space[name] = { type, choices: [...new Set(choices as number[])] };
      continue;
    }
    if (typeof low !== 'number' || typeof high !== 'number' || !Number.isFinite(low) || !Number.isFinite(high)) throw invalid(`${at} needs numeric "low" and "high"`);
    if (!(low <= high)) throw invalid(`${at}: low ${low} is above high ${high}`);
    if (type === 'int' && (!Number.isInteger(low) || !Number.isInteger(high))) throw invalid(`${at} is int: low and high must be integers`);
    if (log !== undefined && typeof log !== 'boolean') throw invalid(`${at}: "log" is true or false`);
    if (log && !(low > 0)) throw invalid(`${at}: a log scale needs low > 0, got ${low}`);
    if (step !== undefined) {
      if (typeof step !== 'number' || !(step > 0)) throw invalid(`${at}: "step" must be a positive number`);
      if (log) throw invalid(`${at}: "step" and "log" cannot be combined`);
      if (type === 'int' && !Number.isInteger(step)) throw invalid(`${at} is int: step must be an integer`);
    }
    space[name] = { type, low, high, ...(log ? { log: true } : {}), ...(step !== undefined ? { step } : {}) };
  }
  return space;
}

/** The values of a grid axis: its choices, or low, low + step, … ≤ high. Undefined when the axis is continuous. */
export function gridValues(spec: ParamSpec): ParamValue[] | undefined {
  if (spec.choices !== undefined) return spec.choices;
  const step = spec.step ?? (spec.type === 'int' && !spec.log ? 1 : undefined);
  if (step === undefined) return undefined;
  const count = Math.floor((spec.high - spec.low) / step + 1e-9) + 1;
  return Array.from({ length: count }, (_, i) => roundToStep(spec.low + i * step, spec.low, step, spec.type));
}

function roundToStep(value: number, low: number, step: number, type: 'int' | 'float'): number {
  const snapped = low + Math.round((value - low) / step) * step;
  // Decimal steps (0.1) accumulate float error; keep the digits the user wrote.
  return type === 'int' ? Math.round(snapped) : Number(snapped.toPrecision(12));
}

/**
 * Every point of a grid, the first parameter varying slowest.
 * @throws PlinthError INVALID_ARGUMENT when a numeric parameter has neither choices nor a step.
 */
export function enumerateGrid(space: SearchSpace): Params[] {
  let points: Params[] = [{}];
  for (const [name, spec] of Object.entries(space)) {
    const values = gridValues(spec);
    if (!values) throw invalid(`grid search needs "choices" or a "step" for ${spec.type} parameter ${JSON.stringify(name)}`);
    points = points.flatMap((point) => values.map((v) => ({ ...point, [name]: v })));
  }
  return points;
}

/** A uniform draw of one parameter: uniform in [low, high] (log-uniform on a log scale), uniform over grids and choices. */
export function sampleUniform(spec: ParamSpec, random: Random): ParamValue {
  const values = spec.type === 'categorical' || spec.choices !== undefined || spec.step !== undefined ? gridValues(spec) : undefined;
  if (values) return values[random.int(values.length)]!;
  const { low, high, log } = spec as { low: number; high: number; log?: boolean };
  if (spec.type === 'int') {
    if (log) return clamp(Math.round(Math.exp(Math.log(low - 0.5) + random.next() * (Math.log(high + 0.5) - Math.log(low - 0.5)))), low, high);
    return low + random.int(high - low + 1);
  }
  if (log) return clamp(Math.exp(Math.log(low) + random.next() * (Math.log(high) - Math.log(low))), low, high);
  return low + random.next() * (high - low);
}

function clamp(value: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, value));
}

/** Whether two parameter sets are equal (grid points already tried are skipped on resume). */
export function sameParams(a: Params, b: Params): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && (a[k] === b[k] || (typeof a[k] === 'number' && typeof b[k] === 'number' && Math.abs((a[k] as number) - (b[k] as number)) <= 1e-12 * Math.max(1, Math.abs(a[k] as number)))));
}

/**
 * Reads a parameter value written as text (a tracked run's param) back into its type.
 * @throws PlinthError INVALID_ARGUMENT when the text is not a value of the parameter.
 */
export function parseParamValue(spec: ParamSpec, text: string, name: string): ParamValue {
  if (spec.type === 'categorical') {
    const found = spec.choices.find((c) => String(c) === text);
    if (found === undefined) throw invalid(`${JSON.stringify(text)} is not a choice of ${name}`);
    return found;
  }
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value)) throw invalid(`${JSON.stringify(text)} is not a number (parameter ${name})`);
  return value;
}
