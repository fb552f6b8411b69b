// The ordered list of schema migrations. Append new ones; never edit one that has shipped.
import type { Migration } from 'kysely';
import type { Dialect } from './column-types.js';
import { initialMigration } from './001-initial.js';
import { trackingMigration } from './004-tracking.js';
import { servingMigration } from './005-serving.js';
import { mlflowMigration } from './006-mlflow.js';
import { deploymentsMigration } from './007-deployments.js';
import { monitoringMigration } from './008-monitoring.js';
import { pipelinesMigration } from './009-pipelines.js';
import { pipelineClaimsMigration } from './010-pipeline-claims.js';

/** Migrations keyed by a name that sorts in application order. */
export function migrations(dialect: Dialect): Record<string, Migration> {
  return {
    '001-initial': initialMigration(dialect),
    '004-tracking': trackingMigration(dialect),
    '005-serving': servingMigration(dialect),
    '006-mlflow': mlflowMigration(dialect),
    '007-deployments': deploymentsMigration(dialect),
    '008-monitoring': monitoringMigration(dialect),
    '009-pipelines': pipelinesMigration(dialect),
    '010-pipeline-claims': pipelineClaimsMigration(dialect),
  };
}
