// The data quality monitor kind: per feature per window, counts of anomalies with stable codes
// (QUALITY_CODES), checked against the feature schema and the reference profile of the model
// version that answered most of the window. What the prediction log can show: it holds the model's
// input tensors after feature encoding, so values the serving path refused (unseen categories of a
// schema, non-numbers, missing non-nullable features) never reach it; what does reach it are missing
// values of nullable features, values outside the reference's range, categories the reference never
// saw, and (when tensors were sent directly, bypassing the feature mapping) tensors or columns the
// schema does not name, or schema features whose tensor is absent.
import { PlinthError } from '../core/index.js';
import { readLiveWindow, type LiveColumn } from './live-window.js';
import { windowSummary } from './kind-drift.js';
import { finiteMetrics, type MonitorContext, type MonitorKind, type MonitorOutcome } from './monitor-kind.js';
import type { ProfileColumn } from './reference-profile.js';
import { loadReferenceProfile } from './reference-profiles.js';

/** The anomaly codes, stable: alert rules and dashboards name them. */
export const QUALITY_CODES = Object.freeze({
  missing_value: 'A missing value (null, NaN, an empty string, or −1 for an integer-encoded category).',
  type_mismatch: "A logged value that does not fit the feature's type (e.g. a category index outside the schema's categories).",
  out_of_range: "A numeric value below the reference's minimum or above its maximum.",
  unseen_category: 'A category (or boolean value) the reference never holds.',
  missing_field: "A feature whose tensor (or matrix column) the logged request does not hold.",
  extra_field: 'A logged tensor (or matrix column) that the feature schema does not name; counted per field, not per feature.',
} as const);
export type QualityCode = keyof typeof QUALITY_CODES;
const FEATURE_CODES: readonly QualityCode[] = ['missing_value', 'type_mismatch', 'out_of_range', 'unseen_category', 'missing_field'];

export interface QualityMonitorConfig {
  /** Only these features (all when null). */
  features: string[] | null;
}

export interface FeatureQuality {
  feature: string;
  type: string;
  rows: number;
  counts: Record<Exclude<QualityCode, 'extra_field'>, number>;
  /** counts / rows (0 when rows is 0). */
  missing_rate: number;
  /** Checks that could not run, with why (e.g. out_of_range without a reference range). */
  not_checked: Array<{ code: QualityCode; reason: string }>;
  reference: { min: number | null; max: number | null } | { categories: number } | null;
}

/**
 * Validates a quality monitor's settings: `{ "features": [names] }` or nothing.
 * @throws PlinthError INVALID_ARGUMENT naming the field
 */
export function checkQualityConfig(config: unknown): QualityMonitorConfig {
  const c = config === undefined || config === null ? {} : config;
  if (typeof c !== 'object' || Array.isArray(c)) throw new PlinthError('INVALID_ARGUMENT', 'config: must be an object');
  const record = c as Record<string, unknown>;
  const unknown = Object.keys(record).find((k) => k !== 'features');
  if (unknown !== undefined) throw new PlinthError('INVALID_ARGUMENT', `config.${unknown.slice(0, 100)}: unknown setting of a quality monitor (allowed: features)`);
  const features = record.features;
  if (features === undefined || features === null) return { features: null };
  if (!Array.isArray(features) || features.length === 0 || !features.every((f) => typeof f === 'string' && f.length > 0)) throw new PlinthError('INVALID_ARGUMENT', 'config.features: must be a non-empty array of feature names');
  return { features: [...new Set(features as string[])] };
}

