// Deployments in the store: create, read, list, delete, and change. Every change writes the next
// revision (who, when, what, why) and an audit entry in one transaction, and is a compare-and-set
// on the revision number, so two servers (or a user and the rollout controller) never both apply a
// change on top of the same revision.
import { appendAudit, type Actor } from '../auth/index.js';
import { assertValidName, newId, nowMs, PlinthError } from '../core/index.js';
import { isUniqueViolation, type Db, type Queryable } from '../store/index.js';
import type { DeploymentSpec, Route } from './spec.js';

/** A deployment as the API shows it. */
export interface Deployment extends DeploymentSpec {
  name: string;
  description: string;
  revision: number;
  created_at: number;
  created_by: string;
  updated_at: number;
}

/** One revision as the API shows it. */
export interface DeploymentRevision extends DeploymentSpec {
  revision: number;
  action: string;
  reason: string | null;
  actor: string;
  created_at: number;
}

interface Row {
  id: string;
  name: string;
  description: string;
  revision: number;
  spec: string;
  created_at: number;
  created_by: string;
  updated_at: number;
}

function view(row: Row): Deployment {
  const spec = JSON.parse(row.spec) as DeploymentSpec;
  return {
    name: row.name,
    description: row.description,
    revision: Number(row.revision),
    created_at: Number(row.created_at),
    created_by: row.created_by,
    updated_at: Number(row.updated_at),
    routes: spec.routes,
    rollout: spec.rollout,
    last_rollout: spec.last_rollout,
  };
}

function notFound(name: string): PlinthError {
  return new PlinthError('DEPLOYMENT_NOT_FOUND', `no deployment named ${JSON.stringify(name.slice(0, 200))}`);
}

async function findRow(q: Queryable, name: string): Promise<Row> {
  const row = await q.selectFrom('deployments').selectAll().where('name', '=', name).executeTakeFirst();
  if (!row) throw notFound(name);
  return row;
}

async function writeRevision(q: Queryable, deploymentId: string, revision: number, action: string, reason: string | null, spec: DeploymentSpec, actor: Actor, at: number): Promise<void> {
  await q.insertInto('deployment_revisions').values({
    deployment_id: deploymentId,
    revision,
    action,
    reason,
    spec: JSON.stringify(spec),
    created_at: at,
    actor: actor.name,
  }).execute();
}

/**
 * Creates a deployment routing to pinned `name@N` versions: all traffic to `model`, or the given routes.
 * @throws PlinthError INVALID_ARGUMENT (bad name), DEPLOYMENT_ALREADY_EXISTS
 */
export async function createDeployment(db: Db, actor: Actor, input: { name: string; routes: Route[]; description?: string }): Promise<Deployment> {
  assertValidName(input.name, 'deployment name');
  const spec: DeploymentSpec = { routes: input.routes, rollout: null, last_rollout: null };
  const now = nowMs();
  const row: Row = {
    id: newId(),
    name: input.name,
    description: input.description ?? '',
    revision: 1,
    spec: JSON.stringify(spec),
    created_at: now,
    created_by: actor.name,
    updated_at: now,
  };
  try {
    await db.transaction().execute(async (trx) => {
      await trx.insertInto('deployments').values(row).execute();
      await writeRevision(trx, row.id, 1, 'create', null, spec, actor, now);
      await appendAudit(trx, actor, { action: 'deployment.create', resourceType: 'deployment', resourceId: input.name, details: { routes: input.routes, revision: 1 } });
    });
  } catch (error) {
    if (isUniqueViolation(error)) throw new PlinthError('DEPLOYMENT_ALREADY_EXISTS', `a deployment named ${JSON.stringify(input.name)} already exists`);
    throw error;
  }
  return view(row);
}

/** @throws PlinthError DEPLOYMENT_NOT_FOUND */
export async function getDeployment(db: Queryable, name: string): Promise<Deployment> {
  return view(await findRow(db, name));
}

/** Every deployment, by name. */
export async function listDeployments(db: Db): Promise<Deployment[]> {
  const rows = await db.selectFrom('deployments').selectAll().orderBy('name').execute();
  return rows.map(view);
}

/** Name → current revision of every deployment (cheap: for noticing changes made elsewhere). */
export async function deploymentRevisions(db: Db): Promise<Map<string, number>> {
  const rows = await db.selectFrom('deployments').select(['name', 'revision']).execute();
  return new Map(rows.map((r) => [r.name, Number(r.revision)]));
}

/**
 * Deletes a deployment and its revisions (its prediction log stays until retention removes it).
 * @throws PlinthError DEPLOYMENT_NOT_FOUND
 */
export async function deleteDeployment(db: Db, actor: Actor, name: string): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const row = await findRow(trx, name);
    await trx.deleteFrom('deployment_revisions').where('deployment_id', '=', row.id).execute();
    await trx.deleteFrom('deployments').where('id', '=', row.id).execute();
    await appendAudit(trx, actor, { action: 'deployment.delete', resourceType: 'deployment', resourceId: name, details: { revision: Number(row.revision) } });
  });
}

/**
 * Applies a change: `change` gets the current deployment and returns the new spec (or throws to
 * refuse). Writes the next revision and an audit entry `deployment.<action>`. When `expectedRevision`
 * is given and the deployment has moved past it, nothing changes and null is returned (someone else
 * changed it first).
 * @throws PlinthError DEPLOYMENT_NOT_FOUND, and what `change` throws.
 */
export async function changeDeployment(
  db: Db,
  actor: Actor,
  name: string,
  action: string,
  change: (current: Deployment) => { spec: DeploymentSpec; reason?: string | null; details?: Record<string, unknown> },
  expectedRevision?: number,
): Promise<Deployment | null> {
  return db.transaction().execute(async (trx) => {
    const row = await findRow(trx, name);
    const current = view(row);
    if (expectedRevision !== undefined && current.revision !== expectedRevision) return null;
    const { spec, reason = null, details = {} } = change(current);
    const revision = current.revision + 1;
    const now = nowMs();
    const updated = await trx
      .updateTable('deployments')
      .set({ revision, spec: JSON.stringify(spec), updated_at: now })
      .where('id', '=', row.id)
      .where('revision', '=', current.revision)
      .executeTakeFirst();
    if (Number(updated.numUpdatedRows) !== 1) {
      if (expectedRevision !== undefined) return null;
      throw new PlinthError('CONFLICT', `deployment ${JSON.stringify(name)} changed while this change was applied; try again`);
    }
    await writeRevision(trx, row.id, revision, action, reason, spec, actor, now);
    await appendAudit(trx, actor, {
      action: `deployment.${action}`,
      resourceType: 'deployment',
      resourceId: name,
      details: { revision, routes: spec.routes, ...(reason ? { reason } : {}), ...details },
    });
    return view({ ...row, revision, spec: JSON.stringify(spec), updated_at: now });
  });
}

/**
 * A deployment's revisions, newest first.
 * @throws PlinthError DEPLOYMENT_NOT_FOUND
 */
export async function listRevisions(db: Db, name: string): Promise<DeploymentRevision[]> {
  const row = await findRow(db, name);
  const rows = await db.selectFrom('deployment_revisions').selectAll().where('deployment_id', '=', row.id).orderBy('revision', 'desc').execute();
  return rows.map((r) => {
    const spec = JSON.parse(r.spec) as DeploymentSpec;
    return {
      revision: Number(r.revision),
      action: r.action,
      reason: r.reason,
      actor: r.actor,
      created_at: Number(r.created_at),
      routes: spec.routes,
      rollout: spec.rollout,
      last_rollout: spec.last_rollout,
    };
  });
}
