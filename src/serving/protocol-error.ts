// The status and message of any error as the protocol routes answer it (OIP's `{"error": "…"}`), and
// as a deployment records the outcome of a routed call on either protocol.
import type { FastifyError } from 'fastify';
import { isPlinthError } from '../core/index.js';

/** Status and message of any error, for the `{"error": "…"}` replies of the protocol routes. */
export function protocolError(error: unknown): { status: number; message: string; code: string; retryAfter?: number } {
  if (isPlinthError(error)) {
    const retry = error.details?.retry_after_seconds;
    return {
      status: error.status,
      message: error.message,
      code: error.code,
      ...(error.code === 'QUEUE_FULL' || error.status === 503 ? { retryAfter: typeof retry === 'number' && retry > 0 ? Math.ceil(retry) : 1 } : {}),
    };
  }
  const fastifyError = error as Partial<FastifyError> & { statusCode?: number };
  if (fastifyError.validation) return { status: 400, message: `invalid request: ${fastifyError.message ?? 'schema mismatch'}`, code: 'VALIDATION_FAILED' };
  if (fastifyError.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || error instanceof SyntaxError) {
    return { status: 400, message: `the body is not valid JSON: ${fastifyError.message ?? ''}`.trim(), code: 'INVALID_JSON' };
  }
  const status = fastifyError.statusCode;
  if (status !== undefined && status >= 400 && status < 500) return { status, message: fastifyError.message ?? 'bad request', code: fastifyError.code ?? 'INVALID_ARGUMENT' };
  return { status: 500, message: 'internal server error', code: 'INTERNAL' };
}
