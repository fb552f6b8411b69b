// The Open Inference Protocol v2 (REST) routes, as KServe and Triton specify them, so their clients
// work: server and model metadata, health and readiness, inference, and the model repository
// extension (index, load, unload). Registered at the root under /v2 with an error format of its own,
// `{"error": "message"}`, and statuses as Triton uses them (400 bad request, 404 unknown model or
// version, 503 not ready or queue full with Retry-After, 504 timed out).
//
// `{m}` is a registered model name and `{v}` a version number or alias; without `/versions/{v}` the
// model's default version serves (the `champion` alias, else the newest approved, else the newest).
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest, onResponseHookHandler } from 'fastify';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { PlinthError } from '../core/index.js';
import type { ValueSignature } from '../onnx/index.js';
import { listVersions } from '../registry/index.js';
import type { Db } from '../store/index.js';
import { encodeFeatureInputs, namesAreFeatures, planFeatures } from './features.js';
import { decodeInputs, DEFAULT_MAX_ROWS, outputJson, showValue, tensorBytes } from './tensor-codec.js';
import { protocolError } from './protocol-error.js';
import { firstElement, requestHeader, serveRouted, type Decoded } from './routed-call.js';
import type { DeploymentGateway, InferOptions, RoutingContext, ServedModel, ServingEngine, TensorMap } from './types.js';

/** Records one inference request (both protocols): labels are bounded (unresolved models are ""). */
export type InferenceObserver = (protocol: 'oip' | 'mlflow', model: string, version: string, status: number, seconds: number) => void;

export interface OipRoutesOptions {
  engine: ServingEngine;
  db: Db;
  /** Reported by `GET /v2`. */
  serverVersion: string;
  /** Rows (first dimension) per request at most. @default 10000 */
  maxRows?: number;
  /** Whether the server is ready (`GET /v2/health/ready`). @default always ready */
  isReady?: () => Promise<boolean>;
  /** Called once per inference request when the response is sent. */
  observe?: InferenceObserver;
  /** Deployments: their names are accepted wherever a model name is (without `/versions/{v}`). */
  gateway?: DeploymentGateway;
}

/** The platform name reported in model metadata. */
export const OIP_PLATFORM = 'onnx_onnxv1';
/** The OIP extensions Plinth implements, reported by `GET /v2`. */
export const OIP_EXTENSIONS = Object.freeze(['model_repository', 'binary_tensor_data']);

declare module 'fastify' {
  interface FastifyRequest {
    /** The model version an inference request resolved to, for metrics and logs. */
    servedModel: ServedModel | null;
  }
}

const ModelParams = Type.Object({ m: Type.String({ maxLength: 1024 }) });
const VersionParams = Type.Object({ m: Type.String({ maxLength: 1024 }), v: Type.String({ maxLength: 1024 }) });
const Parameters = Type.Record(Type.String(), Type.Unknown());
const InferBody = Type.Object({
  id: Type.Optional(Type.String({ maxLength: 1024 })),
  parameters: Type.Optional(Parameters),
  inputs: Type.Array(Type.Object({
    name: Type.String({ maxLength: 1024 }),
    shape: Type.Array(Type.Integer({ minimum: 0 }), { maxItems: 64 }),
    datatype: Type.String({ maxLength: 64 }),
    parameters: Type.Optional(Parameters),
    data: Type.Optional(Type.Array(Type.Unknown())),
  }), { minItems: 1, maxItems: 10_000 }),
  outputs: Type.Optional(Type.Array(Type.Object({ name: Type.String({ maxLength: 1024 }), parameters: Type.Optional(Parameters) }), { maxItems: 10_000 })),
});
const RepositoryBody = Type.Union([Type.Object({ parameters: Type.Optional(Parameters) }), Type.Null()]);
const IndexBody = Type.Union([Type.Object({ ready: Type.Optional(Type.Boolean()) }), Type.Null()]);

