// The Tree-structured Parzen Estimator (Bergstra et al. 2011) with Optuna's defaults, univariate as
// Optuna's TPESampler(multivariate=False): each parameter is sampled on its own.
//
// - n_startup_trials = 10: until 10 trials have finished (complete or pruned) parameters are drawn
//   uniformly at random.
// - The finished trials are ranked (complete ones by value, best first; pruned ones after them, the
//   furthest-reaching first, then by their last intermediate value) and the first
//   gamma(n) = min(ceil(0.1 · n), 25) form the "good" group, the rest the "bad" group.
// - Each group gives a Parzen estimator: one truncated-normal kernel per observation (in log space
//   for log parameters) plus a prior kernel (centre of the range, σ = the range's width), weights
//   from Optuna's default_weights (flat for < 25 observations, then a ramp that favours recent
//   trials, ordered by trial number) with the prior weighing 1. Bandwidths follow Optuna's
//   univariate rule: the larger distance to the neighbouring observation (the range's ends count as
//   neighbours; at the two ends of the sorted list the inner distance is used, as
//   consider_endpoints=False), clipped to [width / min(100, 1 + kernels), width] ("magic clip").
// - 24 candidates are drawn from the good estimator l(x); the one maximising log l(x) − log g(x) is
//   taken.
// - Categorical parameters: each observation's kernel puts weight 1 on its choice plus
//   prior_weight / kernels spread over all choices (Optuna's rule), normalised.
// Deviations from Optuna, deliberate and small: integer and stepped parameters use the discretised
// truncated normal (the probability of the cell [x − step/2, x + step/2]) as Optuna does, but
// integer parameters on a log scale are treated as continuous in log space over
// [log(low − 0.5), log(high + 0.5)] and rounded; numeric `choices` lists are treated as categorical;
// failed trials are ignored (as Optuna does) and running trials are not (no constant liar).
import { Random } from './random.js';
import { gridValues, sampleUniform, type ParamSpec, type ParamValue, type Params, type SearchSpace } from './search-space.js';

/** Optuna's TPESampler defaults. */
export const TPE_DEFAULTS = Object.freeze({ startupTrials: 10, eiCandidates: 24, priorWeight: 1 });

/** A finished trial as the sampler sees it. `value` is the objective (complete trials) or null. */
export interface ObservedTrial {
  number: number;
  params: Params;
  state: 'complete' | 'pruned';
  value: number | null;
  /** Intermediate values reported, in step order (pruned trials are ranked by the last one). */
  intermediate: Array<{ step: number; value: number }>;
}

/** Options of {@link tpeSample}. */
export interface TpeOptions {
  direction: 'maximize' | 'minimize';
  /** @default 10 */
  startupTrials?: number;
  /** @default 24 */
  eiCandidates?: number;
}

/** Optuna's default_gamma: the size of the good group for n finished trials. */
export function defaultGamma(n: number): number {
  return Math.min(Math.ceil(0.1 * n), 25);
}

/** Optuna's default_weights: flat for n < 25, otherwise a linear ramp from 1/n over the oldest n − 25 then 25 ones. */
export function defaultWeights(n: number): number[] {
  if (n === 0) return [];
  if (n < 25) return Array.from({ length: n }, () => 1);
  const rampLength = n - 25;
  // numpy.linspace(1/n, 1, num=n-25)
  const ramp = Array.from({ length: rampLength }, (_, i) => (rampLength === 1 ? 1 / n : 1 / n + (i * (1 - 1 / n)) / (rampLength - 1)));
  return [...ramp, ...Array.from({ length: 25 }, () => 1)];
}

/**
 * Splits finished trials into the good and bad groups, each in trial-number order.
 * Complete trials rank by value (direction-aware), pruned ones after them.
 */
