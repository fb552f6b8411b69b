// Loading a CSV or Parquet file into a trainer's input: a FeatureMatrix (numeric columns as float32,
// categorical columns as category codes), encoded labels, and the feature schema a registered model
// version carries so that serving encodes named values the same way. Missing values follow the
// datasets area's rules (CSV_MISSING_TOKENS, null, NaN). Every check runs before training starts.
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { parse } from 'csv-parse';
import { asyncBufferFromFile, parquetMetadataAsync, parquetRead, parquetSchema } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { PlinthError } from '../core/index.js';
import { CSV_MISSING_TOKENS, detectFormat } from '../datasets/index.js';
import type { FeatureSchema } from '../registry/index.js';
import { checkLabels, type FeatureMatrix, type Task } from './matrix.js';

/** What to load from a table. */
export interface TableOptions {
  /** The label column. */
  label: string;
  task: Task;
  /** Feature columns, in this order; default: every column but the label, in file order. */
  features?: string[];
  /** Columns read as categories (codes 0..K−1 in sorted order of their text); every other feature must be numeric. */
  categorical?: string[];
}

/** A loaded table. */
export interface TrainingTable {
  features: FeatureMatrix;
  /** Class ids 0..K−1 (classification) or values (regression). */
  labels: Float64Array;
  /** The class names in id order (the label's distinct values, sorted); null for regression. */
  classes: string[] | null;
  /** Categories per categorical feature, code = index. */
  categories: Record<string, string[]>;
  /** The feature schema of a model trained on this table (input order, category lists). */
  featureSchema: FeatureSchema;
  format: 'csv' | 'parquet';
}

const MISSING = new Set(CSV_MISSING_TOKENS);
const NUMBER_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const SPACE_RE = /^[ \t\r\n]+|[ \t\r\n]+$/g;

function invalid(message: string): PlinthError {
  return new PlinthError('INVALID_ARGUMENT', message);
}

/** A cell as read: null when missing; text from CSV; numbers, booleans, strings or other values from Parquet. */
type Cell = string | number | boolean | bigint | null | object;

/** Reads the named columns of a CSV file (null for missing fields), checking every record has the header's width. */
async function readCsv(filePath: string, wanted: (header: string[]) => string[]): Promise<{ header: string[]; columns: Map<string, Cell[]> }> {
  const parser = parse({ bom: true, skip_empty_lines: true, relax_quotes: true });
  let header: string[] | null = null;
  let picks: Array<[number, Cell[]]> = [];
  const columns = new Map<string, Cell[]>();
  let record = 0;
  parser.on('data', (fields: string[]) => {
    record++;
    if (!header) {
      header = fields.map((f) => f.replace(SPACE_RE, ''));
      let names: string[];
      try {
        names = wanted(header);
      } catch (error) {
        parser.destroy(error as Error);
        return;
      }
      picks = names.map((name) => {
        const values: Cell[] = [];
        columns.set(name, values);
        return [header!.indexOf(name), values];
      });
      return;
    }
    if (fields.length !== header.length) {
      parser.destroy(new PlinthError('INVALID_DATASET_FILE', `record ${record} has ${fields.length} fields, the header ${header.length}`));
      return;
    }
    for (const [index, values] of picks) {
      const text = fields[index]!.replace(SPACE_RE, '');
      values.push(MISSING.has(text) ? null : text);
    }
  });
  try {
    await pipeline(fs.createReadStream(filePath, { highWaterMark: 1024 * 1024 }), parser);
  } catch (error) {
    if (error instanceof PlinthError) throw error;
    throw new PlinthError('INVALID_DATASET_FILE', `cannot read ${path.basename(filePath)} as CSV: ${(error as Error).message}`);
  }
  if (!header) throw new PlinthError('INVALID_DATASET_FILE', `${path.basename(filePath)} has no header row`);
  return { header, columns };
}

