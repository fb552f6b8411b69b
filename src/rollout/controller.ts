// The rollout controller: every change a user asks for (create, roll out, promote, roll back,
// delete), and the loop that drives canaries. Each tick (one second by default) it picks up changes
// made elsewhere, then analyses every canary's current step: a failed check rolls it back at once
// (no more than the step's weight of traffic ever reached it); a passed step, once its interval is
// over and its minimum request count reached, moves to the next weight, and the last step promotes.
// Every transition is a new revision and an audit entry, written with a compare-and-set on the
// revision so a user's promote and the loop's step can never both apply.
import type { Actor } from '../auth/index.js';
import { SYSTEM_ACTOR } from '../auth/index.js';
import { PlinthError, type Logger } from '../core/index.js';
import type { ServingEngine } from '../serving/index.js';
import type { Db } from '../store/index.js';
import { analyseCanary, compareAB, compareShadow } from './analysis.js';
import {
  changeDeployment,
  createDeployment,
  deleteDeployment,
  getDeployment,
  listDeployments,
  listRevisions,
  type Deployment,
} from './deployments.js';
import type { DeploymentTable, LiveDeployment } from './gateway.js';
import {
  abort,
  checkRolloutRequest,
  initialSpec,
  manualRoutes,
  nextStep,
  promote,
  sameRoutes,
  startRollout,
  type AnalysisResult,
  type Route,
  type RolloutRequest,
} from './spec.js';
import type { LabelledPrediction } from './variant-stats.js';

/** Something that happened to a rollout on its own (the controller's decisions), for alerts and metrics. */
export interface RolloutEvent {
  type: 'step' | 'promoted' | 'rolled_back';
  deployment: string;
  model: string;
  revision: number;
  reason: string | null;
}

export interface RolloutControllerOptions {
  db: Db;
  engine: Pick<ServingEngine, 'describe' | 'load'>;
  table: DeploymentTable;
  logger: Logger;
  /** Labels of logged requests, by request id (the prediction log's feedback). */
  labelsFor?: (deployment: string, requestIds: readonly string[]) => Promise<Map<string, unknown>>;
  /** Called for each transition the controller makes on its own. */
  onEvent?: (event: RolloutEvent) => void;
  /** @default 1000 */
  tickMs?: number;
  now?: () => number;
}

/** The analysis endpoint's view of a deployment's live traffic. */
export interface DeploymentAnalysis {
  deployment: string;
  revision: number;
  window_started_at: number;
  variants: Array<{ model: string; role: string; weight: number } & ReturnType<import('./variant-stats.js').VariantStats['summary']>>;
  canary: AnalysisResult | null;
  ab: ReturnType<typeof compareAB> | null;
  shadow: ReturnType<typeof compareShadow> | null;
}

export class RolloutController {
  private timer: NodeJS.Timeout | null = null;
  private ticking: Promise<void> | null = null;
  private readonly now: () => number;
  /** The newest analysis of each canary's current step (in memory; the revision keeps the deciding one). */
  private readonly latest = new Map<string, AnalysisResult>();

