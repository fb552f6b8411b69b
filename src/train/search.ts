// Hyperparameter search: grid, random and TPE samplers over a search space, median pruning on
// intermediate values, and resumption from the trials of an interrupted search. The objective is
// any function of the parameters (train and cross-validate a model, say); tracking each trial is
// the caller's business through `onTrial` (the CLI logs one child run per trial).
import { PlinthError } from '../core/index.js';
import { Random } from './random.js';
import { enumerateGrid, sameParams, sampleUniform, type Params, type SearchSpace } from './search-space.js';
import { tpeSample, type ObservedTrial } from './tpe.js';

export type { ParamSpec, ParamValue, Params, SearchSpace } from './search-space.js';

/** How trials' parameters are chosen. */
export type Sampler = 'grid' | 'random' | 'tpe';

/** A trial of a search: its number (0-based, in start order), parameters, outcome and timings (ms since the epoch). */
export interface Trial {
  number: number;
  params: Params;
  /** complete: the objective returned a value; pruned: stopped by the pruner; failed: the objective threw. */
  state: 'complete' | 'pruned' | 'failed';
  /** The objective's value (complete trials), otherwise null. */
  value: number | null;
  /** Intermediate values reported through `report`, in report order. */
  intermediate: Array<{ step: number; value: number }>;
  startTime: number;
  endTime: number;
  /** The error's message, for failed trials. */
  error?: string;
}

/** Optuna's MedianPruner: prune when a trial's best intermediate value so far is worse than the median of completed trials at that step. */
export interface MedianPrunerOptions {
  kind: 'median';
  /** No pruning until this many trials have completed. @default 5 */
  startupTrials?: number;
  /** No pruning before this step. @default 0 */
  warmupSteps?: number;
}

/** Reports an intermediate value; returns true when the trial should stop (then throw {@link TrialPruned}, or return). */
export type Report = (step: number, value: number) => boolean;

/** Thrown by an objective (or by `report` with `throwOnPrune`) to end a trial as pruned. */
export class TrialPruned extends Error {
  constructor(message = 'trial pruned') {
    super(message);
    this.name = 'TrialPruned';
  }
}

/** Options of {@link runSearch}. */
export interface SearchOptions {
  space: SearchSpace;
  sampler: Sampler;
  /** Total trials including those in `history`; grid search stops earlier when the grid is exhausted. */
  trials: number;
  /** Seed of the random and TPE samplers. @default 0 */
  seed?: number;
  direction: 'maximize' | 'minimize';
  objective: (params: Params, report: Report, trial: { number: number }) => Promise<number> | number;
  pruner?: MedianPrunerOptions;
  /** Trials of an earlier run of the same search (resume): not repeated, numbered on from. */
  history?: Trial[];
  /** The smallest number a new trial may take (numbers of interrupted trials not in `history`). @default 0 */
  firstTrialNumber?: number;
  /** When true, `report` throws {@link TrialPruned} instead of returning true. @default false */
  throwOnPrune?: boolean;
  /** Called before each trial's objective, with its number and parameters. */
  onTrialStart?: (trial: { number: number; params: Params }) => Promise<void> | void;
  /** Called after each trial (complete, pruned or failed) before the next starts. */
  onTrial?: (trial: Trial) => Promise<void> | void;
}

/** What a search returns: every trial (history first) and the best complete one. */
export interface SearchResult {
  trials: Trial[];
  best: Trial | null;
}

function invalid(message: string): PlinthError {
  return new PlinthError('INVALID_ARGUMENT', message);
}

/** The better of two values for a direction (NaN is never better). */
function isBetter(a: number, b: number, direction: 'maximize' | 'minimize'): boolean {
  if (Number.isNaN(a)) return false;
  if (Number.isNaN(b)) return true;
  return direction === 'maximize' ? a > b : a < b;
}

/** The best complete trial (the earliest on ties), or null. */
export function bestTrial(trials: readonly Trial[], direction: 'maximize' | 'minimize'): Trial | null {
  let best: Trial | null = null;
  for (const t of trials) if (t.state === 'complete' && t.value !== null && (best === null || isBetter(t.value, best.value!, direction))) best = t;
  return best;
}