export function splitTrials(trials: readonly ObservedTrial[], direction: 'maximize' | 'minimize'): { good: ObservedTrial[]; bad: ObservedTrial[] } {
  const sign = direction === 'maximize' ? -1 : 1;
  const loss = (t: ObservedTrial) => (t.value === null || Number.isNaN(t.value) ? Infinity : sign * t.value);
  const complete = trials.filter((t) => t.state === 'complete').sort((a, b) => loss(a) - loss(b) || a.number - b.number);
  const lastStep = (t: ObservedTrial) => t.intermediate.at(-1);
  const pruned = trials.filter((t) => t.state === 'pruned').sort((a, b) => {
    const sa = lastStep(a);
    const sb = lastStep(b);
    if (!sa || !sb) return (sa ? -1 : sb ? 1 : 0) || a.number - b.number;
    return sb.step - sa.step || sign * sa.value - sign * sb.value || a.number - b.number;
  });
  const ranked = [...complete, ...pruned];
  const n = defaultGamma(ranked.length);
  const byNumber = (a: ObservedTrial, b: ObservedTrial) => a.number - b.number;
  return { good: ranked.slice(0, n).sort(byNumber), bad: ranked.slice(n).sort(byNumber) };
}

// Normal distribution helpers.

/** erfc(x) with fractional error below 1.2e-7 everywhere (Numerical Recipes' erfcc, Chebyshev fit). */
function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return x >= 0 ? r : 2 - r;
}

/** Standard normal CDF Φ(x). */
function normalCdf(x: number): number {
  return 0.5 * erfc(-x / Math.SQRT2);
}

/** Φ(b) − Φ(a) for a < b, accurate in both tails (computed on the side where it is small). */
function normalMass(a: number, b: number): number {
  if (a > 0) return normalCdf(-a) - normalCdf(-b);
  return normalCdf(b) - normalCdf(a);
}

