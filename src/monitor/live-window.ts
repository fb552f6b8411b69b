// Live windows: a deployment's served traffic read back from the prediction log and decoded into
// named feature columns, the form the drift tests and quality checks read.
//
// What a window holds: the answered requests (status < 400, with outputs) of the deployment's
// primary role, by time (`since` … `until`) or the newest N before `until`, at most
// MAX_WINDOW_REQUESTS requests and MAX_WINDOW_ROWS data rows (one logged request may carry many rows).
// When several model versions answered within the window, the window keeps the requests of the
// version that answered most of them (ties: the one that answered last) and reports how many each
// version answered; the others are left out, so every row is decoded with the schema it was encoded
// with and compared with that version's reference.
//
// Decoding: the log holds the model's input tensors after feature encoding. With a usable feature
// schema, serving's feature plan says where each feature sits (a column of a matrix input or an input
// of its own), and values are decoded back: categorical indices to their category, booleans 1/0 to
// "true"/"false", NaN, −1 (integer categorical) and "" (BYTES) to missing. Without a schema (or with
// one that does not fit the signature) the columns are the tensors themselves: `<tensor>` for one
// value per row, `<tensor>[j]` for column j. Sensitive features are hashed or dropped in the log, so
// they are skipped (listed with the reason). The prediction is the first output's first value per row.
import { PlinthError } from '../core/index.js';
import { listPredictionRows, type PredictionRow } from '../predlog/index.js';
import { getVersion, type FeatureSchema, type FeatureType } from '../registry/index.js';
import { planFeatures } from '../serving/index.js';
import type { ModelSignature } from '../onnx/index.js';
import type { Db } from '../store/index.js';
import type { FeatureColumn, FeatureWindow } from './drift.js';
import type { MonitorWindow } from './monitor-kind.js';
import { categoricalSample, numericSample } from './samples.js';

/** Requests a window reads at most (the newest ones in its range). */
export const MAX_WINDOW_REQUESTS = 100_000;
/** Data rows a window decodes at most. */
export const MAX_WINDOW_ROWS = 1_000_000;
const PAGE = 5_000;

export type LiveValue = number | string | null;

/** One decoded column: its values per row (null when missing) and what could not be decoded. */
export interface LiveColumn {
  name: string;
  /** numeric | categorical | boolean | datetime | text */
  type: FeatureType;
  /** Per row: a number (numeric, datetime), a string (categorical, boolean "true"/"false", text), or null when missing. */
  values: LiveValue[];
  /** Rows whose value did not fit the feature's type (counted, and left out of `values` as null). */
  typeMismatches: number;
  /** Rows whose request held no tensor for the feature (counted, and null in `values`). */
  missingFields: number;
}

export interface LiveWindow {
  deployment: string;
  /** Logged requests kept (those of the chosen version). */
  requests: number;
  /** Data rows of those requests. */
  rows: number;
  /** Time of the oldest and newest kept request, ms since epoch; null when empty. */
  windowStart: number | null;
  windowEnd: number | null;
  /** The model version the window is about; null when the window is empty. */
  model: { name: string; version: number } | null;
  /** Answered requests per `model@version` in the range (before keeping one version). */
  versions: Record<string, number>;
  /** Requests of other versions left out. */
  otherVersionRequests: number;
  /** True when MAX_WINDOW_REQUESTS or MAX_WINDOW_ROWS cut the window. */
  truncated: boolean;
  /** How columns were named: from the feature schema, or from the tensors. */
  columnsFrom: 'feature_schema' | 'tensors';
  columns: Map<string, LiveColumn>;
  /** Fields in the logged inputs that the feature schema does not name: tensor (or tensor column) → rows. */
  extraFields: Map<string, number>;
  /** Features left out, with why. */
  skipped: Array<{ feature: string; reason: string }>;
  /** The first output's first value per row: numbers, or strings for a BYTES output; null when missing. */
  prediction: LiveValue[];
  predictionType: 'numeric' | 'categorical';
}

interface VersionInfo {
  signature: ModelSignature;
  schema: FeatureSchema | null;
}

/**
 * Reads the answered requests of a window, newest first: the primary-role rows, and with `shadows`
 * the shadow rows among them too. `lastN` (and the MAX_WINDOW_REQUESTS cap) counts primary requests.
 * @returns rows and whether the cap cut them
 */
