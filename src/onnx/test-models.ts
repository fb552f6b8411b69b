// Small, deterministic ONNX models for tests, examples and benchmarks: a linear layer, a two-layer
// perceptron with seeded weights, and an identity model for every tensor datatype.
import type { Datatype } from './data-types.js';
import { buildModel, type ShapeDim } from './writer.js';

/**
 * `output = input · weights + bias`, as MatMul then Add.
 * Input `input` FP32 [batch, in], output `output` FP32 [batch, out]; the batch dimension is dynamic
 * (named `batch`).
 * @param weights in × out matrix, row per input feature.
 * @param bias one value per output.
 * @throws Error when `weights` is empty or ragged or `bias` has the wrong length.
 */
export function linearModel(options: { weights: number[][]; bias: number[] }): Uint8Array {
  const { weights, bias } = options;
  const inputs = weights.length;
  const outputs = weights[0]?.length ?? 0;
  if (inputs === 0 || outputs === 0 || weights.some((row) => row.length !== outputs)) {
    throw new Error('weights must be a non-empty in × out matrix');
  }
  if (bias.length !== outputs) throw new Error(`bias must have ${outputs} values`);
  return buildModel({
    inputs: [{ name: 'input', datatype: 'FP32', shape: ['batch', inputs] }],
    outputs: [{ name: 'output', datatype: 'FP32', shape: ['batch', outputs] }],
    initializers: [
      { name: 'weights', datatype: 'FP32', dims: [inputs, outputs], values: weights.flat() },
      { name: 'bias', datatype: 'FP32', dims: [outputs], values: bias },
    ],
    nodes: [
      { opType: 'MatMul', inputs: ['input', 'weights'], outputs: ['product'] },
      { opType: 'Add', inputs: ['product', 'bias'], outputs: ['output'] },
    ],
    producerName: 'plinth-test-models',
  });
}

export interface MlpOptions {
  /** Number of input features. */
  inputs: number;
  /** Width of the hidden layer. */
  hidden: number;
  /** Number of outputs. */
  outputs: number;
  /** PRNG seed; the same seed always gives the same weights. @default 1 */
  seed?: number;
}

/** The parameters of {@link mlpModel}, row-major: w1 inputs×hidden, b1 hidden, w2 hidden×outputs, b2 outputs. */
export interface MlpParameters {
  w1: Float32Array;
  b1: Float32Array;
  w2: Float32Array;
  b2: Float32Array;
}

/** mulberry32: a small, fast 32-bit PRNG; uniform in [0, 1). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The deterministic weights and biases of {@link mlpModel}: uniform in [-1, 1), drawn w1, b1, w2, b2. */
export function mlpParameters(options: MlpOptions): MlpParameters {
  const random = seededRandom(options.seed ?? 1);
  const draw = (n: number) => Float32Array.from({ length: n }, () => random() * 2 - 1);
  const w1 = draw(options.inputs * options.hidden);
  const b1 = draw(options.hidden);
  const w2 = draw(options.hidden * options.outputs);
  const b2 = draw(options.outputs);
  return { w1, b1, w2, b2 };
}

/**
 * A two-layer perceptron: `output = relu(input · w1 + b1) · w2 + b2`, as Gemm, Relu, Gemm, with the
 * weights of {@link mlpParameters}. Input `input` FP32 [batch, inputs], output `output` FP32 [batch, outputs].
 * @throws Error when a size is not a positive integer.
 */
export function mlpModel(options: MlpOptions): Uint8Array {
  const { inputs, hidden, outputs } = options;
  for (const [name, n] of Object.entries({ inputs, hidden, outputs })) {
    if (!Number.isInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer`);
  }
  const p = mlpParameters(options);
  return buildModel({
    inputs: [{ name: 'input', datatype: 'FP32', shape: ['batch', inputs] }],
    outputs: [{ name: 'output', datatype: 'FP32', shape: ['batch', outputs] }],
    initializers: [
      { name: 'w1', datatype: 'FP32', dims: [inputs, hidden], values: p.w1 },
      { name: 'b1', datatype: 'FP32', dims: [hidden], values: p.b1 },
      { name: 'w2', datatype: 'FP32', dims: [hidden, outputs], values: p.w2 },
      { name: 'b2', datatype: 'FP32', dims: [outputs], values: p.b2 },
    ],
    nodes: [
      { opType: 'Gemm', inputs: ['input', 'w1', 'b1'], outputs: ['hidden'] },
      { opType: 'Relu', inputs: ['hidden'], outputs: ['activation'] },
      { opType: 'Gemm', inputs: ['activation', 'w2', 'b2'], outputs: ['output'] },
    ],
    producerName: 'plinth-test-models',
  });
}

/**
 * `output = input` for a tensor of any datatype, as one Identity node.
 * @param shape the shape of both input and output (-1 or a name for dynamic dimensions).
 */
export function identityModel(datatype: Datatype, shape: ShapeDim[] = ['batch', 4]): Uint8Array {
  return buildModel({
    inputs: [{ name: 'input', datatype, shape }],
    outputs: [{ name: 'output', datatype, shape }],
    nodes: [{ opType: 'Identity', inputs: ['input'], outputs: ['output'] }],
    producerName: 'plinth-test-models',
  });
}

/**
 * A model that fails at run time on most inputs: it gathers from the table [1, 2, 3, 4] at the
 * indices its input holds (cast to INT64), so any input value outside [-4, 3] is an out-of-bounds
 * error in onnxruntime, while zeros (used for warm-up) work. Input `input` FP32 [batch, 4], output
 * `output` FP32 [batch, 4]. For tests of what happens when a served version errors.
 */
export function failingModel(): Uint8Array {
  return buildModel({
    inputs: [{ name: 'input', datatype: 'FP32', shape: ['batch', 4] }],
    outputs: [{ name: 'output', datatype: 'FP32', shape: ['batch', 4] }],
    initializers: [{ name: 'table', datatype: 'FP32', dims: [4], values: [1, 2, 3, 4] }],
    nodes: [
      { opType: 'Cast', inputs: ['input'], outputs: ['indices'], attributes: { to: { i: 7 } } },
      { opType: 'Gather', inputs: ['table', 'indices'], outputs: ['output'], attributes: { axis: { i: 0 } } },
    ],
    producerName: 'plinth-test-models',
  });
}

/**
 * A model that is slow on purpose, tens of milliseconds a row whatever the machine's cache: each row
 * is tiled a million times, then sin, cos, sin and a sum. Input `input` FP32 [batch, 4], output
 * `output` FP32 [batch, 1]. For tests of slow versions.
 */
export function slowRowModel(): Uint8Array {
  return buildModel({
    inputs: [{ name: 'input', datatype: 'FP32', shape: ['batch', 4] }],
    outputs: [{ name: 'output', datatype: 'FP32', shape: ['batch', 1] }],
    initializers: [
      { name: 'repeats', datatype: 'INT64', dims: [2], values: [1n, 1_000_000n] },
      { name: 'axes', datatype: 'INT64', dims: [1], values: [1n] },
    ],
    nodes: [
      { opType: 'Tile', inputs: ['input', 'repeats'], outputs: ['wide'] },
      { opType: 'Sin', inputs: ['wide'], outputs: ['a'] },
      { opType: 'Cos', inputs: ['a'], outputs: ['b'] },
      { opType: 'Sin', inputs: ['b'], outputs: ['c'] },
      { opType: 'ReduceSum', inputs: ['c', 'axes'], outputs: ['output'], attributes: { keepdims: { i: 1 } } },
    ],
    producerName: 'plinth-test-models',
  });
}
