import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, DataError } from '@chainz/core';
import { csvAdapter, loadCsvDataset } from './adapter';
import { encodeLabels, parseTabularCsv } from './parse';

const dir = mkdtempSync(path.join(tmpdir(), 'chainz-csv-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let count = 0;
/** Write a temp file; returns its absolute path. */
function tmp(content: string | Uint8Array): string {
  const p = path.join(dir, `t${count++}.csv`);
  writeFileSync(p, content);
  return p;
}
/** Expect `load` to reject with a DataError whose message matches. */
async function rejects(opts: Parameters<typeof loadCsvDataset>[0], message: string | RegExp): Promise<DataError> {
  const err = await loadCsvDataset(opts).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DataError);
  if (typeof message === 'string') expect((err as Error).message).toBe(message);
  else expect((err as Error).message).toMatch(message);
  return err as DataError;
}

describe('csv adapter: reading', () => {
  it('reads a header, string labels (sorted), and returns tensors + provenance', async () => {
    const f = tmp('a,b,class\n1,2.5,yes\n3,-4e-1,no\n5,6,yes\n');
    const before = tf.memory().numTensors;
    const ds = await csvAdapter.load({ path: f });
    expect(ds.name).toBe('csv');
    expect(ds.featureNames).toEqual(['a', 'b']);
    expect(ds.classNames).toEqual(['no', 'yes']);
    expect([...ds.splits.all.labels]).toEqual([1, 0, 1]);
    const x = ds.splits.all.features!;
    expect(x.shape).toEqual([3, 2]);
    expect(x.dtype).toBe('float32');
    expect([...x.dataSync()]).toEqual([1, 2.5, 3, Math.fround(-0.4), 5, 6]);
    expect(ds.provenance.files).toEqual([f]);
    expect(ds.provenance.sha256[0]).toMatch(/^[0-9a-f]{64}$/);
    expect(ds.provenance.rows).toEqual({ all: 3 });
    ds.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('auto-detects ; and tab delimiters, no header, CRLF, BOM and quoted fields', async () => {
    const semi = await loadCsvDataset({ path: tmp('1;2;0\r\n3;4;1\r\n') });
    expect(semi.featureNames).toEqual(['x1', 'x2']);
    expect([...semi.splits.all.labels]).toEqual([0, 1]);
    semi.dispose();
    const tab = await loadCsvDataset({ path: tmp('\uFEFFf1\tf2\ty\n"1"\t2\t"a b"\n3\t4\tc\n') });
    expect(tab.featureNames).toEqual(['f1', 'f2']);
    expect(tab.classNames).toEqual(['a b', 'c']);
    tab.dispose();
  });

  it('maps integer labels in numeric order, string labels in first-seen order on request, or by classNames', async () => {
    const f = tmp('1,10\n2,2\n3,1\n4,2\n');
    const num = await loadCsvDataset({ path: f });
    expect(num.classNames).toEqual(['1', '2', '10']);
    expect([...num.splits.all.labels]).toEqual([2, 1, 0, 1]);
    num.dispose();
    const g = tmp('1,pos\n2,neg\n3,pos\n');
    const seen = await loadCsvDataset({ path: g, labelOrder: 'first-seen' });
    expect(seen.classNames).toEqual(['pos', 'neg']);
    seen.dispose();
    const named = await loadCsvDataset({ path: g, classNames: ['neg', 'pos', 'unused'] });
    expect(named.classNames).toEqual(['neg', 'pos', 'unused']);
    expect([...named.splits.all.labels]).toEqual([1, 0, 1]);
    named.dispose();
    await rejects({ path: g, classNames: ['neg'] }, `${g}, row 1, column 2: label "pos" is not one of the classNames (neg)`);
  });

  it('takes the label column by name, index or negative index, and reads listed missing tokens as NaN', async () => {
    const f = tmp('y,a,b\n0,1,NA\n1,,3\n0,?,4\n');
    const ds = await loadCsvDataset({ path: f, labelColumn: 'Y', missing: ['', 'NA', '?'] });
    expect(ds.featureNames).toEqual(['a', 'b']);
    expect([...ds.splits.all.features!.dataSync()]).toEqual([1, NaN, NaN, 3, NaN, 4]);
    expect(ds.provenance.notes?.join(' ')).toMatch(/3 missing feature values/);
    ds.dispose();
    const byIndex = await loadCsvDataset({ path: f, labelColumn: 0, missing: ['', 'NA', '?'] });
    expect([...byIndex.splits.all.labels]).toEqual([0, 1, 0]);
    byIndex.dispose();
    const neg = await loadCsvDataset({ text: 'a,b,c\n1,0,9\n2,1,9\n', labelColumn: -2 });
    expect(neg.featureNames).toEqual(['a', 'c']);
    expect(neg.provenance.files).toEqual(['inline']);
    neg.dispose();
  });

  it('honours header: false / true', async () => {
    const f = tmp('a,b,c\n1,2,x\n3,4,y\n');
    await rejects({ path: f, header: false }, `${f}, row 1, column 1: non-numeric value "a"`);
    const t = tmp('1,2,x\n3,4,y\n5,6,x\n');
    const ds = await loadCsvDataset({ path: t, header: true });
    expect(ds.featureNames).toEqual(['1', '2']);
    expect(ds.splits.all.labels.length).toBe(2);
    ds.dispose();
  });
});

describe('csv adapter: bad input names file, row and column', () => {
  it('missing file, directory, empty file, header only', async () => {
    const missing = path.join(dir, 'nope.csv');
    const e = await rejects({ path: missing }, `${missing}: CSV file not found`);
    expect(e.location).toEqual({ file: missing });
    const sub = path.join(dir, 'sub');
    mkdirSync(sub);
    await rejects({ path: sub }, `${sub}: expected a CSV file but found a directory`);
    const empty = tmp('');
    await rejects({ path: empty }, `${empty}: CSV file is empty (0 bytes)`);
    const blank = tmp('\n  \n');
    await rejects({ path: blank }, `${blank}: the file is empty (no rows)`);
    const headerOnly = tmp('a,b,y\n');
    await rejects({ path: headerOnly }, `${headerOnly}, row 1: no data rows (only a header line)`);
    await expect(loadCsvDataset({})).rejects.toThrow(ConfigError);
  });

  it('wrong column count (too few and too many)', async () => {
    const f = tmp('a,b,y\n1,2,0\n\n3,1\n');
    const e = await rejects({ path: f }, `${f}, row 4, column 3 (y): expected 3 columns, found 2`);
    expect(e.location).toEqual({ file: f, row: 4, column: '3 (y)' });
    const g = tmp('1,2,0\n3,4,1,9\n');
    await rejects({ path: g }, `${g}, row 2, column 4: expected 3 columns, found 4`);
  });

  it('non-numeric, empty, NaN and out-of-range cells', async () => {
    const f = tmp('a,b,y\n1,2,0\n3,abc,1\n');
    await rejects({ path: f }, `${f}, row 3, column 2 (b): non-numeric value "abc"`);
    const g = tmp('a,b,y\n1,2,0\n,4,1\n');
    const e = await rejects({ path: g }, `${g}, row 3, column 1 (a): empty cell`);
    expect(e.hint).toBe("list '' in `missing` to read empty cells as missing values");
    const h = tmp('a,b,y\n1,NaN,0\n2,4,1\n');
    const nan = await rejects({ path: h }, `${h}, row 2, column 2 (b): "NaN" is not allowed here`);
    expect(nan.hint).toBe('list "NaN" in `missing` to read it as a missing value');
    const i = tmp('a,b,y\n1,2,0\n2,1e39,1\n');
    await rejects({ path: i }, `${i}, row 3, column 2 (b): value "1e39" is outside the float32 range`);
    const j = tmp('a,b,y\n1,2,0\n2,3,\n');
    await rejects({ path: j }, `${j}, row 3, column 3 (y): empty label`);
    const k = tmp('a,b,y\n1,2,0\n2,"3,1\n');
    await rejects({ path: k }, new RegExp(`^${k.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}, row 3: cannot parse as CSV: Quote Not Closed`));
  });

  it('a single class', async () => {
    const f = tmp('a,b,y\n1,2,pos\n3,4,pos\n');
    await rejects({ path: f }, `${f}, column 3 (y): only one class ("pos") in the label column; classification needs at least two`);
  });

  it('wrong delimiter, and a file with no delimiter', async () => {
    const f = tmp('a;b;y\n1;2;0\n3;4;1\n');
    const e = await rejects({ path: f, delimiter: ',' }, `${f}, row 1: wrong delimiter: line 1 contains no ',' but 2 ';'`);
    expect(e.hint).toBe("pass `delimiter` ';' (or 'auto')");
    expect(e.withOptionNames({ delimiter: null }).hint).toBe("separate the columns with ';'");
    const g = tmp('abc\n1\n');
    await rejects({ path: g }, /row 1: no delimiter found in line 1 \(looked for ',', ';' and tab\)/);
    // a data row with another delimiter than the rest of the file
    const h = tmp('a,b,y\n1,2,0\n3;4;1\n');
    const e2 = await rejects({ path: h }, `${h}, row 3, column 2 (b): expected 3 columns, found 1`);
    expect(e2.hint).toMatch(/contains ';'/);
  });

  it('bad options are ConfigErrors', async () => {
    const f = tmp('a,b,y\n1,2,0\n3,4,1\n');
    await expect(loadCsvDataset({ path: f, labelColumn: 'z' })).rejects.toThrow(/option labelColumn: no column named 'z'.*columns: a, b, y/);
    await expect(loadCsvDataset({ path: f, labelColumn: 3 })).rejects.toThrow(/labelColumn 3 is out of range for 3 columns/);
    await expect(loadCsvDataset({ path: f, labelColumn: 'y', header: false })).rejects.toThrow(ConfigError);
    await expect(loadCsvDataset({ path: f, classNames: ['0', '0'] })).rejects.toThrow(/classNames has duplicates/);
  });
});

describe('csv adapter: data checks', () => {
  it('a feature column with every cell missing names the file and the column (not just its index)', async () => {
    const f = tmp('a,glucose,y\n1,,0\n2,NA,1\n3,,1\n');
    const e = await rejects({ path: f, missing: ['', 'NA'] }, `${f}, column 2 (glucose): every cell of this feature column is missing (3 rows); nothing can be imputed from it`);
    expect(e.location).toEqual({ file: f, column: '2 (glucose)' });
    // without a header, the column number (label column skipped correctly)
    const g = tmp('0,1,\n1,2,\n');
    await rejects({ path: g, labelColumn: 0, missing: [''] }, `${g}, column 3: every cell of this feature column is missing (2 rows); nothing can be imputed from it`);
  });

  it('warns about extreme values and duplicated rows (first 50 rows repeated)', async () => {
    const rows = Array.from({ length: 50 }, (_, i) => `${i},${i % 7},${i % 2}`);
    const f = tmp(['a,b,y', ...rows, ...rows, '1e30,0,1'].join('\n'));
    const ds = await loadCsvDataset({ path: f });
    expect(ds.warnings).toEqual([
      "extreme values: 1 cell with |x| ≥ 1e+15 in 1 column (a: 1; first at row 102): sentinel codes or unit errors? Such values dominate their column's standardisation",
      'duplicated rows: 50 of 101 rows repeat an earlier row exactly (features and label); in cross-validation a copy can be trained on while another is tested, which inflates accuracy',
    ]);
    ds.dispose();
    const clean = await loadCsvDataset({ path: tmp('a,y\n1,0\n2,1\n') });
    expect(clean.warnings).toEqual([]);
    clean.dispose();
  });
});

describe('parseTabularCsv / encodeLabels directly', () => {
  it('reports 1-based file lines that count the header and skipped blank lines', () => {
    const t = parseTabularCsv('\na,b,y\n1,2,u\n\n3,4,v\n');
    expect(t.headerLine).toBe(2);
    expect([...t.lines]).toEqual([3, 5]);
    expect(encodeLabels(t).classNames).toEqual(['u', 'v']);
  });
});
