// Public API of the serving area: the contract between its parts, the OIP v2 tensor codec, named
// features, the protocol route plugins (OIP v2, MLflow-style invocations), the engine and batch inference.
export type { Tensor, TensorData, TensorMap, BatchingConfig, ServedModel, InferOptions, ServingEngine, InferenceOutcome, RoutedRequest, RoutingContext, DeploymentGateway } from './types.js';
export {
  DEFAULT_MAX_ROWS,
  allocateTensorData,
  decodeInput,
  decodeInputs,
  tensorFromJson,
  tensorFromBinary,
  tensorBytes,
  inferShape,
  checkSharedDimensions,
  elementsJson,
  nestedJson,
  outputJson,
  tensorValues,
  halfBitsOf,
  halfToNumber,
  bfloat16BitsOf,
  bfloat16ToNumber,
} from './tensor-codec.js';
export type { DecodeOptions, BinaryCursor } from './tensor-codec.js';
export { planFeatures, encodeRecords, encodeRows, encodeColumns, encodeFeatureInputs, namesAreFeatures } from './features.js';
export type { FeaturePlan } from './features.js';
export { oipRoutes, decodeRequestInputs, selectOutputs, inferResponseJson, repositoryState, OIP_PLATFORM, OIP_EXTENSIONS } from './oip-routes.js';
export { protocolError } from './protocol-error.js';
export type { OipRoutesOptions, InferenceObserver } from './oip-routes.js';
export { invocationsRoutes, decodeMlflowJson, decodeMlflowCsv, predictionsJson, MLFLOW_FORMATS } from './mlflow-routes.js';
export type { InvocationsRoutesOptions } from './mlflow-routes.js';
export { batchPredict, createInputMapper, openOnnxFile, DEFAULT_BATCH_SIZE } from './batch-predict.js';
export type { BatchModel, BatchPredictOptions, BatchPredictResult, InputMapper } from './batch-predict.js';
export { openRowReader, tableFormatOf } from './batch-predict-readers.js';
export type { RowBatch, RowReader, ReadProgress, TableFormat } from './batch-predict-readers.js';
export { openTableWriter, formatFloat32 } from './batch-predict-writers.js';
export type { TableWriter, OutputColumn, ColumnKind, ColumnValues } from './batch-predict-writers.js';
// The engine: model manager, runtimes (inline, worker threads), dynamic batching, per-model serving settings, metrics.
export { ModelManager, MEMORY_FACTOR, WORKER_OVERHEAD_BYTES, FAILED_LOAD_RETRY_MS } from './model-manager.js';
export type { ModelManagerOptions, LoadedVersionInfo } from './model-manager.js';
export { DynamicBatcher, isBatchable } from './batcher.js';
export type { BatchObserver, SubmitOptions } from './batcher.js';
export { RUNTIME_CHOICES } from './runtime.js';
export type { ModelSession, RuntimeKind, RuntimeChoice, ValueSpec, SessionOptions, WarmupReport, RunOptions } from './runtime.js';
export { openModelSession, fitsInline, INLINE_PROBE_MAX_BYTES } from './runtime-factory.js';
export type { RuntimeSettings } from './runtime-factory.js';
export { createInlineSession } from './runtime-inline.js';
export { createWorkerSession } from './runtime-worker.js';
export { EngineMetrics } from './engine-metrics.js';
export { servingConfigRoutes } from './config-routes.js';
export type { ServingConfigRoutesOptions } from './config-routes.js';
export { BATCHING_LIMITS, defaultServingConfig, effectiveBatching, checkOverrides, readServingConfig, writeServingConfig } from './serving-config.js';
export type { ServingConfig, ServingConfigOverrides, ServingConfigView, BatchingSettings } from './serving-config.js';
