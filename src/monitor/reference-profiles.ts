// Reference profiles in the store: one per model version (table reference_profiles, the blob in the
// artifact store). Set explicitly from a dataset version or from a window of a deployment's traffic,
// or built the first time monitoring needs it from the version's `training` dataset link. Decoded
// profiles are cached in memory by their sha256, so a scheduled monitor reads the blob once.
import { Readable } from 'node:stream';
import { appendAudit, SYSTEM_ACTOR, type Actor } from '../auth/index.js';
import { newId, nowMs, PlinthError } from '../core/index.js';
import { getVersion, type FeatureSchema, type ModelVersion } from '../registry/index.js';
import { isUniqueViolation, type ArtifactStore, type Db, type ReferenceProfilesTable } from '../store/index.js';
import type { FeatureColumn, FeatureWindow } from './drift.js';
import { liveFeatureWindow, livePredictionColumn, readLiveWindow } from './live-window.js';
import type { MonitorWindow } from './monitor-kind.js';
import { decodeReferenceProfile, describeProfile, encodeReferenceProfile, profileFromWindow, REFERENCE_SAMPLE_LIMIT, type ReferenceProfile } from './reference-profile.js';
import { numericAsCategorical } from './samples.js';
import { readDatasetWindow } from './windows.js';

/** A stored profile as the API shows it. */
export interface ReferenceProfileRecord {
  model: string;
  version: number;
  /** Where it came from: {"dataset": "name@N", "automatic": bool, "prediction_column"?} or {"deployment", "since", "until", "last"}. */
  source: Record<string, unknown>;
  artifact_sha256: string;
  artifact_size: number;
  /** rows, features, whether it holds the prediction, the sample limit. */
  summary: { rows: number; features: number; prediction: boolean; sample_limit: number; size: number };
  created_at: number;
  created_by: string;
}

const CACHE_ENTRIES = 16;
const cache = new Map<string, ReferenceProfile>();

function toRecord(row: ReferenceProfilesTable): ReferenceProfileRecord {
  const summary = JSON.parse(row.summary) as ReferenceProfileRecord['summary'];
  return {
    model: row.model_name,
    version: Number(row.model_version),
    source: JSON.parse(row.source) as Record<string, unknown>,
    artifact_sha256: row.artifact_sha256,
    artifact_size: summary.size,
    summary,
    created_at: Number(row.created_at),
    created_by: row.created_by,
  };
}

/** Keeps the features of the schema (sensitive ones left out), typed as the schema says; every column without a schema. */
function alignToSchema(window: FeatureWindow, schema: FeatureSchema | null): FeatureWindow {
  if (!schema) return window;
  const columns = new Map<string, FeatureColumn>();
  for (const feature of schema.features) {
    if (feature.sensitive) continue;
    const column = window.columns.get(feature.name);
    if (!column) continue;
    // Category codes stored as numbers in the file are the categories' names as the log decodes them.
    if ((feature.type === 'categorical' || feature.type === 'boolean') && column.sample?.kind === 'numeric') {
      let sample = numericAsCategorical(column.sample);
      if (feature.type === 'boolean') {
        const counts = new Map<string, number>();
        for (const [k, n] of sample.counts) {
          const key = k === '1' ? 'true' : k === '0' ? 'false' : k;
          counts.set(key, (counts.get(key) ?? 0) + n);
        }
        sample = { ...sample, counts };
      }
      columns.set(feature.name, { type: feature.type, sample, rows: column.rows });
    } else if (feature.type === 'categorical' && column.type === 'boolean') {
      columns.set(feature.name, { ...column, type: 'categorical' });
    } else {
      columns.set(feature.name, column);
    }
  }
  return { rows: window.rows, columns };
}

async function resolveVersion(db: Db, model: string, version: number): Promise<ModelVersion> {
  return getVersion(db, model, { kind: 'version', version });
}

