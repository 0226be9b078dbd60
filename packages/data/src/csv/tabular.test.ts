import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, DataError } from '@chainz/core';
import { fitTabularPreprocessor } from '../preprocess';
import { createTabularDataset, loadTabularCsv, parseTabularTable, type TabularTableOptions } from './tabular';
import { ShapeError } from '@chainz/core';

const dir = mkdtempSync(path.join(tmpdir(), 'chainz-tabular-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let count = 0;
function tmp(content: string, name = `t${count++}.csv`): string {
  const p = path.join(dir, name);
  writeFileSync(p, content);
  return p;
}

function dataError(text: string, opts: TabularTableOptions = {}): DataError {
  try {
    parseTabularTable(text, { file: '/d/x.csv', ...opts });
  } catch (e) {
    expect(e).toBeInstanceOf(DataError);
    return e as DataError;
  }
  throw new Error('expected a DataError');
}

const NAN = Number.NaN;

describe('parseTabularTable: happy paths', () => {
  it('reads a header, numeric features, text labels (sorted) and missing cells', () => {
    const t = parseTabularTable('a,b,label\n1,2,pos\n,NA,neg\n3,?,pos\n4.5,NaN,neg\n', { file: 'f.csv' });
    expect(t.n).toBe(4);
    expect(t.d).toBe(2);
    expect(t.featureNames).toEqual(['a', 'b']);
    expect([...t.features]).toEqual([1, 2, NAN, NAN, 3, NAN, 4.5, NAN]);
    expect(t.classNames).toEqual(['neg', 'pos']);
    expect([...t.labels]).toEqual([1, 0, 1, 0]);
    expect(t.classCounts).toEqual([2, 2]);
    expect([...t.lines]).toEqual([2, 3, 4, 5]);
    expect(t.missingCells).toBe(4);
    expect(t.targetName).toBe('label');
    expect(t.targetColumn).toBe(3);
    expect(t.notes).toEqual([
      'class column 3 (label); 2 classes: neg 2, pos 2',
      '4 missing cells (NaN) in 2 columns: a 1, b 3',
      'constant column (no information): b', // one observed value
    ]);
    expect(t.warnings).toEqual([]);
  });

  it('integer labels sort numerically; target by name (any case), index or negative index', () => {
    const text = 'y,x1,x2\n10,1,2\n2,3,4\n1,5,6\n2,7,8\n';
    const byName = parseTabularTable(text, { target: 'Y' });
    expect(byName.classNames).toEqual(['1', '2', '10']);
    expect([...byName.labels]).toEqual([2, 1, 0, 1]);
    expect(byName.featureNames).toEqual(['x1', 'x2']);
    expect(parseTabularTable(text, { target: 0 }).labels).toEqual(byName.labels);
    expect(parseTabularTable(text, { target: -3 }).labels).toEqual(byName.labels);
    expect(parseTabularTable(text, { target: 'y', labelOrder: 'first-seen' }).classNames).toEqual(['10', '2', '1']);
    expect(parseTabularTable(text, { target: 'y', classNames: ['10', '2', '1', '99'] }).classCounts).toEqual([1, 2, 1, 0]);
  });

  it('integer-coded categories and 20 classes, semicolon delimiter', () => {
    const rows = Array.from({ length: 100 }, (_, i) => `${i % 7};${(i * 13) % 11};${i / 10};c${i % 20}`);
    const t = parseTabularTable(['colour;size;w;kind', ...rows].join('\n'));
    expect(t.delimiter).toBe(';');
    expect(t.classNames.length).toBe(20);
    expect(t.classNames.slice(0, 3)).toEqual(['c0', 'c1', 'c10']); // code-unit order
    expect(t.classCounts.every((c) => c === 5)).toBe(true);
  });

  it("one-hot encodes text columns with categorical: 'one-hot'; a missing cell is NaN in all indicators", () => {
    const t = parseTabularTable('size,colour,y\n1,red,a\n2,green,b\n3,,a\n4,red,b\n', { categorical: 'one-hot' });
    expect(t.featureNames).toEqual(['size', 'colour=green', 'colour=red']);
    expect([...t.features]).toEqual([1, 0, 1, 2, 1, 0, 3, NAN, NAN, 4, 0, 1]);
    expect(t.notes).toContain('one-hot: column colour → 2 columns (green, red)');
    // the per-fold imputer fills the indicators like any numeric column
    const pre = fitTabularPreprocessor(t.features, t.n, t.d, { standardize: false });
    expect([...pre.fill]).toEqual([2.5, 0, 1]);
  });

  it('ignoreColumns leaves columns out', () => {
    const t = parseTabularTable('id,a,y\nx1,1,p\nx2,2,q\n', { ignoreColumns: ['id'] });
    expect(t.featureNames).toEqual(['a']);
    expect(t.notes).toContain('ignored columns: id');
  });

  it('warns (one line, counts) about duplicated rows and extreme values; drops duplicates on request', () => {
    const body = ['1,2,p', '3,4,q', '1,2,p', '1,2,q', '5,1e30,p', '1,2,p', '-2e15,0,q'];
    const t = parseTabularTable(['a,b,y', ...body].join('\n'));
    expect(t.warnings).toEqual([
      'extreme values: 2 cells with |x| ≥ 1e+15 in 2 columns (a: 1, b: 1; first at row 6): sentinel codes or unit errors? Such values dominate their column\'s standardisation',
      "duplicated rows: 2 of 7 rows repeat an earlier row exactly (features and label); 1 row repeats an earlier row's features with another label; in cross-validation a copy can be trained on while another is tested, which inflates accuracy",
    ]);
    const dropped = parseTabularTable(['a,b,y', ...body].join('\n'), { duplicates: 'drop', extremeThreshold: 1e31 });
    expect(dropped.n).toBe(5);
    expect([...dropped.lines]).toEqual([2, 3, 5, 6, 8]);
    expect(dropped.warnings.at(-1)).toBe('duplicates dropped: 2 exact copies removed, 5 of 7 rows kept (the first copy of each)');
    expect(dropped.warnings.some((w) => w.startsWith('extreme'))).toBe(false);
  });

  it('notes constant columns', () => {
    expect(parseTabularTable('a,b,y\n1,0,p\n2,0,q\n').notes).toContain('constant column (no information): b');
  });
});

describe('parseTabularTable: errors name the file, row and column', () => {
  it('header problems', () => {
    expect(dataError('').message).toBe('/d/x.csv: the file is empty (no rows)');
    const numbers = dataError('1,2,3\n4,5,6\n');
    expect(numbers.message).toBe('/d/x.csv, row 1: line 1 holds numbers, not column names: a header line is required');
    expect(dataError('a,b,y\n').message).toBe('/d/x.csv, row 1: no data rows (only a header line)');
    const unnamed = dataError(',a,y\n1,2,p\n');
    expect(unnamed.message).toBe('/d/x.csv, row 1, column 1: empty column name in the header');
    expect(unnamed.hint).toMatch(/row names/);
    expect(dataError('a,a,y\n1,2,p\n').message).toBe("/d/x.csv, row 1, column 2 (a): column name 'a' is used twice (columns 1 and 2)");
    expect(dataError('abc\n1\n').message).toBe('/d/x.csv, row 1: no delimiter found in line 1 (looked for \',\', \';\' and tab); a table needs at least two columns (features and a label)');
  });

  it('row problems', () => {
    const short = dataError('a,b,y\n1,2,p\n3,q\n');
    expect(short.message).toBe('/d/x.csv, row 3, column 3 (y): expected 3 columns (as the header), found 2');
    expect(dataError('a,b,y\n1,2,p\n3,4,\n').message).toBe('/d/x.csv, row 3, column 3 (y): empty class');
    expect(dataError('a,b,y\n1,2,p\n3,4,NA\n').message).toBe('/d/x.csv, row 3, column 3 (y): missing class "NA"');
    expect(dataError('a,b,y\n1,5e40,p\n').message).toBe('/d/x.csv, row 2, column 2 (b): value "5e40" is outside the float32 range');
    expect(dataError('a,b,y\n1,"2,p\n').message).toMatch(/^\/d\/x\.csv(, row \d+)?: cannot parse as CSV: /);
  });

  it("a text feature column is refused by default, naming every text column and the first cell", () => {
    const e = dataError('a,colour,shape,y\n1,red,round,p\n2,blue,square,q\n');
    expect(e.message).toBe('/d/x.csv, row 2, column 2 (colour): non-numeric value "red" in a feature column (2 text columns: colour, shape)');
    expect(e.hint).toBe("pass `categorical` 'one-hot' to encode text columns as 0/1 columns, list the text in `missing` if it marks a missing value, or remove the column");
    expect(e.withOptionNames({ categorical: '--categorical', missing: null }).hint).toBe(
      "pass --categorical 'one-hot' to encode text columns as 0/1 columns, leave the cell empty if it marks a missing value, or remove the column",
    );
    // "Infinity" is text, not a number
    expect(dataError('a,y\n1,p\nInfinity,q\n').message).toBe('/d/x.csv, row 3, column 1 (a): non-numeric value "Infinity" in a feature column');
  });

  it('too many categories or classes, one class, a class outside classNames', () => {
    const ids = ['id,a,y', ...Array.from({ length: 60 }, (_, i) => `u${i},${i},${i % 2}`)].join('\n');
    expect(dataError(ids, { categorical: 'one-hot' }).message).toBe('/d/x.csv, column 1 (id): 60 distinct values in a text column; one-hot encoding takes at most 50');
    const continuous = ['a,y', ...Array.from({ length: 150 }, (_, i) => `${i},${i * 0.5}`)].join('\n');
    const e = dataError(continuous);
    expect(e.message).toBe('/d/x.csv, column 2 (y): 150 distinct values in the class column; classification takes at most 100 classes');
    expect(e.hint).toBe('is it a continuous target or an id? choose the class column with `target`, or raise `maxClasses`');
    // a caller without maxClasses (the CLI) reads only what it can do
    expect(e.withOptionNames({ target: '--target', maxClasses: null }).hint).toBe('is it a continuous target or an id? choose the class column with --target');
    const ids2 = dataError(ids, { categorical: 'one-hot' });
    expect(ids2.hint).toBe('is it an id or free text? remove it (`ignoreColumns`) or raise `maxCategories`');
    expect(ids2.withOptionNames({ ignoreColumns: null, maxCategories: null }).hint).toBe('is it an id or free text? remove the column from the file');
    expect(dataError('a,y\n1,p\n2,p\n').message).toBe('/d/x.csv, column 2 (y): only one class ("p") in the class column; classification needs at least two');
    expect(dataError('a,y\n1,p\n2,q\n', { classNames: ['p'] }).message).toBe('/d/x.csv, row 3, column 2 (y): class "q" is not one of p');
  });

  it('a column with every cell missing names the file and the column', () => {
    const e = dataError('a,glucose,y\n1,,p\n2,NA,q\n3,?,p\n');
    expect(e.message).toBe('/d/x.csv, column 2 (glucose): every cell of this feature column is missing (3 rows); nothing can be imputed from it');
    expect(e.location).toEqual({ file: '/d/x.csv', column: '2 (glucose)' });
  });

  it('bad options are ConfigErrors naming the option', () => {
    const text = 'a,b,y\n1,2,p\n3,4,q\n';
    expect(() => parseTabularTable(text, { target: 'z' })).toThrow("option target: no column named 'z' in inline; columns: a, b, y");
    expect(() => parseTabularTable(text, { target: 3 })).toThrow(ConfigError);
    expect(() => parseTabularTable(text, { ignoreColumns: ['y'] })).toThrow("option ignoreColumns: the target column 'y' is also in ignoreColumns");
    expect(() => parseTabularTable(text, { categorical: 'ordinal' as never })).toThrow(/option categorical/);
    expect(() => parseTabularTable(text, { duplicates: 'merge' as never })).toThrow(/option duplicates/);
    expect(() => parseTabularTable(text, { maxClasses: 0 })).toThrow(/option maxClasses: must be a positive integer/);
    expect(() => parseTabularTable(text, { extremeThreshold: -1 })).toThrow(/option extremeThreshold/);
    expect(() => parseTabularTable(text, { classNames: ['p', 'p'] })).toThrow(/classNames has duplicates/);
  });
});

describe('parseTabularTable: binary input and long cells', () => {
  it('text with a NUL character is refused in one short line', () => {
    const e = dataError(`a,b,y\n1,2,p\n3,"\0\0${'\0'.repeat(1000)}",q\n`);
    expect(e.message).toBe('/d/x.csv: not a text CSV file (NUL character at position 15)');
  });

  it('csv-parse errors and header names quote at most ~60 characters', () => {
    const long = 'z'.repeat(1000);
    const e = dataError(`a,b,y\n1,x"${long}",p\n`);
    expect(e.message).toMatch(/^\/d\/x\.csv, row 2: cannot parse as CSV: /);
    expect(e.message.length).toBeLessThan(200);
    expect(e.message).not.toMatch(/z{61}/);
    const wide = dataError(`a,${long},y\n1,2,p\n3,q\n`);
    expect(wide.message).toBe(`/d/x.csv, row 3, column 3 (y): expected 3 columns (as the header), found 2`);
    const dup = dataError(`${long},${long},y\n1,2,p\n`);
    expect(dup.message).not.toMatch(/z{61}/);
    expect(() => parseTabularTable(`${long},y\n1,p\n2,q\n`, { target: 'nope' })).toThrow(/columns: z{37}\.\.\., y$/);
  });
});

describe('parseTabularTable: class labels equal as numbers', () => {
  it("labels '1' and '1.0' stay two classes, with a warning", () => {
    const t = parseTabularTable('a,y\n1,0\n2,1\n3,1.0\n4,0\n5,1\n');
    expect(t.classNames).toEqual(['0', '1', '1.0']);
    expect(t.warnings).toEqual(["class labels '1' and '1.0' are different text but the same number; they are kept as 2 classes (write them alike to merge them)"]);
    // plain integer or text labels: no warning
    expect(parseTabularTable('a,y\n1,0\n2,1\n3,10\n').warnings).toEqual([]);
    expect(parseTabularTable('a,y\n1,neg\n2,pos\n').warnings).toEqual([]);
  });
});

describe('loadTabularCsv', () => {
  it('a binary, gzip-compressed or UTF-16 file is refused naming the file, without quoting its bytes', async () => {
    const bin = path.join(dir, 'binary.csv');
    writeFileSync(bin, Buffer.concat([Buffer.from('\x7fELF'), Buffer.alloc(3000, 0)]));
    await expect(loadTabularCsv({ path: bin })).rejects.toThrow(new DataError('not a text CSV file (NUL byte at offset 4)', { file: bin }).message);
    const gz = path.join(dir, 'data.csv.gz');
    writeFileSync(gz, gzipSync('a,y\n1,p\n2,q\n'));
    const e = (await loadTabularCsv({ path: gz }).catch((x: unknown) => x)) as DataError;
    expect(e).toBeInstanceOf(DataError);
    expect(e.message).toBe(`${gz}: gzip-compressed: decompress it first`);
    const utf16 = path.join(dir, 'utf16.csv');
    writeFileSync(utf16, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('a,y\n1,p\n2,q\n', 'utf16le')]));
    await expect(loadTabularCsv({ path: utf16 })).rejects.toThrow(/utf16\.csv: UTF-16 text; CSV files are read as UTF-8$/);
  });

  it('loads a file into a LoadedDataset with warnings and provenance; dispose frees it', async () => {
    const file = tmp('a,b,kind\n1,2,x\n1,2,x\n3,,y\n4,5,z\n', 'my-data.csv');
    const before = tf.memory().numTensors;
    const ds = await loadTabularCsv({ path: file });
    expect(ds.name).toBe('my-data');
    expect(ds.task).toBe('classification');
    expect(ds.splits.all.features!.shape).toEqual([4, 2]);
    expect(ds.classNames).toEqual(['x', 'y', 'z']);
    expect(ds.featureNames).toEqual(['a', 'b']);
    expect(ds.provenance.files).toEqual([file]);
    expect(ds.provenance.sha256[0]).toMatch(/^[0-9a-f]{64}$/);
    expect(ds.provenance.rows).toEqual({ all: 4 });
    expect(ds.warnings).toHaveLength(1);
    expect(ds.warnings![0]).toMatch(/^duplicated rows: 1 of 4 rows/);
    ds.dispose();
    expect(tf.memory().numTensors).toBe(before);
    const inline = await loadTabularCsv({ text: 'a,y\n1,p\n2,q\n', name: 'tiny' });
    expect(inline.name).toBe('tiny');
    expect(inline.provenance.files).toEqual(['inline']);
    inline.dispose();
  });

  it('a missing file is a DataError naming it; no file at all is a ConfigError', async () => {
    const none = path.join(dir, 'nope.csv');
    await expect(loadTabularCsv({ path: none })).rejects.toThrow(`${none}: CSV file not found`);
    await expect(loadTabularCsv({ path: none })).rejects.toBeInstanceOf(DataError);
    await expect(loadTabularCsv({})).rejects.toThrow('option path: a tabular CSV needs a file: pass path (or text)');
  });
});