/** Triton's model states: READY, LOADING, UNAVAILABLE (with the reason: unloaded, or why loading failed). */
export function repositoryState(state: string, reason: string | undefined): { state: string; reason: string } {
  switch (state.toLowerCase()) {
    case 'ready': return { state: 'READY', reason: reason ?? '' };
    case 'loading': return { state: 'LOADING', reason: reason ?? '' };
    case 'unloaded': return { state: 'UNAVAILABLE', reason: reason ?? 'unloaded' };
    default: return { state: 'UNAVAILABLE', reason: reason ?? state };
  }
}

function reference(m: string, v?: string): string {
  return v === undefined ? m : `${m}@${v}`;
}

function tensorMetadata(value: ValueSignature): { name: string; datatype: string; shape: number[] } {
  // Non-tensor outputs (sequences, maps) are listed as BYTES of unknown shape; OIP has no type for them.
  return { name: value.name, datatype: value.datatype ?? 'BYTES', shape: value.shape ?? [-1] };
}

/**
 * Decodes an OIP request's `inputs` for a model version: the model's own inputs (tensor form), or,
 * when the version has a feature schema, one input per feature (feature form, see features.ts).
 * @throws PlinthError INVALID_INFERENCE_INPUT
 */
export function decodeRequestInputs(inputs: unknown, model: ServedModel, maxRows: number, binary?: Uint8Array): TensorMap {
  const options = { maxRows, ...(binary ? { binary: { bytes: binary, offset: 0 } } : {}) };
  if (model.featureSchema && Array.isArray(inputs) && inputs.length > 0) {
    const signature = model.signature;
    let tensorForm = true;
    const names: string[] = [];
    for (const input of inputs) {
      const name = (input as { name?: unknown } | null)?.name;
      if (typeof name !== 'string') return decodeInputs(inputs, signature, options);
      names.push(name);
      const spec = signature.inputs.find((i) => i.name === name);
      if (!spec || spec.datatype !== (input as { datatype?: unknown }).datatype) tensorForm = false;
    }
    if (!tensorForm) {
      // Feature form when the inputs are named after features (any name a feature but not a model
      // input is enough to say so); its errors then speak of features.
      const plan = planFeatures(signature, model.featureSchema);
      const isFeature = (n: string) => model.featureSchema!.features.some((f) => f.name === n);
      const featureNamed = namesAreFeatures(plan, names) || names.some((n) => isFeature(n) && !signature.inputs.some((i) => i.name === n));
      if (featureNamed && plan.unusable) throw new PlinthError('INVALID_INFERENCE_INPUT', `inputs named after features cannot be used with this model: ${plan.unusable}`);
      if (featureNamed && binary) throw new PlinthError('INVALID_INFERENCE_INPUT', 'inputs named after features take JSON data, not binary tensor data');
      if (featureNamed) return encodeFeatureInputs(plan, inputs, { maxRows });
    }
  }
  return decodeInputs(inputs, model.signature, options);
}

/**
 * Reads the optional `outputs` selection: names of the model's tensor outputs, each once.
 * @throws PlinthError INVALID_INFERENCE_INPUT for an unknown or repeated name.
 */
export function selectOutputs(outputs: unknown, model: ServedModel): string[] | undefined {
  if (outputs === undefined || outputs === null) return undefined;
  if (!Array.isArray(outputs)) throw new PlinthError('INVALID_INFERENCE_INPUT', `"outputs" must be an array of {name}, got ${showValue(outputs)}`);
  const names: string[] = [];
  for (let i = 0; i < outputs.length; i++) {
    const name = (outputs[i] as { name?: unknown } | null)?.name;
    if (typeof name !== 'string') throw new PlinthError('INVALID_INFERENCE_INPUT', `outputs[${i}]: "name" must be a string`);
    if (!model.signature.outputs.some((o) => o.name === name)) {
      throw new PlinthError('INVALID_INFERENCE_INPUT', `outputs[${i}]: unknown output ${JSON.stringify(name.slice(0, 200))}; the model's outputs are ${model.signature.outputs.map((o) => JSON.stringify(o.name)).join(', ')}`);
    }
    if (names.includes(name)) throw new PlinthError('INVALID_INFERENCE_INPUT', `outputs[${i}]: output ${JSON.stringify(name)} is requested twice`);
    names.push(name);
  }
  return names;
}

