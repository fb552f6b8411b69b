// Loading CSV and Parquet files for training: values, missing cells, category and class codes, the
// feature schema, and the refusals of bad input before training.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { loadTrainingTable } from './table.js';

describe('loadTrainingTable', () => {
  let dir: string;
  const file = (name: string, text: string) => {
    const p = path.join(dir, name);
    fs.writeFileSync(p, text);
    return p;
  };
  before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plinth-table-'))));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const csv = 'x, city ,y,flag\n1.5,oslo,yes,true\nNA,bergen,no,false\n-2,,yes,1\n4e1,oslo,no,0\n';

  it('reads a CSV: numbers, missing values, categories and classes in sorted order', async () => {
    const table = await loadTrainingTable(file('a.csv', csv), { label: 'y', task: 'binary', categorical: ['city'] });
    assert.equal(table.format, 'csv');
    assert.deepEqual(table.features.names, ['x', 'city', 'flag']);
    assert.deepEqual(table.features.kinds, ['numeric', 'categorical', 'numeric']);
    assert.deepEqual(Array.from(table.features.columns[0]!), [1.5, NaN, -2, 40]);
    // bergen = 0, oslo = 1, empty = missing.
    assert.deepEqual(Array.from(table.features.columns[1]!), [1, 0, NaN, 1]);
    assert.deepEqual(Array.from(table.features.columns[2]!), [1, 0, 1, 0]);
    assert.deepEqual(table.classes, ['no', 'yes']);
    assert.deepEqual(Array.from(table.labels), [1, 0, 1, 0]);
    assert.deepEqual(table.featureSchema.features, [
      { name: 'x', type: 'numeric', nullable: true, sensitive: false },
      { name: 'city', type: 'categorical', categories: ['bergen', 'oslo'], nullable: true, sensitive: false },
      { name: 'flag', type: 'numeric', nullable: false, sensitive: false },
    ]);
  });

  it('keeps the features asked for, in that order; numeric class labels sort as numbers', async () => {
    const table = await loadTrainingTable(file('b.csv', 'a,b,c\n1,2,10\n3,4,9\n5,6,2\n'), { label: 'c', task: 'multiclass', features: ['b', 'a'] });
    assert.deepEqual(table.features.names, ['b', 'a']);
    assert.deepEqual(table.classes, ['2', '9', '10']);
    assert.deepEqual(Array.from(table.labels), [2, 1, 0]);
  });

  it('reads Parquet the same way', async () => {
    const bytes = parquetWriteBuffer({
      columnData: [
        { name: 'x', data: [1.5, null, -2, 40], type: 'DOUBLE' },
        { name: 'city', data: ['oslo', 'bergen', null, 'oslo'], type: 'STRING' },
        { name: 'n', data: [3n, 4n, 5n, 6n], type: 'INT64' },
        { name: 'y', data: [2.5, 1, 0, 7], type: 'DOUBLE' },
      ],
    });
    const p = path.join(dir, 'c.parquet');
    fs.writeFileSync(p, Buffer.from(bytes));
    const table = await loadTrainingTable(p, { label: 'y', task: 'regression', categorical: ['city'] });
    assert.equal(table.format, 'parquet');
    assert.deepEqual(Array.from(table.features.columns[0]!), [1.5, NaN, -2, 40]);
    assert.deepEqual(Array.from(table.features.columns[1]!), [1, 0, NaN, 1]);
    assert.deepEqual(Array.from(table.features.columns[2]!), [3, 4, 5, 6]);
    assert.deepEqual(Array.from(table.labels), [2.5, 1, 0, 7]);
    assert.equal(table.classes, null);
  });

  it('refuses bad input with a clear message', async () => {
    const refuse = async (text: string, options: Parameters<typeof loadTrainingTable>[1], pattern: RegExp) =>
      assert.rejects(loadTrainingTable(file(`bad-${Math.random()}.csv`, text), options), (error: Error & { code?: string }) => {
        assert.equal(error.code, 'INVALID_ARGUMENT');
        assert.match(error.message, pattern);
        return true;
      });
    await refuse(csv, { label: 'target', task: 'binary' }, /the label column "target" is not in the file \(columns: x, city, y, flag\)/);
    await refuse(csv, { label: 'y', task: 'binary' }, /column "city" holds "oslo" at data row 1, not a number; declare it with --categorical/);
    await refuse(csv, { label: 'y', task: 'binary', categorical: ['town'] }, /no column "town"/);
    await refuse('x,y\n1,a\n2,a\n', { label: 'y', task: 'binary' }, /single class \("a"\)/);
    await refuse('x,y\n1,a\n2,b\n3,c\n', { label: 'y', task: 'binary' }, /binary task needs two classes; the label "y" has 3/);
    await refuse('x,y\n1,5\n2,5\n', { label: 'y', task: 'regression' }, /the label is constant/);
    await refuse('x,y\n1,1\n2,\n3,0\n', { label: 'y', task: 'binary' }, /missing in 1 rows \(first at data row 2\)/);
    await refuse('x,y\n1,1.5\n2,abc\n', { label: 'y', task: 'regression' }, /holds "abc" at data row 2, not a number/);
    await refuse('x,y\n', { label: 'y', task: 'regression' }, /no data rows/);
    await assert.rejects(loadTrainingTable(path.join(dir, 'nope.csv'), { label: 'y', task: 'binary' }), /no such file/);
    await assert.rejects(loadTrainingTable(file('ragged.csv', 'x,y\n1,2\n3\n'), { label: 'y', task: 'regression' }), (e: Error & { code?: string }) => e.code === 'INVALID_DATASET_FILE');
  });
});