/** Counts one column's anomalies against its reference column (undefined: the reference lacks it; null: there is no reference). */
export function featureQuality(column: LiveColumn, reference: ProfileColumn | undefined | null): FeatureQuality {
  const counts = { missing_value: 0, type_mismatch: column.typeMismatches, out_of_range: 0, unseen_category: 0, missing_field: column.missingFields };
  let nulls = 0;
  for (const v of column.values) if (v === null) nulls++;
  // type mismatches and missing fields are stored as null too; they are not missing values.
  counts.missing_value = nulls - column.typeMismatches - column.missingFields;
  const notChecked: FeatureQuality['not_checked'] = [];
  let referenceInfo: FeatureQuality['reference'] = null;
  const isNumeric = column.type === 'numeric';
  const isCategorical = column.type === 'categorical' || column.type === 'boolean';
  const why = reference === null ? 'no reference profile' : reference === undefined ? 'the reference profile does not hold this feature' : null;
  if (isNumeric) {
    const sample = reference?.sample;
    if (why || sample?.kind !== 'numeric' || reference!.min === null || reference!.max === null) {
      notChecked.push({ code: 'out_of_range', reason: why ?? 'the reference holds no numeric values for it' });
    } else {
      const min = reference!.min;
      const max = reference!.max!;
      referenceInfo = { min, max };
      for (const v of column.values) if (typeof v === 'number' && (v < min || v > max)) counts.out_of_range++;
    }
  }
  if (isCategorical) {
    const sample = reference?.sample;
    if (why || sample?.kind !== 'categorical') {
      notChecked.push({ code: 'unseen_category', reason: why ?? 'the reference holds no categories for it' });
    } else {
      referenceInfo = { categories: sample.counts.size };
      for (const v of column.values) if (v !== null && !sample.counts.has(String(v))) counts.unseen_category++;
    }
  }
  const rows = column.values.length;
  return { feature: column.name, type: column.type, rows, counts, missing_rate: rows === 0 ? 0 : counts.missing_value / rows, not_checked: notChecked, reference: referenceInfo };
}

/** Evaluates a quality monitor on one window. */
export async function evaluateQuality(ctx: MonitorContext, config: QualityMonitorConfig): Promise<MonitorOutcome> {
  const live = await readLiveWindow(ctx.db, ctx.deployment, ctx.window);
  const window = windowSummary(live);
  if (live.rows === 0 || !live.model) {
    return { status: 'not_enough_data', rows: live.requests, windowStart: live.windowStart, windowEnd: live.windowEnd, metrics: { 'quality.rows': 0 }, result: { status: 'not_enough_data', reason: 'not enough data: the window holds no answered requests', window } };
  }
  const loaded = await loadReferenceProfile(ctx.db, ctx.artifacts, live.model.name, live.model.version, ctx.predict);
  const wanted = config.features ? new Set(config.features) : null;
  const features: FeatureQuality[] = [];
  for (const [name, column] of live.columns) {
    if (wanted && !wanted.has(name)) continue;
    features.push(featureQuality(column, loaded ? loaded.profile.columns.get(name) : null));
  }
  const extra = [...live.extraFields].map(([field, rows]) => ({ field, rows }));
  const totals: Record<QualityCode, number> = { missing_value: 0, type_mismatch: 0, out_of_range: 0, unseen_category: 0, missing_field: 0, extra_field: 0 };
  for (const f of features) for (const code of FEATURE_CODES) totals[code] += f.counts[code as keyof FeatureQuality['counts']];
  for (const e of extra) totals.extra_field += e.rows;
  const values = live.rows * features.length;
  const metrics: Record<string, number | null> = { 'quality.rows': live.rows, 'quality.features': features.length };
  for (const code of Object.keys(totals) as QualityCode[]) metrics[`quality.${code}`] = totals[code];
  metrics['quality.missing_rate'] = values === 0 ? null : totals.missing_value / values;
  const anomalous = totals.missing_value + totals.type_mismatch + totals.out_of_range + totals.unseen_category + totals.missing_field;
  metrics['quality.anomaly_rate'] = values === 0 ? null : anomalous / values;
  for (const f of features) {
    for (const code of FEATURE_CODES) metrics[`quality.feature.${f.feature}.${code}`] = f.counts[code as keyof FeatureQuality['counts']];
    metrics[`quality.feature.${f.feature}.missing_rate`] = f.missing_rate;
  }
  const anomalies = [
    ...features.flatMap((f) => FEATURE_CODES.filter((code) => f.counts[code as keyof FeatureQuality['counts']] > 0).map((code) => ({ code, feature: f.feature, count: f.counts[code as keyof FeatureQuality['counts']] }))),
    ...extra.map((e) => ({ code: 'extra_field' as const, feature: e.field, count: e.rows })),
  ];
  const status = anomalies.length === 0 ? 'ok' : 'anomalies';
  return {
    status,
    rows: live.requests,
    windowStart: live.windowStart,
    windowEnd: live.windowEnd,
    metrics: finiteMetrics(metrics),
    result: {
      status,
      window,
      reference: loaded ? { model: `${loaded.record.model}@${loaded.record.version}`, source: loaded.record.source, rows: loaded.record.summary.rows } : null,
      totals,
      anomalies,
      features,
      extra_fields: extra,
    },
  };
}

/** The quality kind, for registerMonitorKind. */
export const qualityMonitorKind: MonitorKind<QualityMonitorConfig> = {
  kind: 'quality',
  checkConfig: checkQualityConfig,
  evaluate: evaluateQuality,
};
