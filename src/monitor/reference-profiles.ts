// Reference profiles in the store: one per model version (table reference_profiles, the blob in the
// artifact store). Set explicitly from a dataset version or from a window of a deployment's traffic,
// or built the first time monitoring needs it from the version's `training` dataset link. Decoded
// profiles are cached in memory by their sha256, so a scheduled monitor reads the blob once.
import { Readable } from 'node:stream';
import { appendAudit, SYSTEM_ACTOR, type Actor } from '../auth/index.js';
import { newId, nowMs, PlinthError } from '../core/index.js';
import { getVersion, type FeatureSchema, type ModelVersion } from '../registry/index.js';
import { encodeColumns, planFeatures, tensorValues, type TensorMap } from '../serving/index.js';
import { isUniqueViolation, type ArtifactStore, type Db, type ReferenceProfilesTable } from '../store/index.js';
import type { FeatureColumn, FeatureWindow } from './drift.js';
import { liveColumnAsFeature, liveFeatureWindow, livePredictionColumn, readLiveWindow, type LiveValue } from './live-window.js';
import type { MonitorWindow, ReferencePredictor } from './monitor-kind.js';
import { decodeReferenceProfile, describeProfile, encodeReferenceProfile, profileFromWindow, REFERENCE_SAMPLE_LIMIT, type ReferenceProfile } from './reference-profile.js';
import { numericAsCategorical } from './samples.js';
import { readDatasetTable, tableWindow, type FileTable } from './windows.js';

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

/** Rows of a dataset reference the model is run on to profile its prediction (evenly spaced rows beyond that). */
export const REFERENCE_PREDICTION_ROWS = REFERENCE_SAMPLE_LIMIT;
const PREDICT_BATCH = 1000;

/** What running the model on a dataset gave: the prediction column, or why there is none. */
interface DatasetPrediction {
  column: FeatureColumn | null;
  /** Recorded in the profile's source. */
  note: Record<string, unknown>;
}

/** The first output's first value per row of one batch. */
function firstOutputValues(version: ModelVersion, outputs: TensorMap, rows: number): LiveValue[] {
  const name = version.signature.outputs[0]?.name;
  const tensor = name === undefined ? undefined : outputs[name];
  if (!tensor) return new Array<LiveValue>(rows).fill(null);
  const values = tensorValues(tensor);
  const width = rows === 0 ? 0 : values.length / rows;
  const out: LiveValue[] = [];
  for (let r = 0; r < rows; r++) {
    const v = values[r * width];
    if (typeof v === 'number') out.push(Number.isFinite(v) ? v : null);
    else if (typeof v === 'boolean') out.push(v ? 1 : 0);
    else if (typeof v === 'string') out.push(tensor.datatype === 'BYTES' ? (v === '' ? null : v) : Number.isFinite(Number(v)) ? Number(v) : null);
    else out.push(null);
  }
  return out;
}

/**
 * Runs the model version on the dataset's rows (all of them up to REFERENCE_PREDICTION_ROWS, evenly
 * spaced rows beyond) to profile its prediction. Rows the serving path would refuse (a missing
 * non-nullable feature, a category outside the schema) are skipped and counted. Never throws: a
 * model that cannot run leaves the profile without a prediction, with the reason.
 */
async function predictDataset(version: ModelVersion, table: FileTable, predict: ReferencePredictor): Promise<DatasetPrediction> {
  const none = (why: string): DatasetPrediction => ({ column: null, note: { prediction: 'none', prediction_reason: why } });
  const schema = version.feature_schema;
  if (!schema) return none('the version has no feature schema, so dataset columns cannot be mapped onto its inputs');
  const plan = planFeatures(version.signature, schema);
  if (plan.unusable) return none(`the feature schema does not fit the model's inputs: ${plan.unusable}`);
  const index = new Map(table.schema.map((c, i) => [c.name, i]));
  const sources: Array<{ name: string; values: (number[] | (string | null)[]) | null }> = [];
  for (const feature of schema.features) {
    const i = index.get(feature.name);
    const values = i === undefined ? null : table.values[i] ?? null;
    if (!values && !feature.nullable) return none(`the dataset has no readable column ${JSON.stringify(feature.name)} (${feature.type}), which the model needs`);
    sources.push({ name: feature.name, values });
  }
  const n = table.rowCount;
  const m = Math.min(n, REFERENCE_PREDICTION_ROWS);
  const rowAt = (k: number) => (m === n ? k : Math.floor(((k + 0.5) * n) / m));
  const cell = (values: (number[] | (string | null)[]) | null, row: number): unknown => {
    const v = values ? values[row] : null;
    return typeof v === 'number' && !Number.isFinite(v) ? null : v ?? null;
  };
  const type = version.signature.outputs[0]?.datatype === 'BYTES' ? 'categorical' : 'numeric';
  const predictions: LiveValue[] = [];
  let skipped = 0;
  const columnsOf = (rows: number[]) => Object.fromEntries(sources.map((s) => [s.name, rows.map((r) => cell(s.values, r))]));
  try {
    for (let start = 0; start < m; start += PREDICT_BATCH) {
      const rows: number[] = [];
      for (let k = start; k < Math.min(m, start + PREDICT_BATCH); k++) rows.push(rowAt(k));
      let feeds: TensorMap | null = null;
      try {
        feeds = encodeColumns(plan, columnsOf(rows), { maxRows: PREDICT_BATCH });
      } catch {
        feeds = null;
      }
      if (feeds) {
        predictions.push(...firstOutputValues(version, await predict(version.model, version.version, feeds), rows.length));
        continue;
      }
      // Some row of the batch is refused: find the rows that encode on their own, then run those together.
      const valid = rows.filter((row) => {
        try {
          encodeColumns(plan, columnsOf([row]));
          return true;
        } catch {
          skipped++;
          return false;
        }
      });
      if (valid.length > 0) predictions.push(...firstOutputValues(version, await predict(version.model, version.version, encodeColumns(plan, columnsOf(valid), { maxRows: PREDICT_BATCH })), valid.length));
    }
  } catch (error) {
    return none(`the model could not run on the dataset: ${error instanceof Error ? error.message : String(error)}`);
  }
  return { column: liveColumnAsFeature(type, predictions), note: { prediction: 'model', prediction_rows: m - skipped, prediction_skipped_rows: skipped } };
}

