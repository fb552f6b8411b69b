// The composition root's second half: the Fastify app with its cross-cutting hooks (request ids,
// authentication, errors, metrics, OpenAPI), every area's route plugin under /api/v1, and the Open
// Inference Protocol routes under /v2 (with their own error format).
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import multipart from '@fastify/multipart';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { sql } from 'kysely';
import { authRoutes, installAuthentication, type Permission } from '../auth/index.js';
import { lazyChildLogger, loggerOptions, newTimeOrderedId, type Logger } from '../core/index.js';
import { mlflowArtifactRoutes, mlflowRoutes } from '../mlflow/index.js';
import { datasetRoutes } from '../datasets/index.js';
import { alertRoutes, driftReportRoutes, monitorApiRoutes, monitorRoutes } from '../monitor/index.js';
import { pipelineRoutes } from '../pipeline/index.js';
import { predictionRoutes } from '../predlog/index.js';
import { registryRoutes } from '../registry/index.js';
import { deploymentRoutes } from '../rollout/index.js';
import { invocationsRoutes, oipRoutes, servingConfigRoutes } from '../serving/index.js';
import { trackingRoutes } from '../tracking/index.js';
import { installErrorHandling } from './errors.js';
import { inferenceRequestMetrics, installMetrics, monitorMetrics, predictionLogMetrics, rolloutMetrics } from './metrics.js';
import { installValidation } from './validation.js';
import type { Platform } from './platform.js';

export interface AppOptions {
  /** Log requests (off in tests to keep output readable). @default true */
  logRequests?: boolean;
}

export interface RouteEntry {
  method: string;
  url: string;
  permission: Permission;
}

export interface App {
  fastify: FastifyInstance;
  /** Every route with the permission it needs (HEAD routes left out). */
  routes: readonly RouteEntry[];
  /** Marks the app as shutting down: /readyz answers 503 from then on. */
  beginShutdown(): void;
}

const REQUEST_ID_RE = /^[A-Za-z0-9._:-]{1,128}$/;

/** The server's version, reported by the OpenAPI document and `GET /v2`. */
export const SERVER_VERSION = '0.1.0';

