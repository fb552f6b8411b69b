// Serving a request that a deployment routed, the same way on both protocols (OIP and MLflow-style):
// run it on the version the deployment picked, record the outcome (the answer waits for that, since
// it includes the durable prediction-log write), and after the answer mirror it to the deployment's
// shadow, whose outcome is recorded and never returned. Also what both protocols read of a request
// to route it.
import type { FastifyBaseLogger, FastifyRequest } from 'fastify';
import { protocolError } from './protocol-error.js';
import type { RoutedRequest, ServedModel, TensorMap } from './types.js';

/** What a call had got to when it failed: the version it resolved to and the decoded inputs. */
export interface Decoded {
  feeds: TensorMap | null;
  model: ServedModel | null;
}

/** What a finished call served. */
export interface Served {
  model: ServedModel;
  feeds: TensorMap;
  outputs: TensorMap;
}

/**
 * Runs a call on a model reference, filling `decoded` as it goes; `mirrored` is true for the copy
 * sent to a shadow.
 */
export type RouteCall<T> = (reference: string, decoded: Decoded, mirrored: boolean) => Promise<T>;

/**
 * Runs a routed request on the version its deployment picked and records the outcome before
 * returning; then, if the deployment mirrors it, runs the copy on the shadow after the caller's answer.
 * @throws what `call` throws, once its outcome is recorded; PlinthError PREDICTION_LOG_UNAVAILABLE from recording.
 */
export async function serveRouted<T>(routed: RoutedRequest, call: RouteCall<T>, servedOf: (result: T) => Served, log: FastifyBaseLogger): Promise<T> {
  const started = performance.now();
  const decoded: Decoded = { feeds: null, model: null };
  let result: T;
  try {
    result = await call(routed.reference, decoded, false);
  } catch (error) {
    const e = protocolError(error);
    await routed.complete({ ...decoded, outputs: null, status: e.status, error: e.message, latencyMs: performance.now() - started });
    throw error;
  }
  await routed.complete({ ...servedOf(result), status: 200, latencyMs: performance.now() - started });
  if (routed.mirror !== null) setImmediate(() => void mirror(routed, call, servedOf, log));
  return result;
}

async function mirror<T>(routed: RoutedRequest, call: RouteCall<T>, servedOf: (result: T) => Served, log: FastifyBaseLogger): Promise<void> {
  const started = performance.now();
  const decoded: Decoded = { feeds: null, model: null };
  try {
    routed.completeMirror({ ...servedOf(await call(routed.mirror!, decoded, true)), status: 200, latencyMs: performance.now() - started });
  } catch (error) {
    const e = protocolError(error);
    if (e.status >= 500) log.warn({ err: error, shadow: routed.mirror }, 'shadow inference failed');
    routed.completeMirror({ ...decoded, outputs: null, status: e.status, error: e.message, latencyMs: performance.now() - started });
  }
}

/** The first element of a nested array (or the value itself). */
export function firstElement(value: unknown): unknown {
  let current = value;
  while (Array.isArray(current)) current = current[0];
  return current;
}

/** A request header's value (the first, when repeated). */
export function requestHeader(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}
