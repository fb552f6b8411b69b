// How a served request's tensors become the JSON text kept in the prediction log, and back.
//
// Readers (the API, exports, monitoring) see an object of tensor name → values nested by the
// tensor's shape (`{"x":[[1,2],[3,4]]}`): BYTES stay strings, integers (INT64 included) are
// numbers, non-finite floats are the strings "NaN"/"Infinity"/"-Infinity" (as the OIP codec writes
// them), BOOL are true/false.
//
// What is stored is more compact: a numeric tensor is kept as its raw little-endian bytes in base64,
// `{"dt":"FP32","shape":[1,30],"b64":"…"}`, because printing floats as decimal text cost more than
// the rest of logging a request together (about 0.5 µs a value). `readableTensorsJson` turns the
// stored text into the readers' form; `listPredictionRows` applies it, so nothing else sees the
// stored form. BYTES tensors and tensors with masked (sensitive) elements are stored readable.
//
// Features marked `sensitive: true` in the model version's feature schema are hashed (keyed
// HMAC-SHA256, "hmac:" + 16 hex digits) or dropped (null) before anything is stored. Which tensor
// elements carry a sensitive feature follows the serving area's feature plan: one column of a
// matrix input [-1, n], or a whole input of its own. When the feature schema cannot be mapped onto
// the model's inputs at all (the plan is unusable), every input element is masked: nothing that
// could be a sensitive value is kept.
import { createHmac, createSecretKey, type KeyObject } from 'node:crypto';
import type { Datatype, ModelSignature } from '../onnx/index.js';
import type { FeatureSchema } from '../registry/index.js';
import { allocateTensorData, nestedJson, planFeatures, tensorValues, type Tensor, type TensorData, type TensorMap } from '../serving/index.js';

/** Which elements of which input tensors carry sensitive features. */
export interface Redaction {
  /** Input name → element offsets within a row (null: every element of the input). */
  tensors: Map<string, number[] | null>;
}

/** What to do with a sensitive value. */
export type SensitiveMode = 'hash' | 'drop';


const redactionCache = new WeakMap<FeatureSchema, WeakMap<ModelSignature, Redaction | null>>();

/**
 * The redaction of a model version: null when its feature schema marks no feature sensitive (the
 * common case, answered from a cache keyed on the schema and signature objects).
 */
export function redactionOf(signature: ModelSignature, schema: FeatureSchema | null): Redaction | null {
  if (!schema) return null;
  let bySignature = redactionCache.get(schema);
  if (!bySignature) redactionCache.set(schema, (bySignature = new WeakMap()));
  let redaction = bySignature.get(signature);
  if (redaction === undefined) bySignature.set(signature, (redaction = buildRedaction(signature, schema)));
  return redaction;
}

function buildRedaction(signature: ModelSignature, schema: FeatureSchema): Redaction | null {
  const sensitive = schema.features.filter((f) => f.sensitive);
  if (sensitive.length === 0) return null;
  const tensors = new Map<string, number[] | null>();
  const plan = planFeatures(signature, schema);
  if (plan.unusable) {
    for (const input of signature.inputs) tensors.set(input.name, null);
    return { tensors };
  }
  for (const feature of sensitive) {
    const column = plan.byName.get(feature.name);
    const target = column ? plan.targets[column.target] : undefined;
    if (!column || !target) {
      // Not placed by the plan (cannot happen for a usable schema plan); mask every input to be safe.
      for (const input of signature.inputs) tensors.set(input.name, null);
      return { tensors };
    }
    if (plan.layout === 'per-input') {
      tensors.set(target.name, null);
      continue;
    }
    const offsets = tensors.get(target.name);
    if (offsets === null) continue;
    if (offsets) offsets.push(column.offset);
    else tensors.set(target.name, [column.offset]);
  }
  return { tensors };
}

/** Masks sensitive values: a keyed hash or nothing. Build once; `mask` costs one HMAC per value. */
export class SensitiveMasker {
  readonly mode: SensitiveMode;
  private readonly key: KeyObject;

  /** @param key HMAC-SHA256 key (any non-empty string). */
  constructor(mode: SensitiveMode, key: string) {
    this.mode = mode;
    this.key = createSecretKey(Buffer.from(key, 'utf8'));
  }

  /** "hmac:" + the first 16 hex digits of HMAC-SHA256(key, String(value)), or null when dropping. */
  mask(value: number | string | boolean | null): string | null {
    if (this.mode === 'drop' || value === null) return null;
    return 'hmac:' + createHmac('sha256', this.key).update(String(value)).digest('hex').slice(0, 16);
  }
}