describe('createTabularDataset', () => {
  const base = {
    name: 'mine',
    features: Float32Array.from([1, 2, 3, 4, 5, 6]),
    n: 3,
    d: 2,
    labels: Int32Array.from([0, 1, 0]),
    classNames: ['a', 'b'],
    featureNames: ['x', 'y'],
    provenance: { files: ['/f.csv'], sha256: ['0'.repeat(64)], source: 's', licence: 'l' },
  };
  it('builds a one-split dataset whose tensor dispose() frees; rows default to { all: n }', () => {
    const before = tf.memory().numTensors;
    const ds = createTabularDataset(base);
    expect(ds.splits.all.features!.shape).toEqual([3, 2]);
    expect(ds.task).toBe('classification');
    expect(ds.provenance.rows).toEqual({ all: 3 });
    expect(ds.warnings).toEqual([]);
    ds.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
  it('refuses mismatched lengths with a ShapeError naming the array', () => {
    expect(() => createTabularDataset({ ...base, n: 4 })).toThrow('tensor features: features has 6 values, expected n·d = 4·2 = 8');
    expect(() => createTabularDataset({ ...base, labels: Int32Array.from([0, 1]) })).toThrow(ShapeError);
    expect(() => createTabularDataset({ ...base, featureNames: ['x'] })).toThrow('tensor featureNames: featureNames has 1 names, expected d = 2');
  });
});