/** Reads request-level parameters Plinth honours: `timeout` in microseconds (Triton's schedule policy). */
function inferOptions(parameters: Record<string, unknown> | undefined, outputs: string[] | undefined): InferOptions {
  const options: InferOptions = {};
  if (outputs) options.outputs = outputs;
  if (parameters) {
    if ('classification' in parameters) throw new PlinthError('INVALID_INFERENCE_INPUT', 'the classification extension is not supported; request the outputs themselves');
    const timeout = parameters.timeout;
    if (timeout !== undefined) {
      if (typeof timeout !== 'number' || !Number.isSafeInteger(timeout) || timeout < 1) throw new PlinthError('INVALID_INFERENCE_INPUT', `parameters.timeout must be a positive whole number of microseconds, got ${showValue(timeout)}`);
      options.timeoutMs = Math.max(1, Math.ceil(timeout / 1000));
    }
  }
  return options;
}

/**
 * The JSON text of an OIP inference response. Outputs named in `binary` carry
 * `"parameters": {"binary_data_size": n}` instead of `data`; their bytes are returned in `binaryParts`,
 * in output order, to follow the JSON (Triton's binary tensor data extension).
 */
export function inferResponseJson(
  model: ServedModel,
  id: string | undefined,
  outputs: TensorMap,
  names: readonly string[] | undefined,
  binary?: ReadonlySet<string>,
): { json: string; binaryParts: Uint8Array[] } {
  const parts: string[] = [];
  const binaryParts: Uint8Array[] = [];
  for (const name of names ?? model.signature.outputs.map((o) => o.name)) {
    const tensor = outputs[name];
    if (!tensor) continue;
    if (binary?.has(name)) {
      const bytes = tensorBytes(tensor);
      binaryParts.push(bytes);
      parts.push(`{"name":${JSON.stringify(name)},"datatype":"${tensor.datatype}","shape":[${tensor.shape.join(',')}],"parameters":{"binary_data_size":${bytes.length}}}`);
    } else {
      parts.push(outputJson(name, tensor));
    }
  }
  const json = `{"model_name":${JSON.stringify(model.name)},"model_version":"${model.version}"${id === undefined ? '' : `,"id":${JSON.stringify(id)}`},"outputs":[${parts.join(',')}]}`;
  return { json, binaryParts };
}

/**
 * Which outputs the client wants as binary data: an output's `binary_data` parameter, else the
 * request's `binary_data_output`. Null when none.
 */
function binaryOutputs(model: ServedModel, requested: unknown, parameters: Record<string, unknown> | undefined, names: readonly string[] | undefined): Set<string> | null {
  const all = parameters?.binary_data_output === true;
  const perOutput = new Map<string, boolean>();
  if (Array.isArray(requested)) {
    for (const output of requested as Array<{ name?: unknown; parameters?: { binary_data?: unknown } }>) {
      const flag = output?.parameters?.binary_data;
      if (typeof output?.name === 'string' && typeof flag === 'boolean') perOutput.set(output.name, flag);
    }
  }
  const chosen = new Set<string>();
  for (const name of names ?? model.signature.outputs.map((o) => o.name)) if (perOutput.get(name) ?? all) chosen.add(name);
  return chosen.size > 0 ? chosen : null;
}

function sendError(request: FastifyRequest, reply: FastifyReply, error: unknown): void {
  const e = protocolError(error);
  if (e.status >= 500 && e.status !== 503 && e.status !== 504) request.log.error({ err: error, code: e.code }, 'request failed');
  else request.log.info({ code: e.code, status: e.status }, e.message);
  if (e.retryAfter !== undefined) void reply.header('retry-after', String(e.retryAfter));
  void reply.code(e.status).type('application/json').send({ error: e.message });
}

