// `plinth deploy create|list|status|rollout|promote|rollback|history|predictions|feedback`: deployments,
// their rollouts (canary, A/B, shadow, blue-green), revisions, the prediction log and ground-truth
// feedback, over the HTTP API under /api/v1/deployments (docs/cli.md, "Deployments").
// Flags are checked here where that is cheap (strategy, durations, numbers, sticky key) so a typo
// fails with exit code 2 before any request; everything else is the server's to refuse.
import fs from 'node:fs';
import readline from 'node:readline';
import { parse as parseCsv } from 'csv-parse';
import type { Command } from 'commander';
import { loadClientConfig, PlinthError } from '../../core/index.js';
import { parseReply } from '../client.js';
import { clientFor, wantsJson, type GlobalOptions } from '../context.js';
import { EXIT_CODES, UnreachableError } from '../exit-codes.js';
import { emit, formatRecord, formatTable, formatTime } from '../output.js';

// ---- reply shapes (the lead's contract for issue 4), as far as the CLI reads them ----

export interface DeploymentRoute {
  model: string;
  role: string;
  /** Share of traffic in percent; for a shadow route, the percent of traffic mirrored. */
  weight: number;
}

interface AnalysisCheck {
  name: string;
  value: number | null;
  threshold: number | null;
  passed: boolean | null;
  detail?: string | null;
}

interface LastAnalysis {
  at?: number;
  verdict?: string;
  checks?: AnalysisCheck[];
}

/** GET /deployments/{name}/analysis, as far as the status view reads it. */
interface DeploymentAnalysis {
  window_started_at?: number;
  variants?: Array<{ model: string; role: string; weight: number; requests?: number; errors?: number; error_rate?: number | null; p50_ms?: number | null; p99_ms?: number | null }>;
  canary?: LastAnalysis | null;
  ab?: Record<string, unknown> | null;
  shadow?: Record<string, unknown> | null;
}

interface RolloutState {
  strategy: string;
  model: string;
  stable: string | null;
  state: string;
  step: number | null;
  steps: number[] | null;
  weight: number | null;
  step_started_at: number | null;
  interval_seconds: number | null;
  min_requests: number | null;
  analysis: Record<string, unknown> | null;
  sticky: { header?: string; field?: string } | null;
  started_at: number | null;
  last_analysis: LastAnalysis | null;
}

export interface Deployment {
  name: string;
  description: string;
  revision: number;
  created_at: number;
  created_by: string | null;
  updated_at: number;
  routes: DeploymentRoute[];
  rollout: RolloutState | null;
  last_rollout: { strategy: string; model: string; outcome: string; reason: string | null; ended_at: number } | null;
}

interface Revision {
  revision: number;
  action: string;
  reason: string | null;
  actor: string | null;
  created_at: number;
  routes: DeploymentRoute[];
  rollout: RolloutState | null;
}

// ---- option parsing (exported for the tests) ----

/** The rollout strategies the server knows (POST /deployments/{name}/rollout). */
export const STRATEGIES = Object.freeze(['canary', 'ab', 'shadow', 'blue-green'] as const);
export type Strategy = (typeof STRATEGIES)[number];

/** Export formats of the prediction log. */
export const PREDICTION_FORMATS = Object.freeze(['jsonl', 'csv', 'parquet'] as const);

/** Most feedback items sent in one request. */
export const FEEDBACK_CHUNK = 10_000;

const bad = (message: string) => new PlinthError('INVALID_ARGUMENT', message);
const badRollout = (message: string) => new PlinthError('INVALID_ROLLOUT', message);

const DURATION_UNITS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600 };

/**
 * Parses a duration into seconds: a bare number is seconds (`90`), else one or more number+unit
 * parts with units ms, s, m, h (`30s`, `5m`, `1h`, `1m30s`, `500ms`). The result is > 0.
 * @throws PlinthError INVALID_ARGUMENT when the text is not such a duration or is 0
 */
export function parseDuration(text: string, flag = '--interval'): number {
  const trimmed = text.trim();
  let seconds: number;
  if (/^\d+(\.\d+)?$/.test(trimmed)) seconds = Number(trimmed);
  else if (/^(\d+(\.\d+)?(ms|s|m|h))+$/.test(trimmed)) {
    seconds = 0;
    for (const part of trimmed.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) seconds += Number(part[1]) * DURATION_UNITS[part[2]!]!;
  } else throw bad(`${flag} ${JSON.stringify(text)} is not a duration: use seconds (90) or 30s, 5m, 1h`);
  // Rounded to the millisecond so 0.1s + 0.2s style sums stay exact enough to read back.
  seconds = Math.round(seconds * 1000) / 1000;
  if (!(seconds > 0) || !Number.isFinite(seconds)) throw bad(`${flag} ${JSON.stringify(text)} must be longer than 0`);
  return seconds;
}

