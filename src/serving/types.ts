// The contract shared by the serving area's parts: tensors as they travel between the protocol
// adapters (OIP v2, MLflow-style), the engine (model manager, batcher) and the runtimes (onnxruntime
// on the main thread or in worker threads).
import type { Datatype, ModelSignature } from '../onnx/index.js';
import type { FeatureSchema } from '../registry/index.js';

/**
 * Element storage per datatype: BOOL → Uint8Array (0/1), FP16 → Uint16Array (IEEE half bits),
 * INT64/UINT64 → BigInt64Array/BigUint64Array, BYTES → string[]; the others their natural typed array.
 * Data is flat, row-major.
 */
export type TensorData =
  | Float32Array
  | Float64Array
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array
  | string[];

/** A tensor: datatype, concrete shape, flat row-major data (length = product of shape). */
export interface Tensor {
  datatype: Datatype;
  shape: number[];
  data: TensorData;
}

/** Tensors by input or output name. */
export type TensorMap = Record<string, Tensor>;

/** Triton-style dynamic batching settings of one model. */
export interface BatchingConfig {
  /** Off for models whose first input dimension is not dynamic. */
  enabled: boolean;
  /** Rows per runtime call at most. @default 64 */
  max_batch_size: number;
  /** How long the first queued request waits for others before the batch runs, µs; 0 takes what arrived in the same event-loop turn. @default 0 */
  max_queue_delay_microseconds: number;
  /** Requests waiting at most; past it requests get 503 with Retry-After. @default 1024 */
  max_queue_size: number;
  /** A request not answered in this time gets 504. @default 30000 */
  timeout_ms: number;
}

/** A model version as the engine serves it. */
export interface ServedModel {
  /** Registered model name. */
  name: string;
  version: number;
  /** `name@version` */
  reference: string;
  signature: ModelSignature;
  featureSchema: FeatureSchema | null;
  batching: BatchingConfig;
  state: 'unloaded' | 'loading' | 'ready' | 'failed';
  /** Why loading failed, when state is 'failed'. */
  reason?: string;
}

export interface InferOptions {
  /** Output names to return; all outputs when absent. */
  outputs?: readonly string[];
  /** Overrides the model's timeout_ms for this request. */
  timeoutMs?: number;
}

/** The engine as the protocol adapters use it. Implemented by ModelManager (model-manager.ts). */
export interface ServingEngine {
  /**
   * Resolves a model reference (`name`, `name@3`, `name@champion`) to the version it serves now,
   * without loading it. @throws PlinthError MODEL_NOT_FOUND, MODEL_VERSION_NOT_FOUND, ALIAS_NOT_FOUND, INVALID_MODEL_REFERENCE
   */
  describe(reference: string): Promise<ServedModel>;
  /**
   * Runs inference on validated tensors. Loads the model first when load-on-demand is on.
   * @throws PlinthError MODEL_NOT_READY (503), QUEUE_FULL (503), INFERENCE_TIMEOUT (504), INFERENCE_FAILED (500 only for runtime faults on valid input)
   */
  infer(reference: string, feeds: TensorMap, options?: InferOptions): Promise<{ model: ServedModel; outputs: TensorMap }>;
  /** Loads (and warms up) the version a reference resolves to; an alias reference keeps following the alias. */
  load(reference: string): Promise<ServedModel>;
  /** Unloads and releases the runtime session(s) of the reference's model version(s). */
  unload(reference: string): Promise<void>;
  /** True when the reference's current version is loaded and warmed up. */
  isReady(reference: string): Promise<boolean>;
  /** Every registered model version with its serving state (for the OIP repository index). */
  index(): Promise<Array<{ name: string; version: string; state: string; reason?: string }>>;
  /** Releases every session and worker. */
  close(): Promise<void>;
}

/** How one call of a model went, as the protocol routes report it to a deployment. */
export interface InferenceOutcome {
  /** The version that answered (or was asked); null when the reference could not be resolved. */
  model: ServedModel | null;
  /** The decoded inputs; null when decoding failed. */
  feeds: TensorMap | null;
  /** The outputs; null when the call failed. */
  outputs: TensorMap | null;
  /** HTTP status of the answer: 200, or the error's status. */
  status: number;
  /** The error's message when the call failed. */
  error?: string;
  /** Time from the request reaching the route to the answer, ms. */
  latencyMs: number;
}

/** What a deployment decided for one request (implemented by the rollout area). */
export interface RoutedRequest {
  /** The deployment's name. */
  deployment: string;
  /** The model reference that answers, e.g. `fraud@3`. */
  reference: string;
  /** A model reference the request is mirrored to after the answer is sent; its answer is discarded. */
  mirror: string | null;
  /**
   * Records the answer (statistics, prediction log). The response is sent only when this resolves, so
   * a logged prediction is durable before the caller sees it.
   * @throws PlinthError PREDICTION_LOG_UNAVAILABLE (503) when the log cannot be written.
   */
  complete(outcome: InferenceOutcome): Promise<void>;
  /** Records the mirrored call's outcome; never awaited by the request. */
  completeMirror(outcome: InferenceOutcome): void;
}

/** What a deployment may read of a request to route it (sticky assignment by header or input field). */
export interface RoutingContext {
  requestId: string;
  header(name: string): string | undefined;
  /** The value of an input field (a feature or input named so) in the request's first row, when present. */
  field(name: string): unknown;
}

/**
 * Deployments as the protocol routes see them: a deployment name is accepted wherever a model name
 * is, and the gateway picks the version that answers.
 */
export interface DeploymentGateway {
  /** Routes one inference request; null when `name` is not a deployment. Synchronous (in-memory table). */
  route(name: string, context: RoutingContext): RoutedRequest | null;
  /** The reference of a deployment's stable (main) route, for metadata and readiness; null when `name` is not a deployment. */
  stableReference(name: string): string | null;
}
