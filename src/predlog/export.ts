// Exports of a deployment's prediction log, newest first, read in keyset pages so memory stays flat:
// - JSONL: one object per line, the same fields as the JSON listing (inputs, outputs and label as JSON);
// - CSV: a header line, then columns request_id, role, model, at, latency_ms, status, inputs, outputs,
//   error, label, label_received_at; inputs, outputs and label hold their JSON text (tensors have
//   shapes and differ between model versions, so they are not flattened into columns); null is an
//   empty field; fields are quoted per RFC 4180 where needed;
// - Parquet: the same columns (at and label_received_at INT64 ms, latency_ms DOUBLE, status INT32,
//   inputs/outputs/label JSON text in STRING columns), row groups of 10,000 rows. It is written to a
//   temporary file first (Parquet's footer comes last) and streamed from there, then deleted.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { Queryable } from '../store/index.js';
import { listPredictionRows, type PredictionFilter, type PredictionRow } from './query.js';

export const EXPORT_FORMATS = Object.freeze(['jsonl', 'csv', 'parquet'] as const);
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** The HTTP content type of each export format. */
export const EXPORT_CONTENT_TYPES: Readonly<Record<ExportFormat, string>> = Object.freeze({
  jsonl: 'application/x-ndjson',
  csv: 'text/csv; charset=utf-8',
  parquet: 'application/vnd.apache.parquet',
});

export interface ExportOptions extends PredictionFilter {
  /** Rows at most; all matching rows when absent. */
  limit?: number | undefined;
  /** Start after this page of the JSON listing. */
  pageToken?: string | undefined;
}

const PAGE_ROWS = 1000;
const PARQUET_ROW_GROUP = 10_000;
const CSV_COLUMNS = ['request_id', 'role', 'model', 'at', 'latency_ms', 'status', 'inputs', 'outputs', 'error', 'label', 'label_received_at'] as const;

/** Rows in listing order, page by page. */
async function* exportRows(q: Queryable, deployment: string, options: ExportOptions): AsyncGenerator<PredictionRow[]> {
  let remaining = options.limit ?? Infinity;
  let pageToken = options.pageToken;
  while (remaining > 0) {
    const { rows, nextPageToken } = await listPredictionRows(q, deployment, { ...options, limit: Math.min(PAGE_ROWS, remaining), pageToken });
    if (rows.length > 0) yield rows;
    remaining -= rows.length;
    if (!nextPageToken) return;
    pageToken = nextPageToken;
  }
}

/** One JSONL line (with its newline), built from the stored JSON texts without parsing them. */
export function jsonlLine(row: PredictionRow): string {
  return (
    `{"request_id":${JSON.stringify(row.request_id)},"role":${JSON.stringify(row.role)},"model":${JSON.stringify(`${row.model_name}@${row.model_version}`)},` +
    `"at":${row.at},"latency_ms":${row.latency_ms},"status":${row.status},"inputs":${row.inputs},"outputs":${row.outputs ?? 'null'},` +
    `"error":${row.error === null ? 'null' : JSON.stringify(row.error)},"label":${row.label ?? 'null'},"label_received_at":${row.label_received_at ?? 'null'}}\n`
  );
}

function csvField(value: string | number | null): string {
  if (value === null) return '';
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** One CSV line (with its newline). */
export function csvLine(row: PredictionRow): string {
  return [row.request_id, row.role, `${row.model_name}@${row.model_version}`, row.at, row.latency_ms, row.status, row.inputs, row.outputs, row.error, row.label, row.label_received_at].map(csvField).join(',') + '\n';
}

async function writeParquet(file: string, rows: AsyncGenerator<PredictionRow[]>): Promise<void> {
  // Loaded on first use: only Parquet exports pay for it.
  const { ParquetWriter, fileWriter, schemaFromColumnData } = await import('hyparquet-writer');
  const columns = (buffered: PredictionRow[]) => [
    { name: 'request_id', data: buffered.map((r) => r.request_id), type: 'STRING' as const, nullable: false },
    { name: 'role', data: buffered.map((r) => r.role), type: 'STRING' as const, nullable: false },
    { name: 'model', data: buffered.map((r) => `${r.model_name}@${r.model_version}`), type: 'STRING' as const, nullable: false },
    { name: 'at', data: buffered.map((r) => BigInt(r.at)), type: 'INT64' as const, nullable: false },
    { name: 'latency_ms', data: buffered.map((r) => r.latency_ms), type: 'DOUBLE' as const, nullable: false },
    { name: 'status', data: buffered.map((r) => r.status), type: 'INT32' as const, nullable: false },
    { name: 'inputs', data: buffered.map((r) => r.inputs), type: 'STRING' as const, nullable: false },
    { name: 'outputs', data: buffered.map((r) => r.outputs), type: 'STRING' as const, nullable: true },
    { name: 'error', data: buffered.map((r) => r.error), type: 'STRING' as const, nullable: true },
    { name: 'label', data: buffered.map((r) => r.label), type: 'STRING' as const, nullable: true },
    { name: 'label_received_at', data: buffered.map((r) => (r.label_received_at === null ? null : BigInt(r.label_received_at))), type: 'INT64' as const, nullable: true },
  ];
  const writer = new ParquetWriter({ writer: fileWriter(file), schema: schemaFromColumnData({ columnData: columns([]) }), createdBy: 'plinth predictions' });
  let buffered: PredictionRow[] = [];
  const flush = async () => {
    if (buffered.length === 0) return;
    await writer.write({ columnData: columns(buffered), rowGroupSize: buffered.length });
    buffered = [];
  };
  for await (const page of rows) {
    buffered.push(...page);
    if (buffered.length >= PARQUET_ROW_GROUP) await flush();
  }
  await flush();
  await writer.finish();
}

/**
 * A stream of a deployment's predictions (newest first) in `format`. Filters, paging and the page
 * token are checked before the stream is returned; a database failure later ends the stream with
 * that error. Does not check that the deployment exists.
 * @throws PlinthError INVALID_PAGE_TOKEN, INVALID_ARGUMENT (model filter)
 */
export async function exportPredictions(q: Queryable, deployment: string, format: ExportFormat, options: ExportOptions = {}): Promise<Readable> {
  // A first small read validates the page token and filters while an error can still be a 4xx.
  await listPredictionRows(q, deployment, { ...options, limit: 1 });
  const rows = exportRows(q, deployment, options);
  switch (format) {
    case 'jsonl':
      return Readable.from((async function* () {
        for await (const page of rows) yield page.map(jsonlLine).join('');
      })());
    case 'csv':
      return Readable.from((async function* () {
        yield CSV_COLUMNS.join(',') + '\n';
        for await (const page of rows) yield page.map(csvLine).join('');
      })());
    case 'parquet': {
      const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'plinth-predictions-'));
      const file = path.join(dir, 'predictions.parquet');
      const cleanup = () => fs.rmSync(dir, { recursive: true, force: true });
      try {
        await writeParquet(file, rows);
      } catch (error) {
        cleanup();
        throw error;
      }
      const stream = fs.createReadStream(file);
      stream.once('close', cleanup);
      return stream;
    }
  }
}