/**
 * Parses a number flag. `integer` refuses fractions; `min`/`max` are inclusive unless `minExclusive`.
 * @throws PlinthError INVALID_ARGUMENT
 */
export function parseNumber(text: string, flag: string, limits: { integer?: boolean; min?: number; max?: number; minExclusive?: boolean } = {}): number {
  const value = text.trim() === '' ? Number.NaN : Number(text);
  const { integer = false, min, max, minExclusive = false } = limits;
  const range = `${min === undefined ? '' : minExclusive ? `> ${min}` : `≥ ${min}`}${min !== undefined && max !== undefined ? ' and ' : ''}${max === undefined ? '' : `≤ ${max}`}`;
  const what = `${integer ? 'an integer' : 'a number'}${range ? ` ${range}` : ''}`;
  if (!Number.isFinite(value) || (integer && !Number.isInteger(value))) throw bad(`${flag} ${JSON.stringify(text)} is not ${what}`);
  if (min !== undefined && (minExclusive ? value <= min : value < min)) throw bad(`${flag} ${text} must be ${what}`);
  if (max !== undefined && value > max) throw bad(`${flag} ${text} must be ${what}`);
  return value;
}

/**
 * Parses `--steps 5,25,50,100` into percents: each > 0 and ≤ 100, strictly increasing, the last 100.
 * @throws PlinthError INVALID_ROLLOUT
 */
export function parseSteps(text: string): number[] {
  const parts = text.split(',').map((s) => s.trim());
  const steps = parts.map((part) => parseNumber(part, '--steps', { min: 0, minExclusive: true, max: 100 }));
  for (let i = 1; i < steps.length; i++) {
    if (steps[i]! <= steps[i - 1]!) throw badRollout(`--steps ${text}: the weights must increase step by step`);
  }
  if (steps[steps.length - 1] !== 100) throw badRollout(`--steps ${text}: the last step must be 100`);
  return steps;
}

/** The rollout flags as commander hands them over (strings, before parsing). */
export interface RolloutFlags {
  model: string;
  strategy: string;
  steps?: string;
  interval?: string;
  minRequests?: string;
  maxErrorRate?: string;
  maxLatencyRatio?: string;
  maxP99Ms?: string;
  maxPsi?: string;
  maxQualityDrop?: string;
  qualityMetric?: string;
  weight?: string;
  stickyHeader?: string;
  stickyField?: string;
  percent?: string;
}

// Which flags belong to which strategy; a flag given to another strategy is refused rather than
// silently ignored, so `--weight 10 --strategy canary` cannot be mistaken for a 10 % canary.
const CANARY_FLAGS = ['steps', 'interval', 'minRequests', 'maxErrorRate', 'maxLatencyRatio', 'maxP99Ms', 'maxPsi', 'maxQualityDrop', 'qualityMetric'] as const;
const STRATEGY_FLAGS: Record<Strategy, readonly (keyof RolloutFlags)[]> = {
  canary: CANARY_FLAGS,
  ab: ['weight', 'stickyHeader', 'stickyField'],
  shadow: ['percent'],
  'blue-green': [],
};
const FLAG_NAMES: Record<string, string> = {
  steps: '--steps', interval: '--interval', minRequests: '--min-requests', maxErrorRate: '--max-error-rate', maxLatencyRatio: '--max-latency-ratio',
  maxP99Ms: '--max-p99-ms', maxPsi: '--max-psi', maxQualityDrop: '--max-quality-drop', qualityMetric: '--quality-metric', weight: '--weight',
  stickyHeader: '--sticky-header', stickyField: '--sticky-field', percent: '--percent',
};

/**
 * Builds the body of POST /deployments/{name}/rollout from the flags: only the fields given, named
 * as the API names them (`interval_seconds`, `analysis.max_prediction_psi`, `sticky.header`…).
 * @throws PlinthError INVALID_ROLLOUT for an unknown strategy, a flag of another strategy, bad steps,
 * or both --sticky-header and --sticky-field; INVALID_ARGUMENT for a bad number or duration
 */