function valueText(value: number | string | boolean | null, quoteStrings: boolean): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'number':
      if (value === value && value !== Infinity && value !== -Infinity) return String(value);
      return value !== value ? '"NaN"' : value > 0 ? '"Infinity"' : '"-Infinity"';
    case 'boolean':
      return value ? 'true' : 'false';
    default:
      // 64-bit integers beyond 2^53 come from tensorValues as decimal strings: printed as numbers.
      return quoteStrings ? JSON.stringify(value) : value;
  }
}

/** JSON text of element texts nested by `shape`. */
function nestTexts(texts: readonly string[], shape: readonly number[]): string {
  if (shape.length === 0) return texts[0] ?? 'null';
  const walk = (depth: number, offset: number, size: number): string => {
    const dim = shape[depth]!;
    const step = dim === 0 ? 0 : size / dim;
    const items = new Array<string>(dim);
    if (depth === shape.length - 1) for (let i = 0; i < dim; i++) items[i] = texts[offset + i] ?? 'null';
    else for (let i = 0; i < dim; i++) items[i] = walk(depth + 1, offset + i * step, step);
    return `[${items.join(',')}]`;
  };
  return walk(0, 0, texts.length);
}

function maskedTensorJson(tensor: Tensor, offsets: number[] | null, masker: SensitiveMasker): string {
  const values = tensorValues(tensor);
  const quoteStrings = tensor.datatype === 'BYTES';
  const texts = values.map((v) => valueText(v, quoteStrings));
  const masked = (i: number) => {
    const m = masker.mask(values[i]!);
    texts[i] = m === null ? 'null' : JSON.stringify(m);
  };
  const width = tensor.shape.length <= 1 ? 1 : tensor.shape.slice(1).reduce((a, b) => a * b, 1);
  if (offsets === null || width === 0) {
    for (let i = 0; i < values.length; i++) masked(i);
  } else {
    const rows = values.length / width;
    for (let r = 0; r < rows; r++) {
      for (const offset of offsets) if (offset < width) masked(r * width + offset);
    }
  }
  return nestTexts(texts, tensor.shape);
}

/** The stored form of a tensor: its bytes in base64 when it has a numeric datatype, else nested JSON. */
function storedTensorJson(tensor: Tensor): string {
  if (Array.isArray(tensor.data)) return nestedJson(tensor);
  const typed = tensor.data as Exclude<TensorData, string[]>;
  const base64 = Buffer.from(typed.buffer, typed.byteOffset, typed.byteLength).toString('base64');
  return `{"dt":"${tensor.datatype}","shape":[${tensor.shape.join(',')}],"b64":"${base64}"}`;
}

/**
 * The readers' form (values nested by shape) of stored tensor-map JSON text; text without stored
 * bytes is returned as it is.
 */
export function readableTensorsJson(text: string): string {
  if (!text.includes('"b64":')) return text;
  const stored = JSON.parse(text) as Record<string, unknown>;
  const parts: string[] = [];
  for (const [name, value] of Object.entries(stored)) {
    const packed = value as { dt?: unknown; shape?: unknown; b64?: unknown } | null;
    const isPacked = packed !== null && typeof packed === 'object' && !Array.isArray(packed) && typeof packed.b64 === 'string';
    if (!isPacked) {
      parts.push(`${JSON.stringify(name)}:${JSON.stringify(value)}`);
      continue;
    }
    const datatype = packed!.dt as Datatype;
    const shape = packed!.shape as number[];
    // Copied into a typed array of its own: typed arrays need their element alignment.
    const data = allocateTensorData(datatype, shape.reduce((a, b) => a * b, 1)) as Exclude<TensorData, string[]>;
    new Uint8Array(data.buffer, data.byteOffset, data.byteLength).set(Buffer.from(packed!.b64 as string, 'base64'));
    parts.push(`${JSON.stringify(name)}:${nestedJson({ datatype, shape, data })}`);
  }
  return `{${parts.join(',')}}`;
}

/**
 * The stored JSON text of a tensor map: `{"name": tensor, …}` (see the header for the two forms).
 * With a redaction, the sensitive elements are masked and the tensor is stored readable.
 */
export function tensorMapJson(tensors: TensorMap, redaction: Redaction | null, masker: SensitiveMasker | null): string {
  let text = '{';
  let first = true;
  for (const name in tensors) {
    const tensor = tensors[name]!;
    const offsets = redaction && masker ? redaction.tensors.get(name) : undefined;
    const json = offsets === undefined ? storedTensorJson(tensor) : maskedTensorJson(tensor, offsets, masker!);
    text += (first ? '' : ',') + JSON.stringify(name) + ':' + json;
    first = false;
  }
  return text + '}';
}
