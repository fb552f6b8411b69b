// HTTP routes of deployments under /api/v1: create, list, read, delete; roll out with a strategy,
// promote, roll back; revisions (history) and the live analysis. Inference through a deployment is
// served by the serving routes (OIP and invocations) through the DeploymentTable gateway.
import type { FastifyPluginAsync } from 'fastify';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { actorOf } from '../auth/index.js';
import { assertValidName } from '../core/index.js';
import type { RolloutController } from './controller.js';
import { STRATEGIES, type RolloutRequest } from './spec.js';

export interface DeploymentRoutesOptions {
  controller: RolloutController;
}

const Name = Type.String({ maxLength: 1024 });
const Params = Type.Object({ name: Name });
const ModelReference = Type.String({ minLength: 1, maxLength: 1024, description: 'name, name@N or name@alias; pinned to the version it names now' });

const Routes = Type.Array(Type.Object({
  model: ModelReference,
  weight: Type.Number({ description: 'percent of requests; the weights add up to 100' }),
}, { additionalProperties: false }), { minItems: 1, maxItems: 16, description: 'a fixed split; the first route is the stable one' });

const CreateBody = Type.Object({
  name: Name,
  model: Type.Optional(ModelReference),
  routes: Type.Optional(Routes),
  description: Type.Optional(Type.String({ maxLength: 10_000 })),
}, { additionalProperties: false, description: 'either model (all traffic to one version) or routes' });

const Percent = (description: string) => Type.Number({ exclusiveMinimum: 0, maximum: 100, description });

const RolloutBody = Type.Object({
  model: ModelReference,
  strategy: Type.Union(STRATEGIES.map((s) => Type.Literal(s))),
  steps: Type.Optional(Type.Array(Type.Number(), { minItems: 1, maxItems: 100, description: 'canary: step weights in percent, ascending, ending at 100' })),
  interval_seconds: Type.Optional(Type.Number({ minimum: 0.05, maximum: 7 * 24 * 3600, description: 'canary: how long each step runs before its analysis decides' })),
  min_requests: Type.Optional(Type.Integer({ minimum: 1, maximum: 100_000_000, description: 'canary: requests the canary must have served in a step before it may pass' })),
  analysis: Type.Optional(Type.Object({
    max_error_rate: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    max_latency_ratio: Type.Optional(Type.Number({ minimum: 1, maximum: 1000 })),
    max_p99_ms: Type.Optional(Type.Union([Type.Number({ exclusiveMinimum: 0 }), Type.Null()])),
    max_prediction_psi: Type.Optional(Type.Number({ minimum: 0 })),
    max_quality_drop: Type.Optional(Type.Number({ minimum: 0 })),
    quality_metric: Type.Optional(Type.Union([Type.Literal('accuracy'), Type.Literal('mae'), Type.Null()])),
  }, { additionalProperties: false })),
  weight: Type.Optional(Percent('ab: the candidate\'s share of requests, percent')),
  sticky: Type.Optional(Type.Object({
    header: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    field: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
  }, { additionalProperties: false, description: 'ab: keep each user on one variant, by a request header or an input field' })),
  percent: Type.Optional(Percent('shadow: the percent of requests copied to the candidate')),
}, { additionalProperties: false });

const RollbackBody = Type.Union([Type.Object({ reason: Type.Optional(Type.String({ maxLength: 10_000 })) }, { additionalProperties: false }), Type.Null()]);

function checkName(name: string): string {
  assertValidName(name, 'deployment name');
  return name;
}

export const deploymentRoutes: FastifyPluginAsync<DeploymentRoutesOptions> = async (fastify, { controller }) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();

  app.post('/deployments', {
    config: { permission: 'write' },
    schema: { tags: ['deployments'], summary: 'Create a deployment: a stable name routing to a model version', body: CreateBody },
  }, async (request, reply) => {
    const deployment = await controller.create(actorOf(request), request.body);
    return reply.code(201).send(deployment);
  });

  app.get('/deployments', {
    config: { permission: 'read' },
    schema: { tags: ['deployments'], summary: 'Every deployment with its routes and rollout state' },
  }, async () => ({ deployments: await controller.list() }));

  app.get('/deployments/:name', {
    config: { permission: 'read' },
    schema: { tags: ['deployments'], summary: 'A deployment: routes with weights, rollout state, revision', params: Params },
  }, async (request) => controller.get(checkName(request.params.name)));

  app.delete('/deployments/:name', {
    config: { permission: 'write' },
    schema: { tags: ['deployments'], summary: 'Delete a deployment (its prediction log stays until retention removes it)', params: Params },
  }, async (request, reply) => {
    await controller.delete(actorOf(request), checkName(request.params.name));
    return reply.code(204).send();
  });

  app.put('/deployments/:name/routes', {
    config: { permission: 'write' },
    schema: { tags: ['deployments'], summary: 'Set the routes by hand: a fixed split of versions by weight (not while a rollout runs)', params: Params, body: Type.Object({ routes: Routes }, { additionalProperties: false }) },
  }, async (request) => controller.setRoutes(actorOf(request), checkName(request.params.name), request.body.routes));

  app.post('/deployments/:name/rollout', {
    config: { permission: 'write' },
    schema: { tags: ['deployments'], summary: 'Roll out a model version: canary, ab, shadow or blue-green', params: Params, body: RolloutBody },
  }, async (request) => controller.rollout(actorOf(request), checkName(request.params.name), request.body as RolloutRequest));

  app.post('/deployments/:name/promote', {
    config: { permission: 'write' },
    schema: { tags: ['deployments'], summary: 'Promote the rollout in progress: the candidate takes all traffic', params: Params },
  }, async (request) => controller.promote(actorOf(request), checkName(request.params.name)));

  app.post('/deployments/:name/rollback', {
    config: { permission: 'write' },
    schema: { tags: ['deployments'], summary: 'Roll back: abort the rollout in progress, or return to the previous routes', params: Params, body: Type.Optional(RollbackBody) },
  }, async (request) => controller.rollback(actorOf(request), checkName(request.params.name), request.body?.reason ?? null));

  app.get('/deployments/:name/revisions', {
    config: { permission: 'read' },
    schema: { tags: ['deployments'], summary: "A deployment's revisions, newest first: who changed what, when and why", params: Params },
  }, async (request) => ({ revisions: await controller.revisions(checkName(request.params.name)) }));

  app.get('/deployments/:name/analysis', {
    config: { permission: 'read' },
    schema: { tags: ['deployments'], summary: "Live per-variant metrics of the current revision, with the canary's analysis, A/B tests or shadow comparison", params: Params },
  }, async (request) => controller.analysis(checkName(request.params.name)));
};
