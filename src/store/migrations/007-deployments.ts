// Migration 7: deployments and what they record. `deployments` holds each deployment's current spec
// (routes, weights, rollout state) as JSON; `deployment_revisions` keeps every spec it ever had, with
// who changed it and why, so any change can be read back and rolled back. `prediction_log` keeps
// served requests and responses (one row per request and role: the answering variant, or a shadow);
// `prediction_feedback` keeps ground-truth labels that arrive later, by request id.
import type { Kysely, Migration } from 'kysely';
import { DOUBLE, withAutoId, type Dialect } from './column-types.js';

export function deploymentsMigration(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('deployments')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull().unique())
        .addColumn('description', 'text', (c) => c.notNull())
        .addColumn('revision', 'integer', (c) => c.notNull())
        .addColumn('spec', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('deployment_revisions')
        .addColumn('deployment_id', 'text', (c) => c.notNull().references('deployments.id'))
        .addColumn('revision', 'integer', (c) => c.notNull())
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('reason', 'text')
        .addColumn('spec', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('deployment_revisions_pk', ['deployment_id', 'revision'])
        .execute();

      await withAutoId(db.schema.createTable('prediction_log'), dialect)
        .addColumn('deployment', 'text', (c) => c.notNull())
        .addColumn('request_id', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('model_name', 'text', (c) => c.notNull())
        .addColumn('model_version', 'integer', (c) => c.notNull())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('latency_ms', DOUBLE, (c) => c.notNull())
        .addColumn('status', 'integer', (c) => c.notNull())
        .addColumn('inputs', 'text', (c) => c.notNull())
        .addColumn('outputs', 'text')
        .addColumn('error', 'text')
        .execute();
      await db.schema.createIndex('prediction_log_request').on('prediction_log').columns(['deployment', 'request_id']).execute();
      await db.schema.createIndex('prediction_log_at').on('prediction_log').columns(['deployment', 'at']).execute();

      await db.schema
        .createTable('prediction_feedback')
        .addColumn('deployment', 'text', (c) => c.notNull())
        .addColumn('request_id', 'text', (c) => c.notNull())
        .addColumn('label', 'text', (c) => c.notNull())
        .addColumn('received_at', 'bigint', (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('prediction_feedback_pk', ['deployment', 'request_id'])
        .execute();
    },
  };
}
