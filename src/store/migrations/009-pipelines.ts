// Migration 9: pipelines. `pipelines` holds the registered definitions (the YAML text and its
// checked form) with the triggers' bookkeeping (the last schedule check, the last alert event
// seen); `pipeline_runs` records each run with its trigger, status and lineage; `pipeline_step_runs`
// records each step of a run with its cache key, outputs, captured log and error.
import type { Kysely, Migration } from 'kysely';
import { withAutoId, type Dialect } from './column-types.js';

export function pipelinesMigration(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema
        .createTable('pipelines')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull().unique())
        .addColumn('yaml', 'text', (c) => c.notNull())
        .addColumn('spec', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addColumn('schedule_checked_at', 'bigint')
        .addColumn('alert_cursor', 'bigint')
        .execute();

      await db.schema
        .createTable('pipeline_runs')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('pipeline_id', 'text', (c) => c.notNull())
        .addColumn('pipeline', 'text', (c) => c.notNull())
        .addColumn('number', 'integer', (c) => c.notNull())
        .addColumn('trigger', 'text', (c) => c.notNull())
        .addColumn('trigger_details', 'text')
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('started_at', 'bigint')
        .addColumn('finished_at', 'bigint')
        .addColumn('tracking_run_id', 'text')
        .addColumn('lineage', 'text')
        .addColumn('error', 'text')
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addUniqueConstraint('pipeline_runs_number', ['pipeline_id', 'number'])
        .execute();

      await withAutoId(db.schema.createTable('pipeline_step_runs'), dialect)
        .addColumn('run_id', 'text', (c) => c.notNull())
        .addColumn('step', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('position', 'integer', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('cached', 'integer', (c) => c.notNull())
        .addColumn('cache_key', 'text')
        .addColumn('started_at', 'bigint')
        .addColumn('finished_at', 'bigint')
        .addColumn('outputs', 'text')
        .addColumn('log', 'text', (c) => c.notNull())
        .addColumn('error', 'text')
        .execute();
      await db.schema.createIndex('pipeline_step_runs_run').on('pipeline_step_runs').columns(['run_id', 'position']).execute();
      await db.schema.createIndex('pipeline_step_runs_cache').on('pipeline_step_runs').columns(['cache_key', 'status']).execute();
    },
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.dropTable('pipeline_step_runs').execute();
      await db.schema.dropTable('pipeline_runs').execute();
      await db.schema.dropTable('pipelines').execute();
    },
  };
}