/** What a deployment may read of an OIP request to route it: headers, and the first value of a named input. */
function routingContext(request: FastifyRequest, body: unknown): RoutingContext {
  return {
    requestId: request.id,
    header: (name) => requestHeader(request, name),
    field: (name) => {
      const inputs = (body as { inputs?: unknown } | null)?.inputs;
      if (!Array.isArray(inputs)) return undefined;
      const input = inputs.find((i) => (i as { name?: unknown } | null)?.name === name) as { data?: unknown } | undefined;
      return input === undefined ? undefined : firstElement(input.data);
    },
  };
}

/** Where a parsed request body keeps its binary part (the bytes after the JSON header). */
const BINARY_PART = Symbol('plinth.oip.binary');

/**
 * Parses JSON bodies whatever their Content-Type (Triton and KServe accept JSON under any type, and
 * some clients send none); an empty body is no body. With Inference-Header-Content-Length (Triton's
 * binary tensor data extension) the body is that many bytes of JSON followed by binary tensor data,
 * kept beside the parsed object for the decoder.
 */
function installJsonParsing(fastify: FastifyInstance): void {
  // Plain JSON.parse: the decoder reads named fields only and never merges the body into other
  // objects, so the prototype-poisoning scan of Fastify's default parser would only cost time.
  const json = (_request: FastifyRequest, text: string, done: (error: Error | null, value?: unknown) => void) => {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      return done(new PlinthError('INVALID_JSON', `the body is not valid JSON: ${(error as Error).message}`));
    }
    done(null, value);
  };
  const parse = (request: FastifyRequest, body: Buffer, done: (error: Error | null, value?: unknown) => void) => {
    const headerLength = request.headers['inference-header-content-length'];
    if (headerLength === undefined) {
      if (body.length === 0) return done(null, undefined);
      return json(request, body.toString('utf8'), done);
    }
    const length = Number(headerLength);
    if (typeof headerLength !== 'string' || !/^[0-9]{1,15}$/.test(headerLength) || length > body.length) {
      return done(new PlinthError('INVALID_INFERENCE_INPUT', `Inference-Header-Content-Length must be the byte length of the JSON header (at most the body's ${body.length} bytes), got ${JSON.stringify(String(headerLength).slice(0, 40))}`));
    }
    json(request, body.subarray(0, length).toString('utf8'), (error: Error | null, value?: unknown) => {
      if (error) return done(error);
      if (value !== null && typeof value === 'object') Object.defineProperty(value, BINARY_PART, { value: body.subarray(length) });
      done(null, value);
    });
  };
  fastify.removeContentTypeParser('application/json');
  if (fastify.hasContentTypeParser('text/plain')) fastify.removeContentTypeParser('text/plain');
  fastify.addContentTypeParser('application/json', { parseAs: 'buffer' }, parse);
  fastify.addContentTypeParser('*', { parseAs: 'buffer' }, parse);
}

