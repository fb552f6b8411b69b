// Migration 10: pipeline runs claimed through the database, so that several servers can share one.
// `owner` names the server process executing a run and `heartbeat_at` is when it last said it still
// is (its lease); a partial unique index lets a pipeline have at most one queued or running run, so
// two servers that start the same pipeline at once start exactly one run.
import { sql, type Kysely, type Migration } from 'kysely';
import type { Dialect } from './column-types.js';

export function pipelineClaimsMigration(_dialect: Dialect): Migration {
  return {
    async up(db: Kysely<any>): Promise<void> {
      await db.schema.alterTable('pipeline_runs').addColumn('owner', 'text').execute();
      await db.schema.alterTable('pipeline_runs').addColumn('heartbeat_at', 'bigint').execute();
      // Older servers checked before inserting, without a lock: keep the newest active run of a pipeline.
      await sql`update pipeline_runs set status = 'failed', error = 'interrupted: another run of the pipeline was active'
        where status in ('queued', 'running') and exists (
          select 1 from pipeline_runs newer where newer.pipeline_id = pipeline_runs.pipeline_id
            and newer.status in ('queued', 'running') and newer.number > pipeline_runs.number)`.execute(db);
      await sql`create unique index pipeline_runs_active on pipeline_runs (pipeline_id) where status in ('queued', 'running')`.execute(db);
    },
    async down(db: Kysely<any>): Promise<void> {
      await db.schema.dropIndex('pipeline_runs_active').execute();
      await db.schema.alterTable('pipeline_runs').dropColumn('heartbeat_at').execute();
      await db.schema.alterTable('pipeline_runs').dropColumn('owner').execute();
    },
  };
}