/** Inverse of Φ (P. J. Acklam's rational approximation, relative error below 1.2e-9). */
function normalQuantile(p: number): number {
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const low = 0.02425;
  if (p <= 0) return -Infinity;
  if (p >= 1) return Infinity;
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  }
  if (p > 1 - low) {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    return -(((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  }
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) / (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1);
}

/** A standard normal draw truncated to [a, b] by inversion (mirrored so the tail in use is the lower one). */
function truncatedStandardNormal(a: number, b: number, random: Random): number {
  if (a > 0) return -truncatedStandardNormal(-b, -a, random);
  const lo = normalCdf(a);
  const hi = normalCdf(b);
  const x = normalQuantile(lo + random.next() * (hi - lo));
  return Math.min(b, Math.max(a, x));
}

const LOG_EPS = 1e-300;

/** A mixture of truncated normals on [low, high] (continuous) or on the grid low, low + step, … (discrete). */
interface NumericEstimator {
  kind: 'numeric';
  mus: number[];
  sigmas: number[];
  weights: number[];
  low: number;
  high: number;
  step: number | null;
}

interface CategoricalEstimator {
  kind: 'categorical';
  /** Per kernel, a distribution over the choices. */
  probabilities: number[][];
  weights: number[];
}

type Estimator = NumericEstimator | CategoricalEstimator;

/** How a parameter maps to the estimator's axis: log scale, grid step, bounds, and back. */
interface Axis {
  low: number;
  high: number;
  step: number | null;
  toInternal(value: number): number;
  fromInternal(value: number): number;
}

function axisOf(spec: Extract<ParamSpec, { low: number }>): Axis {
  if (spec.log) {
    const isInt = spec.type === 'int';
    const low = Math.log(isInt ? spec.low - 0.5 : spec.low);
    const high = Math.log(isInt ? spec.high + 0.5 : spec.high);
    return {
      low, high, step: null, toInternal: Math.log,
      fromInternal: (x) => Math.min(spec.high, Math.max(spec.low, isInt ? Math.round(Math.exp(x)) : Math.exp(x))),
    };
  }
  const step = spec.step ?? (spec.type === 'int' ? 1 : null);
  const identity = (x: number) => x;
  if (step === null) return { low: spec.low, high: spec.high, step: null, toInternal: identity, fromInternal: (x) => Math.min(spec.high, Math.max(spec.low, x)) };
  // The grid's last point, which may sit below `high`.
  const last = spec.low + Math.floor((spec.high - spec.low) / step + 1e-9) * step;
  return {
    low: spec.low, high: last, step, toInternal: identity,
    fromInternal: (x) => {
      const snapped = spec.low + Math.round((x - spec.low) / step) * step;
      const v = Math.min(last, Math.max(spec.low, snapped));
      return spec.type === 'int' ? Math.round(v) : Number(v.toPrecision(12));
    },
  };
}

function normalised(weights: number[]): number[] {
  const total = weights.reduce((a, b) => a + b, 0);
  return weights.map((w) => w / total);
}

/** Optuna's univariate Parzen estimator over the observations of one numeric parameter. */
function numericEstimator(observations: number[], axis: Axis, priorWeight: number): NumericEstimator {
  const { low, high } = axis;
  const stepOr0 = axis.step ?? 0;
  const width = high - low + stepOr0;
  const priorMu = 0.5 * (low + high);
  // Bandwidths: neighbours among the observations plus the prior's centre, with the range's ends.
  const withPrior = [...observations, priorMu];
  const order = withPrior.map((_, i) => i).sort((i, j) => withPrior[i]! - withPrior[j]! || i - j);
  const sorted = [low - stepOr0 / 2, ...order.map((i) => withPrior[i]!), high + stepOr0 / 2];
  const sortedSigmas = order.map((_, k) => Math.max(sorted[k + 1]! - sorted[k]!, sorted[k + 2]! - sorted[k + 1]!));
  if (sorted.length >= 4) {
    sortedSigmas[0] = sorted[2]! - sorted[1]!;
    sortedSigmas[sortedSigmas.length - 1] = sorted[sorted.length - 2]! - sorted[sorted.length - 3]!;
  }
  const sigmas = new Array<number>(withPrior.length);
  order.forEach((i, k) => (sigmas[i] = sortedSigmas[k]!));
  const kernels = observations.length + 1;
  const minSigma = width / Math.min(100, 1 + kernels);
  const maxSigma = width;
  const clipped = sigmas.slice(0, observations.length).map((s) => Math.min(maxSigma, Math.max(minSigma, s)));
  return {
    kind: 'numeric',
    mus: [...observations, priorMu],
    sigmas: [...clipped, width],
    weights: normalised([...defaultWeights(observations.length), priorWeight]),
    low, high, step: axis.step,
  };
}

function categoricalEstimator(observations: number[], choices: number, priorWeight: number): CategoricalEstimator {
  const kernels = observations.length + 1;
  const probabilities = Array.from({ length: kernels }, (_, k) => {
    const row = Array.from({ length: choices }, () => priorWeight / kernels);
    if (k < observations.length) row[observations[k]!]! += 1;
    return normalised(row);
  });
  return { kind: 'categorical', probabilities, weights: normalised([...defaultWeights(observations.length), priorWeight]) };
}

function pickKernel(weights: number[], random: Random): number {
  let u = random.next();
  for (let k = 0; k < weights.length; k++) {
    u -= weights[k]!;
    if (u < 0) return k;
  }
  return weights.length - 1;
}

function sampleEstimator(estimator: Estimator, random: Random): number {
  const k = pickKernel(estimator.weights, random);
  if (estimator.kind === 'categorical') return pickKernel(estimator.probabilities[k]!, random);
  const mu = estimator.mus[k]!;
  const sigma = estimator.sigmas[k]!;
  const half = (estimator.step ?? 0) / 2;
  const lo = estimator.low - half;
  const hi = estimator.high + half;
  const x = mu + sigma * truncatedStandardNormal((lo - mu) / sigma, (hi - mu) / sigma, random);
  if (estimator.step === null) return x;
  return Math.min(estimator.high, Math.max(estimator.low, estimator.low + Math.round((x - estimator.low) / estimator.step) * estimator.step));
}

/** log of the estimator's density (continuous) or probability (discrete, categorical) at x. */
function logDensity(estimator: Estimator, x: number): number {
  if (estimator.kind === 'categorical') {
    let p = 0;
    for (let k = 0; k < estimator.weights.length; k++) p += estimator.weights[k]! * estimator.probabilities[k]![x]!;
    return Math.log(Math.max(p, LOG_EPS));
  }
  const half = (estimator.step ?? 0) / 2;
  const lo = estimator.low - half;
  const hi = estimator.high + half;
  let total = 0;
  for (let k = 0; k < estimator.weights.length; k++) {
    const mu = estimator.mus[k]!;
    const sigma = estimator.sigmas[k]!;
    const mass = normalMass((lo - mu) / sigma, (hi - mu) / sigma);
    if (!(mass > 0)) continue;
    const density = estimator.step === null
      ? Math.exp(-0.5 * ((x - mu) / sigma) ** 2) / (sigma * Math.sqrt(2 * Math.PI))
      : normalMass((x - half - mu) / sigma, (x + half - mu) / sigma);
    total += (estimator.weights[k]! * density) / mass;
  }
  return Math.log(Math.max(total, LOG_EPS));
}

/** One parameter by TPE: 24 candidates from l(x), the best by log l(x) − log g(x). */
function sampleParam(spec: ParamSpec, good: ParamValue[], bad: ParamValue[], random: Random, candidates: number, priorWeight: number): ParamValue {
  const choices = spec.type === 'categorical' || spec.choices !== undefined ? gridValues(spec)! : null;
  if (choices) {
    const index = (v: ParamValue) => choices.findIndex((c) => c === v || String(c) === String(v));
    const l = categoricalEstimator(good.map(index).filter((i) => i >= 0), choices.length, priorWeight);
    const g = categoricalEstimator(bad.map(index).filter((i) => i >= 0), choices.length, priorWeight);
    return choices[best(l, g, random, candidates)]!;
  }
  const axis = axisOf(spec as Extract<ParamSpec, { low: number }>);
  const internal = (values: ParamValue[]) => values.filter((v): v is number => typeof v === 'number').map(axis.toInternal);
  const l = numericEstimator(internal(good), axis, priorWeight);
  const g = numericEstimator(internal(bad), axis, priorWeight);
  return axis.fromInternal(best(l, g, random, candidates));
}

function best(l: Estimator, g: Estimator, random: Random, candidates: number): number {
  let bestX = 0;
  let bestScore = -Infinity;
  for (let c = 0; c < candidates; c++) {
    const x = sampleEstimator(l, random);
    const score = logDensity(l, x) - logDensity(g, x);
    if (score > bestScore) {
      bestScore = score;
      bestX = x;
    }
  }
  return bestX;
}

/**
 * The next trial's parameters by TPE, given the finished trials so far (random until
 * `startupTrials` have finished). Deterministic for the state of `random`.
 */
export function tpeSample(space: SearchSpace, trials: readonly ObservedTrial[], random: Random, options: TpeOptions): Params {
  const startup = options.startupTrials ?? TPE_DEFAULTS.startupTrials;
  const candidates = options.eiCandidates ?? TPE_DEFAULTS.eiCandidates;
  const params: Params = {};
  if (trials.length < startup) {
    for (const [name, spec] of Object.entries(space)) params[name] = sampleUniform(spec, random);
    return params;
  }
  const { good, bad } = splitTrials(trials, options.direction);
  for (const [name, spec] of Object.entries(space)) {
    const values = (group: ObservedTrial[]) => group.filter((t) => Object.hasOwn(t.params, name)).map((t) => t.params[name]!);
    params[name] = sampleParam(spec, values(good), values(bad), random, candidates, TPE_DEFAULTS.priorWeight);
  }
  return params;
}