/** Builds the HTTP app over an open platform. Does not listen. */
export async function buildApp(platform: Platform, options: AppOptions = {}): Promise<App> {
  const { config, database, artifacts } = platform;
  let shuttingDown = false;
  const fastify = Fastify({
    ...(options.logRequests === false
      ? { logger: false }
      : {
          logger: loggerOptions(config.logLevel),
          // Each request's child logger (bound to its id) is made when it first logs, not for every request.
          childLoggerFactory: ((logger: unknown, bindings: Record<string, unknown>, childOptions: { level?: string }) => lazyChildLogger(logger as Logger, bindings, childOptions)) as unknown as FastifyServerOptions['childLoggerFactory'],
        }),
    bodyLimit: config.maxBodyBytes,
    // A caller's x-request-id is kept when it is sane; otherwise a fresh one is generated.
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      // Generated ids sort by time (UUIDv7), which keeps the prediction log's request-id index cheap to append to.
      return typeof given === 'string' && REQUEST_ID_RE.test(given) ? given : newTimeOrderedId();
    },
    // Long path segments reach the route and its schema (a JSON 400), rather than a bare 414.
    routerOptions: { maxParamLength: 4096 },
    forceCloseConnections: 'idle',
    return503OnClosing: true,
  });

  // swagger-ui's own routes are documentation, readable without a token.
  fastify.addHook('onRoute', (route) => {
    if (route.url.startsWith('/docs')) route.config = { ...(route.config ?? {}), permission: 'public' };
  });
  const routes: RouteEntry[] = [];
  fastify.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) {
      if (method !== 'HEAD') routes.push({ method, url: route.url, permission: route.config?.permission ?? 'admin' });
    }
  });
  // Callback-style hooks on the request path: no promise per request.
  fastify.addHook('onRequest', (request, reply, done) => {
    void reply.header('x-request-id', request.id);
    done();
  });
  // Before any route is registered: each route gets its token check when it is registered.
  const principals = installAuthentication(fastify, database.db);
  installValidation(fastify);
  // JSON and multipart are the API's media types; a text body is refused with 415, not misread.
  fastify.removeContentTypeParser('text/plain');
  installErrorHandling(fastify);
  const metrics = installMetrics(fastify);
  platform.engine.registerMetrics(metrics);
  const observe = inferenceRequestMetrics(metrics);
  platform.rolloutListeners.push(rolloutMetrics(metrics));
  predictionLogMetrics(metrics, () => platform.predictionLog.stats());
  platform.monitors.onResult(monitorMetrics(metrics));

  await fastify.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Plinth API', version: SERVER_VERSION, description: 'Model registry, datasets, experiment tracking, serving and monitoring.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });
  await fastify.register(swaggerUi, { routePrefix: '/docs', uiConfig: { docExpansion: 'list' } });

  fastify.get('/healthz', { config: { permission: 'public' }, schema: { tags: ['health'], summary: 'Liveness' } }, async () => ({ status: 'ok' }));
  const storeAnswers = async () => {
    try {
      await sql`select 1`.execute(database.db);
      return true;
    } catch {
      return false;
    }
  };
  fastify.get('/readyz', { config: { permission: 'public' }, schema: { tags: ['health'], summary: 'Readiness: the store answers and the server is not shutting down' } }, async (_request, reply) => {
    if (shuttingDown) return reply.code(503).send({ status: 'shutting_down' });
    if (!(await storeAnswers())) return reply.code(503).send({ status: 'store_unavailable' });
    return { status: 'ready' };
  });
  fastify.get('/openapi.json', { config: { permission: 'public' }, schema: { hide: true } }, async () => fastify.swagger());

  await fastify.register(async (api) => {
    await api.register(authRoutes, { db: database.db, principals });
    // Multipart uploads (model versions, datasets) are read only here: the plugin's hooks run on
    // every request of the scope it is registered in, so the inference routes stay outside it.
    await api.register(async (uploads) => {
      await uploads.register(multipart, {
        limits: { fileSize: config.maxUploadBytes, files: 2, fields: 10, fieldSize: config.maxBodyBytes },
        throwFileSizeLimit: true,
      });
      await uploads.register(registryRoutes, { db: database.db, artifacts });
      await uploads.register(datasetRoutes, { db: database.db, artifacts });
    });
    await api.register(monitorRoutes, { db: database.db, artifacts });
    await api.register(monitorApiRoutes, { db: database.db, artifacts, scheduler: platform.monitors });
    await api.register(driftReportRoutes, { db: database.db, artifacts });
    await api.register(alertRoutes, { db: database.db });
    await api.register(trackingRoutes, { db: database.db, artifacts, maxArtifactBytes: config.maxUploadBytes });
    await api.register(deploymentRoutes, { controller: platform.rollouts });
    await api.register(predictionRoutes, {
      db: database.db,
      log: platform.predictionLog,
      deploymentExists: async (name: string) => platform.deployments.get(name) !== undefined || (await platform.rollouts.get(name).then(() => true, () => false)),
    });
    await api.register(invocationsRoutes, { engine: platform.engine, observe, gateway: platform.deployments });
    await api.register(servingConfigRoutes, { engine: platform.engine });
    await api.register(pipelineRoutes, { service: platform.pipelines });
  }, { prefix: '/api/v1' });

  // MLflow REST API 2.0 (docs/mlflow.md): the same plugin under MLflow's two prefixes, and its artifact proxy.
  for (const prefix of ['/api/2.0/mlflow', '/ajax-api/2.0/mlflow']) {
    await fastify.register(mlflowRoutes, { prefix, db: database.db, artifacts, maxArtifactBytes: config.maxUploadBytes });
  }
  await fastify.register(mlflowArtifactRoutes, { prefix: '/api/2.0/mlflow-artifacts', db: database.db, artifacts, maxArtifactBytes: config.maxUploadBytes });

  await fastify.register(oipRoutes, {
    prefix: '/v2',
    engine: platform.engine,
    db: database.db,
    serverVersion: SERVER_VERSION,
    isReady: async () => !shuttingDown && (await storeAnswers()),
    observe,
    gateway: platform.deployments,
  });

  await fastify.ready();
  return { fastify, routes, beginShutdown: () => { shuttingDown = true; } };
}
