// Public API of the training area: trainers (gradient-boosted trees, linear models), their ONNX
// export, evaluation (metrics, cross-validation, feature importance).
export { checkMatrix, checkLabels, takeRows, takeLabels } from './matrix.js';
export type { FeatureMatrix, FeatureKind, Task } from './matrix.js';
export { fitBinning, applyBinning } from './binning.js';
export type { FeatureBinning, BinnedMatrix, BinningOptions } from './binning.js';
export { trainGbdt, predictGbdt, gbdtScores, gbdtGainImportance } from './gbdt.js';
export type { GbdtParams, GbdtModel, GbdtInput } from './gbdt.js';
export type { Tree } from './tree.js';
export { trainLinear, predictLinear, lbfgs } from './linear.js';
export type { LinearModel, LinearParams } from './linear.js';
export { exportGbdtToOnnx, exportLinearToOnnx, ML_OPSET } from './onnx-export.js';
export { accuracy, rocAuc, logLoss, rmse, mae, r2, argmaxRows, METRICS, metricsFor } from './metrics.js';
export type { Predictions, MetricDefinition } from './metrics.js';
export { holdoutSplit, kFold, stratifiedKFold, crossValidate, permutationImportance, meanStd } from './cv.js';
export type { Split, MetricSummary, FitPredict, CrossValidateOptions } from './cv.js';
export { evaluationBatch, logEvaluation } from './tracking.js';
export type { EvaluationRecord } from './tracking.js';
export { runSearch, bestTrial, shouldPrune, TrialPruned } from './search.js';
export type { Sampler, Trial, SearchOptions, SearchResult, MedianPrunerOptions, Report } from './search.js';
export { checkSearchSpace, enumerateGrid, parseParamValue } from './search-space.js';
export type { ParamSpec, ParamValue, Params, SearchSpace } from './search-space.js';
export { tpeSample, defaultGamma, defaultWeights, TPE_DEFAULTS } from './tpe.js';
export { loadTrainingTable } from './table.js';
export type { TableOptions, TrainingTable } from './table.js';
