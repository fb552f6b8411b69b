// A reference profile: what the drift tests and the quality checks need of a model version's
// reference data, kept as one compact blob in the artifact store so monitoring never re-reads the
// reference data itself. Per numeric column: its sorted values (all of them up to
// REFERENCE_SAMPLE_LIMIT, beyond that an evenly spaced quantile sample of that many), the exact
// minimum and maximum and the missing count; per categorical or boolean column: the exact count of
// every category; other types (datetime, text): their row count only. The model's prediction (its
// first output) is profiled the same way, apart from the features.
//
// Blob layout (little-endian): the 8 bytes "PLNTHREF", a uint32 header length, the header as UTF-8
// JSON, zero padding to a multiple of 8 bytes, then the numeric samples as float64 values one after
// the other (each column's header entry gives its offset and length, in values).
import { PlinthError } from '../core/index.js';
import type { FeatureColumn, FeatureWindow } from './drift.js';
import type { CategoricalSample, FeatureSample, NumericSample } from './samples.js';

/** Values kept per numeric column. KS p-values and Wasserstein distances on larger references are computed on this sample. */
export const REFERENCE_SAMPLE_LIMIT = 100_000;
const MAGIC = Buffer.from('PLNTHREF', 'latin1');
const FORMAT_VERSION = 1;

/** One profiled column. */
export interface ProfileColumn {
  /** numeric | categorical | boolean | datetime | text */
  type: string;
  /** The sorted (possibly subsampled) numeric values or the exact category counts; null for types no test reads. */
  sample: FeatureSample | null;
  /** Rows of the reference (missing ones included). */
  rows: number;
  /** Exact non-missing value count (the sample may hold fewer, see `sampled`). */
  count: number;
  /** Exact extremes of the numeric values; null for other types or when every value is missing. */
  min: number | null;
  max: number | null;
  /** True when the numeric sample is a quantile sample of `count` values. */
  sampled: boolean;
}

/** A decoded reference profile. */
export interface ReferenceProfile {
  rows: number;
  /** Features by name, in reference order. */
  columns: Map<string, ProfileColumn>;
  /** The model's first output, or null when the reference has none (a dataset without a prediction column). */
  prediction: ProfileColumn | null;
}

interface HeaderColumn {
  name: string;
  type: string;
  kind: 'numeric' | 'categorical' | 'none';
  rows: number;
  count: number;
  missing: number;
  min: number | null;
  max: number | null;
  sampled: boolean;
  /** numeric: float64 offset and length in the data section. */
  offset?: number;
  length?: number;
  /** categorical: [category, count] pairs. */
  counts?: Array<[string, number]>;
}

interface Header {
  format: 'plinth-reference-profile';
  version: number;
  rows: number;
  sample_limit: number;
  columns: HeaderColumn[];
  prediction: HeaderColumn | null;
}

/**
 * An evenly spaced quantile sample of a sorted array: element ⌊(i + ½)·n/m⌋ for i = 0 … m−1, so the
 * sample stays sorted and its empirical distribution is within 1/m of the original's everywhere.
 * Returns the array itself when it has at most `limit` values.
 */
export function quantileSample(sorted: Float64Array, limit: number): Float64Array {
  const n = sorted.length;
  if (n <= limit) return sorted;
  const out = new Float64Array(limit);
  for (let i = 0; i < limit; i++) out[i] = sorted[Math.floor(((i + 0.5) * n) / limit)]!;
  return out;
}

/** A profile column from a window column: numeric samples are capped at `limit` values. */
export function profileColumn(column: FeatureColumn, limit = REFERENCE_SAMPLE_LIMIT): ProfileColumn {
  const sample = column.sample;
  if (!sample) return { type: column.type, sample: null, rows: column.rows, count: 0, min: null, max: null, sampled: false };
  if (sample.kind === 'categorical') {
    return { type: column.type, sample, rows: column.rows, count: sample.total, min: null, max: null, sampled: false };
  }
  const n = sample.sorted.length;
  const kept = quantileSample(sample.sorted, limit);
  return {
    type: column.type,
    sample: { kind: 'numeric', sorted: kept, missing: sample.missing },
    rows: column.rows,
    count: n,
    min: n > 0 ? sample.sorted[0]! : null,
    max: n > 0 ? sample.sorted[n - 1]! : null,
    sampled: kept.length < n,
  };
}

/** Builds a profile from a window of features and an optional prediction column. */
export function profileFromWindow(window: FeatureWindow, prediction: FeatureColumn | null, limit = REFERENCE_SAMPLE_LIMIT): ReferenceProfile {
  const columns = new Map<string, ProfileColumn>();
  for (const [name, column] of window.columns) columns.set(name, profileColumn(column, limit));
  return { rows: window.rows, columns, prediction: prediction ? profileColumn(prediction, limit) : null };
}

/** The profile's features as a drift window (the prediction is left out). */
export function profileWindow(profile: ReferenceProfile): FeatureWindow {
  const columns = new Map<string, FeatureColumn>();
  for (const [name, column] of profile.columns) columns.set(name, profileAsColumn(column));
  return { rows: profile.rows, columns };
}

/** A profile column as a drift window column. */
export function profileAsColumn(column: ProfileColumn): FeatureColumn {
  return { type: column.type, sample: column.sample, rows: column.rows };
}