export function rolloutBody(flags: RolloutFlags): Record<string, unknown> {
  const strategy = flags.strategy.trim().toLowerCase();
  if (!(STRATEGIES as readonly string[]).includes(strategy)) throw badRollout(`--strategy ${JSON.stringify(flags.strategy)} is not a strategy: use one of ${STRATEGIES.join(', ')}`);
  const allowed = STRATEGY_FLAGS[strategy as Strategy];
  for (const key of Object.keys(FLAG_NAMES) as (keyof RolloutFlags)[]) {
    if (flags[key] !== undefined && !allowed.includes(key)) throw badRollout(`${FLAG_NAMES[key]} does not apply to a ${strategy} rollout`);
  }
  const body: Record<string, unknown> = { model: flags.model, strategy };
  switch (strategy as Strategy) {
    case 'canary': {
      if (flags.steps !== undefined) body.steps = parseSteps(flags.steps);
      if (flags.interval !== undefined) body.interval_seconds = parseDuration(flags.interval);
      if (flags.minRequests !== undefined) body.min_requests = parseNumber(flags.minRequests, '--min-requests', { integer: true, min: 1 });
      const analysis: Record<string, unknown> = {};
      if (flags.maxErrorRate !== undefined) analysis.max_error_rate = parseNumber(flags.maxErrorRate, '--max-error-rate', { min: 0, max: 1 });
      if (flags.maxLatencyRatio !== undefined) analysis.max_latency_ratio = parseNumber(flags.maxLatencyRatio, '--max-latency-ratio', { min: 1 });
      if (flags.maxP99Ms !== undefined) analysis.max_p99_ms = parseNumber(flags.maxP99Ms, '--max-p99-ms', { min: 0, minExclusive: true });
      if (flags.maxPsi !== undefined) analysis.max_prediction_psi = parseNumber(flags.maxPsi, '--max-psi', { min: 0 });
      if (flags.maxQualityDrop !== undefined) analysis.max_quality_drop = parseNumber(flags.maxQualityDrop, '--max-quality-drop', { min: 0 });
      if (flags.qualityMetric !== undefined) {
        if (flags.qualityMetric !== 'accuracy' && flags.qualityMetric !== 'mae') throw badRollout(`--quality-metric ${JSON.stringify(flags.qualityMetric)}: use accuracy or mae`);
        analysis.quality_metric = flags.qualityMetric;
      }
      if (Object.keys(analysis).length > 0) body.analysis = analysis;
      break;
    }
    case 'ab':
      if (flags.weight !== undefined) body.weight = parseNumber(flags.weight, '--weight', { min: 0, max: 100 });
      if (flags.stickyHeader !== undefined && flags.stickyField !== undefined) throw badRollout('give --sticky-header or --sticky-field, not both');
      if (flags.stickyHeader !== undefined) {
        if (flags.stickyHeader.trim() === '') throw badRollout('--sticky-header needs a header name');
        body.sticky = { header: flags.stickyHeader.trim() };
      }
      if (flags.stickyField !== undefined) {
        if (flags.stickyField.trim() === '') throw badRollout('--sticky-field needs an input field name');
        body.sticky = { field: flags.stickyField.trim() };
      }
      break;
    case 'shadow':
      if (flags.percent !== undefined) body.percent = parseNumber(flags.percent, '--percent', { min: 0, minExclusive: true, max: 100 });
      break;
    case 'blue-green':
      break;
  }
  return body;
}

/**
 * Parses `--since`/`--until`: milliseconds since the epoch (digits only) or an ISO date/time.
 * @returns milliseconds since the epoch
 * @throws PlinthError INVALID_ARGUMENT
 */
export function parseTime(text: string, flag: string): number {
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const ms = Date.parse(trimmed);
  if (!Number.isFinite(ms)) throw bad(`${flag} ${JSON.stringify(text)} is neither an ISO date nor milliseconds since the epoch`);
  return ms;
}

// ---- feedback files ----

/** One ground-truth label for a logged prediction. */
export interface FeedbackItem {
  request_id: string;
  label: unknown;
}

export type FeedbackFormat = 'jsonl' | 'csv';

/** The format of a feedback file: by extension (.csv; .jsonl/.ndjson/.json), else by its first character. */
export function feedbackFormatOf(file: string): FeedbackFormat {
  const lower = file.toLowerCase();
  if (lower.endsWith('.csv')) return 'csv';
  if (lower.endsWith('.jsonl') || lower.endsWith('.ndjson') || lower.endsWith('.json')) return 'jsonl';
  const fd = fs.openSync(file, 'r');
  try {
    const head = Buffer.alloc(256);
    const read = fs.readSync(fd, head, 0, head.length, 0);
    return head.subarray(0, read).toString('utf8').replace(/^\uFEFF/, '').trimStart().startsWith('{') ? 'jsonl' : 'csv';
  } finally {
    fs.closeSync(fd);
  }
}

// A CSV label cell is sent as a number when it is one ("1", "0.25", "-3e2"), else as the text, so
// class labels and regression targets both arrive typed as a JSONL file would give them.
const NUMERIC = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/** Longest request id the server takes (its x-request-id limit), characters. */
const MAX_REQUEST_ID_LENGTH = 128;

function checkItem(requestId: unknown, label: unknown, where: string): FeedbackItem {
  if (typeof requestId !== 'string' || requestId === '' || requestId.length > MAX_REQUEST_ID_LENGTH) throw bad(`${where}: request_id must be a string of 1 to ${MAX_REQUEST_ID_LENGTH} characters`);
  if (label === undefined || label === '') throw bad(`${where}: label is missing`);
  return { request_id: requestId, label };
}

