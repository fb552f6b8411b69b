// The one error type of the platform and the registry of its codes.
// Every code has a fixed HTTP status and a line of documentation; docs/errors.md lists them
// and a test checks the two agree.

/** The table of error codes: code → HTTP status and what it means. */
export const ERROR_CODES = Object.freeze({
  // generic request errors
  VALIDATION_FAILED: { status: 400, description: 'The request body, query or parameters do not match the route schema.' },
  INVALID_ARGUMENT: { status: 400, description: 'A value is well-formed but not acceptable (a bad name, an unknown option).' },
  INVALID_JSON: { status: 400, description: 'The body is not valid JSON.' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, description: 'The Content-Type is not accepted by this route.' },
  PAYLOAD_TOO_LARGE: { status: 413, description: 'The body or an uploaded file is larger than the configured limit.' },
  UPLOAD_INCOMPLETE: { status: 400, description: 'A multipart upload was truncated or is missing a required part.' },
  ROUTE_NOT_FOUND: { status: 404, description: 'No route matches the method and path.' },
  METHOD_NOT_ALLOWED: { status: 405, description: 'The route exists but not for this method.' },
  CONFLICT: { status: 409, description: 'The change conflicts with the current state.' },
  INTERNAL: { status: 500, description: 'An unexpected server error; the log line with the request id says more.' },
  SERVICE_UNAVAILABLE: { status: 503, description: 'The server is starting or shutting down.' },

  // auth
  UNAUTHENTICATED: { status: 401, description: 'No bearer token, or a token that is unknown or revoked.' },
  PERMISSION_DENIED: { status: 403, description: "The token's role does not allow this action." },
  TOKEN_NOT_FOUND: { status: 404, description: 'No token with that name.' },
  TOKEN_ALREADY_EXISTS: { status: 409, description: 'A token with that name already exists.' },

  // artifacts
  ARTIFACT_NOT_FOUND: { status: 404, description: 'No artifact with that sha256 in the artifact store.' },
  ARTIFACT_CORRUPT: { status: 500, description: 'A stored artifact does not match its recorded size or sha256; it is refused, never served.' },

  // registry
  MODEL_NOT_FOUND: { status: 404, description: 'No registered model with that name.' },
  MODEL_ALREADY_EXISTS: { status: 409, description: 'A model with that name already exists.' },
  MODEL_VERSION_NOT_FOUND: { status: 404, description: 'The model has no such version.' },
  ALIAS_NOT_FOUND: { status: 404, description: 'The model has no such alias.' },
  INVALID_MODEL_REFERENCE: { status: 400, description: 'A model reference is not of the form name, name@N or name@alias.' },
  INVALID_ONNX_MODEL: { status: 400, description: 'The uploaded file is not a valid ONNX model.' },
  MODEL_NOT_SERVABLE: { status: 400, description: 'The model version is not an ONNX model (an MLflow model of another flavor, registered and listed only) and cannot be served.' },
  INVALID_APPROVAL_TRANSITION: { status: 409, description: 'The approval status cannot change that way.' },

  // datasets
  DATASET_NOT_FOUND: { status: 404, description: 'No dataset with that name.' },
  DATASET_VERSION_NOT_FOUND: { status: 404, description: 'The dataset has no such version.' },
  INVALID_DATASET_FILE: { status: 400, description: 'The uploaded file is not a readable CSV or Parquet file.' },
  INVALID_DATASET_REFERENCE: { status: 400, description: 'A dataset reference is not of the form name, name@N or name@latest.' },

  // tracking
  EXPERIMENT_NOT_FOUND: { status: 404, description: 'No experiment with that id or name.' },
  EXPERIMENT_ALREADY_EXISTS: { status: 409, description: 'An experiment with that name already exists.' },
  RUN_NOT_FOUND: { status: 404, description: 'No run with that id.' },
  PARAM_ALREADY_LOGGED: { status: 409, description: 'The run already has that param with a different value.' },
  INVALID_FILTER: { status: 400, description: 'A run search filter or order clause cannot be parsed.' },
  RUN_DELETED: { status: 409, description: 'The run is deleted: restore it before logging to it or changing it.' },
  EXPERIMENT_DELETED: { status: 409, description: 'The experiment is deleted: restore it before adding runs or changing it.' },
  RUN_ARTIFACT_NOT_FOUND: { status: 404, description: 'The run has no artifact file at that path.' },
  RUN_TAG_NOT_FOUND: { status: 404, description: 'The run has no tag with that key.' },

  // serving (protocol adapters)
  INVALID_INFERENCE_INPUT: { status: 400, description: 'An inference request does not fit the model: unknown or missing input or feature, wrong datatype or shape, data length not matching the shape, a value out of range, or too many rows.' },

  // serving (engine)
  MODEL_NOT_READY: { status: 503, description: 'The model version is not loaded (load-on-demand is off), is still loading, failed to load, or does not fit the memory budget; retry later or load it.' },
  QUEUE_FULL: { status: 503, description: "The model's request queue is full (max_queue_size); retry after the Retry-After delay." },
  INFERENCE_TIMEOUT: { status: 504, description: "The request was not answered within the model's timeout (timeout_ms)." },
  INFERENCE_FAILED: { status: 500, description: 'The runtime failed on valid input (a fault in the model or the runtime); the log line with the request id says more.' },

  // deployments, prediction log and feedback
  DEPLOYMENT_NOT_FOUND: { status: 404, description: 'No deployment with that name.' },
  DEPLOYMENT_ALREADY_EXISTS: { status: 409, description: 'A deployment with that name already exists.' },
  INVALID_ROUTES: { status: 400, description: "A deployment's routes are malformed: weights that do not add up to 100, a version listed twice, none at all." },
  INVALID_ROLLOUT: { status: 400, description: 'A rollout request is malformed: a field that does not belong to the strategy, steps that do not rise to 100, a bad sticky key.' },
  ROLLOUT_IN_PROGRESS: { status: 409, description: 'The deployment has a rollout in progress: promote it or roll it back first.' },
  NO_ROLLOUT_IN_PROGRESS: { status: 409, description: 'The deployment has no rollout in progress to promote.' },
  NO_PREVIOUS_REVISION: { status: 409, description: 'The deployment has no earlier revision with other routes to roll back to.' },
  PREDICTION_LOG_UNAVAILABLE: { status: 503, description: 'The prediction log could not be written (the database refused or failed the write); the request was not acknowledged, retry it.' },
  INVALID_PAGE_TOKEN: { status: 400, description: 'A page_token was not produced by this listing (or is corrupt); start again without it.' },

  // monitoring
  MONITOR_NOT_FOUND: { status: 404, description: 'The deployment has no monitor with that name.' },
  MONITOR_ALREADY_EXISTS: { status: 409, description: 'The deployment already has a monitor with that name.' },
  REFERENCE_PROFILE_NOT_FOUND: { status: 404, description: 'The model version has no reference profile, and none can be built from a training dataset link: set one from a dataset version or a window of traffic.' },
  DRIFT_REPORT_UNAVAILABLE: { status: 409, description: 'A deployment drift report cannot be made: the window holds no answered requests and no drift monitor has a stored result yet.' },

  // alerts
  ALERT_RULE_NOT_FOUND: { status: 404, description: 'No alert rule with that name.' },
  ALERT_RULE_ALREADY_EXISTS: { status: 409, description: 'An alert rule with that name already exists.' },
  ALERT_EVENT_NOT_FOUND: { status: 404, description: 'No alert event with that id.' },

  // pipelines
  INVALID_PIPELINE: { status: 400, description: 'A pipeline definition is not valid: bad YAML, an unknown step kind or dependency, a cycle, a missing or unknown parameter, a bad trigger.' },
  PIPELINE_NOT_FOUND: { status: 404, description: 'No pipeline with that name.' },
  PIPELINE_RUN_NOT_FOUND: { status: 404, description: 'The pipeline has no run with that id or number.' },
  PIPELINE_RUN_IN_PROGRESS: { status: 409, description: 'The pipeline already has a run queued or running; a pipeline runs one at a time.' },
});

export type ErrorCode = keyof typeof ERROR_CODES;

export interface PlinthErrorOptions {
  /** Underlying error, kept for logs; never sent to clients. */
  cause?: unknown;
  /** Extra machine-readable detail sent to the client under `error.details`. */
  details?: Record<string, unknown>;
  /** Overrides the code's default HTTP status (rarely needed). */
  status?: number;
}

/**
 * The platform's error: a stable `code` from {@link ERROR_CODES}, the HTTP `status` that code maps to,
 * a human-readable message and optional details. Domain code throws it; the server and CLI map it.
 */
export class PlinthError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: PlinthErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PlinthError';
    this.code = code;
    this.status = options.status ?? ERROR_CODES[code].status;
    this.details = options.details;
  }

  toJSON(): { error: { code: ErrorCode; message: string; details?: Record<string, unknown> } } {
    return { error: { code: this.code, message: this.message, ...(this.details ? { details: this.details } : {}) } };
  }
}

/** True when `value` is a PlinthError (also across module copies). */
export function isPlinthError(value: unknown): value is PlinthError {
  return value instanceof PlinthError || (value instanceof Error && value.name === 'PlinthError' && 'code' in value);
}