async function readParquet(filePath: string, wanted: (header: string[]) => string[]): Promise<{ header: string[]; columns: Map<string, Cell[]> }> {
  let file;
  let header: string[];
  try {
    file = await asyncBufferFromFile(filePath);
    const metadata = await parquetMetadataAsync(file);
    header = parquetSchema(metadata).children.map((c) => c.element.name);
  } catch (error) {
    throw new PlinthError('INVALID_DATASET_FILE', `cannot read ${path.basename(filePath)} as Parquet: ${(error as Error).message}`);
  }
  const columns = new Map<string, Cell[]>();
  for (const name of wanted(header)) {
    const values: Cell[] = [];
    // Chunks arrive per row group, placed by their row offset.
    await parquetRead({
      file, columns: [name], compressors,
      onChunk: (chunk) => {
        const data = chunk.columnData as ArrayLike<unknown>;
        for (let i = 0; i < data.length; i++) {
          const v = data[i];
          values[chunk.rowStart + i] = v === undefined || v === null || (typeof v === 'number' && Number.isNaN(v)) ? null : (v as Cell);
        }
      },
    });
    columns.set(name, values);
  }
  return { header, columns };
}

function describeCell(cell: Cell): string {
  const text = typeof cell === 'string' ? cell : typeof cell === 'object' ? JSON.stringify(cell) : String(cell);
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);
}

/** A cell as a number: numbers, integer types, booleans (1/0), numeric text; undefined otherwise. */
function numberOf(cell: Cell): number | undefined {
  if (typeof cell === 'number') return Number.isFinite(cell) ? cell : undefined;
  if (typeof cell === 'bigint') return Number(cell);
  if (typeof cell === 'boolean') return cell ? 1 : 0;
  if (typeof cell === 'string') {
    if (NUMBER_RE.test(cell)) {
      const v = Number(cell);
      return Number.isFinite(v) ? v : undefined;
    }
    const lower = cell.toLowerCase();
    if (lower === 'true') return 1;
    if (lower === 'false') return 0;
  }
  return undefined;
}

function textOf(cell: Cell): string {
  if (typeof cell === 'string') return cell;
  if (cell instanceof Date) return cell.toISOString();
  if (typeof cell === 'object' && cell !== null) return JSON.stringify(cell);
  return String(cell);
}