/**
 * Reads a feedback file, streaming, one item at a time. JSONL: one object `{"request_id", "label"}`
 * per line (blank lines skipped; the label is any JSON value, null included). CSV: a header naming
 * `request_id` and `label` (other columns ignored); numeric labels become numbers.
 * @throws PlinthError INVALID_ARGUMENT with the line number when a line or row is malformed
 */
export async function* readFeedbackItems(file: string, format: FeedbackFormat): AsyncGenerator<FeedbackItem> {
  if (format === 'jsonl') {
    const lines = readline.createInterface({ input: fs.createReadStream(file, 'utf8'), crlfDelay: Infinity });
    let lineNumber = 0;
    for await (const raw of lines) {
      lineNumber++;
      const line = lineNumber === 1 ? raw.replace(/^\uFEFF/, '') : raw;
      if (line.trim() === '') continue;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch (error) {
        throw bad(`${file} line ${lineNumber} is not JSON: ${(error as Error).message}`);
      }
      if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad(`${file} line ${lineNumber} must be an object {"request_id", "label"}`);
      const record = value as Record<string, unknown>;
      yield checkItem(record.request_id, record.label, `${file} line ${lineNumber}`);
    }
    return;
  }
  const parser = fs.createReadStream(file).pipe(parseCsv({ bom: true, columns: true, skip_empty_lines: true, trim: true, relax_column_count: false }));
  let row = 1;
  try {
    for await (const record of parser as AsyncIterable<Record<string, string>>) {
      row++;
      if (row === 2 && (!('request_id' in record) || !('label' in record))) throw bad(`${file}: the CSV header must name the columns request_id and label`);
      const text = record.label;
      yield checkItem(record.request_id, text !== undefined && NUMERIC.test(text) ? Number(text) : text, `${file} row ${row}`);
    }
  } catch (error) {
    if (error instanceof PlinthError) throw error;
    throw bad(`${file} is not a readable CSV file: ${(error as Error).message}`);
  }
}

interface FeedbackReply {
  accepted?: number;
  unchanged?: number;
  unknown?: number | string[];
  unknown_ids?: string[];
}

/** Sums of the replies to the feedback requests of one file. */
export interface FeedbackTotals {
  items: number;
  requests: number;
  accepted: number;
  unchanged: number;
  unknown: number;
  unknown_ids: string[];
}

// ---- human output ----

/** `fraud@3 95% · fraud@4 5% (canary) · fraud@5 mirrors 20% (shadow)` */
export function routesSummary(routes: readonly DeploymentRoute[]): string {
  if (routes.length === 0) return '(no routes)';
  return routes
    .map((r) => (r.role === 'shadow' ? `${r.model} mirrors ${r.weight}% (shadow)` : `${r.model} ${r.weight}%${r.role === 'stable' ? '' : ` (${r.role})`}`))
    .join(' · ');
}

function rolloutSummary(rollout: RolloutState | null): string {
  if (!rollout) return 'none';
  const parts = [`${rollout.strategy} of ${rollout.model}`];
  if (rollout.stable) parts[0] += ` against ${rollout.stable}`;
  parts.push(rollout.state);
  if (rollout.steps && rollout.step !== null) parts.push(`step ${rollout.step + 1}/${rollout.steps.length} at ${rollout.steps[rollout.step]}%`);
  else if (rollout.weight !== null && rollout.weight !== undefined) parts.push(rollout.strategy === 'shadow' ? `mirroring ${rollout.weight}%` : `candidate ${rollout.weight}%`);
  if (rollout.interval_seconds) parts.push(`every ${rollout.interval_seconds}s`);
  if (rollout.min_requests) parts.push(`min ${rollout.min_requests} requests per step`);
  if (rollout.sticky?.header) parts.push(`sticky by header ${rollout.sticky.header}`);
  if (rollout.sticky?.field) parts.push(`sticky by field ${rollout.sticky.field}`);
  if (rollout.started_at) parts.push(`since ${formatTime(rollout.started_at)}`);
  return parts.join(', ');
}

const show = (x: unknown): string =>
  typeof x === 'number' ? String(Number(x.toPrecision(6))) : x === null || x === undefined ? '' : typeof x === 'object' ? JSON.stringify(x) : String(x);

function checksTable(analysis: LastAnalysis): string {
  let text = `canary analysis${analysis.at ? ` at ${formatTime(analysis.at)}` : ''}: ${analysis.verdict ?? ''}\n`;
  if (analysis.checks && analysis.checks.length > 0) {
    text += formatTable(analysis.checks, [
      { header: 'check', value: (c) => c.name },
      { header: 'value', value: (c) => show(c.value) },
      { header: 'threshold', value: (c) => show(c.threshold) },
      { header: 'result', value: (c) => (c.passed === true ? 'pass' : c.passed === false ? 'FAIL' : 'skipped') },
      { header: 'detail', value: (c) => c.detail ?? '' },
    ]);
  }
  return text;
}