async function store(db: Db, artifacts: ArtifactStore, actor: Actor, version: ModelVersion, profile: ReferenceProfile, source: Record<string, unknown>, replace: boolean): Promise<ReferenceProfileRecord> {
  const blob = encodeReferenceProfile(profile);
  const info = await artifacts.put(Readable.from([blob]));
  cache.set(info.sha256, profile);
  trimCache();
  const summary = { rows: profile.rows, features: profile.columns.size, prediction: profile.prediction !== null, sample_limit: REFERENCE_SAMPLE_LIMIT, size: info.size };
  const row: ReferenceProfilesTable = {
    id: newId(),
    model_name: version.model,
    model_version: version.version,
    source: JSON.stringify(source),
    artifact_sha256: info.sha256,
    summary: JSON.stringify(summary),
    created_at: nowMs(),
    created_by: actor.name,
  };
  await db.transaction().execute(async (trx) => {
    if (replace) await trx.deleteFrom('reference_profiles').where('model_name', '=', version.model).where('model_version', '=', version.version).execute();
    await trx.insertInto('reference_profiles').values(row).execute();
    await appendAudit(trx, actor, {
      action: 'model.version.reference.set',
      resourceType: 'model_version',
      resourceId: `${version.model}@${version.version}`,
      details: { source, rows: profile.rows, features: profile.columns.size, artifact_sha256: info.sha256 },
    });
  });
  return toRecord(row);
}

function trimCache(): void {
  while (cache.size > CACHE_ENTRIES) cache.delete(cache.keys().next().value!);
}

/** Builds a profile from a dataset version, aligned with the model version's feature schema. */
async function profileFromDataset(db: Db, artifacts: ArtifactStore, version: ModelVersion, dataset: string, predictionColumn: string | null): Promise<ReferenceProfile> {
  const window = await readDatasetWindow(db, artifacts, dataset);
  let prediction: FeatureColumn | null = null;
  if (predictionColumn !== null) {
    prediction = window.columns.get(predictionColumn) ?? null;
    if (!prediction) throw new PlinthError('INVALID_ARGUMENT', `prediction_column: dataset ${dataset} has no column ${JSON.stringify(predictionColumn.slice(0, 200))}`);
  }
  const aligned = alignToSchema(window, version.feature_schema);
  if (aligned.columns.size === 0) {
    throw new PlinthError('INVALID_ARGUMENT', `dataset: ${dataset} has none of the features of ${version.model}@${version.version} (${version.feature_schema?.features.map((f) => f.name).slice(0, 20).join(', ') ?? 'no feature schema'})`);
  }
  return profileFromWindow(aligned, prediction);
}

/**
 * Sets a version's reference from a dataset version ("name@N"): its feature columns (matched to the
 * feature schema by name) and, when `predictionColumn` is given, that column as the prediction.
 * Replaces an earlier profile.
 * @throws PlinthError MODEL_NOT_FOUND, MODEL_VERSION_NOT_FOUND, DATASET_NOT_FOUND, DATASET_VERSION_NOT_FOUND, INVALID_DATASET_REFERENCE,
 * INVALID_ARGUMENT (a prediction column the dataset lacks, no feature in common)
 */
export async function setReferenceFromDataset(db: Db, artifacts: ArtifactStore, actor: Actor, model: string, versionNumber: number, dataset: string, predictionColumn: string | null = null): Promise<ReferenceProfileRecord> {
  const version = await resolveVersion(db, model, versionNumber);
  const profile = await profileFromDataset(db, artifacts, version, dataset, predictionColumn);
  return store(db, artifacts, actor, version, profile, { dataset, automatic: false, ...(predictionColumn !== null ? { prediction_column: predictionColumn } : {}) }, true);
}

/**
 * Sets a version's reference from a window of a deployment's traffic (only that version's answered requests).
 * @throws PlinthError MODEL_NOT_FOUND, MODEL_VERSION_NOT_FOUND, INVALID_ARGUMENT when the window holds none of its requests
 */