/** Registers the OIP v2 routes; register with `{ prefix: '/v2' }`. */
export const oipRoutes: FastifyPluginAsync<OipRoutesOptions> = async (fastify, options) => {
  const { engine, db, serverVersion, gateway } = options;
  const maxRows = options.maxRows ?? DEFAULT_MAX_ROWS;
  const observe = options.observe;
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();

  fastify.decorateRequest('servedModel', null);
  installJsonParsing(fastify);
  fastify.setErrorHandler((error, request, reply) => sendError(request, reply, error));
  fastify.setNotFoundHandler((request, reply) => {
    void reply.code(404).send({ error: `no route ${request.method} ${request.url.split('?')[0]}` });
  });

  app.get('/', {
    config: { permission: 'read' },
    schema: { tags: ['inference'], summary: 'OIP server metadata: name, version and extensions' },
  }, async () => ({ name: 'plinth', version: serverVersion, extensions: OIP_EXTENSIONS }));

  app.get('/health/live', {
    config: { permission: 'public' },
    schema: { tags: ['inference'], summary: 'OIP liveness: 200 while the server answers' },
  }, async () => ({ live: true }));

  app.get('/health/ready', {
    config: { permission: 'public' },
    schema: { tags: ['inference'], summary: 'OIP readiness: 200 when the server can serve inference requests, 400 otherwise' },
  }, async (_request, reply) => {
    const ready = options.isReady ? await options.isReady().catch(() => false) : true;
    return reply.code(ready ? 200 : 400).send({ ready });
  });

  /** A model reference, or a deployment's stable route when `m` names a deployment (and no version is given). */
  const resolve = (m: string, v?: string) => (v === undefined ? gateway?.stableReference(m) : null) ?? reference(m, v);
  const metadata = async (m: string, v?: string) => {
    const model = await engine.describe(resolve(m, v));
    const versions = await listVersions(db, model.name);
    return {
      name: model.name,
      versions: versions.map((version) => String(version.version)),
      platform: OIP_PLATFORM,
      inputs: model.signature.inputs.map(tensorMetadata),
      outputs: model.signature.outputs.map(tensorMetadata),
    };
  };
  app.get('/models/:m', {
    config: { permission: 'read' },
    schema: { tags: ['inference'], summary: "OIP model metadata of the model's default version", params: ModelParams },
  }, async (request) => metadata(request.params.m));
  app.get('/models/:m/versions/:v', {
    config: { permission: 'read' },
    schema: { tags: ['inference'], summary: 'OIP model metadata of a version (number or alias)', params: VersionParams },
  }, async (request) => metadata(request.params.m, request.params.v));

  const ready = async (reply: FastifyReply, m: string, v?: string) => {
    const ref = resolve(m, v);
    const model = await engine.describe(ref);
    const isReady = await engine.isReady(ref);
    return reply.code(isReady ? 200 : 400).send({ name: ref === reference(m, v) ? model.name : m, ready: isReady });
  };
  app.get('/models/:m/ready', {
    config: { permission: 'read' },
    schema: { tags: ['inference'], summary: "OIP model readiness of the default version: 200 ready, 400 not loaded", params: ModelParams },
  }, async (request, reply) => ready(reply, request.params.m));
  app.get('/models/:m/versions/:v/ready', {
    config: { permission: 'read' },
    schema: { tags: ['inference'], summary: 'OIP model readiness of a version: 200 ready, 400 not loaded', params: VersionParams },
  }, async (request, reply) => ready(reply, request.params.m, request.params.v));

  /** Runs one OIP request on a model reference: describe, validate and decode, infer. */
  const run = async (request: FastifyRequest, ref: string, body: unknown, decoded: Decoded) => {
    const described = await engine.describe(ref);
    request.servedModel = described;
    decoded.model = described;
    if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new PlinthError('INVALID_INFERENCE_INPUT', 'the body must be a JSON object {"inputs": [...]}');
    const { id, inputs, outputs, parameters } = body as { id?: string; inputs?: unknown; outputs?: unknown; parameters?: Record<string, unknown> };
    const names = selectOutputs(outputs, described);
    const inferenceOptions = inferOptions(parameters, names);
    const feeds = decodeRequestInputs(inputs, described, maxRows, (body as { [BINARY_PART]?: Buffer })[BINARY_PART]);
    decoded.feeds = feeds;
    const result = await engine.infer(ref, feeds, inferenceOptions);
    request.servedModel = result.model;
    decoded.model = result.model;
    return { id, outputs, parameters, names, feeds, result };
  };

  const send = (reply: FastifyReply, ran: Awaited<ReturnType<typeof run>>, modelName?: string) => {
    const { id, outputs, parameters, names, result } = ran;
    void reply.header('x-plinth-model', result.model.reference);
    const answering = modelName === undefined ? result.model : { ...result.model, name: modelName };
    const binary = outputs === undefined && parameters === undefined ? null : binaryOutputs(result.model, outputs, parameters, names);
    const response = inferResponseJson(answering, id, result.outputs, names, binary ?? undefined);
    if (response.binaryParts.length === 0) return reply.type('application/json').send(response.json);
    const header = Buffer.from(response.json, 'utf8');
    return reply
      .header('inference-header-content-length', String(header.length))
      .type('application/octet-stream')
      .send(Buffer.concat([header, ...response.binaryParts]));
  };

  const infer = async (request: FastifyRequest, reply: FastifyReply, m: string, v: string | undefined, body: unknown) => {
    // Model names skip building a routing context: only deployments read one.
    const routed = v === undefined && gateway && gateway.stableReference(m) !== null ? gateway.route(m, routingContext(request, body)) : null;
    if (!routed) return send(reply, await run(request, reference(m, v), body, { feeds: null, model: null }));
    // Errors say which version answered too.
    void reply.header('x-plinth-model', routed.reference);
    const ran = await serveRouted(
      routed,
      // A mirrored call has a request object of its own, so the caller's metrics labels stay its own.
      (ref, decoded, mirrored) => run(mirrored ? ({ servedModel: null } as unknown as FastifyRequest) : request, ref, body, decoded),
      (r) => ({ model: r.result.model, feeds: r.feeds, outputs: r.result.outputs }),
      request.log,
    );
    return send(reply, ran, routed.deployment);
  };
  // Inference metrics: a route hook on the two infer routes, a callback (no promise per request).
  const onResponse: onResponseHookHandler[] = [];
  if (observe) {
    onResponse.push((request, reply, done) => {
      const model = request.servedModel;
      observe('oip', model?.name ?? '', model ? String(model.version) : '', reply.statusCode, reply.elapsedTime / 1000);
      done();
    });
  }
  const inferSchema = { tags: ['inference'], body: InferBody };
  app.post('/models/:m/infer', {
    config: { permission: 'predict', inferenceMetrics: true },
    schema: { ...inferSchema, summary: "OIP inference on the model's default version", params: ModelParams },
    onResponse,
  }, async (request, reply) => infer(request, reply, request.params.m, undefined, request.body));
  app.post('/models/:m/versions/:v/infer', {
    config: { permission: 'predict', inferenceMetrics: true },
    schema: { ...inferSchema, summary: 'OIP inference on a version (number or alias)', params: VersionParams },
    onResponse,
  }, async (request, reply) => infer(request, reply, request.params.m, request.params.v, request.body));

  app.post('/repository/index', {
    config: { permission: 'read' },
    schema: { tags: ['inference'], summary: 'OIP repository index: every registered model version with its serving state', body: Type.Optional(IndexBody) },
  }, async (request) => {
    const onlyReady = request.body?.ready === true;
    const entries = await engine.index();
    return entries
      .map((entry) => ({ name: entry.name, version: entry.version, ...repositoryState(entry.state, entry.reason) }))
      .filter((entry) => !onlyReady || entry.state === 'READY');
  });

  app.post('/repository/models/:m/load', {
    config: { permission: 'write' },
    schema: { tags: ['inference'], summary: 'OIP repository: load (and warm up) a model reference (name, name@N or name@alias)', params: ModelParams, body: Type.Optional(RepositoryBody) },
  }, async (request) => {
    const model = await engine.load(request.params.m);
    return { name: model.name, version: String(model.version), load: true };
  });

  app.post('/repository/models/:m/unload', {
    config: { permission: 'write' },
    schema: { tags: ['inference'], summary: "OIP repository: unload a model reference's version(s), freeing their memory", params: ModelParams, body: Type.Optional(RepositoryBody) },
  }, async (request) => {
    await engine.unload(request.params.m);
    return { name: request.params.m, unload: true };
  });
};
