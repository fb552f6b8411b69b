// The contract every monitor kind implements (drift, quality, performance, concept) and the table
// of registered kinds the scheduler and the routes read. A kind validates its own configuration and
// evaluates one window of a deployment's traffic into an outcome: a status, flat metrics (what alert
// rules and gauges read; never NaN) and the whole result (stored as JSON).
import { PlinthError } from '../core/index.js';
import type { TensorMap } from '../serving/index.js';
import type { ArtifactStore, Db } from '../store/index.js';

export type MonitorKindName = 'drift' | 'quality' | 'performance' | 'concept';
export const MONITOR_KIND_NAMES: readonly MonitorKindName[] = Object.freeze(['drift', 'quality', 'performance', 'concept']);

/** The window a run evaluates: by time (`since` … `until`, ms since epoch) or the last `lastN` logged requests up to `until`. */
export interface MonitorWindow {
  /** Inclusive lower bound in ms; null: no lower bound (with `lastN`) */
  since: number | null;
  /** Exclusive upper bound in ms (usually the run's `now`). */
  until: number;
  /** The newest N logged requests before `until`; null: every request in the time range. */
  lastN: number | null;
}

/**
 * Runs a model version on encoded inputs and answers its outputs (the serving engine's infer). Used to
 * profile the prediction of a reference built from a dataset; absent in contexts without an engine.
 */
export type ReferencePredictor = (model: string, version: number, feeds: TensorMap) => Promise<TensorMap>;

/** What a kind gets for one evaluation. */
export interface MonitorContext {
  db: Db;
  artifacts: ArtifactStore;
  /** The deployment's name. */
  deployment: string;
  /** The run's clock, ms since epoch. */
  now: number;
  window: MonitorWindow;
  /** Runs a model version (to profile a dataset reference's prediction); optional. */
  predict?: ReferencePredictor | undefined;
}

/** One evaluation's outcome, stored as a monitor_results row. */
export interface MonitorOutcome {
  /** ok | drifted | degraded | not_enough_data | no_reference | error … (per kind). */
  status: string;
  /** Logged requests (or labelled requests) the window held. */
  rows: number;
  /** ms since epoch of the first and last request in the window; null when empty. */
  windowStart: number | null;
  windowEnd: number | null;
  /** Flat metric name → finite number, e.g. `drift.share`, `quality.missing_rate`. Never NaN or ±Infinity: omit what cannot be computed. */
  metrics: Record<string, number>;
  /** The whole result (JSON-serialisable). */
  result: unknown;
}

/** A monitor kind: validates its configuration and evaluates one window. */
export interface MonitorKind<Config = unknown> {
  kind: MonitorKindName;
  /**
   * Validates and normalises the kind's settings (the monitor's `config` minus the window keys).
   * @throws PlinthError INVALID_ARGUMENT naming the offending field
   */
  checkConfig(config: unknown): Config;
  /** Evaluates the window; throws only for faults (the scheduler stores them as an `error` result). */
  evaluate(ctx: MonitorContext, config: Config): Promise<MonitorOutcome>;
}

const kinds = new Map<MonitorKindName, MonitorKind<any>>();

/** Registers a kind (the last registration of a name wins, so tests and the server can re-register). */
export function registerMonitorKind<Config>(kind: MonitorKind<Config>): void {
  kinds.set(kind.kind, kind as MonitorKind<any>);
}

/** The registered kind of that name, or undefined. */
export function monitorKind(name: string): MonitorKind<unknown> | undefined {
  return kinds.get(name as MonitorKindName);
}

/** Names of the registered kinds, in registration order. */
export function registeredMonitorKinds(): MonitorKindName[] {
  return [...kinds.keys()];
}

/**
 * The registered kind of that name.
 * @throws PlinthError INVALID_ARGUMENT for a name that is not registered
 */
export function requireMonitorKind(name: string): MonitorKind<unknown> {
  const kind = monitorKind(name);
  if (!kind) throw new PlinthError('INVALID_ARGUMENT', `kind: unknown monitor kind ${JSON.stringify(String(name).slice(0, 50))}; use one of ${registeredMonitorKinds().join(', ') || '(none registered)'}`);
  return kind;
}

/** Drops metrics that are not finite numbers (the outcome contract: never NaN). */
export function finiteMetrics(metrics: Record<string, number | null | undefined>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(metrics)) if (typeof v === 'number' && Number.isFinite(v)) out[k] = v;
  return out;
}

/** A stored evaluation, as listeners (alerts) and the API see it. */
export interface MonitorResult {
  id: number;
  monitorId: string;
  monitor: string;
  deployment: string;
  kind: string;
  status: string;
  rows: number;
  windowStart: number | null;
  windowEnd: number | null;
  metrics: Record<string, number>;
  result: unknown;
  /** ms since epoch */
  computedAt: number;
}

/** Called after each result is stored; a listener that throws or rejects is logged and ignored. */
export type MonitorResultListener = (result: MonitorResult) => void | Promise<void>;