  constructor(private readonly options: RolloutControllerOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Loads the deployments and starts the loop. */
  async start(): Promise<void> {
    await this.options.table.load();
    this.timer = setInterval(() => void this.tick(), this.options.tickMs ?? 1000);
    this.timer.unref();
  }

  /** Stops the loop and waits for a tick in progress. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.ticking;
  }

  /**
   * Creates a deployment serving `model`, or `routes` with weights (each pinned to the version it
   * names now and loaded first).
   * @throws PlinthError DEPLOYMENT_ALREADY_EXISTS, INVALID_ROUTES, model reference errors, INVALID_ROLLOUT when a version cannot be loaded.
   */
  async create(actor: Actor, input: { name: string; model?: string; routes?: Array<{ model: string; weight: number }>; description?: string }): Promise<Deployment> {
    if ((input.model === undefined) === (input.routes === undefined)) throw new PlinthError('INVALID_ROUTES', 'give either model (all traffic to one version) or routes ([{model, weight}])');
    const routes = input.routes ? await this.pinRoutes(input.routes) : initialSpec(await this.pin(input.model!)).routes;
    const deployment = await createDeployment(this.options.db, actor, { name: input.name, routes, ...(input.description !== undefined ? { description: input.description } : {}) });
    this.options.table.apply(deployment);
    return deployment;
  }

  /**
   * Sets a deployment's routes by hand (a fixed split); refused while a rollout is in progress.
   * @throws PlinthError DEPLOYMENT_NOT_FOUND, ROLLOUT_IN_PROGRESS, INVALID_ROUTES, model reference errors.
   */
  async setRoutes(actor: Actor, name: string, routes: Array<{ model: string; weight: number }>): Promise<Deployment> {
    const current = await getDeployment(this.options.db, name);
    if (current.rollout) throw inProgress(current);
    const pinned = await this.pinRoutes(routes);
    const deployment = await changeDeployment(this.options.db, actor, name, 'update', (latest) => {
      if (latest.rollout) throw inProgress(latest);
      return { spec: { routes: pinned, rollout: null, last_rollout: latest.last_rollout } };
    });
    this.options.table.apply(deployment!);
    return deployment!;
  }

  /**
   * Starts a rollout of `request.model` with a strategy. The candidate is loaded (and warmed up)
   * before any traffic moves.
   * @throws PlinthError DEPLOYMENT_NOT_FOUND, ROLLOUT_IN_PROGRESS, INVALID_ROLLOUT, model reference errors.
   */
  async rollout(actor: Actor, name: string, request: RolloutRequest): Promise<Deployment> {
    checkRolloutRequest(request);
    const current = await getDeployment(this.options.db, name);
    if (current.rollout) throw inProgress(current);
    const candidate = await this.pin(request.model);
    if (current.routes.some((r) => r.model === candidate)) {
      throw new PlinthError('INVALID_ROLLOUT', `${candidate} already serves deployment ${JSON.stringify(name)}; roll out another version`);
    }
    const deployment = await changeDeployment(this.options.db, actor, name, 'rollout', (latest) => {
      if (latest.rollout) throw inProgress(latest);
      return { spec: startRollout(latest, request, candidate, this.now()), details: { strategy: request.strategy, model: candidate } };
    });
    this.options.table.apply(deployment!);
    return deployment!;
  }

  /**
   * Ends the rollout in progress with the candidate taking all traffic.
   * @throws PlinthError DEPLOYMENT_NOT_FOUND, NO_ROLLOUT_IN_PROGRESS
   */
  async promote(actor: Actor, name: string): Promise<Deployment> {
    const deployment = await changeDeployment(this.options.db, actor, name, 'promote', (latest) => {
      if (!latest.rollout) throw new PlinthError('NO_ROLLOUT_IN_PROGRESS', `deployment ${JSON.stringify(name)} has no rollout in progress to promote`);
      return { spec: promote(latest, this.now(), 'promoted by hand'), details: { model: latest.rollout.model } };
    });
    this.options.table.apply(deployment!);
    this.latest.delete(name);
    return deployment!;
  }

  /**
   * During a rollout: aborts it (the stable version takes all traffic). Otherwise: goes back to the
   * routes of the newest earlier revision that had no rollout in progress and routed differently.
   * @throws PlinthError DEPLOYMENT_NOT_FOUND, NO_PREVIOUS_REVISION
   */
  async rollback(actor: Actor, name: string, reason: string | null): Promise<Deployment> {
    const revisions = await listRevisions(this.options.db, name);
    const deployment = await changeDeployment(this.options.db, actor, name, 'rollback', (latest) => {
      if (latest.rollout) return { spec: abort(latest, this.now(), reason ?? 'rolled back by hand'), reason, details: { model: latest.rollout.model } };
      const target = revisions.find((r) => r.revision < latest.revision && r.rollout === null && !sameRoutes(r, latest));
      if (!target) throw new PlinthError('NO_PREVIOUS_REVISION', `deployment ${JSON.stringify(name)} has no earlier revision with other routes to roll back to`);
      return { spec: { routes: target.routes, rollout: null, last_rollout: latest.last_rollout }, reason: reason ?? `back to revision ${target.revision}`, details: { to_revision: target.revision } };
    });
    this.options.table.apply(deployment!);
    this.latest.delete(name);
    return deployment!;
  }

  /** @throws PlinthError DEPLOYMENT_NOT_FOUND */
  async delete(actor: Actor, name: string): Promise<void> {
    await deleteDeployment(this.options.db, actor, name);
    this.options.table.remove(name);
    this.latest.delete(name);
  }

  list(): Promise<Deployment[]> {
    return listDeployments(this.options.db);
  }

  get(name: string): Promise<Deployment> {
    return getDeployment(this.options.db, name);
  }

  revisions(name: string) {
    return listRevisions(this.options.db, name);
  }

  /**
   * The live statistics of a deployment's current revision, with the canary's newest analysis, the
   * A/B tests, or the shadow comparison.
   * @throws PlinthError DEPLOYMENT_NOT_FOUND
   */
  async analysis(name: string): Promise<DeploymentAnalysis> {
    let live = this.options.table.get(name);
    if (!live) {
      this.options.table.apply(await getDeployment(this.options.db, name));
      live = this.options.table.get(name)!;
    }
    const deployment = live.deployment;
    const rollout = deployment.rollout;
    const variants = deployment.routes.map((route) => ({ model: route.model, role: route.role, weight: route.weight, ...live.stats.get(route.model)!.summary() }));
    let ab: DeploymentAnalysis['ab'] = null;
    if (rollout?.strategy === 'ab') {
      const labels = await this.labels(name, live, rollout.stable, rollout.model);
      ab = compareAB(live.stats.get(rollout.stable)!, live.stats.get(rollout.model)!, labels);
    }
    return {
      deployment: name,
      revision: deployment.revision,
      window_started_at: live.windowStartedAt,
      variants,
      canary: rollout?.strategy === 'canary' ? (this.latest.get(name) ?? rollout.last_analysis) : null,
      ab,
      shadow: live.shadowStats ? compareShadow(live.shadowStats) : null,
    };
  }

  /** One pass of the loop: pick up outside changes, then analyse every canary. Never throws. */
  tick(): Promise<void> {
    if (this.ticking) return this.ticking;
    this.ticking = (async () => {
      try {
        await this.options.table.refresh();
        for (const name of this.options.table.names()) {
          const live = this.options.table.get(name);
          if (live?.deployment.rollout?.strategy === 'canary') await this.analyseStep(live);
        }
      } catch (error) {
        this.options.logger.error({ err: error }, 'rollout controller tick failed');
      } finally {
        this.ticking = null;
      }
    })();
    return this.ticking;
  }

  /** Analyses a canary's current step and acts on the verdict. */
  private async analyseStep(live: LiveDeployment): Promise<void> {
    const deployment = live.deployment;
    const rollout = deployment.rollout!;
    const stable = live.stats.get(rollout.stable);
    const canary = live.stats.get(rollout.model);
    if (!stable || !canary) return;
    // After a restart the window starts again, so a step always gets its full interval of traffic.
    const stepStarted = Math.max(rollout.step_started_at ?? 0, live.windowStartedAt);
    const due = this.now() - stepStarted >= rollout.interval_seconds! * 1000;
    const thresholds = rollout.analysis!;
    const options = {
      minRequests: rollout.min_requests!,
      maxErrorRate: thresholds.max_error_rate,
      maxLatencyRatio: thresholds.max_latency_ratio,
      maxP99Ms: thresholds.max_p99_ms,
      maxPredictionPsi: thresholds.max_prediction_psi,
      maxQualityDrop: thresholds.max_quality_drop,
      qualityMetric: thresholds.quality_metric,
    };
    // Labels are read only when the step is due: a failing error rate or latency needs none.
    const labels = due ? await this.labels(deployment.name, live, rollout.stable, rollout.model) : undefined;
    const result = analyseCanary(stable, canary, options, labels);
    const analysis: AnalysisResult = { verdict: result.verdict, checks: result.checks, at: this.now() };
    this.latest.set(deployment.name, analysis);
    if (analysis.verdict === 'fail') {
      const changed = await changeDeployment(this.options.db, SYSTEM_ACTOR, deployment.name, 'rollback', (latest) => ({
        spec: abort(latest, this.now(), `canary analysis failed at ${rollout.steps![rollout.step!]}%`, analysis),
        reason: 'canary analysis failed',
        details: { model: rollout.model, checks: analysis.checks.filter((c) => !c.passed) },
      }), deployment.revision);
      if (changed) this.transitioned(changed, 'rolled_back', rollout.model, changed.last_rollout?.reason ?? null);
      return;
    }
    if (!due || analysis.verdict !== 'pass') return;
    const changed = await changeDeployment(this.options.db, SYSTEM_ACTOR, deployment.name, 'step', (latest) => {
      const spec = nextStep(latest, analysis, this.now());
      return { spec, reason: spec.rollout ? `step ${rollout.step! + 1} passed its analysis` : 'every step passed its analysis', details: { model: rollout.model } };
    }, deployment.revision);
    if (changed) this.transitioned(changed, changed.rollout ? 'step' : 'promoted', rollout.model, null);
  }

  private transitioned(deployment: Deployment, type: RolloutEvent['type'], model: string, reason: string | null): void {
    this.options.table.apply(deployment);
    if (type !== 'step') this.latest.delete(deployment.name);
    const event: RolloutEvent = { type, deployment: deployment.name, model, revision: deployment.revision, reason };
    if (type === 'rolled_back') this.options.logger.warn(event, 'canary rolled back automatically');
    else this.options.logger.info(event, type === 'promoted' ? 'canary promoted' : 'canary moved to its next step');
    this.options.onEvent?.(event);
  }

  /** Labelled predictions of two variants' recent requests, when feedback has arrived for them. */
  private async labels(name: string, live: LiveDeployment, a: string, b: string): Promise<{ stable: LabelledPrediction[]; canary: LabelledPrediction[] } | undefined> {
    if (!this.options.labelsFor) return undefined;
    const recentA = live.stats.get(a)!.recent();
    const recentB = live.stats.get(b)!.recent();
    if (recentA.length === 0 && recentB.length === 0) return undefined;
    const labels = await this.options.labelsFor(name, [...recentA.map((r) => r.requestId), ...recentB.map((r) => r.requestId)]);
    if (labels.size === 0) return undefined;
    const join = (recent: Array<{ requestId: string; prediction: number | null }>) => recent.flatMap((r) => {
      const label = labels.get(r.requestId);
      return label === undefined || r.prediction === null ? [] : [{ prediction: r.prediction, label: Array.isArray(label) ? label[0] : label }];
    });
    return { stable: join(recentA), canary: join(recentB) };
  }

  /** Checks hand-given routes, pinning and loading each version. */
  private async pinRoutes(routes: Array<{ model: string; weight: number }>): Promise<Route[]> {
    manualRoutes(routes);
    const pinned: Array<{ model: string; weight: number }> = [];
    for (const route of routes) pinned.push({ model: await this.pin(route.model), weight: route.weight });
    return manualRoutes(pinned);
  }

  /** Resolves a reference to the version it names now (`name@N`) and loads it. */
  private async pin(reference: string): Promise<string> {
    const model = await this.options.engine.describe(reference);
    try {
      await this.options.engine.load(model.reference);
    } catch (error) {
      throw new PlinthError('INVALID_ROLLOUT', `${model.reference} cannot be served: ${(error as Error).message}`);
    }
    return model.reference;
  }
}

function inProgress(deployment: Deployment): PlinthError {
  const rollout = deployment.rollout!;
  return new PlinthError('ROLLOUT_IN_PROGRESS', `deployment ${JSON.stringify(deployment.name)} has a ${rollout.strategy} rollout of ${rollout.model} in progress: promote it or roll it back first`);
}
