// Migration 8: monitoring. `reference_profiles` keeps, per model version, what the drift tests need
// of its reference data (a blob in the artifact store), so monitoring never re-reads it; `monitors`
// are per-deployment checks (drift, quality, performance, concept drift) with their window and
// schedule; `monitor_results` is their time series; `alert_rules`, `alert_events` and
// `alert_deliveries` are alerting: rules on monitor metrics, their firing/resolved history, and
// webhook delivery attempts.
import type { Kysely, Migration } from 'kysely';
import { DOUBLE, withAutoId, type Dialect } from './column-types.js';

export function monitoringMigration(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('reference_profiles')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('model_name', 'text', (c) => c.notNull())
        .addColumn('model_version', 'integer', (c) => c.notNull())
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('artifact_sha256', 'text', (c) => c.notNull())
        .addColumn('summary', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addUniqueConstraint('reference_profiles_version', ['model_name', 'model_version'])
        .execute();

      await db.schema
        .createTable('monitors')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('deployment', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('config', 'text', (c) => c.notNull())
        .addColumn('schedule_seconds', 'integer')
        .addColumn('enabled', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('last_run_at', 'bigint')
        .addColumn('next_run_at', 'bigint')
        .addUniqueConstraint('monitors_deployment_name', ['deployment', 'name'])
        .execute();

      await withAutoId(db.schema.createTable('monitor_results'), dialect)
        .addColumn('monitor_id', 'text', (c) => c.notNull())
        .addColumn('deployment', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('window_start', 'bigint')
        .addColumn('window_end', 'bigint')
        .addColumn('rows', 'integer', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('metrics', 'text', (c) => c.notNull())
        .addColumn('result', 'text', (c) => c.notNull())
        .addColumn('computed_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('monitor_results_monitor').on('monitor_results').columns(['monitor_id', 'computed_at']).execute();
      await db.schema.createIndex('monitor_results_deployment').on('monitor_results').columns(['deployment', 'kind', 'computed_at']).execute();

      await db.schema
        .createTable('alert_rules')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull().unique())
        .addColumn('deployment', 'text')
        .addColumn('metric', 'text', (c) => c.notNull())
        .addColumn('comparison', 'text', (c) => c.notNull())
        .addColumn('threshold', DOUBLE, (c) => c.notNull())
        .addColumn('for_seconds', 'integer', (c) => c.notNull())
        .addColumn('severity', 'text', (c) => c.notNull())
        .addColumn('webhook_url', 'text')
        .addColumn('webhook_secret', 'text')
        .addColumn('enabled', 'integer', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('pending_since', 'bigint')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .execute();

      await withAutoId(db.schema.createTable('alert_events'), dialect)
        .addColumn('rule_id', 'text', (c) => c.notNull())
        .addColumn('deployment', 'text')
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('value', DOUBLE)
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('payload', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('alert_events_rule').on('alert_events').columns(['rule_id', 'deployment', 'at']).execute();

      await withAutoId(db.schema.createTable('alert_deliveries'), dialect)
        .addColumn('event_id', 'bigint', (c) => c.notNull())
        .addColumn('attempt', 'integer', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('response_status', 'integer')
        .addColumn('error', 'text')
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('next_attempt_at', 'bigint')
        .execute();
      await db.schema.createIndex('alert_deliveries_due').on('alert_deliveries').columns(['status', 'next_attempt_at']).execute();
      await db.schema.createIndex('alert_deliveries_event').on('alert_deliveries').columns(['event_id']).execute();
    },
  };
}