const isRowList = (v: unknown): v is Array<Record<string, unknown>> =>
  Array.isArray(v) && v.length > 0 && v.every((row) => typeof row === 'object' && row !== null && !Array.isArray(row));

/**
 * A comparison (A/B tests, shadow) whatever its fields: scalars as `key: value` lines, lists of
 * objects (the A/B tests) as tables with a column per key, anything else as JSON.
 */
function comparison(title: string, value: Record<string, unknown>): string {
  const entries = Object.entries(value);
  const flat = entries.filter(([, v]) => !isRowList(v));
  let text = `${title}:\n${flat.length > 0 ? formatRecord(Object.fromEntries(flat.map(([k, v]) => [k, show(v)]))) : ''}`;
  for (const [key, rows] of entries) {
    if (!isRowList(rows)) continue;
    const keys = [...new Set(rows.flatMap((row) => Object.keys(row)))];
    text += `${key}:\n${formatTable(rows, keys.map((k) => ({ header: k.replaceAll('_', ' '), value: (row: Record<string, unknown>) => show(row[k]) })))}`;
  }
  return text;
}

/**
 * The status view: who the deployment is, its routes, its rollout; with `analysis` (read while a
 * rollout runs) the live per-variant figures and the newest checks, else the rollout's last analysis.
 */
export function describeDeployment(d: Deployment, analysis?: DeploymentAnalysis | string): string {
  const head = formatRecord({
    deployment: d.name,
    ...(d.description ? { description: d.description } : {}),
    revision: d.revision,
    updated: formatTime(d.updated_at),
    created: `${formatTime(d.created_at)}${d.created_by ? ` by ${d.created_by}` : ''}`,
    rollout: rolloutSummary(d.rollout),
    ...(d.last_rollout
      ? { 'last rollout': `${d.last_rollout.strategy} of ${d.last_rollout.model} ${d.last_rollout.outcome.replaceAll('_', ' ')} at ${formatTime(d.last_rollout.ended_at)}${d.last_rollout.reason ? `: ${d.last_rollout.reason}` : ''}` }
      : {}),
  });
  let text = `${head}\n${formatTable(d.routes, [
    { header: 'model', value: (r) => r.model },
    { header: 'role', value: (r) => r.role },
    { header: 'weight', value: (r) => (r.role === 'shadow' ? `${r.weight}% mirrored` : `${r.weight}%`) },
  ])}`;
  if (typeof analysis === 'string') text += `\nanalysis unavailable: ${analysis}\n`;
  else if (analysis?.variants && analysis.variants.length > 0) {
    text += `\n${analysis.window_started_at ? `traffic since ${formatTime(analysis.window_started_at)}:\n` : ''}${formatTable(analysis.variants, [
      { header: 'model', value: (v) => v.model },
      { header: 'role', value: (v) => v.role },
      { header: 'requests', value: (v) => v.requests ?? '' },
      { header: 'errors', value: (v) => v.errors ?? '' },
      { header: 'error rate', value: (v) => show(v.error_rate) },
      { header: 'p50 ms', value: (v) => show(v.p50_ms) },
      { header: 'p99 ms', value: (v) => show(v.p99_ms) },
    ])}`;
  }
  const checks = (typeof analysis === 'object' ? analysis.canary : null) ?? d.rollout?.last_analysis;
  if (checks) text += `\n${checksTable(checks)}`;
  if (typeof analysis === 'object' && analysis.ab) text += `\n${comparison('A/B comparison', analysis.ab)}`;
  if (typeof analysis === 'object' && analysis.shadow) text += `\n${comparison('shadow comparison', analysis.shadow)}`;
  return text;
}

// ---- commands ----

const deploymentPath = (name: string) => `/api/v1/deployments/${encodeURIComponent(name)}`;

/**
 * Streams GET `pathname` to a file or to stdout; returns the bytes written. A file is removed again
 * when the transfer or the write fails. When stdout's reader goes away (`| head`), it stops quietly.
 * @throws PlinthError with the server's code for an error reply; INVALID_ARGUMENT when the file
 * cannot be written; INTERNAL when the transfer breaks off
 */
