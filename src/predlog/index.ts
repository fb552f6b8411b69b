// Public API of the prediction log area: the group-commit writer, retention, reads and exports,
// ground-truth feedback and the HTTP routes.
export { PredictionLog } from './prediction-log.js';
export { openPredictionLog } from './open-prediction-log.js';
export type { OpenPredictionLogOptions } from './open-prediction-log.js';
export type { PredictionLogOptions, PredictionRecord, PredictionLogStats } from './prediction-log.js';
export { loadHashKey, HASH_KEY_FILE } from './hash-key.js';
export { redactionOf, tensorMapJson, readableTensorsJson, SensitiveMasker } from './record-json.js';
export type { Redaction, SensitiveMode } from './record-json.js';
export { sweepPredictionLog } from './retention.js';
export type { SweepOptions, SweepResult } from './retention.js';
export { listPredictions, listPredictionRows, predictionItem, parseModelFilter } from './query.js';
export type { PredictionFilter, ListPredictionsOptions, PredictionItem, PredictionRow } from './query.js';
export { exportPredictions, jsonlLine, csvLine, EXPORT_FORMATS, EXPORT_CONTENT_TYPES } from './export.js';
export type { ExportFormat, ExportOptions } from './export.js';
export { recordFeedback, labelsFor, checkFeedbackItems, MAX_FEEDBACK_ITEMS, MAX_REQUEST_ID_LENGTH } from './feedback.js';
export type { FeedbackItem, FeedbackResult } from './feedback.js';
export { predictionRoutes, parseTimeParameter, MAX_PAGE_ROWS } from './routes.js';
export type { PredictionRoutesOptions } from './routes.js';
