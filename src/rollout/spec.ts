// What a deployment is, as stored in each revision: its routes (model versions with weights), the
// rollout in progress if any, and how the last one ended. Also the rollout requests users send, read
// into a complete plan with every default filled in, and the pure transitions between specs (start,
// step, promote, roll back) so that what happens to the routes is decided in one place.
import { PlinthError } from '../core/index.js';

/** The rollout strategies. */
export const STRATEGIES = Object.freeze(['canary', 'ab', 'shadow', 'blue-green'] as const);
export type Strategy = (typeof STRATEGIES)[number];

/**
 * A route's part: `stable` serves what is not sent elsewhere; `split` another version given a share
 * by hand; `canary` the version under a canary; `a`/`b` the two arms of an A/B test; `shadow` gets
 * copies of requests (weight = percent mirrored).
 */
export type RouteRole = 'stable' | 'split' | 'canary' | 'a' | 'b' | 'shadow';

export interface Route {
  /** A pinned model version, `name@N`. */
  model: string;
  role: RouteRole;
  /** Percent of requests (0–100); for `shadow`, the percent of requests copied to it. */
  weight: number;
}

/** What a canary step checks (as Flagger's and Argo Rollouts' analysis do). */
export interface CanaryThresholds {
  /** The canary's error rate (5xx answers / requests) at most. @default 0.05 */
  max_error_rate: number;
  /** The canary's p99 latency at most this many times the stable's. @default 1.5 */
  max_latency_ratio: number;
  /** The canary's p99 latency at most this many ms; null: no absolute limit. @default null */
  max_p99_ms: number | null;
  /** Population stability index of the canary's predictions against the stable's, at most. @default 0.25 */
  max_prediction_psi: number;
  /** How much worse the canary's quality may be on labelled requests (accuracy points, or MAE). @default 0.05 */
  max_quality_drop: number;
  /** How quality is measured; null: accuracy when labels are 0/1 or strings, else MAE. @default null */
  quality_metric: 'accuracy' | 'mae' | null;
}

/** One check of an analysis: what was measured against what limit. */
export interface AnalysisCheck {
  name: string;
  value: number | null;
  threshold: number | null;
  passed: boolean;
  detail: string;
}

export interface AnalysisResult {
  verdict: 'pass' | 'fail' | 'wait';
  checks: AnalysisCheck[];
  at: number;
}

export interface Sticky {
  header?: string;
  field?: string;
}

/** The rollout in progress. */
export interface Rollout {
  strategy: Strategy;
  /** The candidate version, `name@N`. */
  model: string;
  /** The version it replaces, `name@N`. */
  stable: string;
  started_at: number;
  /** Canary: `progressing`; A/B and shadow: `running` until promoted or rolled back. */
  state: 'progressing' | 'running';
  /** Canary: step weights in percent, ascending, the last 100. */
  steps: number[] | null;
  /** Canary: index of the current step in `steps`. */
  step: number | null;
  step_started_at: number | null;
  interval_seconds: number | null;
  min_requests: number | null;
  analysis: CanaryThresholds | null;
  /** Canary: the newest analysis of the current step. */
  last_analysis: AnalysisResult | null;
  /** A/B: the candidate's share in percent; shadow: the percent of requests mirrored. */
  weight: number | null;
  /** A/B: sticky assignment by a request header or an input field. */
  sticky: Sticky | null;
}

export interface RolloutEnd {
  strategy: Strategy;
  model: string;
  outcome: 'promoted' | 'rolled_back';
  reason: string | null;
  ended_at: number;
}

/** A deployment's spec as one revision records it. */
export interface DeploymentSpec {
  routes: Route[];
  rollout: Rollout | null;
  last_rollout: RolloutEnd | null;
}

/** The canary defaults. */
export const CANARY_DEFAULTS = Object.freeze({
  steps: [5, 25, 50, 100],
  interval_seconds: 60,
  min_requests: 100,
  analysis: Object.freeze<CanaryThresholds>({
    max_error_rate: 0.05,
    max_latency_ratio: 1.5,
    max_p99_ms: null,
    max_prediction_psi: 0.25,
    max_quality_drop: 0.05,
    quality_metric: null,
  }),
});