export async function setReferenceFromTraffic(db: Db, artifacts: ArtifactStore, actor: Actor, model: string, versionNumber: number, deployment: string, window: MonitorWindow): Promise<ReferenceProfileRecord> {
  const version = await resolveVersion(db, model, versionNumber);
  const live = await readLiveWindow(db, deployment, window, { model: { name: version.model, version: version.version } });
  if (live.rows === 0) throw new PlinthError('INVALID_ARGUMENT', `window: deployment ${JSON.stringify(deployment)} has no answered requests of ${version.model}@${version.version} in that window`);
  const profile = profileFromWindow(liveFeatureWindow(live), livePredictionColumn(live));
  return store(db, artifacts, actor, version, profile, { deployment, since: window.since, until: window.until, last: window.lastN, requests: live.requests }, true);
}

/**
 * A version's stored reference record.
 * @throws PlinthError MODEL_NOT_FOUND, MODEL_VERSION_NOT_FOUND, REFERENCE_PROFILE_NOT_FOUND
 */
export async function getReferenceRecord(db: Db, model: string, versionNumber: number): Promise<ReferenceProfileRecord> {
  const version = await resolveVersion(db, model, versionNumber);
  const row = await db.selectFrom('reference_profiles').selectAll().where('model_name', '=', version.model).where('model_version', '=', version.version).executeTakeFirst();
  if (!row) throw new PlinthError('REFERENCE_PROFILE_NOT_FOUND', `${version.model}@${version.version} has no reference profile: set one (PUT /api/v1/models/${version.model}/versions/${version.version}/reference) or register the version with a training dataset link`);
  return toRecord(row);
}

/** A stored record with its decoded profile's description (per-feature counts, ranges, top categories). */
export async function describeReference(db: Db, artifacts: ArtifactStore, model: string, versionNumber: number): Promise<ReferenceProfileRecord & { profile: Record<string, unknown> }> {
  const record = await getReferenceRecord(db, model, versionNumber);
  const profile = await readProfile(artifacts, record);
  return { ...record, profile: describeProfile(profile) };
}

async function readProfile(artifacts: ArtifactStore, record: ReferenceProfileRecord): Promise<ReferenceProfile> {
  const cached = cache.get(record.artifact_sha256);
  if (cached) return cached;
  const profile = decodeReferenceProfile(await artifacts.read({ sha256: record.artifact_sha256, size: record.artifact_size }));
  cache.set(record.artifact_sha256, profile);
  trimCache();
  return profile;
}

/**
 * The reference profile of a version, for monitoring: the stored one, or, when there is none and the
 * version has a `training` dataset link, one built from that dataset now (stored, by the system
 * actor). Null when there is neither.
 * @throws PlinthError MODEL_NOT_FOUND, MODEL_VERSION_NOT_FOUND; the dataset's and artifact store's errors while building
 */
export async function loadReferenceProfile(db: Db, artifacts: ArtifactStore, model: string, versionNumber: number): Promise<{ record: ReferenceProfileRecord; profile: ReferenceProfile } | null> {
  const version = await resolveVersion(db, model, versionNumber);
  const find = () => db.selectFrom('reference_profiles').selectAll().where('model_name', '=', version.model).where('model_version', '=', version.version).executeTakeFirst();
  let row = await find();
  if (!row) {
    const training = version.datasets.find((d) => d.role === 'training');
    if (!training) return null;
    const profile = await profileFromDataset(db, artifacts, version, training.reference, null);
    try {
      return { record: await store(db, artifacts, SYSTEM_ACTOR, version, profile, { dataset: training.reference, automatic: true }, false), profile };
    } catch (error) {
      // Built at the same time by another run: use the one that was stored.
      if (!isUniqueViolation(error)) throw error;
      row = await find();
      if (!row) throw error;
    }
  }
  const record = toRecord(row);
  return { record, profile: await readProfile(artifacts, record) };
}