export async function readWindowRows(
  db: Db, deployment: string, window: MonitorWindow, options: { shadows: boolean },
): Promise<{ rows: PredictionRow[]; truncated: boolean }> {
  const want = Math.min(window.lastN ?? MAX_WINDOW_REQUESTS, MAX_WINDOW_REQUESTS);
  const rows: PredictionRow[] = [];
  let primaries = 0;
  let pageToken: string | undefined;
  for (;;) {
    const page = await listPredictionRows(db, deployment, {
      ...(options.shadows ? {} : { role: 'primary' as const }),
      until: window.until,
      ...(window.since !== null ? { since: window.since } : {}),
      limit: PAGE,
      ...(pageToken ? { pageToken } : {}),
    });
    for (const row of page.rows) {
      if (row.status >= 400 || row.outputs === null) continue;
      if (row.role === 'primary') {
        if (primaries >= want) return { rows, truncated: window.lastN === null || window.lastN > MAX_WINDOW_REQUESTS };
        primaries++;
      }
      rows.push(row);
    }
    if (!page.nextPageToken) return { rows, truncated: false };
    pageToken = page.nextPageToken;
  }
}

/** Element r of a logged tensor as one value: the first element of a nested row. */
function firstOf(value: unknown): unknown {
  let v = value;
  while (Array.isArray(v)) v = v[0];
  return v;
}

/** A logged number: finite numbers as they are; the codec's "NaN"/"Infinity" strings and null as missing (null). */
function loggedNumber(v: unknown): number | null | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (v === null || v === 'NaN' || v === 'Infinity' || v === '-Infinity') return null;
  if (typeof v === 'boolean') return v ? 1 : 0;
  return undefined;
}

/** Decodes one logged value of a feature; undefined means a type mismatch. */
function decodeValue(type: FeatureType, categories: readonly string[] | undefined, v: unknown): LiveValue | undefined {
  switch (type) {
    case 'numeric':
    case 'datetime': {
      if (type === 'datetime' && typeof v === 'string') return v === '' ? null : v;
      return loggedNumber(v);
    }
    case 'categorical': {
      if (typeof v === 'string') return v === '' || v === 'NaN' ? null : v;
      const n = loggedNumber(v);
      if (n === undefined) return undefined;
      if (n === null || n === -1) return null;
      if (!categories) return String(n);
      return Number.isInteger(n) && n >= 0 && n < categories.length ? categories[n]! : undefined;
    }
    case 'boolean': {
      const n = loggedNumber(v);
      if (n === null) return null;
      if (n === 1) return 'true';
      if (n === 0) return 'false';
      return undefined;
    }
    case 'text':
      if (v === null || v === '') return null;
      return typeof v === 'string' ? v : undefined;
  }
}

function typeOfDatatype(datatype: string): FeatureType {
  if (datatype === 'BYTES') return 'categorical';
  if (datatype === 'BOOL') return 'boolean';
  return 'numeric';
}

function newColumn(name: string, type: FeatureType): LiveColumn {
  return { name, type, values: [], typeMismatches: 0, missingFields: 0 };
}

function push(column: LiveColumn, decoded: LiveValue | undefined): void {
  if (decoded === undefined) {
    column.typeMismatches++;
    column.values.push(null);
  } else {
    column.values.push(decoded);
  }
}

/** Rows of a request: the length of its first array-valued tensor. */
function rowCount(inputs: Record<string, unknown>): number {
  for (const value of Object.values(inputs)) if (Array.isArray(value)) return value.length;
  return 0;
}

/**
 * Reads and decodes a window of a deployment's traffic. Does not check that the deployment exists
 * (an unknown one has an empty window). With `options.model`, only that version's requests are kept
 * (instead of the version that answered most).
 * @throws PlinthError from the registry when the chosen version cannot be read
 */