/** Encodes a profile into its blob (see the file header for the layout). */
export function encodeReferenceProfile(profile: ReferenceProfile): Buffer {
  const arrays: Float64Array[] = [];
  let offset = 0;
  const entry = (name: string, column: ProfileColumn): HeaderColumn => {
    const base = { name, type: column.type, rows: column.rows, count: column.count, min: column.min, max: column.max, sampled: column.sampled };
    const sample = column.sample;
    if (!sample) return { ...base, kind: 'none', missing: column.rows };
    if (sample.kind === 'categorical') return { ...base, kind: 'categorical', missing: sample.missing, counts: [...sample.counts] };
    arrays.push(sample.sorted);
    const at = offset;
    offset += sample.sorted.length;
    return { ...base, kind: 'numeric', missing: sample.missing, offset: at, length: sample.sorted.length };
  };
  const header: Header = {
    format: 'plinth-reference-profile',
    version: FORMAT_VERSION,
    rows: profile.rows,
    sample_limit: REFERENCE_SAMPLE_LIMIT,
    columns: [...profile.columns].map(([name, column]) => entry(name, column)),
    prediction: profile.prediction ? entry('prediction', profile.prediction) : null,
  };
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const headerEnd = MAGIC.length + 4 + json.length;
  const dataStart = Math.ceil(headerEnd / 8) * 8;
  const out = Buffer.alloc(dataStart + offset * 8);
  MAGIC.copy(out, 0);
  out.writeUInt32LE(json.length, MAGIC.length);
  json.copy(out, MAGIC.length + 4);
  let at = dataStart;
  for (const values of arrays) {
    Buffer.from(values.buffer, values.byteOffset, values.byteLength).copy(out, at);
    at += values.byteLength;
  }
  return out;
}

function corrupt(why: string): PlinthError {
  return new PlinthError('ARTIFACT_CORRUPT', `the reference profile blob is not readable: ${why}`);
}

/**
 * Decodes a profile blob.
 * @throws PlinthError ARTIFACT_CORRUPT for bytes that are not a profile of this format
 */
export function decodeReferenceProfile(blob: Buffer): ReferenceProfile {
  if (blob.length < MAGIC.length + 4 || !blob.subarray(0, MAGIC.length).equals(MAGIC)) throw corrupt('wrong magic bytes');
  const length = blob.readUInt32LE(MAGIC.length);
  const headerEnd = MAGIC.length + 4 + length;
  if (headerEnd > blob.length) throw corrupt('truncated header');
  let header: Header;
  try {
    header = JSON.parse(blob.subarray(MAGIC.length + 4, headerEnd).toString('utf8')) as Header;
  } catch {
    throw corrupt('the header is not JSON');
  }
  if (header.format !== 'plinth-reference-profile' || header.version !== FORMAT_VERSION) throw corrupt(`unknown format version ${String(header.version)}`);
  const dataStart = Math.ceil(headerEnd / 8) * 8;
  // A fresh, aligned copy of the data section: Float64Array views need 8-byte alignment.
  const data = new Float64Array(Math.max(0, (blob.length - dataStart) / 8));
  Buffer.from(data.buffer).set(blob.subarray(dataStart, dataStart + data.length * 8));
  const column = (entry: HeaderColumn): ProfileColumn => {
    let sample: FeatureSample | null = null;
    if (entry.kind === 'numeric') {
      const start = entry.offset ?? 0;
      const end = start + (entry.length ?? 0);
      if (end > data.length) throw corrupt(`column ${JSON.stringify(entry.name)} runs past the data`);
      sample = { kind: 'numeric', sorted: data.subarray(start, end), missing: entry.missing } satisfies NumericSample;
    } else if (entry.kind === 'categorical') {
      const counts = new Map(entry.counts ?? []);
      let total = 0;
      for (const n of counts.values()) total += n;
      sample = { kind: 'categorical', counts, total, missing: entry.missing } satisfies CategoricalSample;
    }
    return { type: entry.type, sample, rows: entry.rows, count: entry.count, min: entry.min, max: entry.max, sampled: entry.sampled };
  };
  const columns = new Map<string, ProfileColumn>();
  for (const entry of header.columns) columns.set(entry.name, column(entry));
  return { rows: header.rows, columns, prediction: header.prediction ? column(header.prediction) : null };
}

/** A small JSON description of a profile (for listings and `GET …/reference`): per column its type, counts and range or top categories. */
export function describeProfile(profile: ReferenceProfile): Record<string, unknown> {
  const describe = (name: string, c: ProfileColumn) => {
    const base: Record<string, unknown> = { name, type: c.type, rows: c.rows, count: c.count, missing: c.sample ? c.sample.missing : c.rows };
    if (c.sample?.kind === 'numeric') return { ...base, min: c.min, max: c.max, sample_size: c.sample.sorted.length, sampled: c.sampled };
    if (c.sample?.kind === 'categorical') {
      const top = [...c.sample.counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, 20);
      return { ...base, categories: c.sample.counts.size, top: top.map(([value, count]) => ({ value, count })) };
    }
    return base;
  };
  return {
    rows: profile.rows,
    features: [...profile.columns].map(([name, c]) => describe(name, c)),
    prediction: profile.prediction ? describe('prediction', profile.prediction) : null,
  };
}
