// HTTP routes of live monitoring: a deployment's monitors (create, list, show, delete, run now, their
// results), the latest results and history by kind (GET …/drift, …/quality, …/performance), and a
// model version's reference profile (PUT/GET /models/{name}/versions/{v}/reference).
import type { FastifyPluginAsync } from 'fastify';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { actorOf } from '../auth/index.js';
import { assertValidName, nowMs, PlinthError } from '../core/index.js';
import { parseTimeParameter } from '../predlog/index.js';
import { getVersion, parseVersionSelector } from '../registry/index.js';
import type { ArtifactStore, Db } from '../store/index.js';
import { MAX_WINDOW_REQUESTS } from './live-window.js';
import type { MonitorResult } from './monitor-kind.js';
import { assertDeploymentExists, createMonitor, deleteMonitor, getMonitor, updateMonitor, latestResults, listMonitors, listResults, MAX_RESULTS_PAGE, type Monitor } from './monitors.js';
import { describeReference, setReferenceFromDataset, setReferenceFromTraffic } from './reference-profiles.js';
import type { MonitorScheduler } from './scheduler.js';

export interface MonitorApiRoutesOptions {
  db: Db;
  artifacts: ArtifactStore;
  scheduler: MonitorScheduler;
  /** The clock, ms since epoch. @default Date.now */
  now?: () => number;
}

/** A result as the API shows it. */
export function resultView(r: MonitorResult): Record<string, unknown> {
  return {
    id: r.id,
    monitor: r.monitor,
    monitor_id: r.monitorId,
    deployment: r.deployment,
    kind: r.kind,
    status: r.status,
    rows: r.rows,
    window_start: r.windowStart,
    window_end: r.windowEnd,
    computed_at: r.computedAt,
    metrics: r.metrics,
    result: r.result,
  };
}

const DeploymentParams = Type.Object({ name: Type.String({ maxLength: 256 }) });
const MonitorParams = Type.Object({ name: Type.String({ maxLength: 256 }), monitor: Type.String({ maxLength: 256 }) });
const VersionParams = Type.Object({ name: Type.String({ maxLength: 256 }), version: Type.String({ maxLength: 256 }) });
const ResultsQuery = Type.Object(
  {
    since: Type.Optional(Type.String({ maxLength: 64, description: 'ms since epoch or ISO 8601: results computed at or after' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_RESULTS_PAGE })),
    monitor: Type.Optional(Type.String({ maxLength: 256 })),
  },
  { additionalProperties: false },
);

const CreateBody = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 256 }),
    kind: Type.String({ minLength: 1, maxLength: 64, description: 'drift | quality | performance | concept' }),
    window: Type.Optional(Type.Unknown({ description: '{"requests": N} (the newest N answered requests) or {"seconds": S}; default {"requests": 1000}' })),
    config: Type.Optional(Type.Unknown({ description: "the kind's settings" })),
    schedule_seconds: Type.Optional(Type.Union([Type.Integer(), Type.Null()], { description: 'seconds between runs (default 300); null runs only on demand' })),
    enabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

const UpdateBody = Type.Object(
  {
    window: Type.Optional(Type.Unknown({ description: '{"requests": N} or {"seconds": S}' })),
    config: Type.Optional(Type.Unknown({ description: "the kind's settings (replaced whole)" })),
    schedule_seconds: Type.Optional(Type.Union([Type.Integer(), Type.Null()], { description: 'seconds between runs; null runs only on demand' })),
    enabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false, minProperties: 1 },
);

const ReferenceBody = Type.Object(
  {
    dataset: Type.Optional(Type.String({ minLength: 1, maxLength: 400, description: 'a dataset version: name@N or name@latest' })),
    prediction_column: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: "with dataset: the column holding the model's predictions" })),
    deployment: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: "a deployment whose traffic (this version's answered requests) becomes the reference" })),
    since: Type.Optional(Type.String({ maxLength: 64 })),
    until: Type.Optional(Type.String({ maxLength: 64 })),
    last: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_WINDOW_REQUESTS })),
  },
  { additionalProperties: false },
);

