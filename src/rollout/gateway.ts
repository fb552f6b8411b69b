// The live side of deployments: an in-memory table of every deployment's current routes, read by
// the protocol routes on each request (synchronously, no database round trip). It picks the version
// that answers — smooth weighted round-robin, so a route at 5 % gets 5 % of requests to within one
// request, or a hash of a sticky key for A/B tests — decides which requests are mirrored to a
// shadow, keeps per-variant statistics for the rollout analysis, and writes the prediction log
// before the response goes out.
//
// The table follows the store: changes made through this server are applied at once, and changes
// made elsewhere (another server on the same PostgreSQL) are picked up by `refresh`, which the
// controller calls every second.
import type { Logger } from '../core/index.js';
import type { PredictionLog } from '../predlog/index.js';
import type { DeploymentGateway, InferenceOutcome, RoutedRequest, RoutingContext, ServedModel, TensorMap } from '../serving/index.js';
import type { Db } from '../store/index.js';
import { deploymentRevisions, getDeployment, listDeployments, type Deployment } from './deployments.js';
import { stableModel } from './spec.js';
import { ShadowStats, VariantStats } from './variant-stats.js';

interface WeightedRoute {
  model: string;
  weight: number;
  /** Smooth weighted round-robin state. */
  current: number;
}

/** One deployment as the request path sees it. */
export class LiveDeployment {
  readonly routes: WeightedRoute[];
  readonly mirror: { model: string; percent: number } | null;
  private mirrored = 0;
  /** Statistics of the current revision's traffic, by model version. */
  readonly stats = new Map<string, VariantStats>();
  readonly shadowStats: ShadowStats | null;

  constructor(readonly deployment: Deployment, readonly windowStartedAt: number) {
    this.routes = deployment.routes.filter((r) => r.role !== 'shadow' && r.weight > 0).map((r) => ({ model: r.model, weight: r.weight, current: 0 }));
    const shadow = deployment.routes.find((r) => r.role === 'shadow' && r.weight > 0);
    this.mirror = shadow ? { model: shadow.model, percent: shadow.weight } : null;
    this.shadowStats = shadow ? new ShadowStats(windowStartedAt) : null;
    for (const route of deployment.routes) this.stats.set(route.model, new VariantStats(windowStartedAt));
  }

  /** The version for a request: by the sticky key's hash when there is one, else round-robin by weight. */
  pick(stickyKey: string | undefined): string {
    const routes = this.routes;
    if (routes.length === 1) return routes[0]!.model;
    if (stickyKey !== undefined) {
      let bucket = stickyBucket(stickyKey);
      for (const route of routes) {
        bucket -= route.weight * 100;
        if (bucket < 0) return route.model;
      }
      return routes[routes.length - 1]!.model;
    }
    let total = 0;
    let best = routes[0]!;
    for (const route of routes) {
      route.current += route.weight;
      total += route.weight;
      if (route.current > best.current) best = route;
    }
    best.current -= total;
    return best.model;
  }

  /** Whether this request is copied to the shadow: exactly `percent` of requests, evenly spread. */
  mirrors(): boolean {
    if (!this.mirror) return false;
    const n = this.mirrored++;
    return Math.floor(((n + 1) * this.mirror.percent) / 100) > Math.floor((n * this.mirror.percent) / 100);
  }
}

/** A key's bucket in [0, 10000): FNV-1a, so one user always lands on the same variant. */
export function stickyBucket(key: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % 10000;
}

/** The first value of a model's first output, as a number (the prediction the analysis compares). */
export function firstPrediction(model: ServedModel | null, outputs: TensorMap | null): number | undefined {
  if (!model || !outputs) return undefined;
  const name = model.signature.outputs[0]?.name;
  const tensor = name === undefined ? undefined : outputs[name];
  if (!tensor || tensor.data.length === 0) return undefined;
  const value = tensor.data[0];
  if (typeof value === 'string') return undefined;
  const n = Number(value);
  return Number.isFinite(n) ? n : undefined;
}

export interface DeploymentTableOptions {
  db: Db;
  /** Where served requests are logged; null logs nothing. */
  log: PredictionLog | null;
  logger: Logger;
  now?: () => number;
}