async function streamDownload(command: Command, pathname: string, query: Record<string, string | number | undefined>, outFile: string | undefined): Promise<number> {
  const globals = command.optsWithGlobals<GlobalOptions>();
  const config = loadClientConfig({ ...(globals.url ? { url: globals.url } : {}), ...(globals.token ? { token: globals.token } : {}) });
  const url = new URL(config.url + pathname);
  for (const [key, value] of Object.entries(query)) if (value !== undefined) url.searchParams.set(key, String(value));
  let response: Response;
  try {
    response = await fetch(url, { headers: config.token ? { authorization: `Bearer ${config.token}` } : {} });
  } catch (error) {
    throw new UnreachableError(config.url, error);
  }
  if (!response.ok || !response.body) await parseReply(response);
  const out: NodeJS.WritableStream & { off(event: string, listener: (...args: unknown[]) => void): unknown } = outFile === undefined ? process.stdout : fs.createWriteStream(outFile);
  let writeError: NodeJS.ErrnoException | null = null;
  const onError = (error: unknown) => {
    writeError ??= error as NodeJS.ErrnoException;
  };
  out.on('error', onError);
  let bytes = 0;
  let transferError: unknown = null;
  try {
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      if (writeError) break; // leaving the loop cancels the response body
      bytes += chunk.length;
      if (!out.write(chunk)) {
        await new Promise<void>((resolve) => {
          const done = () => {
            out.off('drain', done);
            out.off('error', done);
            resolve();
          };
          out.on('drain', done);
          out.on('error', done);
        });
      }
    }
  } catch (error) {
    transferError = error;
  }
  if (outFile !== undefined) {
    const file = out as fs.WriteStream;
    // 'close' comes after the last byte is flushed, and also after a failed open or write.
    const closed = file.closed ? Promise.resolve() : new Promise<void>((resolve) => file.once('close', () => resolve()));
    if (!writeError && !transferError) file.end();
    else file.destroy();
    await closed;
    if (writeError || transferError) fs.rmSync(outFile, { force: true });
  } else {
    out.off('error', onError);
  }
  const failed = writeError as NodeJS.ErrnoException | null;
  if (failed) {
    if (outFile === undefined && failed.code === 'EPIPE') return bytes;
    throw new PlinthError('INVALID_ARGUMENT', `cannot write ${outFile ?? 'to stdout'}: ${failed.message}`, { cause: failed });
  }
  if (transferError) throw new PlinthError('INTERNAL', `the download of ${pathname} broke off after ${bytes} bytes: ${(transferError as Error).message}`, { cause: transferError });
  return bytes;
}

interface RouteFlag {
  model: string;
  weight: number;
}

/**
 * Reads one `--route ref=weight` flag into the list so far.
 * @throws PlinthError INVALID_ROUTES when it is not `reference=percentage`.
 */
export function collectRoute(value: string, previous: RouteFlag[]): RouteFlag[] {
  const at = value.lastIndexOf('=');
  const weight = at > 0 ? Number(value.slice(at + 1)) : Number.NaN;
  if (at <= 0 || !Number.isFinite(weight) || value.slice(at + 1).trim() === '') {
    throw new PlinthError('INVALID_ROUTES', `--route takes reference=weight, e.g. fraud@3=90; got ${JSON.stringify(value)}`);
  }
  return [...previous, { model: value.slice(0, at), weight }];
}