/** Sorted distinct values: numerically when every one is a number, otherwise by code point. */
function sortedDistinct(texts: Iterable<string>): string[] {
  const distinct = [...new Set(texts)];
  if (distinct.every((t) => NUMBER_RE.test(t))) return distinct.sort((a, b) => Number(a) - Number(b));
  return distinct.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * Loads a CSV or Parquet file for training: feature columns become a FeatureMatrix (numeric columns
 * as numbers, booleans as 1/0; columns named in `categorical` as codes into their sorted category
 * list), the label becomes class ids (its distinct values, sorted) or regression values.
 * @throws PlinthError INVALID_ARGUMENT when the file does not exist, a named column is missing, the
 *   label has missing values, a single class, is constant (regression), has more than two classes
 *   for a binary task, or when a numeric feature holds a non-numeric value (naming the row);
 *   INVALID_DATASET_FILE for a file that is not a readable CSV or Parquet file.
 */
export async function loadTrainingTable(filePath: string, options: TableOptions): Promise<TrainingTable> {
  if (!fs.existsSync(filePath) || !fs.statSync(filePath).isFile()) throw invalid(`no such file: ${filePath}`);
  const format = await detectFormat(filePath, path.basename(filePath));
  const { label, task } = options;
  const categorical = new Set(options.categorical ?? []);
  let featureNames: string[] = [];
  const wanted = (header: string[]): string[] => {
    const seen = new Set<string>();
    for (const name of header) {
      if (seen.has(name)) throw new PlinthError('INVALID_DATASET_FILE', `column ${JSON.stringify(name)} appears twice in the header`);
      seen.add(name);
    }
    const known = `columns: ${header.join(', ')}`;
    if (!seen.has(label)) throw invalid(`the label column ${JSON.stringify(label)} is not in the file (${known})`);
    featureNames = options.features ?? header.filter((n) => n !== label);
    for (const name of [...featureNames, ...categorical]) if (!seen.has(name)) throw invalid(`no column ${JSON.stringify(name)} in the file (${known})`);
    for (const name of categorical) if (!featureNames.includes(name)) throw invalid(`categorical column ${JSON.stringify(name)} is not among the features`);
    if (featureNames.includes(label)) throw invalid(`the label ${JSON.stringify(label)} cannot also be a feature`);
    if (new Set(featureNames).size !== featureNames.length) throw invalid('a feature is named twice');
    if (featureNames.length === 0) throw invalid('there are no feature columns besides the label');
    return [label, ...featureNames];
  };
  const { columns } = format === 'csv' ? await readCsv(filePath, wanted) : await readParquet(filePath, wanted);
  const labelCells = columns.get(label)!;
  const rows = labelCells.length;
  if (rows === 0) throw invalid(`${path.basename(filePath)} has no data rows`);

  // Label.
  const missingAt = labelCells.findIndex((c) => c === null);
  if (missingAt >= 0) throw invalid(`the label ${JSON.stringify(label)} is missing in ${labelCells.filter((c) => c === null).length} rows (first at data row ${missingAt + 1}); drop or fill them first`);
  const labels = new Float64Array(rows);
  let classes: string[] | null = null;
  if (task === 'regression') {
    for (let i = 0; i < rows; i++) {
      const v = numberOf(labelCells[i]!);
      if (v === undefined) throw invalid(`the regression label ${JSON.stringify(label)} holds ${describeCell(labelCells[i]!)} at data row ${i + 1}, not a number`);
      labels[i] = v;
    }
  } else {
    const texts = labelCells.map((c) => textOf(c!));
    classes = sortedDistinct(texts);
    if (classes.length === 1) throw invalid(`the label ${JSON.stringify(label)} has a single class (${JSON.stringify(classes[0])}); a classifier needs at least two`);
    if (task === 'binary' && classes.length > 2) throw invalid(`a binary task needs two classes; the label ${JSON.stringify(label)} has ${classes.length} (${classes.slice(0, 10).join(', ')}${classes.length > 10 ? ', …' : ''}): use --task multiclass`);
    if (task === 'multiclass' && classes.length === 2) throw invalid(`the label ${JSON.stringify(label)} has two classes: use --task binary`);
    const id = new Map(classes.map((c, i) => [c, i]));
    texts.forEach((t, i) => (labels[i] = id.get(t)!));
  }
  checkLabels(labels, rows, task);

  // Features.
  const categories: Record<string, string[]> = {};
  const matrixColumns = featureNames.map((name) => {
    const cells = columns.get(name)!;
    const out = new Float32Array(rows);
    if (categorical.has(name)) {
      const list = sortedDistinct(cells.filter((c) => c !== null).map((c) => textOf(c!)));
      if (list.length === 0) throw invalid(`categorical column ${JSON.stringify(name)} has no values`);
      categories[name] = list;
      const code = new Map(list.map((c, i) => [c, i]));
      for (let i = 0; i < rows; i++) out[i] = cells[i] === null ? Number.NaN : code.get(textOf(cells[i]!))!;
      return out;
    }
    for (let i = 0; i < rows; i++) {
      const cell = cells[i]!;
      if (cell === null) {
        out[i] = Number.NaN;
        continue;
      }
      const v = numberOf(cell);
      if (v === undefined) throw invalid(`column ${JSON.stringify(name)} holds ${describeCell(cell)} at data row ${i + 1}, not a number; declare it with --categorical if it is a category`);
      out[i] = v;
    }
    return out;
  });
  const features: FeatureMatrix = {
    rows, names: featureNames, columns: matrixColumns,
    kinds: featureNames.map((n) => (categorical.has(n) ? 'categorical' : 'numeric')),
  };
  const featureSchema: FeatureSchema = {
    features: featureNames.map((name, j) => ({
      name,
      type: categorical.has(name) ? 'categorical' : 'numeric',
      ...(categorical.has(name) ? { categories: categories[name]! } : {}),
      nullable: matrixColumns[j]!.some((v) => Number.isNaN(v)),
      sensitive: false,
    })),
  };
  return { features, labels, classes, categories, featureSchema, format };
}
