// MLflow-style scoring for users coming from `mlflow models serve`:
// `POST /api/v1/models/{name}/versions/{v}/invocations` with the payloads MLflow's scoring server
// accepts — JSON with exactly one of `dataframe_split`, `dataframe_records`, `instances`, `inputs`
// (and optionally `params`, ignored), or `text/csv` with a header row — answering `{"predictions": …}`.
// Other content types get 415. Errors use the platform's format `{"error": {"code", "message"}}`.
//
// Predictions: for a model with one output, the output nested by its shape (one entry per row, as
// MLflow returns a numpy array); for several outputs, one object per row `{output: value, …}` (a
// data frame in records orientation, as MLflow returns a DataFrame), or, when the outputs do not
// share their first dimension, an object `{output: nested values}`.
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { parse as parseCsv } from 'csv-parse/sync';
import { PlinthError } from '../core/index.js';
import { encodeColumns, encodeRecords, encodeRows, planFeatures, type FeaturePlan } from './features.js';
import type { InferenceObserver } from './oip-routes.js';
import { checkSharedDimensions, decodeInput, DEFAULT_MAX_ROWS, inferShape, nestedJson, showValue } from './tensor-codec.js';
import { firstElement, requestHeader, serveRouted, type Decoded } from './routed-call.js';
import type { DeploymentGateway, RoutingContext, ServedModel, ServingEngine, Tensor, TensorMap } from './types.js';

export interface InvocationsRoutesOptions {
  engine: ServingEngine;
  /** Rows per request at most. @default 10000 */
  maxRows?: number;
  /** Called once per request when the response is sent. */
  observe?: InferenceObserver;
  /** Deployments: adds `POST /deployments/{name}/invocations`. */
  gateway?: DeploymentGateway;
}

/** The JSON payload keys MLflow's scoring server accepts, exactly one per request. */
export const MLFLOW_FORMATS = Object.freeze(['dataframe_split', 'dataframe_records', 'instances', 'inputs'] as const);

