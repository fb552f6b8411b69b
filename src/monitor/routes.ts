// HTTP routes of the monitoring area: POST /drift compares two dataset versions ("name@N") or two
// sets of inline columns, with the same options as `plinth drift`. Read-only: nothing is stored.
import type { FastifyPluginAsync } from 'fastify';
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { PlinthError } from '../core/index.js';
import type { ArtifactStore, Db } from '../store/index.js';
import { compareWindows, CORRECTIONS, type Correction, type DriftOptions } from './drift.js';
import { DRIFT_TEST_NAMES, type DriftTestName } from './drift-tests.js';
import { readDatasetWindow, windowFromColumns } from './windows.js';

export interface MonitorRoutesOptions {
  db: Db;
  artifacts: ArtifactStore;
}

/** At most this many values per inline column. */
export const MAX_INLINE_VALUES = 1_000_000;

const InlineWindow = Type.Object(
  { columns: Type.Record(Type.String(), Type.Array(Type.Union([Type.Number(), Type.String(), Type.Boolean(), Type.Null()]), { maxItems: MAX_INLINE_VALUES })) },
  { additionalProperties: false },
);
const WindowRef = Type.Union([Type.String({ description: 'a dataset version: name@N or name@latest', minLength: 1, maxLength: 400 }), InlineWindow]);

const DriftBody = Type.Object(
  {
    reference: WindowRef,
    current: WindowRef,
    tests: Type.Optional(Type.Record(Type.String(), Type.Union(DRIFT_TEST_NAMES.map((n) => Type.Literal(n))))),
    thresholds: Type.Optional(Type.Record(Type.String(), Type.Number({ minimum: 0 }))),
    drift_share: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1 })),
    correction: Type.Optional(Type.Union(CORRECTIONS.map((c) => Type.Literal(c)))),
  },
  { additionalProperties: false },
);

export const monitorRoutes: FastifyPluginAsync<MonitorRoutesOptions> = async (fastify, { db, artifacts }) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();

  app.post('/drift', {
    config: { permission: 'read' },
    schema: {
      tags: ['monitoring'],
      summary: 'Compare a current window with a reference: two dataset versions ("name@N") or inline columns ({"columns": {"feature": [values]}}); per-feature tests and thresholds, drift share, correction',
      body: DriftBody,
    },
  }, async (request) => {
    const body = request.body;
    const load = (w: typeof body.reference) => (typeof w === 'string' ? readDatasetWindow(db, artifacts, w) : Promise.resolve(windowFromColumns(w.columns)));
    const reference = await load(body.reference);
    const current = await load(body.current);
    if (reference.columns.size === 0 || current.columns.size === 0) throw new PlinthError('INVALID_ARGUMENT', 'both windows need at least one column');
    const options: DriftOptions = {
      ...(body.tests ? { tests: body.tests as Record<string, DriftTestName> } : {}),
      ...(body.thresholds ? { thresholds: body.thresholds } : {}),
      ...(body.drift_share !== undefined ? { driftShare: body.drift_share } : {}),
      ...(body.correction ? { correction: body.correction as Correction } : {}),
    };
    return compareWindows(reference, current, options);
  });
};