/** The median (numpy's, averaging the middle two) of non-NaN values, or NaN when there are none. */
function median(values: number[]): number {
  const sorted = values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * Optuna's MedianPruner decision for a trial at `step`: prune when, after `startupTrials` completed
 * trials and from `warmupSteps` on, the trial's best intermediate value so far is worse than the
 * median of the completed trials' values at the same step (or is NaN). No decision is made when no
 * completed trial reported that step.
 */
export function shouldPrune(pruner: MedianPrunerOptions, completed: readonly Trial[], intermediate: ReadonlyArray<{ step: number; value: number }>, step: number, direction: 'maximize' | 'minimize'): boolean {
  const startup = pruner.startupTrials ?? 5;
  const warmup = pruner.warmupSteps ?? 0;
  if (completed.length < startup || step < warmup) return false;
  const current = intermediate.filter((r) => r.step <= step).map((r) => r.value);
  const last = intermediate.findLast((r) => r.step === step);
  if (last && Number.isNaN(last.value)) return true;
  const atStep = completed.flatMap((t) => t.intermediate.filter((r) => r.step === step).map((r) => r.value));
  if (atStep.length === 0) return false;
  const m = median(atStep);
  if (Number.isNaN(m)) return false;
  const valid = current.filter((v) => !Number.isNaN(v));
  const bestSoFar = direction === 'maximize' ? Math.max(...valid) : Math.min(...valid);
  return direction === 'maximize' ? bestSoFar < m : bestSoFar > m;
}

function checkOptions(options: SearchOptions): void {
  if (!Number.isInteger(options.trials) || options.trials < 1) throw invalid(`the number of trials must be an integer ≥ 1, got ${options.trials}`);
  if (!['grid', 'random', 'tpe'].includes(options.sampler)) throw invalid(`unknown sampler ${JSON.stringify(options.sampler)}; use grid, random or tpe`);
  if (options.direction !== 'maximize' && options.direction !== 'minimize') throw invalid(`direction is maximize or minimize, got ${JSON.stringify(options.direction)}`);
  if (Object.keys(options.space).length === 0) throw invalid('the search space has no parameters');
}

/**
 * Runs a search: trials one after another until `trials` (counting `history`) have run or the grid
 * is exhausted. Grid points are taken in enumeration order, skipping those already in `history`.
 * Random and TPE draws depend only on the seed and the history, so a resumed search continues with
 * the draws it would have made (random: the history's trials' draws are replayed and discarded).
 * @throws PlinthError INVALID_ARGUMENT for bad options or a grid over a continuous parameter,
 *   before any trial runs; rethrows the objective's error (after `onTrial` saw the failed trial).
 */
export async function runSearch(options: SearchOptions): Promise<SearchResult> {
  checkOptions(options);
  const { space, direction } = options;
  const history = [...(options.history ?? [])].sort((a, b) => a.number - b.number);
  const trials: Trial[] = [...history];
  const grid = options.sampler === 'grid' ? enumerateGrid(space).filter((p) => !history.some((t) => t.state !== 'failed' && sameParams(t.params, p))) : null;
  const random = new Random(options.seed ?? 0);
  // Random draws of earlier trials are skipped so a resumed search draws what the uninterrupted one would have.
  if (options.sampler === 'random') for (let i = 0; i < history.length; i++) for (const spec of Object.values(space)) sampleUniform(spec, random);
  let nextNumber = history.reduce((n, t) => Math.max(n, t.number + 1), options.firstTrialNumber ?? 0);
  let gridIndex = 0;

  while (trials.length < options.trials) {
    let params: Params;
    if (grid) {
      if (gridIndex >= grid.length) break;
      params = grid[gridIndex++]!;
    } else if (options.sampler === 'random') {
      params = Object.fromEntries(Object.entries(space).map(([name, spec]) => [name, sampleUniform(spec, random)]));
    } else {
      const observed = trials.filter((t): t is Trial & ObservedTrial => t.state !== 'failed');
      params = tpeSample(space, observed, random, { direction });
    }
    const number = nextNumber++;
    const intermediate: Trial['intermediate'] = [];
    const completed = trials.filter((t) => t.state === 'complete');
    const report: Report = (step, value) => {
      if (!Number.isInteger(step) || step < 0) throw invalid(`intermediate steps are integers ≥ 0, got ${step}`);
      intermediate.push({ step, value });
      const prune = options.pruner ? shouldPrune(options.pruner, completed, intermediate, step, direction) : false;
      if (prune && options.throwOnPrune) throw new TrialPruned(`trial ${number} pruned at step ${step}`);
      return prune;
    };
    const startTime = Date.now();
    await options.onTrialStart?.({ number, params });
    let trial: Trial;
    try {
      const value = await options.objective(params, report, { number });
      if (typeof value !== 'number') throw invalid(`the objective returned ${typeof value}, not a number`);
      trial = { number, params, state: 'complete', value, intermediate, startTime, endTime: Date.now() };
    } catch (error) {
      if (error instanceof TrialPruned) {
        trial = { number, params, state: 'pruned', value: null, intermediate, startTime, endTime: Date.now() };
      } else {
        trial = { number, params, state: 'failed', value: null, intermediate, startTime, endTime: Date.now(), error: error instanceof Error ? error.message : String(error) };
        trials.push(trial);
        await options.onTrial?.(trial);
        throw error;
      }
    }
    trials.push(trial);
    await options.onTrial?.(trial);
  }
  return { trials, best: bestTrial(trials, direction) };
}