export async function readLiveWindow(db: Db, deployment: string, window: MonitorWindow, options: { model?: { name: string; version: number } } = {}): Promise<LiveWindow> {
  const { rows: all, truncated: cut } = await readWindowRows(db, deployment, window, { shadows: false });
  const versions: Record<string, number> = {};
  const lastSeen = new Map<string, number>();
  for (const row of all) {
    const key = `${row.model_name}@${row.model_version}`;
    versions[key] = (versions[key] ?? 0) + 1;
    lastSeen.set(key, Math.max(lastSeen.get(key) ?? -Infinity, row.at));
  }
  const live: LiveWindow = {
    deployment,
    requests: 0,
    rows: 0,
    windowStart: null,
    windowEnd: null,
    model: null,
    versions,
    otherVersionRequests: 0,
    truncated: cut,
    columnsFrom: 'tensors',
    columns: new Map(),
    extraFields: new Map(),
    skipped: [],
    prediction: [],
    predictionType: 'numeric',
  };
  const chosen = options.model
    ? `${options.model.name}@${options.model.version}`
    : Object.keys(versions).sort((a, b) => versions[b]! - versions[a]! || lastSeen.get(b)! - lastSeen.get(a)!)[0];
  if (chosen === undefined) return live;
  const at = chosen.lastIndexOf('@');
  const model = { name: chosen.slice(0, at), version: Number(chosen.slice(at + 1)) };
  live.model = model;
  const version = await getVersion(db, model.name, { kind: 'version', version: model.version });
  const info: VersionInfo = { signature: version.signature, schema: version.feature_schema };
  const kept = all.filter((r) => r.model_name === model.name && r.model_version === model.version);
  live.otherVersionRequests = all.length - kept.length;
  // Oldest first, so values follow traffic order.
  kept.reverse();
  const decoder = makeDecoder(info, live);
  const output = info.signature.outputs[0];
  live.predictionType = output?.datatype === 'BYTES' ? 'categorical' : 'numeric';
  for (const row of kept) {
    if (live.rows >= MAX_WINDOW_ROWS) {
      live.truncated = true;
      break;
    }
    let inputs: Record<string, unknown>;
    let outputs: Record<string, unknown>;
    try {
      inputs = JSON.parse(row.inputs) as Record<string, unknown>;
      outputs = JSON.parse(row.outputs!) as Record<string, unknown>;
    } catch (error) {
      throw new PlinthError('INTERNAL', `prediction log row ${row.id} holds JSON that does not parse`, { cause: error });
    }
    const n = rowCount(inputs);
    decoder(inputs, n);
    const out = output ? outputs[output.name] : undefined;
    for (let r = 0; r < n; r++) {
      const v = Array.isArray(out) ? firstOf(out[r]) : undefined;
      if (live.predictionType === 'categorical') live.prediction.push(typeof v === 'string' && v !== '' ? v : null);
      else live.prediction.push(loggedNumber(v) ?? null);
    }
    live.requests++;
    live.rows += n;
    live.windowStart = live.windowStart === null ? row.at : Math.min(live.windowStart, row.at);
    live.windowEnd = live.windowEnd === null ? row.at : Math.max(live.windowEnd, row.at);
  }
  return live;
}

