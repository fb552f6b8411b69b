// Public API of the core area: configuration, errors, ids, names, logging, time.
export { ERROR_CODES, PlinthError, isPlinthError } from './errors.js';
export type { ErrorCode, PlinthErrorOptions } from './errors.js';
export { loadServerConfig, loadClientConfig, loadServingSettings, loadPredictionLogSettings } from './config.js';
export type { ServerConfig, ClientConfig, ServerFlags, Env, ServingSettings, PredictionLogSettings } from './config.js';
export { newId, newSecret, newTimeOrderedId, sha256Hex } from './ids.js';
export { NAME_PATTERN, isValidName, assertValidName } from './names.js';
export { createLogger, lazyChildLogger, loggerOptions, REDACT_PATHS } from './logger.js';
export type { Logger } from './logger.js';
export { nowMs } from './clock.js';
export { BoundCounter, BoundHistogram } from './bound-metrics.js';
export type { CounterChild, HistogramChild, BoundMetricValue } from './bound-metrics.js';
