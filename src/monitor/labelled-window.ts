// Labelled windows: a deployment's answered requests read back from the prediction log with the
// ground-truth labels that arrived for them, split into one item per data row (a request may carry
// several rows), with the model's prediction (and class probabilities) taken from its outputs. The
// performance and concept monitor kinds read this.
//
// The window: answered requests (status < 400, with outputs) by time (`since` … `until`) or the
// newest `lastN` primary requests before `until`, at most MAX_LABELLED_REQUESTS. Primary rows are
// what the deployment answered; shadow rows (mirrored copies) are kept too, scored against the same
// label, and reported apart.
//
// Which outputs: the prediction is the output named by the monitor (`prediction_output`), else the
// first of `label`, `prediction`, `predictions`, `output_label`, `variable`, else the model's first
// output; class probabilities are `probability_output`, else the first of `probabilities`,
// `probability`, `output_probability`, `probs` that is a numeric tensor. A prediction row of two or
// more numbers is read as probabilities too.
//
// Labels (any JSON, as sent with feedback): a number, a boolean (1/0), a numeric string (its number)
// or another string (a class name). A request of n rows takes an array of n labels; a request of
// one row also takes a single label. Anything else is counted as unusable and left out.
import { PlinthError } from '../core/index.js';
import type { PredictionRow } from '../predlog/index.js';
import { getVersion } from '../registry/index.js';
import type { ModelSignature } from '../onnx/index.js';
import type { Db } from '../store/index.js';
import { MAX_WINDOW_REQUESTS, readWindowRows } from './live-window.js';
import type { MonitorWindow } from './monitor-kind.js';

/** Primary requests a labelled window reads at most (the newest in its range). */
export const MAX_LABELLED_REQUESTS = MAX_WINDOW_REQUESTS;

/** Output names tried, in order, for the prediction. */
export const PREDICTION_OUTPUT_NAMES: readonly string[] = Object.freeze(['label', 'prediction', 'predictions', 'output_label', 'variable']);
/** Output names tried, in order, for class probabilities. */
export const PROBABILITY_OUTPUT_NAMES: readonly string[] = Object.freeze(['probabilities', 'probability', 'output_probability', 'probs']);

/** A label or a single prediction: a number, or a class name. */
export type ScalarValue = number | string;

/** One data row of a logged request. */
export interface LabelledRow {
  requestId: string;
  role: 'primary' | 'shadow';
  /** `name@version` */
  model: string;
  /** ms since epoch */
  at: number;
  /** The prediction output's value for the row (a number or a class name); null when absent or not a scalar. */
  prediction: ScalarValue | null;
  /** Class probabilities of the row, when the model gives them. */
  probabilities: number[] | null;
  /** The ground truth; null when no usable label arrived. */
  label: ScalarValue | null;
}

/** Which outputs of a model version were read. */
export interface OutputChoice {
  prediction: string | null;
  /** The prediction output's OIP datatype (null when unknown). */
  predictionDatatype: string | null;
  probabilities: string | null;
}

export interface LabelledWindow {
  deployment: string;
  /** Answered primary requests in the window. */
  requests: number;
  /** Of those, the ones with a usable label. */
  labelledRequests: number;
  /** Labelled requests whose label did not fit their rows (wrong count, not a number or string). */
  unusableLabels: number;
  /** Answered primary requests per `model@version`, and the labelled ones. */
  versions: Record<string, { requests: number; labelled_requests: number }>;
  /** Oldest and newest primary request of the window, ms since epoch; null when empty. */
  windowStart: number | null;
  windowEnd: number | null;
  /** True when MAX_LABELLED_REQUESTS cut a time window. */
  truncated: boolean;
  /** Rows of labelled requests (primary and shadow), oldest request first, rows in request order. */
  rows: LabelledRow[];
  /** The outputs read, per `model@version`. */
  outputs: Record<string, OutputChoice>;
}

/** Where predictions come from, when the monitor says. */
export interface OutputOptions {
  predictionOutput?: string | null;
  probabilityOutput?: string | null;
}

/** A label (or a BYTES/number prediction) as a scalar: numbers, booleans as 1/0, numeric strings as numbers, other strings as class names. */
export function scalarValue(v: unknown): ScalarValue | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v !== 'string') return null;
  const text = v.trim();
  if (text === '' || text === 'NaN' || text === 'Infinity' || text === '-Infinity') return null;
  if (text === 'true') return 1;
  if (text === 'false') return 0;
  const n = Number(text);
  return Number.isFinite(n) && /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text) ? n : text;
}

/** Not a string tensor (an unknown datatype may hold numbers; rows that do not are left out when read). */
function isNumericDatatype(datatype: string | null): boolean {
  return datatype !== 'BYTES';
}

/** The outputs a version's predictions and probabilities are read from. */
export function chooseOutputs(signature: ModelSignature, options: OutputOptions): OutputChoice {
  const names = new Map(signature.outputs.map((o) => [o.name, o]));
  const predictionName = options.predictionOutput ?? PREDICTION_OUTPUT_NAMES.find((n) => names.has(n)) ?? signature.outputs[0]?.name ?? null;
  let probabilityName: string | null = options.probabilityOutput ?? null;
  if (options.probabilityOutput === undefined || options.probabilityOutput === null) {
    probabilityName = PROBABILITY_OUTPUT_NAMES.find((n) => names.has(n) && isNumericDatatype(names.get(n)!.datatype) && n !== predictionName) ?? null;
  }
  return {
    prediction: predictionName,
    predictionDatatype: predictionName === null ? null : (names.get(predictionName)?.datatype ?? null),
    probabilities: probabilityName,
  };
}