function invalid(message: string): PlinthError {
  return new PlinthError('INVALID_INFERENCE_INPUT', message);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Builds a model input from JSON values of inferred shape (the tensor forms of `instances` and `inputs`). */
function tensorInput(model: ServedModel, name: string, values: unknown, maxRows: number): Tensor {
  const spec = model.signature.inputs.find((i) => i.name === name)!;
  return decodeInput({ name, datatype: spec.datatype, shape: inferShape(values), data: values }, spec, { maxRows });
}

/** Column names of a plan, in input order (for rows given without column names). */
function planColumnNames(plan: FeaturePlan, width: number): string[] {
  if (plan.positionalWidth !== null) return Array.from({ length: width }, (_, i) => String(i));
  return plan.columns.map((c) => c.name);
}

/**
 * Decodes an MLflow scoring payload (already parsed JSON) into the model's input tensors.
 * @throws PlinthError INVALID_INFERENCE_INPUT
 */
export function decodeMlflowJson(body: unknown, model: ServedModel, maxRows: number = DEFAULT_MAX_ROWS): TensorMap {
  if (!isObject(body)) throw invalid(`the body must be a JSON object with exactly one of ${MLFLOW_FORMATS.join(', ')}, got ${showValue(body)}`);
  const keys = Object.keys(body);
  const formats = keys.filter((k) => (MLFLOW_FORMATS as readonly string[]).includes(k));
  if (formats.length !== 1) throw invalid(`the body must have exactly one of ${MLFLOW_FORMATS.join(', ')}; it has ${formats.length === 0 ? 'none' : formats.join(', ')}`);
  const unknown = keys.find((k) => k !== formats[0] && k !== 'params');
  if (unknown !== undefined) throw invalid(`unknown field ${JSON.stringify(unknown.slice(0, 200))}; the body has one of ${MLFLOW_FORMATS.join(', ')} and optionally params`);
  const format = formats[0] as (typeof MLFLOW_FORMATS)[number];
  const value = body[format];
  const plan = planFeatures(model.signature, model.featureSchema);
  const options = { maxRows };
  const inputNames = model.signature.inputs.map((i) => i.name);
  switch (format) {
    case 'dataframe_split': {
      if (!isObject(value)) throw invalid(`dataframe_split must be an object {columns, data}, got ${showValue(value)}`);
      const extra = Object.keys(value).find((k) => k !== 'columns' && k !== 'data' && k !== 'index');
      if (extra !== undefined) throw invalid(`dataframe_split has unknown field ${JSON.stringify(extra.slice(0, 200))} (allowed: columns, data, index)`);
      const rows = value.data;
      const firstRow = Array.isArray(rows) && Array.isArray(rows[0]) ? (rows[0] as unknown[]) : [];
      const columns = value.columns ?? planColumnNames(plan, firstRow.length);
      return encodeRows(plan, columns, rows, options);
    }
    case 'dataframe_records':
      return encodeRecords(plan, value, options);
    case 'instances': {
      if (!Array.isArray(value) || value.length === 0) throw invalid(`instances must be a non-empty array of rows, got ${showValue(value)}`);
      if (isObject(value[0])) return encodeRecords(plan, value, options);
      if (model.featureSchema || inputNames.length > 1) {
        const first = value[0];
        return encodeRows(plan, planColumnNames(plan, Array.isArray(first) ? first.length : 1), value.map((row) => (Array.isArray(row) ? row : [row])), options);
      }
      return { [inputNames[0]!]: tensorInput(model, inputNames[0]!, value, maxRows) };
    }
    case 'inputs': {
      if (Array.isArray(value)) {
        if (inputNames.length > 1 || model.featureSchema) {
          if (value.length > 0 && isObject(value[0])) return encodeRecords(plan, value, options);
          if (model.featureSchema) return encodeRows(plan, planColumnNames(plan, 0), value.map((row) => (Array.isArray(row) ? row : [row])), options);
          throw invalid(`the model has ${inputNames.length} inputs (${inputNames.map((n) => JSON.stringify(n)).join(', ')}): send inputs as an object of named values`);
        }
        return { [inputNames[0]!]: tensorInput(model, inputNames[0]!, value, maxRows) };
      }
      if (!isObject(value)) throw invalid(`inputs must be an array or an object of named values, got ${showValue(value)}`);
      const names = Object.keys(value);
      // Named features first (their values are encoded by the schema), then the model's own inputs as tensors.
      const allFeatures = model.featureSchema !== null && names.length > 0 && names.every((n) => model.featureSchema!.features.some((f) => f.name === n));
      if (!allFeatures && names.length > 0 && names.every((n) => inputNames.includes(n))) {
        if (names.length !== inputNames.length) {
          const missing = inputNames.find((n) => !names.includes(n))!;
          throw invalid(`missing input ${JSON.stringify(missing)}; the model needs ${inputNames.map((n) => JSON.stringify(n)).join(', ')}`);
        }
        const feeds: TensorMap = {};
        for (const name of names) feeds[name] = tensorInput(model, name, value[name], maxRows);
        checkSharedDimensions(feeds, model.signature);
        return feeds;
      }
      return encodeColumns(plan, value, options);
    }
  }
}

/**
 * Decodes a CSV body: a header row of column names, then one row per record.
 * @throws PlinthError INVALID_INFERENCE_INPUT when the text is not CSV or does not fit the model.
 */
export function decodeMlflowCsv(text: string, model: ServedModel, maxRows: number = DEFAULT_MAX_ROWS): TensorMap {
  let records: string[][];
  try {
    records = parseCsv(text, { bom: true, skip_empty_lines: true, to: maxRows + 2 }) as string[][];
  } catch (error) {
    throw invalid(`the CSV body cannot be read: ${(error as Error).message}`);
  }
  const [header, ...rows] = records;
  if (!header) throw invalid('the CSV body is empty: it needs a header row of column names and one row per record');
  return encodeRows(planFeatures(model.signature, model.featureSchema), header, rows, { maxRows });
}

/** JSON text of `{"predictions": …}` for a model's outputs (see the header for the shape). */
export function predictionsJson(model: ServedModel, outputs: TensorMap): string {
  const names = model.signature.outputs.map((o) => o.name).filter((n) => outputs[n] !== undefined);
  if (names.length === 1) return `{"predictions":${nestedJson(outputs[names[0]!]!)}}`;
  const tensors = names.map((n) => outputs[n]!);
  const rows = tensors[0]?.shape[0];
  const sameRows = rows !== undefined && tensors.every((t) => t.shape.length > 0 && t.shape[0] === rows);
  if (!sameRows) return `{"predictions":{${names.map((n, i) => `${JSON.stringify(n)}:${nestedJson(tensors[i]!)}`).join(',')}}}`;
  const keys = names.map((n) => `${JSON.stringify(n)}:`);
  const parts = new Array<string>(rows);
  for (let r = 0; r < rows; r++) {
    // nestedJson of one row gives `[row]`; the row itself is inside the brackets.
    parts[r] = `{${tensors.map((t, i) => keys[i] + nestedJson(t, r, r + 1).slice(1, -1)).join(',')}}`;
  }
  return `{"predictions":[${parts.join(',')}]}`;
}

/** The media type of a request, lower-cased, and whether its charset is one the route reads (UTF-8). */
function mediaType(request: FastifyRequest): { type: string; utf8: boolean } {
  const header = request.headers['content-type'] ?? '';
  const [type = '', ...params] = header.split(';').map((p) => p.trim().toLowerCase());
  const charset = params.find((p) => p.startsWith('charset='))?.slice(8).replace(/"/g, '');
  return { type, utf8: charset === undefined || charset === 'utf-8' || charset === 'utf8' };
}

/** The request's media type, when invocations accept it. @throws PlinthError UNSUPPORTED_MEDIA_TYPE */
function acceptedType(request: FastifyRequest): 'application/json' | 'text/csv' {
  const { type, utf8 } = mediaType(request);
  if ((type !== 'application/json' && type !== 'text/csv') || !utf8) {
    throw new PlinthError('UNSUPPORTED_MEDIA_TYPE', `invocations accept application/json or text/csv in UTF-8, got ${JSON.stringify(request.headers['content-type'] ?? 'none')}`);
  }
  return type;
}

/**
 * What a deployment may read of an invocations request to route it: headers, and a named field of
 * the first record (records, split frames, named inputs; CSV by its header row).
 */
function routingContext(request: FastifyRequest, type: string): RoutingContext {
  return {
    requestId: request.id,
    header: (name) => requestHeader(request, name),
    field: (name) => {
      const body = request.body;
      if (type === 'text/csv') {
        if (typeof body !== 'string') return undefined;
        const [header, first] = body.split(/\r?\n/, 2).map((line) => line.split(','));
        const at = header?.indexOf(name) ?? -1;
        return at < 0 ? undefined : first?.[at];
      }
      if (!isObject(body)) return undefined;
      const records = body.dataframe_records ?? body.instances;
      if (Array.isArray(records)) return isObject(records[0]) ? records[0][name] : undefined;
      const split = body.dataframe_split;
      if (isObject(split) && Array.isArray(split.columns) && Array.isArray(split.data)) {
        const at = split.columns.indexOf(name);
        return at < 0 ? undefined : (split.data[0] as unknown[] | undefined)?.[at];
      }
      if (isObject(body.inputs)) return firstElement(body.inputs[name]);
      return undefined;
    },
  };
}

/** Registers the invocations routes (models, and deployments when a gateway is given); register under `/api/v1`. */
export const invocationsRoutes: FastifyPluginAsync<InvocationsRoutesOptions> = async (fastify, options) => {
  const { engine, observe, gateway } = options;
  const maxRows = options.maxRows ?? DEFAULT_MAX_ROWS;
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  fastify.decorateRequest('servedModel', null);
  // CSV is read only here; elsewhere in the API a text body is refused with 415.
  fastify.addContentTypeParser(['text/csv'], { parseAs: 'string' }, (_request, body, done) => done(null, body));

  /** Decodes an invocations body for a model reference and runs it. */
  const run = async (request: FastifyRequest, ref: string, type: string, decoded: Decoded) => {
    const model = await engine.describe(ref);
    request.servedModel = model;
    decoded.model = model;
    const feeds = type === 'text/csv'
      ? decodeMlflowCsv(typeof request.body === 'string' ? request.body : '', model, maxRows)
      : decodeMlflowJson(request.body, model, maxRows);
    decoded.feeds = feeds;
    const result = await engine.infer(ref, feeds);
    request.servedModel = result.model;
    decoded.model = result.model;
    return { feeds, result };
  };

  app.post('/models/:name/versions/:version/invocations', {
    config: { permission: 'predict', inferenceMetrics: true },
    schema: {
      tags: ['inference'],
      summary: 'MLflow-style scoring: dataframe_split, dataframe_records, instances or inputs as JSON, or CSV; answers {"predictions": …}',
      consumes: ['application/json', 'text/csv'],
      params: Type.Object({ name: Type.String({ maxLength: 1024 }), version: Type.String({ maxLength: 1024 }) }),
    },
  }, async (request, reply) => {
    const type = acceptedType(request);
    const { result } = await run(request, `${request.params.name}@${request.params.version}`, type, { feeds: null, model: null });
    return reply.header('x-plinth-model', result.model.reference).type('application/json').send(predictionsJson(result.model, result.outputs));
  });

  if (gateway) {
    app.post('/deployments/:name/invocations', {
      config: { permission: 'predict', inferenceMetrics: true },
      schema: {
        tags: ['inference'],
        summary: 'MLflow-style scoring through a deployment: the deployment picks the version that answers (header x-plinth-model)',
        consumes: ['application/json', 'text/csv'],
        params: Type.Object({ name: Type.String({ maxLength: 1024 }) }),
      },
    }, async (request, reply) => {
      const type = acceptedType(request);
      const routed = gateway.route(request.params.name, routingContext(request, type));
      if (!routed) throw new PlinthError('DEPLOYMENT_NOT_FOUND', `no deployment named ${JSON.stringify(request.params.name.slice(0, 200))}`);
      // Errors say which version answered too.
      void reply.header('x-plinth-model', routed.reference);
      const ran = await serveRouted(
        routed,
        // A mirrored call has a request object of its own, so the caller's metrics labels stay its own.
        (ref, decoded, mirrored) => run(mirrored ? ({ body: request.body, servedModel: null } as unknown as FastifyRequest) : request, ref, type, decoded),
        (r) => ({ model: r.result.model, feeds: r.feeds, outputs: r.result.outputs }),
        request.log,
      );
      return reply.header('x-plinth-model', ran.result.model.reference).type('application/json').send(predictionsJson(ran.result.model, ran.result.outputs));
    });
  }

  // A full queue or a model not ready yet: tell clients when to come back, as the OIP routes do.
  fastify.addHook('onSend', async (_request, reply, payload) => {
    if (reply.statusCode === 503 && !reply.hasHeader('retry-after')) void reply.header('retry-after', '1');
    return payload;
  });

  if (observe) {
    fastify.addHook('onResponse', async (request, reply) => {
      if (!request.routeOptions.url?.endsWith('/invocations')) return;
      const model = request.servedModel;
      observe('mlflow', model?.name ?? '', model ? String(model.version) : '', reply.statusCode, reply.elapsedTime / 1000);
    });
  }
};