/** A rollout request as the API receives it (validated by the route schema for types). */
export interface RolloutRequest {
  model: string;
  strategy: Strategy;
  steps?: number[];
  interval_seconds?: number;
  min_requests?: number;
  analysis?: Partial<CanaryThresholds>;
  weight?: number;
  sticky?: Sticky;
  percent?: number;
}

function invalid(message: string): PlinthError {
  return new PlinthError('INVALID_ROLLOUT', message);
}

/** The spec of a new deployment: one stable route. */
export function initialSpec(model: string): DeploymentSpec {
  return { routes: [{ model, role: 'stable', weight: 100 }], rollout: null, last_rollout: null };
}

/**
 * Routes given by hand (`[{model, weight}]`, models already pinned): the first is the stable route,
 * the others `split`. Weights are whole or fractional percentages above 0 that add up to 100.
 * @throws PlinthError INVALID_ROUTES naming the problem.
 */
export function manualRoutes(routes: ReadonlyArray<{ model: string; weight: number }>): Route[] {
  if (routes.length === 0) throw new PlinthError('INVALID_ROUTES', 'routes must list at least one {model, weight}');
  const seen = new Set<string>();
  let total = 0;
  for (const [i, route] of routes.entries()) {
    if (!(route.weight > 0 && route.weight <= 100)) throw new PlinthError('INVALID_ROUTES', `routes[${i}].weight must be a percentage above 0 and at most 100, got ${route.weight}`);
    if (seen.has(route.model)) throw new PlinthError('INVALID_ROUTES', `routes[${i}]: ${route.model} is listed twice`);
    seen.add(route.model);
    total += route.weight;
  }
  if (Math.abs(total - 100) > 1e-9) throw new PlinthError('INVALID_ROUTES', `route weights must add up to 100, they add up to ${Math.round(total * 1e6) / 1e6}`);
  return routes.map((route, i) => ({ model: route.model, role: i === 0 ? 'stable' : 'split', weight: route.weight }));
}

/** The stable route's model (`name@N`). Every spec has one. */
export function stableModel(spec: DeploymentSpec): string {
  const stable = spec.routes.find((r) => r.role === 'stable' || r.role === 'a');
  return (stable ?? spec.routes[0]!).model;
}

/**
 * Checks a rollout request for what the schema cannot say (fields that do not belong to the strategy,
 * step order, sticky keys) and fills in the defaults.
 * @throws PlinthError INVALID_ROLLOUT naming the field.
 */
export function checkRolloutRequest(request: RolloutRequest): RolloutRequest {
  const fields: Record<Strategy, readonly string[]> = {
    canary: ['steps', 'interval_seconds', 'min_requests', 'analysis'],
    ab: ['weight', 'sticky'],
    shadow: ['percent'],
    'blue-green': [],
  };
  const allowed = fields[request.strategy];
  for (const key of Object.keys(request)) {
    if (key === 'model' || key === 'strategy') continue;
    if (!allowed.includes(key)) {
      throw invalid(`${key} does not apply to a ${request.strategy} rollout${allowed.length ? ` (it takes ${allowed.join(', ')})` : ''}`);
    }
  }
  if (request.strategy === 'canary' && request.steps !== undefined) {
    const steps = request.steps;
    if (steps.length === 0) throw invalid('steps must list at least one weight, ending with 100');
    for (let i = 0; i < steps.length; i++) {
      const step = steps[i]!;
      if (!Number.isFinite(step) || step <= 0 || step > 100) throw invalid(`steps[${i}] must be a percentage above 0 and at most 100, got ${step}`);
      if (i > 0 && step <= steps[i - 1]!) throw invalid(`steps must increase: steps[${i}] = ${step} follows ${steps[i - 1]}`);
    }
    if (steps[steps.length - 1] !== 100) throw invalid(`the last step must be 100 (the candidate takes all traffic), got ${steps[steps.length - 1]}`);
    if (steps.length < 2) throw invalid('steps need at least one weight below 100 before the final 100 (a switch at once is a blue-green rollout)');
  }
  if (request.strategy === 'ab' && request.sticky !== undefined) {
    const { header, field } = request.sticky;
    if ((header === undefined) === (field === undefined)) throw invalid('sticky takes exactly one of header or field');
  }
  return request;
}

/**
 * The spec once a rollout starts: canary at its first step; A/B split; shadow mirroring; blue-green
 * switched at once (no rollout stays in progress).
 */
