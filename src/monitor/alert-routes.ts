// HTTP routes of alerting, under /api/v1: rules (create, list, read, change, delete; the webhook
// secret is write-only) and the event history with each event's webhook attempts.
import type { FastifyPluginAsync } from 'fastify';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { actorOf } from '../auth/index.js';
import type { Db } from '../store/index.js';
import { ALERT_EVENT_STATES } from './alert-evaluator.js';
import { getAlertEvent, listAlertEvents, MAX_EVENTS_LIMIT } from './alert-events.js';
import {
  ALERT_COMPARISONS,
  ALERT_SEVERITIES,
  createAlertRule,
  deleteAlertRule,
  getAlertRule,
  listAlertRules,
  MAX_FOR_SECONDS,
  MAX_METRIC_LENGTH,
  MAX_WEBHOOK_SECRET_LENGTH,
  MAX_WEBHOOK_URL_LENGTH,
  MIN_WEBHOOK_SECRET_LENGTH,
  updateAlertRule,
} from './alert-rules.js';

export interface AlertRoutesOptions {
  db: Db;
}

const Nullable = <T extends ReturnType<typeof Type.String>>(schema: T) => Type.Union([schema, Type.Null()]);

const RuleFields = {
  deployment: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 128, description: 'a deployment; null or absent: every deployment' }))),
  metric: Type.String({ minLength: 1, maxLength: MAX_METRIC_LENGTH, description: 'a flat monitor metric, e.g. drift.share, or rollout.rolled_back' }),
  comparison: Type.Union(ALERT_COMPARISONS.map((c) => Type.Literal(c))),
  threshold: Type.Number(),
  for_seconds: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_FOR_SECONDS, description: 'how long the condition must hold before the alert fires; default 0' })),
  severity: Type.Optional(Type.Union(ALERT_SEVERITIES.map((s) => Type.Literal(s)))),
  webhook_url: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: MAX_WEBHOOK_URL_LENGTH, description: 'http or https URL POSTed on firing and resolved' }))),
  webhook_secret: Type.Optional(Nullable(Type.String({ minLength: MIN_WEBHOOK_SECRET_LENGTH, maxLength: MAX_WEBHOOK_SECRET_LENGTH, description: 'HMAC-SHA256 key of the X-Plinth-Signature header; never returned' }))),
  enabled: Type.Optional(Type.Boolean()),
};

const CreateBody = Type.Object({ name: Type.String({ minLength: 1, maxLength: 128 }), ...RuleFields }, { additionalProperties: false });
const PatchBody = Type.Partial(Type.Object(RuleFields), { additionalProperties: false, minProperties: 1 });
const RuleParams = Type.Object({ name: Type.String({ minLength: 1, maxLength: 128 }) });

export const alertRoutes: FastifyPluginAsync<AlertRoutesOptions> = async (fastify, { db }) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();

  app.post('/alerts/rules', {
    config: { permission: 'write' },
    schema: { tags: ['alerts'], summary: 'Create an alert rule: metric, comparison, threshold, for_seconds, severity, optional deployment and webhook', body: CreateBody },
  }, async (request, reply) => reply.code(201).send(await createAlertRule(db, actorOf(request), request.body)));

  app.get('/alerts/rules', {
    config: { permission: 'read' },
    schema: { tags: ['alerts'], summary: 'List alert rules with their state (never their webhook secrets)' },
  }, async () => ({ rules: await listAlertRules(db) }));

  app.get('/alerts/rules/:name', {
    config: { permission: 'read' },
    schema: { tags: ['alerts'], summary: 'Read an alert rule', params: RuleParams },
  }, async (request) => getAlertRule(db, request.params.name));

  app.patch('/alerts/rules/:name', {
    config: { permission: 'write' },
    schema: { tags: ['alerts'], summary: 'Change an alert rule (null clears deployment, webhook_url, webhook_secret)', params: RuleParams, body: PatchBody },
  }, async (request) => updateAlertRule(db, actorOf(request), request.params.name, request.body));

  app.delete('/alerts/rules/:name', {
    config: { permission: 'write' },
    schema: { tags: ['alerts'], summary: 'Delete an alert rule with its events and pending webhook retries', params: RuleParams },
  }, async (request) => deleteAlertRule(db, actorOf(request), request.params.name));

  app.get('/alerts/events', {
    config: { permission: 'read' },
    schema: {
      tags: ['alerts'],
      summary: 'Alert events, newest first, with the state of their webhook delivery',
      querystring: Type.Object({
        rule: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
        deployment: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
        state: Type.Optional(Type.Union(ALERT_EVENT_STATES.map((s) => Type.Literal(s)))),
        since: Type.Optional(Type.Integer({ minimum: 0 })),
        before_id: Type.Optional(Type.Integer({ minimum: 1 })),
        limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_EVENTS_LIMIT })),
      }),
    },
  }, async (request) => {
    const q = request.query;
    const events = await listAlertEvents(db, { rule: q.rule, deployment: q.deployment, state: q.state, since: q.since, beforeId: q.before_id, limit: q.limit });
    const limit = q.limit ?? 100;
    return { events, next_before_id: events.length === limit ? events[events.length - 1]!.id : null };
  });

  app.get('/alerts/events/:id', {
    config: { permission: 'read' },
    schema: { tags: ['alerts'], summary: 'One alert event with every webhook attempt', params: Type.Object({ id: Type.Integer({ minimum: 1 }) }) },
  }, async (request) => getAlertEvent(db, request.params.id));
};
