// HTTP routes of the prediction log: reading and exporting a deployment's logged requests, and
// ground-truth feedback. Registered under /api/v1 by the server.
//
// GET  /deployments/:name/predictions  (permission read) — JSON pages, or a JSONL/CSV/Parquet file.
// POST /deployments/:name/feedback     (permission predict) — the services that call a deployment
//   hold predict tokens and are usually the ones that learn the outcome, so they may send labels;
//   predict tokens still cannot read the log back.
import type { FastifyPluginAsync } from 'fastify';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { actorOf } from '../auth/index.js';
import { PlinthError } from '../core/index.js';
import type { Db } from '../store/index.js';
import { EXPORT_CONTENT_TYPES, EXPORT_FORMATS, exportPredictions, type ExportFormat } from './export.js';
import { MAX_FEEDBACK_ITEMS, MAX_REQUEST_ID_LENGTH, recordFeedback } from './feedback.js';
import type { PredictionLog } from './prediction-log.js';
import { listPredictions } from './query.js';

export interface PredictionRoutesOptions {
  db: Db;
  /** The running log; exports first write what it has pending, so they include every acknowledged request. */
  log: PredictionLog;
  /** Whether a deployment with this name exists (rollout area). */
  deploymentExists(name: string): Promise<boolean>;
}

/** Rows per JSON page at most. */
export const MAX_PAGE_ROWS = 1000;

const Params = Type.Object({ name: Type.String({ minLength: 1, maxLength: 256 }) });

const ListQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, description: `rows per page, 1..${MAX_PAGE_ROWS} for JSON (default 100); exports: rows at most (default all)` })),
    page_token: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    since: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'ms since the epoch or an ISO 8601 time; inclusive' })),
    until: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'ms since the epoch or an ISO 8601 time; exclusive' })),
    role: Type.Optional(Type.Union([Type.Literal('primary'), Type.Literal('shadow')])),
    model: Type.Optional(Type.String({ minLength: 1, maxLength: 300, description: 'a model name or name@version' })),
    format: Type.Optional(Type.Union([Type.Literal('json'), ...EXPORT_FORMATS.map((f) => Type.Literal(f))])),
  },
  { additionalProperties: false },
);

const FeedbackBody = Type.Object(
  {
    items: Type.Array(
      Type.Object({ request_id: Type.String({ minLength: 1, maxLength: MAX_REQUEST_ID_LENGTH }), label: Type.Unknown() }, { additionalProperties: false }),
      { minItems: 1, maxItems: MAX_FEEDBACK_ITEMS },
    ),
  },
  { additionalProperties: false },
);

/**
 * A time in a query: integer milliseconds since the epoch, or an ISO 8601 date/time.
 * @throws PlinthError INVALID_ARGUMENT
 */
export function parseTimeParameter(value: string, name: string): number {
  if (/^-?\d{1,16}$/.test(value)) return Number(value);
  const ms = /^\d{4}-\d{2}-\d{2}/.test(value) ? Date.parse(value) : NaN;
  if (Number.isNaN(ms)) throw new PlinthError('INVALID_ARGUMENT', `${name} must be milliseconds since the epoch or an ISO 8601 time, got ${JSON.stringify(value)}`);
  return ms;
}

export const predictionRoutes: FastifyPluginAsync<PredictionRoutesOptions> = async (fastify, { db, log, deploymentExists }) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();

  const requireDeployment = async (name: string) => {
    if (!(await deploymentExists(name))) throw new PlinthError('DEPLOYMENT_NOT_FOUND', `no deployment named ${JSON.stringify(name)}`);
  };

  app.get('/deployments/:name/predictions', {
    config: { permission: 'read' },
    schema: {
      tags: ['deployments'],
      summary: "A deployment's logged predictions, newest first, with their labels: JSON pages ({predictions, next_page_token}) or a JSONL, CSV or Parquet export",
      params: Params,
      querystring: ListQuery,
    },
  }, async (request, reply) => {
    const { name } = request.params;
    const query = request.query;
    const format = query.format ?? 'json';
    const filter = {
      since: query.since === undefined ? undefined : parseTimeParameter(query.since, 'since'),
      until: query.until === undefined ? undefined : parseTimeParameter(query.until, 'until'),
      role: query.role,
      model: query.model,
      pageToken: query.page_token,
    };
    if (format === 'json' && query.limit !== undefined && query.limit > MAX_PAGE_ROWS) {
      throw new PlinthError('INVALID_ARGUMENT', `limit must be between 1 and ${MAX_PAGE_ROWS} for JSON pages (exports take any limit)`);
    }
    await requireDeployment(name);
    // In fast mode rows may still be waiting; an export or a page should show every answered request.
    if (log.mode === 'fast') await log.flush();
    if (format === 'json') return listPredictions(db, name, { ...filter, limit: query.limit ?? 100 });
    const exportFormat = format as ExportFormat;
    const stream = await exportPredictions(db, name, exportFormat, { ...filter, limit: query.limit });
    return reply
      .header('content-type', EXPORT_CONTENT_TYPES[exportFormat])
      .header('content-disposition', `attachment; filename="${name.replace(/[^A-Za-z0-9._-]/g, '_')}-predictions.${exportFormat}"`)
      .send(stream);
  });

  app.post('/deployments/:name/feedback', {
    config: { permission: 'predict' },
    schema: {
      tags: ['deployments'],
      summary: 'Ground-truth labels by request id ({"items": [{"request_id", "label"}]}, 1 to 10,000); answers {accepted, unchanged, unknown}',
      params: Params,
      body: FeedbackBody,
    },
  }, async (request) => {
    const { name } = request.params;
    await requireDeployment(name);
    if (log.mode === 'fast') await log.flush();
    return recordFeedback(db, name, request.body.items, actorOf(request));
  });
};