export const monitorApiRoutes: FastifyPluginAsync<MonitorApiRoutesOptions> = async (fastify, { db, artifacts, scheduler, now = nowMs }) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();

  const withLatest = async (monitor: Monitor) => {
    const latest = await db.selectFrom('monitor_results').select(['status', 'computed_at']).where('monitor_id', '=', monitor.id).orderBy('computed_at', 'desc').orderBy('id', 'desc').limit(1).executeTakeFirst();
    return { ...monitor, latest: latest ? { status: latest.status, computed_at: Number(latest.computed_at) } : null };
  };

  app.post('/deployments/:name/monitors', {
    config: { permission: 'write' },
    schema: { tags: ['monitoring'], summary: 'Create a monitor of a deployment: kind, window, schedule and the kind\'s settings', params: DeploymentParams, body: CreateBody },
  }, async (request, reply) => {
    const body = request.body;
    const monitor = await createMonitor(db, actorOf(request), request.params.name, body, now());
    return reply.code(201).send(monitor);
  });

  app.get('/deployments/:name/monitors', {
    config: { permission: 'read' },
    schema: { tags: ['monitoring'], summary: "A deployment's monitors with their latest status", params: DeploymentParams },
  }, async (request) => ({ monitors: await Promise.all((await listMonitors(db, request.params.name)).map(withLatest)) }));

  app.get('/deployments/:name/monitors/:monitor', {
    config: { permission: 'read' },
    schema: { tags: ['monitoring'], summary: 'One monitor with its latest status', params: MonitorParams },
  }, async (request) => withLatest(await getMonitor(db, request.params.name, request.params.monitor)));

  app.patch('/deployments/:name/monitors/:monitor', {
    config: { permission: 'write' },
    schema: { tags: ['monitoring'], summary: "Change a monitor's window, settings, schedule, or enable or disable it", params: MonitorParams, body: UpdateBody },
  }, async (request) => withLatest(await updateMonitor(db, actorOf(request), request.params.name, request.params.monitor, request.body, now())));

  app.delete('/deployments/:name/monitors/:monitor', {
    config: { permission: 'write' },
    schema: { tags: ['monitoring'], summary: 'Delete a monitor and its results', params: MonitorParams },
  }, async (request) => deleteMonitor(db, actorOf(request), request.params.name, request.params.monitor));

  app.post('/deployments/:name/monitors/:monitor/run', {
    config: { permission: 'write' },
    schema: { tags: ['monitoring'], summary: 'Run a monitor now; answers its stored result', params: MonitorParams },
  }, async (request) => resultView(await scheduler.runNow(request.params.name, request.params.monitor)));

  app.get('/deployments/:name/monitors/:monitor/results', {
    config: { permission: 'read' },
    schema: { tags: ['monitoring'], summary: "A monitor's results, newest first", params: MonitorParams, querystring: ResultsQuery },
  }, async (request) => {
    const q = request.query;
    const results = await listResults(db, {
      deployment: request.params.name,
      monitor: request.params.monitor,
      since: q.since !== undefined ? parseTimeParameter(q.since, 'since') : undefined,
      limit: q.limit,
    });
    return { results: results.map(resultView) };
  });

  for (const kind of ['drift', 'quality', 'performance', 'concept'] as const) {
    app.get(`/deployments/:name/${kind}`, {
      config: { permission: 'read' },
      schema: { tags: ['monitoring'], summary: `The latest ${kind} result of each ${kind} monitor of a deployment, and their history newest first (?since, ?limit, ?monitor)`, params: DeploymentParams, querystring: ResultsQuery },
    }, async (request) => {
      const q = request.query;
      const deployment = request.params.name;
      const history = await listResults(db, { deployment, kind, monitor: q.monitor, since: q.since !== undefined ? parseTimeParameter(q.since, 'since') : undefined, limit: q.limit });
      const latest = (await latestResults(db, deployment, kind)).filter((r) => q.monitor === undefined || r.monitor === q.monitor);
      return { deployment, kind, latest: latest.map(resultView), history: history.map(resultView) };
    });
  }

  const resolve = async (name: string, version: string) => {
    assertValidName(name, 'model name');
    return (await getVersion(db, name, parseVersionSelector(version))).version;
  };

  app.put('/models/:name/versions/:version/reference', {
    config: { permission: 'write' },
    schema: {
      tags: ['monitoring'],
      summary: "Set a model version's reference profile from a dataset version ({dataset, prediction_column?}), from a window of a deployment's traffic ({deployment, since?, until?, last?}), or ({}) from its training dataset link",
      params: VersionParams,
      body: ReferenceBody,
    },
  }, async (request) => {
    const { name } = request.params;
    const body = request.body;
    const version = await resolve(name, request.params.version);
    const actor = actorOf(request);
    if (body.dataset !== undefined && body.deployment !== undefined) throw new PlinthError('INVALID_ARGUMENT', 'give one of dataset (a dataset version) or deployment (a window of its traffic), not both');
    if (body.dataset === undefined && body.deployment === undefined) {
      // Neither: rebuild from the version's training dataset link.
      const record = await getVersion(db, name, { kind: 'version', version });
      const training = record.datasets.find((d) => d.role === 'training');
      if (!training) throw new PlinthError('INVALID_ARGUMENT', `dataset: ${name}@${version} has no training dataset link; give dataset or deployment`);
      body.dataset = training.reference;
    }
    if (body.dataset !== undefined) {
      const extra = (['since', 'until', 'last'] as const).find((k) => body[k] !== undefined);
      if (extra) throw new PlinthError('INVALID_ARGUMENT', `${extra}: only with deployment`);
      return setReferenceFromDataset(db, artifacts, actor, name, version, body.dataset, body.prediction_column ?? null, scheduler.predict);
    }
    if (body.prediction_column !== undefined) throw new PlinthError('INVALID_ARGUMENT', 'prediction_column: only with dataset (traffic holds the predictions)');
    const deployment = body.deployment!;
    await assertDeploymentExists(db, deployment);
    const since = body.since !== undefined ? parseTimeParameter(body.since, 'since') : null;
    const until = body.until !== undefined ? parseTimeParameter(body.until, 'until') : now() + 1;
    if (since !== null && since >= until) throw new PlinthError('INVALID_ARGUMENT', 'since: must be before until');
    return setReferenceFromTraffic(db, artifacts, actor, name, version, deployment, { since, until, lastN: body.last ?? null });
  });

  app.get('/models/:name/versions/:version/reference', {
    config: { permission: 'read' },
    schema: { tags: ['monitoring'], summary: "A model version's reference profile: where it came from and, per feature, counts, range or top categories", params: VersionParams },
  }, async (request) => {
    const version = await resolve(request.params.name, request.params.version);
    return describeReference(db, artifacts, request.params.name, version);
  });
};