/** Every deployment's live routes and statistics; the serving routes' DeploymentGateway. */
export class DeploymentTable implements DeploymentGateway {
  private readonly live = new Map<string, LiveDeployment>();
  private readonly now: () => number;

  constructor(private readonly options: DeploymentTableOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Loads every deployment from the store (at start). */
  async load(): Promise<void> {
    for (const deployment of await listDeployments(this.options.db)) this.apply(deployment);
  }

  /** Picks up changes made elsewhere: deployments created, changed or deleted since the last look. */
  async refresh(): Promise<void> {
    const revisions = await deploymentRevisions(this.options.db);
    for (const name of this.live.keys()) if (!revisions.has(name)) this.live.delete(name);
    for (const [name, revision] of revisions) {
      if (this.live.get(name)?.deployment.revision === revision) continue;
      try {
        this.apply(await getDeployment(this.options.db, name));
      } catch {
        // Deleted in between: the next refresh drops it.
      }
    }
  }

  /** Applies a deployment's current revision (a no-op for a revision already applied or older). */
  apply(deployment: Deployment): void {
    const current = this.live.get(deployment.name);
    if (current && current.deployment.revision >= deployment.revision) return;
    this.live.set(deployment.name, new LiveDeployment(deployment, this.now()));
  }

  remove(name: string): void {
    this.live.delete(name);
  }

  /** The live state of a deployment, or undefined. */
  get(name: string): LiveDeployment | undefined {
    return this.live.get(name);
  }

  names(): string[] {
    return [...this.live.keys()];
  }

  stableReference(name: string): string | null {
    const live = this.live.get(name);
    return live ? stableModel(live.deployment) : null;
  }

  route(name: string, context: RoutingContext): RoutedRequest | null {
    const live = this.live.get(name);
    if (!live) return null;
    const sticky = live.deployment.rollout?.sticky;
    let key: string | undefined;
    if (sticky?.header !== undefined) key = context.header(sticky.header);
    else if (sticky?.field !== undefined) {
      const value = context.field(sticky.field);
      if (value !== undefined && value !== null) key = String(value);
    }
    const reference = live.pick(key);
    const mirror = live.mirrors() ? live.mirror!.model : null;
    const requestId = context.requestId;
    const log = this.options.log;
    let primaryPrediction: number | undefined;
    return {
      deployment: name,
      reference,
      mirror,
      complete: async (outcome: InferenceOutcome) => {
        // Bad input (4xx) is the caller's doing, not the version's: it is not counted against it.
        if (outcome.status >= 400 && outcome.status < 500) return;
        primaryPrediction = firstPrediction(outcome.model, outcome.outputs);
        live.stats.get(reference)?.record({ ok: outcome.status < 400, latencyMs: outcome.latencyMs, prediction: primaryPrediction, requestId });
        if (log && outcome.model && outcome.feeds && log.sampled(requestId)) {
          await log.append(this.logRecord(name, requestId, 'primary', outcome));
        }
      },
      completeMirror: (outcome: InferenceOutcome) => {
        const shadowPrediction = firstPrediction(outcome.model, outcome.outputs);
        live.shadowStats?.record({ primary: primaryPrediction, shadow: shadowPrediction, shadowOk: outcome.status < 400 });
        if (outcome.status < 400 || outcome.status >= 500) {
          live.stats.get(mirror!)?.record({ ok: outcome.status < 400, latencyMs: outcome.latencyMs, prediction: shadowPrediction, requestId });
        }
        if (log && outcome.model && outcome.feeds && log.sampled(requestId)) {
          log.append(this.logRecord(name, requestId, 'shadow', outcome)).catch((error: unknown) => {
            this.options.logger.warn({ err: error, deployment: name }, 'shadow prediction not logged');
          });
        }
      },
    };
  }

  private logRecord(deployment: string, requestId: string, role: 'primary' | 'shadow', outcome: InferenceOutcome) {
    return {
      deployment,
      requestId,
      role,
      model: outcome.model!,
      inputs: outcome.feeds!,
      outputs: outcome.outputs,
      at: this.now(),
      latencyMs: outcome.latencyMs,
      status: outcome.status,
      ...(outcome.error !== undefined ? { error: outcome.error } : {}),
    };
  }
}
