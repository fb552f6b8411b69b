// Reading the prediction log: a deployment's logged requests, newest first, each joined with its
// ground-truth label (null until one arrives). Paging is by keyset (the last row's time and id in an
// opaque page_token), so pages stay stable while new rows arrive and cost the same at any depth.
import { PlinthError } from '../core/index.js';
import type { Queryable } from '../store/index.js';
import { readableTensorsJson } from './record-json.js';

/** Filters of a listing or an export. */
export interface PredictionFilter {
  /** Only rows at or after this time, ms since the epoch. */
  since?: number | undefined;
  /** Only rows before this time, ms since the epoch (exclusive). */
  until?: number | undefined;
  role?: 'primary' | 'shadow' | undefined;
  /** A model name (any version) or `name@N`. */
  model?: string | undefined;
}

export interface ListPredictionsOptions extends PredictionFilter {
  /** Rows per page. @default 100 */
  limit?: number;
  /** From a previous page's next_page_token. */
  pageToken?: string | undefined;
}

/** One logged request as the API shows it. */
export interface PredictionItem {
  request_id: string;
  role: string;
  /** `name@version` */
  model: string;
  /** ms since the epoch */
  at: number;
  latency_ms: number;
  status: number;
  inputs: unknown;
  outputs: unknown;
  error: string | null;
  /** The label as the client sent it, or null when none has arrived. */
  label: unknown;
  label_received_at: number | null;
}

/** A row as stored, JSON columns still as text (exports write them without parsing). */
export interface PredictionRow {
  id: number;
  request_id: string;
  role: string;
  model_name: string;
  model_version: number;
  at: number;
  latency_ms: number;
  status: number;
  inputs: string;
  outputs: string | null;
  error: string | null;
  label: string | null;
  label_received_at: number | null;
}

const TOKEN_RE = /^(-?\d{1,16})\.(\d{1,16})$/;

function encodePageToken(row: PredictionRow): string {
  return Buffer.from(`${row.at}.${row.id}`, 'utf8').toString('base64url');
}

/** @throws PlinthError INVALID_PAGE_TOKEN */
function decodePageToken(token: string): { at: number; id: number } {
  const match = TOKEN_RE.exec(Buffer.from(token, 'base64url').toString('utf8'));
  if (!match || token.length > 64) throw new PlinthError('INVALID_PAGE_TOKEN', 'page_token is not one this listing produced; start again without it');
  return { at: Number(match[1]), id: Number(match[2]) };
}

/**
 * A model filter: `name` or `name@N`.
 * @throws PlinthError INVALID_ARGUMENT
 */
export function parseModelFilter(model: string): { name: string; version: number | null } {
  const at = model.lastIndexOf('@');
  if (at === -1) {
    if (model === '') throw new PlinthError('INVALID_ARGUMENT', 'model filter must be a model name or name@version');
    return { name: model, version: null };
  }
  const version = model.slice(at + 1);
  if (at === 0 || !/^[1-9]\d{0,15}$/.test(version)) throw new PlinthError('INVALID_ARGUMENT', `model filter must be a model name or name@version, got ${JSON.stringify(model.slice(0, 200))}`);
  return { name: model.slice(0, at), version: Number(version) };
}

/**
 * One page of a deployment's rows, newest first (by time, then id), with their labels.
 * Does not check that the deployment exists (an unknown one has no rows).
 * @throws PlinthError INVALID_PAGE_TOKEN, INVALID_ARGUMENT (model filter)
 */
export async function listPredictionRows(q: Queryable, deployment: string, options: ListPredictionsOptions = {}): Promise<{ rows: PredictionRow[]; nextPageToken: string | null }> {
  const limit = options.limit ?? 100;
  const after = options.pageToken ? decodePageToken(options.pageToken) : null;
  const model = options.model !== undefined ? parseModelFilter(options.model) : null;
  let query = q
    .selectFrom('prediction_log as l')
    .leftJoin('prediction_feedback as f', (join) => join.onRef('f.deployment', '=', 'l.deployment').onRef('f.request_id', '=', 'l.request_id'))
    .select(['l.id', 'l.request_id', 'l.role', 'l.model_name', 'l.model_version', 'l.at', 'l.latency_ms', 'l.status', 'l.inputs', 'l.outputs', 'l.error', 'f.label', 'f.received_at as label_received_at'])
    .where('l.deployment', '=', deployment);
  if (options.since !== undefined) query = query.where('l.at', '>=', options.since);
  if (options.until !== undefined) query = query.where('l.at', '<', options.until);
  if (options.role !== undefined) query = query.where('l.role', '=', options.role);
  if (model) {
    query = query.where('l.model_name', '=', model.name);
    if (model.version !== null) query = query.where('l.model_version', '=', model.version);
  }
  if (after) query = query.where((eb) => eb.or([eb('l.at', '<', after.at), eb.and([eb('l.at', '=', after.at), eb('l.id', '<', after.id)])]));
  const found = await query.orderBy('l.at', 'desc').orderBy('l.id', 'desc').limit(limit + 1).execute();
  const rows = found.slice(0, limit).map((r) => ({
    ...r,
    id: Number(r.id),
    at: Number(r.at),
    inputs: readableTensorsJson(r.inputs),
    outputs: r.outputs === null ? null : readableTensorsJson(r.outputs),
    label_received_at: r.label_received_at === null ? null : Number(r.label_received_at),
  })) as PredictionRow[];
  const last = rows[rows.length - 1];
  return { rows, nextPageToken: found.length > limit && last ? encodePageToken(last) : null };
}

/** The API form of a stored row. */
export function predictionItem(row: PredictionRow): PredictionItem {
  return {
    request_id: row.request_id,
    role: row.role,
    model: `${row.model_name}@${row.model_version}`,
    at: row.at,
    latency_ms: row.latency_ms,
    status: row.status,
    inputs: JSON.parse(row.inputs),
    outputs: row.outputs === null ? null : JSON.parse(row.outputs),
    error: row.error,
    label: row.label === null ? null : JSON.parse(row.label),
    label_received_at: row.label_received_at,
  };
}

/**
 * One page of a deployment's predictions in API form, newest first.
 * @throws PlinthError INVALID_PAGE_TOKEN, INVALID_ARGUMENT
 */
export async function listPredictions(q: Queryable, deployment: string, options: ListPredictionsOptions = {}): Promise<{ predictions: PredictionItem[]; next_page_token: string | null }> {
  const { rows, nextPageToken } = await listPredictionRows(q, deployment, options);
  return { predictions: rows.map(predictionItem), next_page_token: nextPageToken };
}
