// HTTP routes of pipelines, under /api/v1: apply (create or update from YAML text), list, show,
// delete; start a run, list the history, read one run with its steps, logs and lineage.
import type { FastifyPluginAsync } from 'fastify';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { actorOf } from '../auth/index.js';
import { MAX_HISTORY, type PipelineService } from './service.js';

export interface PipelineRoutesOptions {
  service: PipelineService;
}

const NameParams = Type.Object({ name: Type.String({ minLength: 1, maxLength: 128 }) });
const RunParams = Type.Object({ name: Type.String({ minLength: 1, maxLength: 128 }), run: Type.String({ minLength: 1, maxLength: 128, description: 'the run id or its number' }) });

export const pipelineRoutes: FastifyPluginAsync<PipelineRoutesOptions> = async (fastify, { service }) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();

  app.post('/pipelines', {
    config: { permission: 'write' },
    schema: {
      tags: ['pipelines'],
      summary: 'Create a pipeline from its YAML definition, or replace the definition of the pipeline with that name (201 created, 200 updated)',
      body: Type.Object({ yaml: Type.String({ minLength: 1, maxLength: 256 * 1024, description: 'the pipeline file (YAML or JSON)' }) }, { additionalProperties: false }),
    },
  }, async (request, reply) => {
    const { created, pipeline } = await service.apply(actorOf(request), request.body.yaml);
    return reply.code(created ? 201 : 200).send({ created, pipeline });
  });

  app.get('/pipelines', {
    config: { permission: 'read' },
    schema: { tags: ['pipelines'], summary: 'List pipelines with their triggers and last run' },
  }, async () => ({ pipelines: await service.list() }));

  app.get('/pipelines/:name', {
    config: { permission: 'read' },
    schema: { tags: ['pipelines'], summary: 'Read a pipeline: its definition, steps in run order, triggers, next scheduled tick, last run', params: NameParams },
  }, async (request) => service.get(request.params.name));

  app.delete('/pipelines/:name', {
    config: { permission: 'write' },
    schema: { tags: ['pipelines'], summary: 'Delete a pipeline and its run history (models, datasets and tracking runs stay)', params: NameParams },
  }, async (request) => service.delete(actorOf(request), request.params.name));

  app.post('/pipelines/:name/runs', {
    config: { permission: 'write' },
    schema: { tags: ['pipelines'], summary: 'Start a run (202); 409 while the pipeline has a run in progress', params: NameParams },
  }, async (request, reply) => reply.code(202).send(await service.startRun(actorOf(request), request.params.name, 'manual', { requested_by: actorOf(request).name })));

  app.get('/pipelines/:name/runs', {
    config: { permission: 'read' },
    schema: {
      tags: ['pipelines'], summary: 'Runs of a pipeline, newest first, with their step states', params: NameParams,
      querystring: Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_HISTORY })) }),
    },
  }, async (request) => ({ runs: await service.listRuns(request.params.name, request.query.limit ?? 100) }));

  app.get('/pipelines/:name/runs/:run', {
    config: { permission: 'read' },
    schema: { tags: ['pipelines'], summary: 'One run: its steps (status, cached, timings, outputs, log, error) and lineage (dataset → run → model version → deployment)', params: RunParams },
  }, async (request) => service.getRun(request.params.name, request.params.run));
};