export function registerDeployCommands(program: Command): void {
  const deploy = program.command('deploy').description('deployments: create, roll out (canary, ab, shadow, blue-green), promote, roll back, read the prediction log, send feedback');

  deploy
    .command('create <name>')
    .description('create a deployment serving one model version, or a fixed split with --route (references are pinned to the versions they name now)')
    .option('--model <ref>', 'name@N, name@alias or name: all traffic to it')
    .option('--route <ref=weight>', 'a route of a fixed split, e.g. --route fraud@3=90 --route fraud@4=10 (weights add up to 100)', collectRoute, [])
    .option('--description <text>', 'what the deployment is for')
    .action(async (name: string, options: { model?: string; route: RouteFlag[]; description?: string }, command: Command) => {
      if ((options.model === undefined) === (options.route.length === 0)) throw new PlinthError('INVALID_ROUTES', 'give either --model or one or more --route ref=weight');
      const created = await clientFor(command).request<Deployment>('POST', '/api/v1/deployments', {
        json: {
          name,
          ...(options.model !== undefined ? { model: options.model } : { routes: options.route }),
          ...(options.description !== undefined ? { description: options.description } : {}),
        },
      });
      emit(wantsJson(command), created, () => `created deployment ${created.name}: ${routesSummary(created.routes)} (revision ${created.revision})\n`);
    });

  deploy
    .command('routes <name>')
    .description('set the routes by hand: a fixed split of versions by weight (not while a rollout runs)')
    .requiredOption('--route <ref=weight>', 'a route, e.g. --route fraud@3=90 --route fraud@4=10 (weights add up to 100)', collectRoute, [])
    .action(async (name: string, options: { route: RouteFlag[] }, command: Command) => {
      const updated = await clientFor(command).request<Deployment>('PUT', `${deploymentPath(name)}/routes`, { json: { routes: options.route } });
      emit(wantsJson(command), updated, () => `routes of ${updated.name}: ${routesSummary(updated.routes)} (revision ${updated.revision})\n`);
    });

  deploy
    .command('list')
    .description('list deployments with their routes and rollouts')
    .action(async (_options: unknown, command: Command) => {
      const { deployments } = await clientFor(command).request<{ deployments: Deployment[] }>('GET', '/api/v1/deployments');
      emit(wantsJson(command), deployments, () =>
        formatTable(deployments, [
          { header: 'name', value: (d) => d.name },
          { header: 'revision', value: (d) => d.revision },
          { header: 'routes', value: (d) => routesSummary(d.routes) },
          { header: 'rollout', value: (d) => (d.rollout ? `${d.rollout.strategy} ${d.rollout.state}` : '') },
          { header: 'updated', value: (d) => formatTime(d.updated_at) },
        ]),
      );
    });

  deploy
    .command('status <name>')
    .description('show routes with weights, the rollout and its step, and while it runs the live figures and checks (--json: the deployment as the API gives it)')
    .action(async (name: string, _options: unknown, command: Command) => {
      const client = clientFor(command);
      const found = await client.request<Deployment>('GET', deploymentPath(name));
      if (wantsJson(command)) {
        emit(true, found, () => '');
        return;
      }
      // The live figures matter only while a rollout runs; a failure to read them still shows the rest.
      let analysis: DeploymentAnalysis | string | undefined;
      if (found.rollout) {
        try {
          analysis = await client.request<DeploymentAnalysis>('GET', `${deploymentPath(name)}/analysis`);
        } catch (error) {
          analysis = (error as Error).message;
        }
      }
      emit(false, found, () => describeDeployment(found, analysis));
    });

  deploy
    .command('rollout <name>')
    .description('start a rollout of a model version: canary (stepped, analysed), ab (fixed split), shadow (mirrored) or blue-green (full switch)')
    .requiredOption('--model <ref>', 'the candidate: name@N, name@alias or name')
    .requiredOption('--strategy <strategy>', STRATEGIES.join(' | '))
    .option('--steps <list>', 'canary: weights in percent, e.g. 5,25,50,100')
    .option('--interval <duration>', 'canary: time per step: 90 (seconds), 30s, 5m, 1h')
    .option('--min-requests <n>', 'canary: requests the canary must answer before a step is analysed')
    .option('--max-error-rate <x>', 'canary: highest error rate passed (0..1)')
    .option('--max-latency-ratio <x>', "canary: highest ratio of the canary's p99 latency to the stable version's")
    .option('--max-p99-ms <x>', 'canary: highest p99 latency in milliseconds')
    .option('--max-psi <x>', "canary: highest PSI between the canary's and the stable version's predictions")
    .option('--max-quality-drop <x>', 'canary: largest drop of the quality metric on labelled predictions')
    .option('--quality-metric <name>', 'canary: accuracy | mae')
    .option('--weight <n>', "ab: the candidate's share in percent (default 50)")
    .option('--sticky-header <header>', 'ab: keep one value of this request header on one variant')
    .option('--sticky-field <field>', 'ab: keep one value of this input field on one variant')
    .option('--percent <n>', 'shadow: percent of traffic mirrored to the candidate (default 100)')
    .action(async (name: string, options: RolloutFlags, command: Command) => {
      const body = rolloutBody(options);
      const updated = await clientFor(command).request<Deployment>('POST', `${deploymentPath(name)}/rollout`, { json: body });
      emit(wantsJson(command), updated, () => `started the ${body.strategy} rollout of ${updated.rollout?.model ?? updated.last_rollout?.model ?? options.model} on ${updated.name}\n${describeDeployment(updated)}`);
    });

  deploy
    .command('promote <name>')
    .description('end the rollout now: the candidate takes 100%')
    .action(async (name: string, _options: unknown, command: Command) => {
      const updated = await clientFor(command).request<Deployment>('POST', `${deploymentPath(name)}/promote`, { json: {} });
      emit(wantsJson(command), updated, () => `promoted on ${updated.name}: ${routesSummary(updated.routes)} (revision ${updated.revision})\n`);
    });

  deploy
    .command('rollback <name>')
    .description('abort the rollout (the stable version takes 100%), or, with none running, go back to the previous revision')
    .option('--reason <text>', 'why, kept with the revision')
    .action(async (name: string, options: { reason?: string }, command: Command) => {
      const updated = await clientFor(command).request<Deployment>('POST', `${deploymentPath(name)}/rollback`, {
        json: options.reason !== undefined ? { reason: options.reason } : {},
      });
      emit(wantsJson(command), updated, () => `rolled back ${updated.name}: ${routesSummary(updated.routes)} (revision ${updated.revision})\n`);
    });

  deploy
    .command('history <name>')
    .description('list the revisions of a deployment, newest first')
    .action(async (name: string, _options: unknown, command: Command) => {
      const { revisions } = await clientFor(command).request<{ revisions: Revision[] }>('GET', `${deploymentPath(name)}/revisions`);
      emit(wantsJson(command), revisions, () =>
        formatTable(revisions, [
          { header: 'revision', value: (r) => r.revision },
          { header: 'action', value: (r) => r.action },
          { header: 'actor', value: (r) => r.actor ?? '' },
          { header: 'when', value: (r) => formatTime(r.created_at) },
          { header: 'routes', value: (r) => routesSummary(r.routes) },
          { header: 'reason', value: (r) => r.reason ?? '' },
        ]),
      );
    });

  deploy
    .command('predictions <name>')
    .description('export the prediction log as JSON Lines, CSV or Parquet, streaming, to a file or stdout')
    .option('--format <format>', PREDICTION_FORMATS.join(' | '), 'jsonl')
    .option('-o, --output <file>', 'write here instead of stdout')
    .option('--since <time>', 'only predictions at or after this ISO time or epoch milliseconds')
    .option('--until <time>', 'only predictions before this ISO time or epoch milliseconds')
    .option('--limit <n>', 'at most this many predictions')
    .action(async (name: string, options: { format: string; output?: string; since?: string; until?: string; limit?: string }, command: Command) => {
      if (!(PREDICTION_FORMATS as readonly string[]).includes(options.format)) throw bad(`--format ${JSON.stringify(options.format)}: use one of ${PREDICTION_FORMATS.join(', ')}`);
      const query = {
        format: options.format,
        since: options.since === undefined ? undefined : parseTime(options.since, '--since'),
        until: options.until === undefined ? undefined : parseTime(options.until, '--until'),
        limit: options.limit === undefined ? undefined : parseNumber(options.limit, '--limit', { integer: true, min: 1 }),
      };
      if (options.output === undefined && options.format === 'parquet' && process.stdout.isTTY) throw bad('Parquet is binary: write it to a file with -o FILE');
      const bytes = await streamDownload(command, `${deploymentPath(name)}/predictions`, query, options.output);
      // With no -o the data itself went to stdout; a summary would corrupt it.
      if (options.output !== undefined) emit(wantsJson(command), { file: options.output, format: options.format, bytes }, () => `wrote ${bytes} bytes of ${options.format} to ${options.output}\n`);
    });

  deploy
    .command('feedback <name> <file>')
    .description(`send ground-truth labels by request id from a JSONL ({"request_id","label"} per line) or CSV (request_id,label) file, ${FEEDBACK_CHUNK} per request`)
    .option('--format <format>', 'jsonl | csv (default: by extension, else by content)')
    .option('--strict', 'exit with code 3 when any request id is unknown')
    .action(async (name: string, file: string, options: { format?: string; strict?: boolean }, command: Command) => {
      if (!fs.existsSync(file) || !fs.statSync(file).isFile()) throw bad(`no such file: ${file}`);
      if (options.format !== undefined && options.format !== 'jsonl' && options.format !== 'csv') throw bad(`--format ${JSON.stringify(options.format)}: use jsonl or csv`);
      const format = (options.format as FeedbackFormat | undefined) ?? feedbackFormatOf(file);
      // A first pass checks the whole file, so a bad line at the end sends nothing at all.
      let count = 0;
      for await (const _item of readFeedbackItems(file, format)) count++;
      if (count === 0) throw bad(`${file} holds no feedback items`);

      const client = clientFor(command);
      const totals: FeedbackTotals = { items: count, requests: 0, accepted: 0, unchanged: 0, unknown: 0, unknown_ids: [] };
      const send = async (items: FeedbackItem[]) => {
        const reply = await client.request<FeedbackReply>('POST', `${deploymentPath(name)}/feedback`, { json: { items } });
        totals.requests++;
        totals.accepted += reply.accepted ?? 0;
        totals.unchanged += reply.unchanged ?? 0;
        const ids = Array.isArray(reply.unknown) ? reply.unknown : reply.unknown_ids ?? [];
        totals.unknown += typeof reply.unknown === 'number' ? reply.unknown : ids.length;
        totals.unknown_ids.push(...ids);
      };
      let chunk: FeedbackItem[] = [];
      for await (const item of readFeedbackItems(file, format)) {
        chunk.push(item);
        if (chunk.length === FEEDBACK_CHUNK) {
          await send(chunk);
          chunk = [];
        }
      }
      if (chunk.length > 0) await send(chunk);

      emit(wantsJson(command), totals, () => {
        let text = `${totals.items} labels sent to ${name} in ${totals.requests} request${totals.requests === 1 ? '' : 's'}: ${totals.accepted} accepted, ${totals.unchanged} unchanged, ${totals.unknown} unknown\n`;
        if (totals.unknown_ids.length > 0) {
          const shown = totals.unknown_ids.slice(0, 20);
          text += `unknown request ids: ${shown.join(', ')}${totals.unknown_ids.length > shown.length ? ` … and ${totals.unknown_ids.length - shown.length} more (--json lists them all)` : ''}\n`;
        }
        return text;
      });
      if (options.strict && totals.unknown > 0) {
        // Not an error of the server's (it stored the rest), so no error code: one line and exit 3.
        process.stderr.write(`plinth: ${totals.unknown} of ${totals.items} request ids are not in the prediction log of ${name}\n`);
        process.exitCode = EXIT_CODES.NOT_FOUND;
      }
    });
}