export function startRollout(spec: DeploymentSpec, request: RolloutRequest, candidate: string, now: number): DeploymentSpec {
  const stable = stableModel(spec);
  const base: Rollout = {
    strategy: request.strategy,
    model: candidate,
    stable,
    started_at: now,
    state: 'running',
    steps: null,
    step: null,
    step_started_at: null,
    interval_seconds: null,
    min_requests: null,
    analysis: null,
    last_analysis: null,
    weight: null,
    sticky: null,
  };
  switch (request.strategy) {
    case 'canary': {
      const steps = request.steps ?? [...CANARY_DEFAULTS.steps];
      const rollout: Rollout = {
        ...base,
        state: 'progressing',
        steps,
        step: 0,
        step_started_at: now,
        interval_seconds: request.interval_seconds ?? CANARY_DEFAULTS.interval_seconds,
        min_requests: request.min_requests ?? CANARY_DEFAULTS.min_requests,
        analysis: { ...CANARY_DEFAULTS.analysis, ...request.analysis },
      };
      return { ...spec, routes: canaryRoutes(stable, candidate, steps[0]!), rollout };
    }
    case 'ab': {
      const weight = request.weight ?? 50;
      return {
        ...spec,
        routes: [{ model: stable, role: 'a', weight: 100 - weight }, { model: candidate, role: 'b', weight }],
        rollout: { ...base, weight, sticky: request.sticky ?? null },
      };
    }
    case 'shadow': {
      const percent = request.percent ?? 100;
      return {
        ...spec,
        routes: [{ model: stable, role: 'stable', weight: 100 }, { model: candidate, role: 'shadow', weight: percent }],
        rollout: { ...base, weight: percent },
      };
    }
    case 'blue-green':
      return {
        routes: [{ model: candidate, role: 'stable', weight: 100 }],
        rollout: null,
        last_rollout: { strategy: 'blue-green', model: candidate, outcome: 'promoted', reason: null, ended_at: now },
      };
  }
}

function canaryRoutes(stable: string, candidate: string, weight: number): Route[] {
  if (weight >= 100) return [{ model: candidate, role: 'stable', weight: 100 }];
  return [{ model: stable, role: 'stable', weight: 100 - weight }, { model: candidate, role: 'canary', weight }];
}

/** The spec at a canary's next step (or promoted when the last step passed). */
export function nextStep(spec: DeploymentSpec, analysis: AnalysisResult, now: number): DeploymentSpec {
  const rollout = spec.rollout!;
  const step = rollout.step! + 1;
  // The step to 100 % is the promotion: the candidate passed its analysis at every partial weight.
  if (step >= rollout.steps!.length || rollout.steps![step]! >= 100) return promote({ ...spec, rollout: { ...rollout, last_analysis: analysis } }, now, 'every step passed its analysis');
  return {
    ...spec,
    routes: canaryRoutes(rollout.stable, rollout.model, rollout.steps![step]!),
    rollout: { ...rollout, step, step_started_at: now, last_analysis: analysis },
  };
}

/** The spec with the candidate taking all traffic and the rollout ended. */
export function promote(spec: DeploymentSpec, now: number, reason: string | null): DeploymentSpec {
  const rollout = spec.rollout!;
  return {
    routes: [{ model: rollout.model, role: 'stable', weight: 100 }],
    rollout: null,
    last_rollout: { strategy: rollout.strategy, model: rollout.model, outcome: 'promoted', reason, ended_at: now },
  };
}

/** The spec with the rollout aborted: the stable version takes all traffic again. */
export function abort(spec: DeploymentSpec, now: number, reason: string | null, analysis?: AnalysisResult): DeploymentSpec {
  const rollout = spec.rollout!;
  return {
    routes: [{ model: rollout.stable, role: 'stable', weight: 100 }],
    rollout: null,
    last_rollout: {
      strategy: rollout.strategy,
      model: rollout.model,
      outcome: 'rolled_back',
      reason: analysis ? `${reason ?? 'analysis failed'}: ${analysis.checks.filter((c) => !c.passed).map((c) => c.detail).join('; ')}` : reason,
      ended_at: now,
    },
  };
}

/** Whether two specs route the same versions with the same weights. */
export function sameRoutes(a: DeploymentSpec, b: DeploymentSpec): boolean {
  return JSON.stringify(a.routes) === JSON.stringify(b.routes);
}