/** Builds a profile from a dataset version, aligned with the model version's feature schema. */
async function profileFromDataset(db: Db, artifacts: ArtifactStore, version: ModelVersion, dataset: string, predictionColumn: string | null, predict: ReferencePredictor | undefined): Promise<{ profile: ReferenceProfile; note: Record<string, unknown> }> {
  const table = await readDatasetTable(db, artifacts, dataset);
  const window = tableWindow(table);
  let prediction: FeatureColumn | null = null;
  let note: Record<string, unknown> = { prediction: 'none', prediction_reason: 'no prediction_column given and no model runner available' };
  if (predictionColumn !== null) {
    prediction = window.columns.get(predictionColumn) ?? null;
    if (!prediction) throw new PlinthError('INVALID_ARGUMENT', `prediction_column: dataset ${dataset} has no column ${JSON.stringify(predictionColumn.slice(0, 200))}`);
    note = { prediction: 'column', prediction_column: predictionColumn };
  }
  const aligned = alignToSchema(window, version.feature_schema);
  if (aligned.columns.size === 0) {
    throw new PlinthError('INVALID_ARGUMENT', `dataset: ${dataset} has none of the features of ${version.model}@${version.version} (${version.feature_schema?.features.map((f) => f.name).slice(0, 20).join(', ') ?? 'no feature schema'})`);
  }
  if (predictionColumn === null && predict) {
    const predicted = await predictDataset(version, table, predict);
    prediction = predicted.column;
    note = predicted.note;
  }
  return { profile: profileFromWindow(aligned, prediction), note };
}

/**
 * Sets a version's reference from a dataset version ("name@N"): its feature columns (matched to the
 * feature schema by name) and the prediction: the `predictionColumn` when given, otherwise the
 * model's own predictions on the dataset's rows when `predict` is given (see predictDataset).
 * Replaces an earlier profile.
 * @throws PlinthError MODEL_NOT_FOUND, MODEL_VERSION_NOT_FOUND, DATASET_NOT_FOUND, DATASET_VERSION_NOT_FOUND, INVALID_DATASET_REFERENCE,
 * INVALID_ARGUMENT (a prediction column the dataset lacks, no feature in common)
 */
export async function setReferenceFromDataset(db: Db, artifacts: ArtifactStore, actor: Actor, model: string, versionNumber: number, dataset: string, predictionColumn: string | null = null, predict?: ReferencePredictor): Promise<ReferenceProfileRecord> {
  const version = await resolveVersion(db, model, versionNumber);
  const { profile, note } = await profileFromDataset(db, artifacts, version, dataset, predictionColumn, predict);
  return store(db, artifacts, actor, version, profile, { dataset, automatic: false, ...note }, true);
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
export async function loadReferenceProfile(db: Db, artifacts: ArtifactStore, model: string, versionNumber: number, predict?: ReferencePredictor): Promise<{ record: ReferenceProfileRecord; profile: ReferenceProfile } | null> {
  const version = await resolveVersion(db, model, versionNumber);
  const find = () => db.selectFrom('reference_profiles').selectAll().where('model_name', '=', version.model).where('model_version', '=', version.version).executeTakeFirst();
  let row = await find();
  if (!row) {
    const training = version.datasets.find((d) => d.role === 'training');
    if (!training) return null;
    const { profile, note } = await profileFromDataset(db, artifacts, version, training.reference, null, predict);
    try {
      return { record: await store(db, artifacts, SYSTEM_ACTOR, version, profile, { dataset: training.reference, automatic: true, ...note }, false), profile };
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