/** A function that appends one request's rows to the window's columns. */
function makeDecoder(info: VersionInfo, live: LiveWindow): (inputs: Record<string, unknown>, n: number) => void {
  const plan = planFeatures(info.signature, info.schema);
  if (info.schema && !plan.unusable) {
    live.columnsFrom = 'feature_schema';
    const features = info.schema.features.filter((f) => {
      if (f.sensitive) live.skipped.push({ feature: f.name, reason: 'sensitive: the prediction log keeps it hashed or not at all' });
      return !f.sensitive;
    });
    const targetNames = new Set(plan.targets.map((t) => t.name));
    const schemaWidth = new Map<string, number>();
    for (const c of plan.columns) schemaWidth.set(plan.targets[c.target]!.name, (schemaWidth.get(plan.targets[c.target]!.name) ?? 0) + 1);
    const placed = features.map((f) => {
      const column = plan.byName.get(f.name)!;
      const target = plan.targets[column.target]!;
      const live_ = newColumn(f.name, f.type);
      live.columns.set(f.name, live_);
      return { feature: f, offset: column.offset, tensor: target.name, matrix: plan.layout === 'matrix', live: live_ };
    });
    const extra = (name: string, n: number) => live.extraFields.set(name, (live.extraFields.get(name) ?? 0) + n);
    return (inputs, n) => {
      for (const p of placed) {
        const tensor = inputs[p.tensor];
        if (!Array.isArray(tensor)) {
          p.live.missingFields += n;
          for (let r = 0; r < n; r++) p.live.values.push(null);
          continue;
        }
        for (let r = 0; r < n; r++) {
          const row = tensor[r];
          const v = p.matrix ? (Array.isArray(row) ? row[p.offset] : undefined) : Array.isArray(row) ? row[0] : row;
          if (v === undefined) {
            p.live.missingFields++;
            p.live.values.push(null);
          } else {
            push(p.live, decodeValue(p.feature.type, p.feature.categories, v));
          }
        }
      }
      for (const [name, tensor] of Object.entries(inputs)) {
        if (!targetNames.has(name)) {
          extra(name, n);
          continue;
        }
        // A matrix wider than the schema: the columns past the features are extra fields.
        const width = schemaWidth.get(name) ?? 0;
        const first = Array.isArray(tensor) ? tensor[0] : undefined;
        if (plan.layout === 'matrix' && Array.isArray(first) && first.length > width) {
          for (let j = width; j < first.length; j++) extra(`${name}[${j}]`, n);
        }
      }
    };
  }
  if (info.schema && plan.unusable) live.skipped.push({ feature: '*', reason: `the feature schema does not fit the model's inputs (${plan.unusable}); columns are named after the tensors` });
  const byName = new Map(info.signature.inputs.map((i) => [i.name, i]));
  const columnFor = (name: string, datatype: string): LiveColumn => {
    let column = live.columns.get(name);
    if (!column) {
      column = newColumn(name, typeOfDatatype(datatype));
      // A column first seen after some rows: the earlier rows did not have it.
      column.missingFields = live.rows;
      for (let r = 0; r < live.rows; r++) column.values.push(null);
      live.columns.set(name, column);
    }
    return column;
  };
  return (inputs, n) => {
    const seen = new Set<string>();
    for (const [name, tensor] of Object.entries(inputs)) {
      if (!Array.isArray(tensor)) continue;
      const datatype = byName.get(name)?.datatype ?? 'FP32';
      const first = tensor[0];
      const width = Array.isArray(first) ? first.length : 0;
      if (width <= 1) {
        const column = columnFor(name, datatype);
        seen.add(name);
        for (let r = 0; r < n; r++) push(column, decodeValue(column.type, undefined, firstOf(tensor[r])));
      } else {
        for (let j = 0; j < width; j++) {
          const column = columnFor(`${name}[${j}]`, datatype);
          seen.add(column.name);
          for (let r = 0; r < n; r++) {
            const row = tensor[r];
            const v = Array.isArray(row) ? firstOf(row[j]) : undefined;
            if (v === undefined) {
              column.missingFields++;
              column.values.push(null);
            } else {
              push(column, decodeValue(column.type, undefined, v));
            }
          }
        }
      }
    }
    for (const column of live.columns.values()) {
      if (seen.has(column.name)) continue;
      column.missingFields += n;
      for (let r = 0; r < n; r++) column.values.push(null);
    }
  };
}

/** A decoded column as a drift window column (numeric and datetime values as numbers, the rest as categories). */
export function liveColumnAsFeature(type: string, values: readonly LiveValue[]): FeatureColumn {
  if (type === 'numeric') return { type, sample: numericSample(values.map((v) => (typeof v === 'number' ? v : Number.NaN))), rows: values.length };
  if (type === 'categorical' || type === 'boolean') return { type, sample: categoricalSample(values.map((v) => (v === null ? null : String(v)))), rows: values.length };
  return { type, sample: null, rows: values.length };
}

/** The window's features as a drift window. */
export function liveFeatureWindow(live: LiveWindow): FeatureWindow {
  const columns = new Map<string, FeatureColumn>();
  for (const [name, column] of live.columns) columns.set(name, liveColumnAsFeature(column.type, column.values));
  return { rows: live.rows, columns };
}

/** The window's prediction as a drift window column (null when the window is empty). */
export function livePredictionColumn(live: LiveWindow): FeatureColumn | null {
  if (live.rows === 0) return null;
  return liveColumnAsFeature(live.predictionType, live.prediction);
}