/** Finite numbers of a logged row (the codec writes non-finite floats as strings); null if any is not a finite number. */
function numberRow(v: unknown): number[] | null {
  if (!Array.isArray(v)) return null;
  const flat = v.flat(Infinity) as unknown[];
  const out: number[] = [];
  for (const x of flat) {
    if (typeof x !== 'number' || !Number.isFinite(x)) return null;
    out.push(x);
  }
  return out;
}

/** Row r of a logged output: a scalar, or probabilities when the row holds two or more numbers. */
function outputRow(tensor: unknown, r: number): { scalar: ScalarValue | null; vector: number[] | null } {
  if (!Array.isArray(tensor)) return { scalar: null, vector: null };
  let row: unknown = tensor[r];
  while (Array.isArray(row) && row.length === 1) row = row[0];
  if (Array.isArray(row)) {
    const vector = numberRow(row);
    return { scalar: null, vector: vector && vector.length >= 2 ? vector : null };
  }
  return { scalar: scalarValue(row), vector: null };
}

/** Rows of a logged request: the first dimension of the prediction output (or of the first array output). */
function requestRows(outputs: Record<string, unknown>, prediction: string | null): number {
  const t = prediction === null ? undefined : outputs[prediction];
  if (Array.isArray(t)) return t.length;
  for (const v of Object.values(outputs)) if (Array.isArray(v)) return v.length;
  return 0;
}

/** The labels of a request of n rows, or null when the label does not fit. */
function labelsOf(label: unknown, n: number): Array<ScalarValue | null> | null {
  if (Array.isArray(label)) {
    if (label.length !== n) return null;
    const out = label.map((l) => scalarValue(Array.isArray(l) && l.length === 1 ? l[0] : l));
    return out.every((v) => v === null) ? null : out;
  }
  if (n !== 1) return null;
  const v = scalarValue(label);
  return v === null ? null : [v];
}

/**
 * The outputs of a logged version: from its signature, or, when the version can no longer be read,
 * from the output names in the log (datatypes unknown).
 */
async function outputChoice(db: Db, row: PredictionRow, outputs: Record<string, unknown>, options: OutputOptions): Promise<OutputChoice> {
  try {
    const version = await getVersion(db, row.model_name, { kind: 'version', version: row.model_version });
    return chooseOutputs(version.signature, options);
  } catch (error) {
    if (!(error instanceof PlinthError)) throw error;
    const signature = { outputs: Object.keys(outputs).map((name) => ({ name, datatype: null, shape: null })) } as unknown as ModelSignature;
    return chooseOutputs(signature, options);
  }
}

/**
 * Reads a labelled window of a deployment's traffic. Does not check that the deployment exists (an
 * unknown one has an empty window).
 * @throws PlinthError INTERNAL when a logged row holds JSON that does not parse
 */
export async function readLabelledWindow(db: Db, deployment: string, window: MonitorWindow, options: OutputOptions = {}): Promise<LabelledWindow> {
  const { rows: newestFirst, truncated } = await readWindowRows(db, deployment, window, { shadows: true });
  const out: LabelledWindow = {
    deployment,
    requests: 0,
    labelledRequests: 0,
    unusableLabels: 0,
    versions: {},
    windowStart: null,
    windowEnd: null,
    truncated,
    rows: [],
    outputs: {},
  };
  const choices = new Map<string, OutputChoice>();
  // Oldest first (log order): by time, then by id.
  const ordered = [...newestFirst].sort((a, b) => a.at - b.at || a.id - b.id);
  for (const row of ordered) {
    const model = `${row.model_name}@${row.model_version}`;
    const primary = row.role === 'primary';
    if (primary) {
      out.requests++;
      const v = (out.versions[model] ??= { requests: 0, labelled_requests: 0 });
      v.requests++;
      out.windowStart = out.windowStart === null ? row.at : Math.min(out.windowStart, row.at);
      out.windowEnd = out.windowEnd === null ? row.at : Math.max(out.windowEnd, row.at);
    }
    if (row.label === null) continue;
    let outputs: Record<string, unknown>;
    let label: unknown;
    try {
      outputs = JSON.parse(row.outputs!) as Record<string, unknown>;
      label = JSON.parse(row.label);
    } catch (error) {
      throw new PlinthError('INTERNAL', `prediction log row ${row.id} holds JSON that does not parse`, { cause: error });
    }
    let choice = choices.get(model);
    if (!choice) {
      choice = await outputChoice(db, row, outputs, options);
      choices.set(model, choice);
      out.outputs[model] = choice;
    }
    const n = requestRows(outputs, choice.prediction);
    const labels = n === 0 ? null : labelsOf(label, n);
    if (!labels) {
      if (primary) out.unusableLabels++;
      continue;
    }
    if (primary) {
      out.labelledRequests++;
      out.versions[model]!.labelled_requests++;
    }
    const predictionTensor = choice.prediction === null ? undefined : outputs[choice.prediction];
    const probabilityTensor = choice.probabilities === null ? undefined : outputs[choice.probabilities];
    for (let r = 0; r < n; r++) {
      const p = outputRow(predictionTensor, r);
      const probabilities = probabilityTensor !== undefined ? outputRow(probabilityTensor, r).vector : p.vector;
      out.rows.push({
        requestId: row.request_id,
        role: primary ? 'primary' : 'shadow',
        model,
        at: row.at,
        prediction: p.scalar,
        probabilities,
        label: labels[r] ?? null,
      });
    }
  }
  return out;
}
