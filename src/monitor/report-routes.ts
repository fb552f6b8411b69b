// The deployment drift report over HTTP: GET /api/v1/deployments/{name}/drift/report (and the same
// path ending in .html) answers the self-contained HTML page of buildDeploymentDriftReport.
// Query: monitor (a drift monitor whose settings and window are used), requests or seconds (the
// window instead of the monitor's). Headers say where the page came from: X-Plinth-Report-Source
// (fresh | stored) and X-Plinth-Report-Monitor.
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync } from 'fastify';
import { PlinthError } from '../core/index.js';
import type { ArtifactStore, Db } from '../store/index.js';
import { buildDeploymentDriftReport } from './drift-report.js';
import { MAX_WINDOW_REQUESTS } from './live-window.js';
import type { MonitorWindowSpec } from './monitors.js';

export interface DriftReportRoutesOptions {
  db: Db;
  artifacts: ArtifactStore;
  /** The clock (ms since epoch); tests pass their own. */
  now?: () => number;
}

const Params = Type.Object({ name: Type.String({ maxLength: 256 }) });
const Query = Type.Object(
  {
    monitor: Type.Optional(Type.String({ minLength: 1, maxLength: 256, description: 'a drift monitor of the deployment: its settings and window' })),
    requests: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_WINDOW_REQUESTS, description: 'the newest N answered requests (instead of the monitor\'s window)' })),
    seconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 366 * 86_400, description: 'the requests of the last S seconds (instead of the monitor\'s window)' })),
  },
  { additionalProperties: false },
);

export const driftReportRoutes: FastifyPluginAsync<DriftReportRoutesOptions> = async (fastify, { db, artifacts, now = Date.now }) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  for (const path of ['/deployments/:name/drift/report', '/deployments/:name/drift/report.html']) {
    app.get(path, {
      config: { permission: 'read' },
      schema: {
        tags: ['monitoring'],
        summary: "A deployment's drift report: one self-contained HTML page (histograms of reference and current, statistics, verdicts)",
        params: Params,
        querystring: Query,
      },
    }, async (request, reply) => {
      const q = request.query;
      if (q.requests !== undefined && q.seconds !== undefined) throw new PlinthError('INVALID_ARGUMENT', 'give requests or seconds, not both');
      const window: MonitorWindowSpec | undefined = q.requests !== undefined ? { requests: q.requests } : q.seconds !== undefined ? { seconds: q.seconds } : undefined;
      const built = await buildDeploymentDriftReport(db, artifacts, request.params.name, { monitor: q.monitor, window, now: now() });
      return reply
        .type('text/html; charset=utf-8')
        .header('x-plinth-report-source', built.source)
        .header('x-plinth-report-monitor', built.monitor ?? '')
        .send(built.html);
    });
  }
};
