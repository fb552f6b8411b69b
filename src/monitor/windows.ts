// Builds drift windows from files (CSV or Parquet, typed by the datasets area's own profiler so a
// column is numeric or categorical exactly as its dataset profile says) and from inline JSON columns.
// Values follow the datasets area's missing-value rules: CSV_MISSING_TOKENS, null, NaN and ±Infinity.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { parse } from 'csv-parse';
import { asyncBufferFromFile, parquetRead } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { PlinthError } from '../core/index.js';
import { CSV_MISSING_TOKENS, openDatasetVersionContent, profileFile, resolveDatasetVersion, type ColumnSchema } from '../datasets/index.js';
import type { ArtifactStore, Db } from '../store/index.js';
import type { FeatureColumn, FeatureWindow } from './drift.js';
import { categoricalSample, numericSample } from './samples.js';

const MISSING = new Set(CSV_MISSING_TOKENS);
const SPACE_RE = /^[ \t\r\n]+|[ \t\r\n]+$/g;

function isMissingField(field: string): boolean {
  return MISSING.has(field.replace(SPACE_RE, ''));
}

/** Which columns a window reads: numeric ones as numbers, categorical and boolean ones as strings. */
function readable(column: ColumnSchema): boolean {
  return column.type === 'numeric' || column.type === 'categorical' || column.type === 'boolean';
}

async function readCsvColumns(filePath: string, schema: ColumnSchema[]): Promise<(number[] | (string | null)[] | null)[]> {
  const columns: (number[] | (string | null)[] | null)[] = schema.map((c) => (readable(c) ? [] : null));
  const parser = parse({ bom: true, skip_empty_lines: true, relax_quotes: true });
  let first = true;
  parser.on('data', (record: string[]) => {
    if (first) {
      first = false;
      return;
    }
    for (let i = 0; i < schema.length; i++) {
      const target = columns[i];
      if (!target) continue;
      const field = record[i] ?? '';
      const type = schema[i]!.type;
      if (type === 'numeric') (target as number[]).push(isMissingField(field) ? Number.NaN : Number(field.replace(SPACE_RE, '')));
      else if (isMissingField(field)) (target as (string | null)[]).push(null);
      else (target as (string | null)[]).push(type === 'boolean' ? field.replace(SPACE_RE, '').toLowerCase() : field);
    }
  });
  await pipeline(fs.createReadStream(filePath, { highWaterMark: 1024 * 1024 }), parser);
  return columns;
}

async function readParquetColumns(filePath: string, schema: ColumnSchema[]): Promise<(number[] | (string | null)[] | null)[]> {
  const file = await asyncBufferFromFile(filePath);
  const out: (number[] | (string | null)[] | null)[] = [];
  for (const column of schema) {
    if (!readable(column)) {
      out.push(null);
      continue;
    }
    // Chunks arrive per row group; placed by their row offset, so order does not matter.
    const values: unknown[] = [];
    await parquetRead({
      file,
      columns: [column.name],
      compressors,
      onChunk: (chunk) => {
        const data = chunk.columnData as ArrayLike<unknown>;
        for (let i = 0; i < data.length; i++) values[chunk.rowStart + i] = data[i];
      },
    });
    if (column.type === 'numeric') {
      out.push(Array.from(values as ArrayLike<unknown>, (v) => (typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : Number.NaN)));
    } else {
      out.push(Array.from(values as ArrayLike<unknown>, (v) => (v === null || v === undefined ? null : String(v))));
    }
  }
  return out;
}

/** A file's columns in row order: numeric ones as numbers (NaN when missing), categorical and boolean ones as strings (null when missing), other types null. */
export interface FileTable {
  rowCount: number;
  schema: ColumnSchema[];
  values: (number[] | (string | null)[] | null)[];
}

/**
 * Reads a CSV or Parquet file's columns in row order, typed by the datasets profiler.
 * @throws PlinthError INVALID_DATASET_FILE for a file the datasets area would refuse; INVALID_ARGUMENT when it does not exist
 */
export async function readFileTable(filePath: string): Promise<FileTable> {
  if (!fs.existsSync(filePath)) throw new PlinthError('INVALID_ARGUMENT', `no such file: ${filePath}`);
  const profiled = await profileFile(filePath, path.basename(filePath));
  const schema = profiled.schema.columns;
  const values = profiled.format === 'csv' ? await readCsvColumns(filePath, schema) : await readParquetColumns(filePath, schema);
  return { rowCount: profiled.rowCount, schema, values };
}

