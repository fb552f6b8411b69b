// Reading the prediction log on both backends: pages newest first with page tokens and filters, each
// row joined with its label; JSONL, CSV and Parquet exports read back; and the HTTP routes (listing,
// exports, feedback) with their permissions and bad-input answers, on a Fastify app with the
// platform's validation, error handling and authentication.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { parse as parseCsv } from 'csv-parse/sync';
import { parquetReadObjects } from 'hyparquet';
import { createToken, installAuthentication, SYSTEM_ACTOR } from '../src/auth/index.js';
import { exportPredictions, listPredictions, PredictionLog, predictionRoutes, recordFeedback, type PredictionItem } from '../src/predlog/index.js';
import { installErrorHandling } from '../src/server/errors.js';
import { installValidation } from '../src/server/validation.js';
import { BACKENDS } from './helpers/server.js';
import { openTestStore, PLAIN_MODEL, plainRecord, type TestStore } from './fixtures/predlog-common.js';

const BASE = 1_700_000_000_000;

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(parts);
}

interface Logged {
  request_id: string;
  role: 'primary' | 'shadow';
  model: string;
  at: number;
  /** Insertion order. */
  seq: number;
  x: number;
}

for (const backend of BACKENDS) {
  describe(`prediction log reads and routes (${backend})`, () => {
    let store: TestStore;
    let log: PredictionLog;
    const logged: Logged[] = [];
    let app: FastifyInstance;
    let url: string;
    const tokens: Record<string, string> = {};

    before(async () => {
      store = await openTestStore(backend);
      log = new PredictionLog({ db: store.database.db, hashKey: 'k', sweepIntervalMs: 0 });
      // 30 requests of "d1": versions 1 and 2 alternate; every third also has a shadow row; requests
      // 10 and 11 share one time (ties are broken by insertion order). Plus rows of "d2".
      let seq = 0;
      for (let i = 0; i < 30; i++) {
        const at = BASE + (i === 11 ? 10 : i) * 1000;
        const version = i % 2 === 0 ? 1 : 2;
        const model = { ...PLAIN_MODEL, version };
        await log.append(plainRecord('d1', `r-${i}`, i, { at, model }));
        logged.push({ request_id: `r-${i}`, role: 'primary', model: `plain@${version}`, at, seq: seq++, x: i });
        if (i % 3 === 0) {
          await log.append(plainRecord('d1', `r-${i}`, i, { at, model: { ...model, version: 9 }, role: 'shadow' }));
          logged.push({ request_id: `r-${i}`, role: 'shadow', model: 'plain@9', at, seq: seq++, x: i });
        }
      }
      for (let i = 0; i < 3; i++) await log.append(plainRecord('d2', `other-${i}`, i));
      await recordFeedback(store.database.db, 'd1', [{ request_id: 'r-4', label: { fraud: true } }, { request_id: 'r-9', label: 0.5 }], SYSTEM_ACTOR);

      app = Fastify({ logger: false });
      installValidation(app);
      installErrorHandling(app);
      installAuthentication(app, store.database.db);
      await app.register(predictionRoutes, { prefix: '/api/v1', db: store.database.db, log, deploymentExists: async (name) => name === 'd1' || name === 'd2' });
      await app.listen({ host: '127.0.0.1', port: 0 });
      const address = app.server.address() as { port: number };
      url = `http://127.0.0.1:${address.port}`;
      for (const role of ['viewer', 'predictor', 'editor'] as const) {
        tokens[role] = (await createToken(store.database.db, SYSTEM_ACTOR, { name: `t-${role}`, role })).token;
      }
    });
    after(async () => {
      await app?.close();
      await log?.close();
      await store?.close();
    });

    /** The expected listing, worked out from what the test logged: newest first, ties by insertion order. */
    const expected = (filter: (l: Logged) => boolean = () => true) =>
      logged.filter(filter).sort((a, b) => b.at - a.at || b.seq - a.seq).map((l) => `${l.request_id}/${l.role}`);
    const keys = (items: PredictionItem[]) => items.map((p) => `${p.request_id}/${p.role}`);

    const http = async (method: string, path: string, options: { token?: string; json?: unknown } = {}) => {
      const headers: Record<string, string> = { authorization: `Bearer ${options.token ?? tokens.editor}` };
      if (options.json !== undefined) headers['content-type'] = 'application/json';
      const response = await fetch(url + path, { method, headers, ...(options.json !== undefined ? { body: JSON.stringify(options.json) } : {}) });
      const bytes = Buffer.from(await response.arrayBuffer());
      let body: any;
      try {
        body = JSON.parse(bytes.toString('utf8'));
      } catch {
        body = undefined;
      }
      return { status: response.status, headers: response.headers, bytes, body };
    };

    it('pages through a deployment newest first with page tokens, no row twice, labels joined', async () => {
      const seen: PredictionItem[] = [];
      let token: string | undefined;
      let pages = 0;
      do {
        const page = await listPredictions(store.database.db, 'd1', { limit: 7, pageToken: token });
        seen.push(...page.predictions);
        token = page.next_page_token ?? undefined;
        pages++;
      } while (token);
      assert.equal(seen.length, 40);
      assert.equal(pages, Math.ceil(40 / 7));
      assert.deepEqual(keys(seen), expected());
      const r4 = seen.find((p) => p.request_id === 'r-4')!;
      assert.deepEqual(r4.label, { fraud: true });
      assert.equal(typeof r4.label_received_at, 'number');
      assert.deepEqual(r4.inputs, { x: [[4, 4.5]] });
      assert.deepEqual(r4.outputs, { score: [[Math.fround(0.4)]] });
      assert.equal(r4.model, 'plain@1');
      assert.equal(seen.find((p) => p.request_id === 'r-5')!.label, null);
      assert.deepEqual(seen.filter((p) => p.request_id === 'r-9').map((p) => p.label), [0.5, 0.5], 'the shadow row shows the label too');
    });

    it('filters by time, role and model', async () => {
      const all = async (options: Parameters<typeof listPredictions>[2]) => keys((await listPredictions(store.database.db, 'd1', { limit: 1000, ...options })).predictions);
      assert.deepEqual(await all({ since: BASE + 5000, until: BASE + 12_000 }), expected((l) => l.at >= BASE + 5000 && l.at < BASE + 12_000));
      assert.deepEqual(await all({ role: 'shadow' }), expected((l) => l.role === 'shadow'));
      assert.deepEqual(await all({ model: 'plain@2' }), expected((l) => l.model === 'plain@2'));
      assert.deepEqual(await all({ model: 'plain' }), expected());
      assert.deepEqual(await all({ model: 'other' }), []);
      assert.deepEqual(await all({ role: 'primary', model: 'plain@1', since: BASE + 20_000 }), expected((l) => l.role === 'primary' && l.model === 'plain@1' && l.at >= BASE + 20_000));
      await assert.rejects(listPredictions(store.database.db, 'd1', { pageToken: 'bm9wZQ' }), { code: 'INVALID_PAGE_TOKEN' });
      await assert.rejects(listPredictions(store.database.db, 'd1', { model: 'plain@x' }), { code: 'INVALID_ARGUMENT' });
    });

    it('exports JSONL, CSV and Parquet with the same rows as the listing', async () => {
      const listing = (await listPredictions(store.database.db, 'd1', { limit: 1000 })).predictions;
      const jsonl = (await readAll(await exportPredictions(store.database.db, 'd1', 'jsonl'))).toString('utf8');
      const lines = jsonl.trimEnd().split('\n').map((l) => JSON.parse(l));
      assert.deepEqual(lines, listing);

      const csv = parseCsv((await readAll(await exportPredictions(store.database.db, 'd1', 'csv'))).toString('utf8'), { columns: true }) as Record<string, string>[];
      assert.equal(csv.length, listing.length);
      csv.forEach((row, i) => {
        const item = listing[i]!;
        assert.equal(row.request_id, item.request_id);
        assert.equal(row.model, item.model);
        assert.equal(Number(row.at), item.at);
        assert.deepEqual(JSON.parse(row.inputs!), item.inputs);
        assert.deepEqual(JSON.parse(row.outputs!), item.outputs);
        assert.deepEqual(row.label === '' ? null : JSON.parse(row.label!), item.label);
      });

      const parquet = await readAll(await exportPredictions(store.database.db, 'd1', 'parquet', { role: 'primary' }));
      const file = parquet.buffer.slice(parquet.byteOffset, parquet.byteOffset + parquet.byteLength) as ArrayBuffer;
      const objects = (await parquetReadObjects({ file })) as Record<string, unknown>[];
      const primaries = listing.filter((p) => p.role === 'primary');
      assert.equal(objects.length, primaries.length);
      objects.forEach((row, i) => {
        const item = primaries[i]!;
        assert.equal(row.request_id, item.request_id);
        assert.equal(Number(row.at), item.at);
        assert.equal(row.latency_ms, item.latency_ms);
        assert.equal(row.status, item.status);
        assert.deepEqual(JSON.parse(row.inputs as string), item.inputs);
        assert.deepEqual(row.label === null || row.label === undefined ? null : JSON.parse(row.label as string), item.label);
        assert.equal(row.label_received_at === null || row.label_received_at === undefined ? null : Number(row.label_received_at), item.label_received_at);
      });

      const limited = (await readAll(await exportPredictions(store.database.db, 'd1', 'jsonl', { limit: 3 }))).toString('utf8').trimEnd().split('\n');
      assert.deepEqual(limited.map((l) => JSON.parse(l).request_id), listing.slice(0, 3).map((p) => p.request_id));
    });

    it('GET /deployments/:name/predictions: JSON pages, exports with their content types, 404 and 400', async () => {
      const first = await http('GET', '/api/v1/deployments/d1/predictions?limit=5', { token: tokens.viewer });
      assert.equal(first.status, 200);
      assert.deepEqual(keys(first.body.predictions), expected().slice(0, 5));
      const second = await http('GET', `/api/v1/deployments/d1/predictions?limit=5&page_token=${first.body.next_page_token}`, { token: tokens.viewer });
      assert.deepEqual(keys(second.body.predictions), expected().slice(5, 10));
      const iso = new Date(BASE + 25_000).toISOString();
      const since = await http('GET', `/api/v1/deployments/d1/predictions?since=${encodeURIComponent(iso)}&role=primary`);
      assert.deepEqual(keys(since.body.predictions), expected((l) => l.at >= BASE + 25_000 && l.role === 'primary'));
      assert.equal(since.body.next_page_token, null);

      const jsonl = await http('GET', '/api/v1/deployments/d2/predictions?format=jsonl');
      assert.equal(jsonl.status, 200);
      assert.equal(jsonl.headers.get('content-type'), 'application/x-ndjson');
      assert.deepEqual(jsonl.bytes.toString('utf8').trimEnd().split('\n').map((l) => JSON.parse(l).request_id), ['other-2', 'other-1', 'other-0']);
      const csv = await http('GET', '/api/v1/deployments/d2/predictions?format=csv');
      assert.match(csv.headers.get('content-type')!, /^text\/csv/);
      assert.match(csv.headers.get('content-disposition')!, /d2-predictions\.csv/);
      const parquet = await http('GET', '/api/v1/deployments/d2/predictions?format=parquet&limit=2');
      assert.equal(parquet.headers.get('content-type'), 'application/vnd.apache.parquet');
      const file = parquet.bytes.buffer.slice(parquet.bytes.byteOffset, parquet.bytes.byteOffset + parquet.bytes.byteLength) as ArrayBuffer;
      assert.deepEqual(((await parquetReadObjects({ file })) as Array<{ request_id: string }>).map((r) => r.request_id), ['other-2', 'other-1']);

      assert.equal((await http('GET', '/api/v1/deployments/nope/predictions')).body.error.code, 'DEPLOYMENT_NOT_FOUND');
      assert.equal((await http('GET', '/api/v1/deployments/nope/predictions')).status, 404);
      for (const bad of ['limit=0', 'limit=1001', 'limit=abc', 'since=yesterday', 'role=canary', 'format=xml', 'page_token=zzzz', 'model=a@0', 'color=red']) {
        const response = await http('GET', `/api/v1/deployments/d1/predictions?${bad}`);
        assert.equal(response.status, 400, bad);
        assert.ok(response.body.error.code, bad);
      }
      // Exports take limits beyond a JSON page.
      assert.equal((await http('GET', '/api/v1/deployments/d1/predictions?format=jsonl&limit=5000')).status, 200);
      assert.equal((await http('GET', '/api/v1/deployments/d1/predictions', { token: tokens.predictor })).status, 403);
    });

    it('POST /deployments/:name/feedback: predict permission, unknown ids reported, bad input changes nothing', async () => {
      const feedback = (json: unknown, token = tokens.predictor, name = 'd2') => http('POST', `/api/v1/deployments/${name}/feedback`, { token, json });
      const ok = await feedback({ items: [{ request_id: 'other-0', label: 1 }, { request_id: 'ghost', label: 0 }] });
      assert.equal(ok.status, 200);
      assert.deepEqual(ok.body, { accepted: 1, unchanged: 0, unknown: ['ghost'] });
      assert.equal((await feedback({ items: [{ request_id: 'other-0', label: 1 }] })).body.unchanged, 1);
      assert.equal((await feedback({ items: [{ request_id: 'other-0', label: 1 }] }, tokens.viewer)).status, 403);
      assert.equal((await feedback({ items: [{ request_id: 'other-0', label: 1 }] }, tokens.predictor, 'nope')).body.error.code, 'DEPLOYMENT_NOT_FOUND');
      const before = await store.database.db.selectFrom('prediction_feedback').selectAll().orderBy('request_id').execute();
      for (const bad of [{}, { items: [] }, { items: [{ request_id: 'other-1' }] }, { items: [{ request_id: '', label: 1 }] }, { items: [{ request_id: 'other-1', label: 1, extra: true }] }, { items: 'x' }, { items: Array.from({ length: 10_001 }, (_, i) => ({ request_id: `n-${i}`, label: 1 })) }]) {
        const response = await feedback(bad);
        assert.equal(response.status, 400, JSON.stringify(bad).slice(0, 80));
      }
      assert.deepEqual(await store.database.db.selectFrom('prediction_feedback').selectAll().orderBy('request_id').execute(), before);
      const listed = await http('GET', '/api/v1/deployments/d2/predictions', { token: tokens.viewer });
      assert.deepEqual(listed.body.predictions.map((p: PredictionItem) => [p.request_id, p.label]), [['other-2', null], ['other-1', null], ['other-0', 1]]);
    });
  });
}