/** A drift window from a file's table. */
export function tableWindow(table: FileTable): FeatureWindow {
  const columns = new Map<string, FeatureColumn>();
  table.schema.forEach((column, i) => {
    const v = table.values[i];
    if (!v) columns.set(column.name, { type: column.type, sample: null, rows: table.rowCount });
    else if (column.type === 'numeric') columns.set(column.name, { type: 'numeric', sample: numericSample(v as number[]), rows: v.length });
    else columns.set(column.name, { type: column.type, sample: categoricalSample(v as (string | null)[]), rows: v.length });
  });
  return { rows: table.rowCount, columns };
}

/**
 * Reads a CSV or Parquet file into a drift window. Column types come from the datasets profiler;
 * datetime and text columns are kept (so the report names them) without values.
 * @throws PlinthError INVALID_DATASET_FILE for a file the datasets area would refuse; INVALID_ARGUMENT when it does not exist
 */
export async function readWindowFile(filePath: string): Promise<FeatureWindow> {
  return tableWindow(await readFileTable(filePath));
}

/**
 * A window from inline JSON columns: a column whose non-null values are all numbers is numeric, all
 * booleans boolean, all strings categorical; a column of nulls only is numeric with every value missing.
 * @throws PlinthError INVALID_ARGUMENT for columns of unequal length or mixed value types
 */
export function windowFromColumns(input: Record<string, readonly unknown[]>): FeatureWindow {
  const columns = new Map<string, FeatureColumn>();
  let rows: number | null = null;
  for (const [name, values] of Object.entries(input)) {
    if (rows !== null && values.length !== rows) throw new PlinthError('INVALID_ARGUMENT', `column ${JSON.stringify(name.slice(0, 100))} has ${values.length} values but an earlier column has ${rows}`);
    rows = values.length;
    let kind: 'number' | 'boolean' | 'string' | null = null;
    for (const v of values) {
      if (v === null || v === undefined) continue;
      const t = typeof v;
      if (t !== 'number' && t !== 'boolean' && t !== 'string') throw new PlinthError('INVALID_ARGUMENT', `column ${JSON.stringify(name.slice(0, 100))} holds a ${Array.isArray(v) ? 'list' : t}: use numbers, strings, booleans or null`);
      if (kind === null) kind = t as 'number' | 'boolean' | 'string';
      else if (kind !== t) throw new PlinthError('INVALID_ARGUMENT', `column ${JSON.stringify(name.slice(0, 100))} mixes ${kind} and ${t} values`);
    }
    if (kind === 'string' || kind === 'boolean') {
      columns.set(name, { type: kind === 'string' ? 'categorical' : 'boolean', sample: categoricalSample(values.map((v) => (v === null || v === undefined ? null : String(v)))), rows: values.length });
    } else {
      columns.set(name, { type: 'numeric', sample: numericSample(values.map((v) => (typeof v === 'number' ? v : Number.NaN))), rows: values.length });
    }
  }
  return { rows: rows ?? 0, columns };
}

/**
 * Reads a stored dataset version ("name@N" or "name@latest") into a table: its bytes are copied from
 * the artifact store to a temporary file (verified while read), read, and removed.
 * @throws PlinthError INVALID_DATASET_REFERENCE, DATASET_NOT_FOUND, DATASET_VERSION_NOT_FOUND, ARTIFACT_NOT_FOUND, ARTIFACT_CORRUPT
 */
export async function readDatasetTable(db: Db, artifacts: ArtifactStore, reference: string): Promise<FileTable> {
  const version = await resolveDatasetVersion(db, reference);
  const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'plinth-window-'));
  try {
    const file = path.join(dir, `content.${version.format}`);
    await pipeline(await openDatasetVersionContent(artifacts, version), fs.createWriteStream(file));
    return await readFileTable(file);
  } finally {
    await fs.promises.rm(dir, { recursive: true, force: true });
  }
}

/** A stored dataset version as a drift window (see readDatasetTable). */
export async function readDatasetWindow(db: Db, artifacts: ArtifactStore, reference: string): Promise<FeatureWindow> {
  return tableWindow(await readDatasetTable(db, artifacts, reference));
}
